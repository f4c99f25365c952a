/*
 * The IPC direct switch, inline: the one piece of the scheduler that a
 * service (kernel/ipc.c's fused fast path) compiles into itself, so that
 * an IPC hand-over is one function from the system call to switch_to().
 * Protocol: sched/sched.c (the kill protocol, "The IPC direct switch");
 * sched_switch_to_blocked() there is the general version, and both end in
 * direct_switch_commit() below, so the two cannot drift apart.
 */
#pragma once

#include "sched/context_switch.h"

/* Off its sleep list (a blocked task with a wake-up time). rq->lock held. */
static __always_inline void sleeper_cancel(struct task *t)
{
	if (t->wake_at_ns) {
		list_del(&t->timer_link);
		t->wake_at_ns = 0;
	}
}

/*
 * The switch itself, once next is known to be BLOCKED, switched out and
 * owned by rq (this CPU's, locked, interrupts off) and we have no kill
 * pending: we block, next runs on the rest of our slice, and `held` (or
 * NULL) is dropped before the switch, with the preemption count spin_lock()
 * took if held_counted. Not held_counted is the fused path's call, a
 * system call holding raw locks only (context_switch()'s from_syscall).
 * Returns when somebody switches back to us, interrupts still off.
 */
static __always_inline void direct_switch_commit(struct rq *rq, struct task *me, struct task *next,
						 struct spinlock *held, bool held_counted,
						 void *wchan)
{
	/* Acquire: next's registers were saved (pairs with the release in
	 * finish_switch() on the CPU it last ran on, before that CPU dropped
	 * the rq lock we hold). */
	BUG_ON(__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE));
	BUG_ON(!list_empty(&next->rq_link)); /* a blocked task is on no run queue */
	sleeper_cancel(next);
	me->wchan = wchan;
	me->state = TASK_BLOCKED;
	if (held) {
		spin_unlock_raw(held);
		if (held_counted)
			preempt_enable_no_resched();
	}
	/* Direct switch: next never touches the run queue, and it runs on
	 * the rest of our slice (donated, as in seL4). A fresh slice here let
	 * a call/reply pair ping-pong on one CPU for ever while other tasks
	 * of the same priority starved (regression:
	 * ipc_switch_vs_migrating_wake hung at -smp 2). At least one tick, so
	 * that the next tick still ends an exhausted slice: left + (left ==
	 * 0), which is a CMP and an ADC (the conditional form costs a MOV of
	 * the 1 and a TEST and CMOV). */
	uint32_t left = me->slice_ticks;

	next->state = TASK_RUNNING;
	next->wake_reason = WAKE_DIRECT;
	next->slice_ticks = left + (left == 0);
	rq->curr = next;
	context_switch(rq, me, next, true, !held_counted, true);
}

/*
 * sched_switch_to_blocked()'s common case, inline. The same contract but
 * for two things: interrupts are off on entry and on return, and held was
 * taken with spin_lock_raw() (interrupts off already: no preemption count
 * to move). The common case: next is owned by this CPU's run queue, still
 * BLOCKED, and we have no kill pending. Anything else (next woken by a
 * kill meanwhile, or blocked on another CPU's queue, or a kill of ours) is
 * the general function's, which re-checks everything under both run-queue
 * locks and falls back to a wake and a block; it is given held as
 * spin_lock() would have left it. me is current_task(), which the caller
 * has read already (a per-CPU read is not reused across inline code).
 */
static __always_inline void sched_direct_switch(struct task *me, struct task *next,
						struct spinlock *held_raw, void *wchan)
{
	struct rq *rq = this_rq();

	spin_lock_raw(&rq->lock);
	/* The kill test is ordered by the rq lock, as kill_pending()'s: a
	 * plain read, tested in memory (a TESTB; an atomic load costs a MOV
	 * more), as the exit to user reads the flags (kernel/entry_exit.h). */
	if (unlikely((uint32_t)READ_ONCE(next->cpu) != rq->cpu || next->state != TASK_BLOCKED ||
		     (me->flags & TF_KILLED))) {
		spin_unlock_raw(&rq->lock);
		preempt_disable();
		sched_switch_to_blocked(next, held_raw);
		return;
	}
	direct_switch_commit(rq, me, next, held_raw, false, wchan);
}
