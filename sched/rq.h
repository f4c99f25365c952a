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
/* sched/sched.c: the run-queue primitives (rq->lock held), shared with
 * sched/balance.c. */
void enqueue(struct rq *rq, struct task *t);
void dequeue(struct rq *rq, struct task *t);
bool allowed_on(const struct task *t, uint32_t cpu);
struct rq *lock_task_rq(struct task *t, uint64_t *flags);
void unlock_rq(struct rq *rq, uint64_t flags);
void double_lock(struct rq *a, struct rq *b);
void double_unlock(struct rq *a, struct rq *b);
void check_preempt(struct rq *rq, struct task *t);
/* The wake of a task parked for a migration (TF_MIGRATE, sched/switch.c):
 * no wake-up, so its wake_reason stays the one its last wake-up gave (with
 * WAKE_NONE, a futex_wait that had timed out read it as woken: regression
 * futex_timeout_survives_migration). */
bool sched_wake_keep_reason(struct task *t);
/* Both locks held: move t, homed on rq, to drq, where its affinity now
 * allows it and no longer rq (sched_set_affinity): queued, or asleep with
 * a timeout (its timer moves, so that the tick that ends it runs there). */
void sched_move_home_locked(struct rq *rq, struct rq *drq, struct task *t);
/* sched/balance.c: placement and balancing. */
uint32_t select_cpu(struct task *t);
void idle_balance(struct rq *rq);
/* sched/switch.c: the out-of-line ends of context_switch()
 * (sched/context_switch.h). */
void context_switch_preempt_panic(struct task *prev) __noreturn;
/* finish_switch() for a prev with TF_SWITCH_WORK (a migration's wake, a
 * test's delay): lets prev go, then does the work. */
void finish_switch_work(struct rq *rq, struct task *prev);
/* sched_finish_switch: sched/task.h. */
/* sched/task.c */
void task_reap_later(struct task *t);
void snprintf_task_name(struct task *t, const char *fmt, uint32_t n);
