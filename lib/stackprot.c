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
 * This file is the runtime GCC calls; kernel/stackprot.c picks the
 * canary. Ordering: kernel_main sets it once, before any other CPU or
 * task runs, through stackprot_init (compiled without the protector).
 * Every function that already pushed the old canary and returns afterwards
 * would fail its check: the only such function is kernel_main, which never
 * returns.
 */
#include "lib/stackprot.h"
#include "lib/panic.h"
#include "lib/ksyms.h"

uint64_t __stack_chk_guard = STACKPROT_BOOT_CANARY; /* until stackprot_init */

void __stack_chk_fail(void) __noreturn;

__attribute__((no_stack_protector)) void __stack_chk_fail(void)
{
	uint64_t ret = (uint64_t)__builtin_return_address(0), off = 0;
	const char *fn = ksym_lookup(ret, &off);

	panic("stack protector: stack smashed in %s+0x%lx (canary overwritten)",
	      fn ? fn : "unknown code", off);
}
