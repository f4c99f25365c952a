/*
 * Work in thread context on chosen CPUs (smp_run_on, kernel/smp.h): a
 * kernel thread pinned to each CPU runs fn(arg), the caller sleeps until
 * the last one has finished. The interrupt-context calls it stands beside
 * are the arch's (arch/ipi.h, arch/x86/smp_call.c).
 */
#include "kernel/smp.h"
#include "lib/percpu.h"
#include "lib/panic.h"
#include "lib/spinlock.h"
#include "sched/task.h"

struct run_on {
	smp_call_fn fn;
	void *arg;
	struct spinlock lock;
	uint32_t remaining;
	struct task *waiter;
};

static void run_on_thread(void *p)
{
	struct run_on *r = p;

	r->fn(r->arg);
	spin_lock(&r->lock);
	if (--r->remaining == 0 && r->waiter)
		sched_wake(r->waiter, WAKE_SIGNAL);
	spin_unlock(&r->lock);
}

void smp_run_on(const struct cpumask *mask, smp_call_fn fn, void *arg)
{
	struct run_on r = { .fn = fn, .arg = arg, .remaining = 0 };
	uint32_t cpu;

	spin_init(&r.lock, "smp_run_on");
	for_each_cpu_in (cpu, mask) {
		if (!cpumask_test(&cpu_online_mask, cpu))
			continue;
		struct task *t = task_create("run_on", run_on_thread, &r, PRIO_HIGH);

		BUG_ON(!t);
		cpumask_clear_all(&t->affinity);
		cpumask_set(&t->affinity, cpu);
		spin_lock(&r.lock);
		r.remaining++;
		spin_unlock(&r.lock);
		task_start(t, cpu);
	}
	spin_lock(&r.lock);
	while (r.remaining) {
		r.waiter = current_task();
		/* Uninterruptible: r lives on our stack until every thread ran. */
		sched_block_uninterruptible(&r.lock);
		spin_lock(&r.lock);
	}
	spin_unlock(&r.lock);
}
