/*
 * The exit work of prepare_return_to_user() (kernel/entry_work.c), inline
 * so that the system-call exit (kernel/syscall.c) runs it without a call.
 * Interrupts off; may enable them on the way, returns with them off.
 * exit_to_user_work_as() takes the PTI setting as a constant (the
 * system-call path is compiled once per setting).
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

static __always_inline void exit_to_user_work_as(bool pti)
{
	for (;;) {
		struct task *t = current_task();

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
	struct task *t = current_task();
	bool restored = xstate_restore_for_user(&t->arch);

	/* Filters only (each callee tests the same again): the common exit
	 * calls neither. Relaxed loads, as the callees' own. */
	if (unlikely((__atomic_load_n(&t->flags, __ATOMIC_RELAXED) & TF_PASID_RESYNC) ||
		     (pasid_mode == PASID_XSTATE && restored)))
		pasid_restore_for_user(t, restored);
	if (unlikely(__atomic_load_n(&t->mm->membarrier_flags, __ATOMIC_RELAXED) &
		     MEMBARRIER_REG_SYNC_CORE))
		membarrier_return_to_user(t);
	pti_prepare_exit_as(pti);
	/* No fence needed: an initiator that still reads KERNEL just sends an
	 * IPI we did not need (mm/kflush.c). */
	this_cpu_write(entry.context, CTX_USER);
}

static __always_inline void exit_to_user_work(void)
{
	exit_to_user_work_as(pti_enabled);
}
