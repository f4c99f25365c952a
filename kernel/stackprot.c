/*
 * Stack protector (-fstack-protector-strong): GCC puts a canary between a
 * function's arrays and its return address and calls __stack_chk_fail()
 * if the canary changed by the time the function returns. What it
 * catches: a linear overrun of a stack buffer that reaches the saved frame
 * (not reads, not writes that skip the canary, not overruns of heap
 * objects).
 *
 * Where the canary lives: one global, __stack_chk_guard
 * (-mstack-protector-guard=global). GCC's default, %fs:0x28, is the user
 * TLS ABI; this kernel leaves FS to user space and reaches per-CPU data
 * through GS. A per-CPU canary (-mstack-protector-guard-reg=gs and
 * -offset=) would have to hold the same value on every CPU anyway, since a
 * task's frames migrate with it; only a per-task canary switched with the
 * stack (Linux's) differs per thread, and one value per boot is what this
 * kernel needs.
 *
 * Per boot: RDRAND when the CPU has it, else the TSC mixed with the
 * address of the boot stack; the low byte is zero (as Linux's) so that a
 * string overrun ends at the canary instead of copying past it.
 *
 * Ordering: kernel_main sets it once, before any other CPU or task runs,
 * from here (compiled without the protector). Every function that already
 * pushed the old canary and returns afterwards would fail its check: the
 * only such function is kernel_main, which never returns.
 */
#include "kernel/stackprot.h"
#include "lib/panic.h"
#include "lib/ksyms.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/cpu.h"
#include "kernel/ktest.h"

uint64_t __stack_chk_guard = 0x595e9fbd94fda700ull; /* until stackprot_init */
static const char *source = "none";

void __stack_chk_fail(void) __noreturn;

__attribute__((no_stack_protector)) void __stack_chk_fail(void)
{
	uint64_t ret = (uint64_t)__builtin_return_address(0), off = 0;
	const char *fn = ksym_lookup(ret, &off);

	panic("stack protector: stack smashed in %s+0x%lx (canary overwritten)",
	      fn ? fn : "unknown code", off);
}

static __attribute__((no_stack_protector)) bool rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) {
		bool ok;

		__asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

__attribute__((no_stack_protector)) void stackprot_init(void)
{
	uint64_t v = 0;

	if (cpu_has(FEAT_RDRAND) && rdrand64(&v)) {
		source = "rdrand";
	} else {
		v = rdtsc() * 0x9e3779b97f4a7c15ull;
		v ^= (uint64_t)__builtin_frame_address(0) * 0xbf58476d1ce4e5b9ull;
		source = "tsc";
	}
	__stack_chk_guard = v & ~0xffull;
}

const char *stackprot_source(void)
{
	return source;
}

KTEST(stack_canary_per_boot)
{
	KT_EXPECT(t, __stack_chk_guard != 0x595e9fbd94fda700ull);
	KT_EXPECT(t, (__stack_chk_guard & 0xff) == 0);
}
