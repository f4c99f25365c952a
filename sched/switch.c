/*
 * Context switch: schedule() -> context_switch() -> switch_mm() ->
 * switch_to() (DESIGN.md "Context switch").
 *
 * Order, with the run-queue lock held and interrupts off:
 *   1. address space: switch_mm() (mm/switch_mm.h, its slow half in
 *      mm/tlb.c) is the one place per-mm hardware state is loaded
 *      (CR3/PCID, CPU mask, lazy state, PASID, I/O bitmap); a kernel
 *      thread keeps the mm the CPU has loaded (lazy TLB).
 *   2. the user state that lives in registers (arch_switch_user_state,
 *      arch/x86/switch.c): prev's extended state is saved now and its
 *      FS/GS bases read back; next's bases are loaded, and its kernel stack
 *      top set for the entry code. Extended state is not restored here: the
 *      return to user does it (kernel-only switches and kernel-side IPC
 *      never pay for it).
 *   3. switch_to() (arch/x86/switch_to.S): registers and stack.
 * The code next resumes in calls finish_switch(prev), which drops the
 * run-queue lock taken by whoever switched away from it: that of the CPU
 * it resumed on, read afresh (a task may resume elsewhere;
 * tools/check_switch_resume.py holds every call site of the compiled
 * kernel to it). The steps are inline (sched/context_switch.h) in the
 * scheduler's two switches and in the IPC direct switch's inline case
 * (sched/direct_switch.h, compiled into kernel/ipc.c's fused path); this
 * file keeps their out-of-line ends.
 */
#include "sched/context_switch.h"

void context_switch_preempt_panic(struct task *prev)
{
	panic("switching away from %s with preempt_count %lu (blocking with a "
	      "spinlock held?)",
	      prev->name, this_cpu_read(preempt_count));
}

void finish_switch_work(struct rq *rq, struct task *prev)
{
	/* Atomic: other CPUs set TF_KILLED in prev->flags concurrently. */
	uint32_t work = __atomic_fetch_and(&prev->flags, ~TF_SWITCH_WORK, __ATOMIC_RELAXED);
	uint32_t delay_us = prev->test_switch_delay_us;

	/* A task to migrate is BLOCKED, so a kill may wake it, and it may run
	 * and exit elsewhere, before our wake below: keep it until then. */
	task_get(prev);
	finish_switch_release(rq, prev);
	if (work & TF_SWITCH_DELAY)
		udelay(delay_us); /* the test's window: prev may run elsewhere */
	if (work & TF_MIGRATE) {
		this_cpu_inc(counters[CNT_SCHED_MIGRATE]);
		sched_wake_keep_reason(prev);
	}
	task_put(prev);
}

void sched_finish_switch(struct task *prev)
{
	finish_switch(prev);
}
