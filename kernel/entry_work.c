/*
 * Kernel/user boundary work.
 *
 * Entry: the CPU publishes that it is in the kernel (per-CPU shared
 * context, read by the deferred kernel flush in mm/kflush.c).
 * Exit: with interrupts off, loop until nothing is pending: a kill makes
 * the thread exit, a due reschedule switches away (and back); then the
 * user's extended state is made live, and the CPU publishes USER.
 */
#include "kernel/entry_work.h"
#include "kernel/percpu.h"
#include "kernel/proc.h"
#include "kernel/errno.h"
#include "sched/task.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/xstate.h"

void user_enter_kernel(void)
{
	this_cpu_write(shared.context, CTX_KERNEL);
}

void prepare_return_to_user(struct trap_frame *tf)
{
	(void)tf;
	for (;;) {
		struct task *t = current_task();

		if (t->flags & TF_KILLED) {
			irq_enable();
			thread_exit(-EINTR);
		}
		if (this_cpu_read(need_resched)) {
			irq_enable();
			schedule();
			irq_disable();
			continue;
		}
		break;
	}
	xstate_restore_for_user(current_task());
	this_cpu_write(shared.context, CTX_USER);
}
