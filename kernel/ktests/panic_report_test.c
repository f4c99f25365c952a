/*
 * The panic report's own robustness:
 *   backtrace_of_user_frame_reads_no_user_rbp  a frame from user mode (a
 *                         CPU a panic stopped by NMI in user code) gets
 *                         its RIP printed and no walk: its RBP is the
 *                         user's, here an unmapped kernel-half address,
 *                         which the walk would read and fault on
 */
#include "kernel/ktest.h"
#include "arch/trap.h"
#include "arch/layout.h"

KTEST(backtrace_of_user_frame_reads_no_user_rbp)
{
	struct trap_frame tf = {
		.rip = 0x401000,
		.cs = 0x23,
		.ss = 0x1b,
		.rflags = 0x202,
		.rsp = 0x7ffffff0,
		/* Kernel half, 8-aligned, never mapped (the death test
		 * kernel-page-fault's address). */
		.rbp = VMALLOC_BASE + VMALLOC_SIZE - 0x1000,
	};

	backtrace_print_trap(&tf);
	KT_EXPECT(t, true); /* reached: nothing faulted */
}
