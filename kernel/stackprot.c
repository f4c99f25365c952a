/*
 * The stack protector's canary, picked once per boot (the mechanism and
 * its runtime: lib/stackprot.c).
 *
 * Per boot: RDRAND when the CPU has it, else the TSC mixed with the
 * address of the boot stack; the low byte is zero (as Linux's) so that a
 * string overrun ends at the canary instead of copying past it.
 */
#include "kernel/stackprot.h"
#include "lib/stackprot.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/cpu.h"
#include "kernel/ktest.h"

static const char *source = "none";

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
	KT_EXPECT(t, __stack_chk_guard != STACKPROT_BOOT_CANARY);
	KT_EXPECT(t, (__stack_chk_guard & 0xff) == 0);
}
