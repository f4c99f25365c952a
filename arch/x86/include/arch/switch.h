/*
 * Context switch, the arch half (interface): sched/switch.c does the
 * generic steps (address space, bookkeeping) and calls these for what lives
 * in x86 registers (implementation: here, arch/x86/switch.c and
 * arch/x86/switch_to.S).
 */
#pragma once

#include "lib/compiler.h"
#include "lib/percpu.h"
#include "arch/arch_task.h"
#include "arch/fpu.h"
#include "arch/static_branch.h"
#include "arch/x86/cpu.h"

struct task;

void arch_switch_init(void);
/* CR4.FSGSBASE is on (arch_switch_init). */
extern bool arch_fsgsbase;

/* The user's FS base and GS base (which in the kernel sits in
 * KERNEL_GS_BASE), read with CR4.FSGSBASE on and interrupts off (see
 * below); one asm, so the two stores come after both reads. */
static __always_inline void rdfsgsbase_user(uint64_t *fs, uint64_t *gs)
{
	__asm__ __volatile__("rdfsbase %0; swapgs; rdgsbase %1; swapgs" : "=r"(*fs), "=r"(*gs));
}

/* The user's GS base written, as above. */
static __always_inline void wrgsbase_inactive(uint64_t v)
{
	__asm__ __volatile__("swapgs; wrgsbase %0; swapgs" ::"r"(v) : "memory");
}

/*
 * The user state held in registers at a switch from prev to next (either
 * NULL for a kernel thread). Inline: it runs on every context switch.
 *   extended state   saved eagerly for the task leaving (xstate_switch_out);
 *                    restored on the next task's way back to user
 *                    (arch/x86/xstate.c), so kernel-only switches pay nothing
 *   FS base          RDFSBASE/WRFSBASE where CR4.FSGSBASE is on, else the
 *                    IA32_FS_BASE MSR
 *   GS base          in the kernel the user's value sits in KERNEL_GS_BASE
 *                    (SWAPGS exchanges them at entry and exit), so that MSR
 *                    is what is saved and loaded; with CR4.FSGSBASE by
 *                    SWAPGS, RDGSBASE/WRGSBASE, SWAPGS (three instructions
 *                    for the MSR's five, as Linux's __rdgsbase_inactive).
 *                    Between the two SWAPGS the kernel's GS base is in
 *                    KERNEL_GS_BASE: nothing there touches per-CPU data,
 *                    interrupts are off, and the entries that can still
 *                    come (NMI, #MC, #DB) load their own GS base whatever
 *                    they find (arch/x86/entry.S paranoid_entry)
 *   kernel stack     the per-CPU copy the SYSCALL entry loads; without PTI
 *                    also TSS.RSP0 (with PTI the CPU enters on the per-CPU
 *                    entry stack and the entry code moves to the copy)
 * Interrupts off.
 */
static __always_inline void arch_switch_user_state_as(struct arch_task *prev,
						      struct arch_task *next,
						      uint64_t next_kstack_top, bool pair)
{
	/* The registers hold prev's values (just read back) or, after a
	 * kernel thread, those of whichever user task ran last: write next's
	 * only when they differ from what prev's read-back says is live
	 * (kernel threads never change either base). */
	bool fs_live = false, gs_live = false;

	if (pair || prev) {
		xstate_switch_out(prev);
		if (likely(static_branch(&arch_fsgsbase))) {
			rdfsgsbase_user(&prev->fs_base, &prev->gs_base);
		} else {
			prev->fs_base = rdmsr(MSR_FS_BASE);
			prev->gs_base = rdmsr(MSR_KERNEL_GS_BASE);
		}
		fs_live = (pair || next) && next->fs_base == prev->fs_base;
		gs_live = (pair || next) && next->gs_base == prev->gs_base;
	}
	if (pair || next) {
		if (fs_live)
			;
		else if (likely(static_branch(&arch_fsgsbase)))
			__asm__ __volatile__("wrfsbase %0" ::"r"(next->fs_base) : "memory");
		else
			wrmsr(MSR_FS_BASE, next->fs_base);
		if (gs_live)
			;
		else if (likely(static_branch(&arch_fsgsbase)))
			wrgsbase_inactive(next->gs_base);
		else
			wrmsr(MSR_KERNEL_GS_BASE, next->gs_base);
	}
	this_cpu_write(cur_arch, next);
	this_cpu_write(entry.kstack_top, next_kstack_top);
	/* With PTI, TSS.RSP0 stays this CPU's entry stack. */
	if ((pair || next_kstack_top) && !static_branch(&arch_pti))
		tss_set_rsp0(next_kstack_top);
}

static __always_inline void arch_switch_user_state(struct arch_task *prev, struct arch_task *next,
						   uint64_t next_kstack_top)
{
	arch_switch_user_state_as(prev, next, next_kstack_top, false);
}

/* The same between two user tasks (neither NULL, next has a kernel stack),
 * without the tests for a kernel thread: an IPC direct switch. */
static __always_inline void arch_switch_user_pair(struct arch_task *prev, struct arch_task *next,
						  uint64_t next_kstack_top)
{
	arch_switch_user_state_as(prev, next, next_kstack_top, true);
}

/* Registers and stack (arch/x86/switch_to.S): saves prev's callee-saved
 * registers on its stack and its stack pointer in the first word of *prev
 * (struct task's ksp: sched/switch.c asserts the offset), loads next's,
 * and returns prev in next's context. */
struct task *switch_to(struct task *prev, struct task *next);
