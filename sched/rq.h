/*
 * Per-CPU run queue (private to sched/).
 *
 * rq->lock guards: the queues, nr_running, curr, the sleep list, and the
 * state/cpu fields of every task whose task->cpu is this CPU. It is taken
 * with interrupts off. Two run queues are locked in CPU-id order.
 * Lock order: endpoint and futex-bucket locks before rq->lock.
 */
#pragma once

#include "sched/task.h"
#include "lib/spinlock.h"
#include "arch/entry.h"

struct rq {
	struct spinlock lock;
	uint32_t cpu;
	uint32_t nr_running; /* queued, not counting curr */
	struct list_node queue[NR_PRIOS];
	struct task *curr;
	struct task *idle;
	struct list_node sleepers; /* blocked tasks with a wake-up time, sorted */
	uint64_t ticks;
	bool preempting; /* the coming switch is an involuntary preemption */
};

static inline struct rq *cpu_rq(uint32_t cpu)
{
	return percpu_of(cpu)->rq;
}

static inline struct rq *this_rq(void)
{
	return this_cpu_read(rq);
}

/* sched/sched.c: pick the next task and switch (rq locked, irqs off). */
void sched_switch_locked(struct rq *rq);
/* sched/switch.c: the out-of-line ends of context_switch()
 * (sched/context_switch.h). */
void context_switch_preempt_panic(struct task *prev) __noreturn;
void sched_migrate_switched_out(struct task *prev);
/* sched_finish_switch: sched/task.h. */
/* sched/task.c */
void task_reap_later(struct task *t);
void snprintf_task_name(struct task *t, const char *fmt, uint32_t n);
