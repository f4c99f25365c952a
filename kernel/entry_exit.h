/*
 * The exit work of prepare_return_to_user() (kernel/entry_work.c), inline
 * so that the system-call exit (kernel/syscall.c) runs it without a call.
 * Interrupts off; may enable them on the way, returns with them off.
 * The system call runs the task's part only: its exit code loads PTI's
 * user CR3 and publishes CTX_USER itself (arch/x86/entry.S).
 */
#pragma once

#include "kernel/entry_work.h"
#include "kernel/percpu_area.h"
#include "kernel/proc.h"
#include "include/uapi/errno.h"
#include "sched/task.h"
#include "arch/x86/cpu.h"
#include "arch/fpu.h"
#include "kernel/pasid.h"
#include "kernel/membarrier.h"
#include "mm/pti.h"
#include "mm/mm.h"

/* Out of line: a kill, a due reschedule, a PASID resync or a sync-core
 * membarrier's mark (TF_EXIT_WORK and need_resched), then the same restore
 * as below (kernel/entry_work.c). Returns with interrupts off. */
void exit_to_user_work_slow(void);

/* The task's part: a kill, a reschedule, its extended state and PASID. */
static __always_inline void exit_to_user_task_work(void)
{
	struct task *t = current_task();

	/* One test of the task's flags and one of this CPU's need_resched
	 * for everything but the extended-state restore: the flags this
	 * path must act on are in TF_EXIT_WORK (sched/task.h), each set
	 * before the event it stands for is acted upon elsewhere.
	 * Other CPUs set TF_KILLED and friends concurrently (atomic RMWs):
	 * one plain read, which the compiler tests in memory (a volatile or
	 * atomic load costs a MOV more); it can only be early, and the slow
	 * path and the later exits read again. */
	if (unlikely((t->flags & TF_EXIT_WORK) || this_cpu_read(need_resched)))
		exit_to_user_work_slow();
	else if (unlikely(xstate_restore_for_user(&t->arch)) && static_branch(&pasid_per_thread))
		pasid_restore_for_user(t, true); /* XRSTORS loaded the PASID */
}

/* The whole exit, for the IRET return (prepare_return_to_user). */
static __always_inline void exit_to_user_work(void)
{
	exit_to_user_task_work();
	pti_prepare_exit();
	/* No fence needed: an initiator that still reads KERNEL just sends an
	 * IPI we did not need (mm/kflush.c). */
	this_cpu_write(entry.context, CTX_USER);
}
