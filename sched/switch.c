/*
 * Context switch: schedule() -> context_switch() -> switch_mm() ->
 * switch_to() (DESIGN.md "Context switch").
 *
 * Order, with the run-queue lock held and interrupts off:
 *   1. address space: switch_mm() (mm/tlb.c) is the one place per-mm
 *      hardware state is loaded (CR3/PCID, CPU mask, lazy state, PASID);
 *      a kernel thread keeps the previous mm (lazy TLB).
 *   2. the user state that lives in registers (arch_switch_user_state,
 *      arch/x86/switch.c): prev's extended state is saved now and its
 *      FS/GS bases read back; next's bases are loaded, and its kernel stack
 *      top set for the entry code. Extended state is not restored here: the
 *      return to user does it (kernel-only switches and kernel-side IPC
 *      never pay for it).
 *   3. switch_to() (arch/x86/switch_to.S): registers and stack.
 * The code next resumes in calls sched_finish_switch(prev), which drops the
 * run-queue lock taken by whoever switched away from it.
 */
#include "sched/rq.h"
#include "mm/tlb.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "mm/kflush.h"
#include "lib/percpu.h"
#include "include/uapi/counter_ids.h"
#include "lib/time.h"
#include "lib/panic.h"
#include "lib/trace.h"
#include "arch/switch.h"
#include "arch/cpu.h"

_Static_assert(offsetof(struct task, ksp) == 0, "arch/switch.h switch_to: ksp first");

void context_switch(struct rq *rq, struct task *prev, struct task *next)
{
	(void)rq;
	/* The count is per CPU: a task that switched away with it non-zero
	 * (blocking while holding a spinlock) would hand it to the next task
	 * and resume elsewhere without it. */
	if (unlikely(this_cpu_read(preempt_count)))
		panic("switching away from %s with preempt_count %lu (blocking with a "
		      "spinlock held?)",
		      prev->name, this_cpu_read(preempt_count));
	/* Woken from idle by an interrupt that reschedules: catch up on
	 * deferred kernel flushes before next's stack is touched. */
	if (this_cpu_read(entry.context) != CTX_KERNEL)
		kflush_enter_kernel(true);
	if (next->mm) {
		switch_mm(prev->active_mm, next->mm, next);
		next->active_mm = next->mm;
	} else {
		next->active_mm = enter_lazy_tlb(prev->active_mm);
	}
	arch_switch_user_state(prev->mm ? &prev->arch : NULL, next->mm ? &next->arch : NULL,
			       next->kstack_top);
	this_cpu_write(current, next);
	this_cpu_write(shared.curr, next);
	this_cpu_inc(counters[CNT_CTX_SWITCH]);
	trace(TR_CTX_SWITCH, prev->tid, next->tid);
	next->switches++;
	uint64_t now = rdtsc();

	prev->runtime_tsc += now - prev->last_run_tsc;
	next->last_run_tsc = now;
	/* next may still be switching out on another CPU: wait until its
	 * registers are saved. Acquire: pairs with the release store in
	 * sched_finish_switch() on that CPU. */
	while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax();
	next->on_cpu = 1;
	next->wchan = NULL;
	prev = switch_to(prev, next);
	sched_finish_switch(prev);
}

void sched_finish_switch(struct task *prev)
{
	struct rq *rq = this_rq();
	/* Atomic: other CPUs set TF_KILLED in prev->flags concurrently. */
	bool migrate = __atomic_fetch_and(&prev->flags, ~TF_MIGRATE, __ATOMIC_RELAXED) & TF_MIGRATE;

	/* Release: prev's saved registers and stack writes are visible to the
	 * CPU that runs it next (pairs with the acquire in context_switch). */
	__atomic_store_n(&prev->on_cpu, 0, __ATOMIC_RELEASE);
	spin_unlock_raw(&rq->lock);
	if (prev->state == TASK_DEAD)
		task_reap_later(prev);
	if (migrate) {
		this_cpu_inc(counters[CNT_SCHED_MIGRATE]);
		sched_wake(prev, WAKE_NONE);
	}
}
