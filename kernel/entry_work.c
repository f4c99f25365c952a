/*
 * Kernel/user boundary work.
 *
 * Entry: the CPU publishes that it is in the kernel (per-CPU shared
 * context, read by the deferred kernel flush in mm/kflush.c) and catches
 * up on deferred kernel flushes before any handler runs: from user mode
 * (user_enter_kernel) and for an interrupt that finds the CPU idle
 * (irq_enter_from_idle).
 * Exit: with interrupts off, loop until nothing is pending: a kill makes
 * the thread exit, a due reschedule switches away (and back); then the
 * user's extended state is made live, and the CPU publishes USER. The
 * common exit (kernel/entry_exit.h) tests the task's TF_EXIT_WORK flags
 * and need_resched once and comes here only if one is set.
 */
#include "kernel/entry_work.h"
#include "kernel/entry_exit.h"
#include "kernel/percpu_area.h"
#include "kernel/proc.h"
#include "include/uapi/errno.h"
#include "sched/task.h"
#include "arch/x86/cpu.h"
#include "arch/trap.h"
#include "arch/fpu.h"
#include "kernel/pasid.h"
#include "kernel/membarrier.h"
#include "mm/pti.h"
#include "mm/kflush.h"
#include "mm/mm.h"

void user_enter_kernel_trap(void)
{
	user_enter_kernel();
}

void irq_enter_from_idle(void)
{
	kflush_enter_from_idle();
}

void exit_to_user_work_slow(void)
{
	struct task *t;

	for (;;) {
		t = current_task();
		if (t->flags & TF_KILLED) {
			irq_enable();
			thread_exit(-EINTR);
		}
		if (this_cpu_read(need_resched)) {
			irq_enable();
			preempt_schedule();
			irq_disable();
			continue;
		}
		break;
	}
	bool restored = xstate_restore_for_user(&t->arch);

	/* Each callee tests its flag again. Relaxed, as the callees' own. */
	if ((__atomic_load_n(&t->flags, __ATOMIC_RELAXED) & TF_PASID_RESYNC) ||
	    (pasid_mode == PASID_XSTATE && restored))
		pasid_restore_for_user(t, restored);
	if (__atomic_load_n(&t->flags, __ATOMIC_RELAXED) & TF_SYNC_CORE)
		membarrier_return_to_user(t);
}

void prepare_return_to_user(struct trap_frame *tf)
{
	/* The frame's RIP is canonical: user_thread_start()'s entry was
	 * checked, a SYSCALL's return address is syscall_dispatch()'s to
	 * check, and one that an interrupt or exception left at
	 * 0x800000000000 is trap_dispatch_user()'s (arch/x86/fault.c) or,
	 * for an NMI, paranoid_entry's (arch/x86/entry.S). */
	(void)tf;
	exit_to_user_work();
}
