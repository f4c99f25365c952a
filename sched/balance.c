/*
 * Scheduler placement and balancing (the policy and the wake-up protocol
 * are at the top of sched/sched.c, "Placement and balancing"): the CPU a
 * woken task goes to, the move of a task whose affinity changes, and the
 * pull of a queued task by an idle CPU at its tick. The run-queue
 * primitives and their locking are sched/sched.c's (sched/rq.h).
 */
#include "sched/rq.h"
#include "lib/percpu.h"
#include "arch/ipi.h"
#include "arch/cpu.h"

/* ---- choosing a CPU ---- */

uint32_t select_cpu(struct task *t)
{
	uint32_t prev = (uint32_t)t->cpu, cpu;

	if (allowed_on(t, prev) && cpu_rq(prev)->curr == cpu_rq(prev)->idle &&
	    !cpu_rq(prev)->nr_running)
		return prev;
	for_each_cpu_in (cpu, &t->affinity) {
		struct rq *rq = cpu_rq(cpu);

		if (cpumask_test(&cpu_online_mask, cpu) && rq->curr == rq->idle && !rq->nr_running)
			return cpu;
	}
	if (allowed_on(t, prev))
		return prev;
	for_each_cpu_in (cpu, &t->affinity) {
		if (cpumask_test(&cpu_online_mask, cpu))
			return cpu;
	}
	return 0;
}

int sched_set_affinity(struct task *t, const struct cpumask *mask)
{
	uint32_t cpu;
	bool any = false;

	for_each_cpu_in (cpu, mask) {
		if (cpumask_test(&cpu_online_mask, cpu))
			any = true;
	}
	if (!any)
		return -22; /* -EINVAL: no online CPU in the mask */
	uint64_t f;
	struct rq *rq = lock_task_rq(t, &f);

	t->affinity = *mask;
	if (!cpumask_test(mask, rq->cpu)) {
		/* Queued, or asleep until a tick on rq ends it (which queues it
		 * where the tick runs): its home moves, under both locks, where
		 * the move looks again. Dequeued before the second lock, a task
		 * was RUNNABLE on no queue in between, and a second setter
		 * dequeued it again and both queued it (regression
		 * concurrent_set_affinity_moves_once: "BUG at sched/sched.c:89:
		 * !list_empty(&t->rq_link)"); a sleeper's timer left where it was
		 * woke it on a CPU its affinity no longer allowed, where it kept
		 * running (regression timeout_wake_keeps_affinity). Both found in
		 * review. */
		if (rq->curr != t &&
		    (t->state == TASK_RUNNABLE || (t->state == TASK_BLOCKED && t->wake_at_ns))) {
			struct rq *drq = cpu_rq(select_cpu(t));

			spin_unlock_raw(&rq->lock);
			double_lock(rq, drq);
			sched_move_home_locked(rq, drq, t);
			double_unlock(rq, drq);
			irq_restore(f);
			return 0;
		}
		if (rq->curr == t) {
			/* Moves at its next switch (sched_switch_locked). */
			if (rq->cpu == this_cpu_id())
				this_cpu_write(need_resched, 1);
			else
				smp_send_resched(rq->cpu);
		}
	}
	unlock_rq(rq, f);
	if (t == current_task() && !cpumask_test(mask, this_cpu_id()))
		schedule();
	return 0;
}

/* Pull one queued task from the busiest CPU that allows it here. */
void idle_balance(struct rq *rq)
{
	uint32_t busiest = nr_cpus, most = 0;

	for (uint32_t c = 0; c < nr_cpus; c++) {
		if (c == rq->cpu || !cpumask_test(&cpu_online_mask, c))
			continue;
		struct rq *o = cpu_rq(c);

		if (READ_ONCE(o->nr_running) > most) {
			most = READ_ONCE(o->nr_running);
			busiest = c;
		}
	}
	if (busiest == nr_cpus)
		return;
	struct rq *src = cpu_rq(busiest);

	/* The source only if it is free at once: at their ticks all idle CPUs
	 * pick the same busiest CPU, and queuing on its ticket lock convoys
	 * them (224 CPUs under TCG: the owner waited 10 s for its own lock).
	 * A trylock never waits, so the CPU-id lock order does not apply; a
	 * CPU that misses tries again at its next tick. */
	spin_lock_raw(&rq->lock);
	if (!spin_trylock(&src->lock)) {
		spin_unlock_raw(&rq->lock);
		return;
	}
	for (int p = 0; p < NR_PRIOS; p++) {
		struct list_node *pos;

		list_for_each (pos, &src->queue[p]) {
			struct task *t = list_entry(pos, struct task, rq_link);

			if (allowed_on(t, rq->cpu)) {
				dequeue(src, t);
				enqueue(rq, t);
				this_cpu_inc(counters[CNT_SCHED_STEAL]);
				this_cpu_write(need_resched, 1);
				spin_unlock(&src->lock);
				spin_unlock_raw(&rq->lock);
				return;
			}
		}
	}
	spin_unlock(&src->lock);
	spin_unlock_raw(&rq->lock);
}
