/*
 * Scheduler: per-CPU run queues, fixed priorities, round robin.
 *
 * Policy: four priority levels; the highest non-empty level runs; tasks of
 * one level share the CPU round-robin in slices of sched_slice ticks.
 * Chosen over a fair (virtual-time) policy because this kernel's users
 * measure mechanisms: pinned benchmark threads must run exactly when they
 * are runnable, with no accounting that shifts who runs next from one run
 * to the other, and every decision must be explainable from the queue
 * contents alone. Fairness between equals comes from the slices.
 *
 * Placement and balancing: a woken task goes back to its previous CPU if
 * its affinity allows, unless that CPU is busy and an allowed CPU is idle.
 * An idle CPU pulls a queued task from the busiest CPU on every tick (and
 * before halting), if the task's affinity allows the move. A task whose
 * affinity changes away from its CPU moves at its next switch.
 *
 * Wake-up protocol (the race with a task still switching out):
 *   blocker: holding its wait-list lock W, lock the rq, set state BLOCKED,
 *            drop W, switch away with the rq locked.
 *   waker:   holding W, remove the task from the wait list, lock the rq of
 *            task->cpu (re-checking task->cpu after locking), then:
 *            BLOCKED and not rq->curr -> enqueue, RUNNABLE (IPI the CPU if
 *            it must reschedule); BLOCKED but still rq->curr (between
 *            dropping W and switching) -> set RUNNING, so schedule() keeps
 *            it; anything else -> already awake, nothing to do.
 * Both sides hold the rq lock when they look at state, so exactly one of
 * the cases applies.
 *
 * A task can be picked by one CPU while another is still switching away
 * from it (it was woken elsewhere, or migrated): task->on_cpu stays set
 * until the old CPU's switch_to() saved its registers, and the new CPU
 * waits for it to clear before switching to the task (sched/switch.c).
 *
 * Kills (DESIGN.md "Entry invariants": a kill is never lost). The killer
 * (kernel/proc.c kill_threads) sets TF_KILLED, then calls sched_wake(),
 * which takes the rq lock. Every killable wait (sched_block,
 * sched_block_timeout, sched_sleep_ns, the IPC direct switch) tests
 * TF_KILLED after taking the same rq lock, before it sets BLOCKED:
 *   killer:  flags |= KILLED; lock rq; BLOCKED? -> wake; unlock
 *   blocker: lock rq; KILLED? -> do not block (wake_reason WAKE_KILLED);
 *            else BLOCKED; switch away; unlock
 * Whichever takes the lock second sees the other's write: the killer finds
 * the task BLOCKED and wakes it, or the blocker finds the flag and returns
 * at once (counter kill_before_block). Callers treat a return from a
 * killable wait like any wake-up: they re-check their condition and see
 * the kill. Waits the kernel itself must see through (smp_run_on: its
 * state is on the waiter's stack) use sched_block_uninterruptible().
 *
 * The IPC direct switch (sched_switch_to_blocked) runs a task that a
 * waiter popped from an endpoint, without a run queue. A kill may have
 * woken that task in between (kill_threads holds no endpoint lock), so the
 * switch re-checks, under both rq locks, that the task is still BLOCKED
 * and switched out; if not (or if the caller itself has a kill pending) it
 * falls back to an ordinary wake and block (counter ipc_switch_fallback).
 * Its common case (next owned by this CPU's queue) is also inline, for
 * kernel/ipc.c's fused path: sched_direct_switch() in
 * sched/direct_switch.h, which shares the switch itself
 * (direct_switch_commit()) with the function here and falls back to it.
 *
 * Files: this one, the policy (run queues, pick, slices, blocking, waking,
 * ticks); sched/balance.c, placement and balancing (select_cpu, affinity
 * moves, idle_balance); sched/idle.c, the idle loop; sched/rq.h, what they
 * share.
 */
#include "sched/rq.h"
#include "sched/direct_switch.h"
#include "sched/idle.h"
#include "lib/percpu.h"
#include "lib/preempt.h"
#include "arch/ipi.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/time.h"
#include "lib/cmdline.h"
#include "arch/cpu.h"
#include "mm/kheap.h"
#include "mm/kflush.h"

static int sched_slice = 5;
KSWITCH_INT(sched_slice, "sched_slice", "time slice in ticks", 1, 1000);

/* ---- queue primitives (rq->lock held) ---- */

/* Not on a run queue (rq_link is also the reaper's list, used only after
 * the task is dead): a second enqueue would corrupt the queue. */
static void assert_off_queue(const struct task *t)
{
	BUG_ON(!list_empty(&t->rq_link));
}

void enqueue(struct rq *rq, struct task *t)
{
	assert_held(&rq->lock);
	assert_off_queue(t);
	t->state = TASK_RUNNABLE;
	t->cpu = (int32_t)rq->cpu;
	list_add_tail(&rq->queue[t->prio], &t->rq_link);
	rq->nr_running++;
}

/* A task preempted with slice left goes back to the head of its queue: a
 * wake-up of a higher priority must not reorder equal-priority tasks. */
static void enqueue_preempted(struct rq *rq, struct task *t)
{
	assert_held(&rq->lock);
	assert_off_queue(t);
	t->state = TASK_RUNNABLE;
	t->cpu = (int32_t)rq->cpu;
	t->preempted = true;
	list_add_head(&rq->queue[t->prio], &t->rq_link);
	rq->nr_running++;
}

void dequeue(struct rq *rq, struct task *t)
{
	assert_held(&rq->lock);
	list_del(&t->rq_link);
	rq->nr_running--;
}

static struct task *pick_next(struct rq *rq)
{
	for (int p = 0; p < NR_PRIOS; p++) {
		if (!list_empty(&rq->queue[p])) {
			struct task *t = list_entry(rq->queue[p].next, struct task, rq_link);

			dequeue(rq, t);
			return t;
		}
	}
	return rq->idle;
}

bool allowed_on(const struct task *t, uint32_t cpu)
{
	return cpumask_test(&t->affinity, cpu) && cpumask_test(&cpu_online_mask, cpu);
}

/* Lock the rq that owns t (task->cpu may change until we hold it). */
struct rq *lock_task_rq(struct task *t, uint64_t *flags)
{
	for (;;) {
		uint32_t cpu = (uint32_t)READ_ONCE(t->cpu);
		struct rq *rq = cpu_rq(cpu);

		*flags = irq_save();
		spin_lock_raw(&rq->lock);
		if ((uint32_t)READ_ONCE(t->cpu) == cpu)
			return rq;
		spin_unlock_raw(&rq->lock);
		irq_restore(*flags);
	}
}

void unlock_rq(struct rq *rq, uint64_t flags)
{
	spin_unlock_raw(&rq->lock);
	irq_restore(flags);
}

void double_lock(struct rq *a, struct rq *b)
{
	if (a == b) {
		spin_lock_raw(&a->lock);
	} else if (a->cpu < b->cpu) {
		spin_lock_raw(&a->lock);
		spin_lock_raw(&b->lock);
	} else {
		spin_lock_raw(&b->lock);
		spin_lock_raw(&a->lock);
	}
}

void double_unlock(struct rq *a, struct rq *b)
{
	spin_unlock_raw(&a->lock);
	if (a != b)
		spin_unlock_raw(&b->lock);
}

/* Does the CPU running rq need to reschedule for a newly queued t? */
void check_preempt(struct rq *rq, struct task *t)
{
	if (rq->curr == rq->idle || t->prio < rq->curr->prio) {
		if (rq->cpu == this_cpu_id()) {
			this_cpu_write(need_resched, 1);
		} else {
			this_cpu_inc(counters[CNT_WAKE_REMOTE]);
			smp_send_resched(rq->cpu);
		}
	}
}

static void sleeper_add(struct rq *rq, struct task *t);

/* ---- the scheduler proper ---- */

/* rq locked, interrupts off; returns with the lock dropped. */
void sched_switch_locked(struct rq *rq)
{
	struct task *prev = rq->curr, *next;

	assert_held(&rq->lock);
	bool preempting = rq->preempting;

	rq->preempting = false;
	if (prev->state == TASK_RUNNING && prev != rq->idle) {
		if (allowed_on(prev, rq->cpu)) {
			if (preempting && prev->slice_ticks)
				enqueue_preempted(rq, prev);
			else
				enqueue(rq, prev);
		} else {
			/* Affinity moved away: park it as blocked; once it is off
			 * this CPU, sched_finish_switch() wakes it on an allowed
			 * one (no second rq lock here, no lock-order problem). */
			prev->state = TASK_BLOCKED;
			/* Atomic: other CPUs set TF_KILLED concurrently. */
			__atomic_fetch_or(&prev->flags, TF_MIGRATE, __ATOMIC_RELAXED);
		}
	}
	next = pick_next(rq);
	next->state = TASK_RUNNING;
	if (!next->preempted)
		next->slice_ticks = (uint32_t)sched_slice;
	next->preempted = false;
	this_cpu_write(need_resched, 0);
	if (next == prev) {
		spin_unlock_raw(&rq->lock);
		return;
	}
	rq->curr = next;
	context_switch(rq, prev, next, false, false, false);
}

void schedule(void)
{
	uint64_t f = irq_save();
	struct rq *rq = this_rq();

	spin_lock_raw(&rq->lock);
	sched_switch_locked(rq);
	irq_restore(f);
}

void preempt_schedule(void)
{
	uint64_t f = irq_save();
	struct rq *rq = this_rq();

	spin_lock_raw(&rq->lock);
	rq->preempting = true;
	sched_switch_locked(rq);
	irq_restore(f);
}

/* lib/preempt.c calls it when a preempt_enable() finds a reschedule due
 * (registered by sched_init): not before this CPU has a run queue. */
static void preempt_resched(void)
{
	if (this_rq())
		preempt_schedule();
}

void sched_yield(void)
{
	schedule();
}

static bool kill_pending(const struct task *t)
{
	/* Relaxed: ordered by the rq lock both sides hold (protocol above). */
	return __atomic_load_n(&t->flags, __ATOMIC_RELAXED) & TF_KILLED;
}

/* A killable wait that will not start: rq locked by us, interrupts off
 * (saved in f). Drops everything and leaves the task running. */
static void block_refused(struct rq *rq, struct spinlock *held, uint64_t f)
{
	struct task *me = current_task();

	me->wake_reason = WAKE_KILLED;
	me->wchan = NULL;
	this_cpu_inc(counters[CNT_KILL_BEFORE_BLOCK]);
	spin_unlock_raw(&rq->lock);
	if (held) {
		spin_unlock_raw(held); /* taken with spin_lock(): drop its count */
		preempt_enable_no_resched();
	}
	irq_restore(f);
}

static void block(struct spinlock *held, uint64_t deadline_ns, bool killable, void *wchan)
{
	uint64_t f = irq_save();
	struct rq *rq = this_rq();
	struct task *me = current_task();

	if (!me->wchan)
		me->wchan = wchan;
	spin_lock_raw(&rq->lock);
	if (killable && kill_pending(me)) {
		block_refused(rq, held, f);
		return;
	}
	me->state = TASK_BLOCKED;
	/* State and timer change together under the rq lock: the tick cannot
	 * see the timer of a task that is not blocked yet. */
	if (deadline_ns) {
		me->wake_at_ns = deadline_ns;
		sleeper_add(rq, me);
	}
	if (held) {
		spin_unlock_raw(held); /* taken with spin_lock(): drop its count */
		preempt_enable_no_resched();
	}
	sched_switch_locked(rq);
	irq_restore(f);
}

void sched_block_timeout(struct spinlock *held, uint64_t deadline_ns)
{
	block(held, deadline_ns, true, __builtin_return_address(0));
}

void sched_block(struct spinlock *held)
{
	current_task()->wchan = __builtin_return_address(0);
	block(held, 0, true, NULL);
}

void sched_block_uninterruptible(struct spinlock *held)
{
	current_task()->wchan = __builtin_return_address(0);
	block(held, 0, false, NULL);
}

static void sleeper_add(struct rq *rq, struct task *t)
{
	struct list_node *pos;

	assert_held(&rq->lock);
	list_for_each (pos, &rq->sleepers) {
		struct task *x = list_entry(pos, struct task, timer_link);

		if (x->wake_at_ns > t->wake_at_ns)
			break;
	}
	list_insert_between(&t->timer_link, pos->prev, pos);
}

void sched_move_home_locked(struct rq *rq, struct rq *drq, struct task *t)
{
	assert_held(&rq->lock);
	assert_held(&drq->lock);
	/* As the caller saw it before it took both locks? Another setter, a
	 * waker, the tick or t itself may have moved or run it meanwhile. */
	if ((uint32_t)t->cpu != rq->cpu || rq->curr == t || allowed_on(t, rq->cpu) ||
	    !allowed_on(t, drq->cpu))
		return;
	if (t->state == TASK_RUNNABLE) {
		dequeue(rq, t);
		enqueue(drq, t);
		check_preempt(drq, t);
	} else if (t->state == TASK_BLOCKED && t->wake_at_ns) {
		list_del(&t->timer_link);
		t->cpu = (int32_t)drq->cpu;
		sleeper_add(drq, t);
	}
}

/* Wake t if it is in state from (BLOCKED for wake-ups, NEW for the start). */
static __always_inline bool wake_from(struct task *t, int reason, enum task_state from,
				      bool keep_reason)
{
	uint64_t f;
	struct rq *rq;
	bool woke = false;

again:
	rq = lock_task_rq(t, &f);
	if (t->state == from) {
		sleeper_cancel(t);
		if (!keep_reason)
			t->wake_reason = reason;
		if (rq->curr == t) {
			t->state = TASK_RUNNING; /* still switching out: keep running */
		} else {
			uint32_t dst = select_cpu(t);

			if (dst != rq->cpu) {
				struct rq *drq = cpu_rq(dst);

				spin_unlock_raw(&rq->lock);
				/* SYST_WAKE_DELAY: the window below. */
				if (unlikely(current_task()->test_wake_delay_us != 0))
					udelay_once(&current_task()->test_wake_delay_us);
				/* Both locks in CPU order. Meanwhile another waker
				 * may have woken t (a kill holds no wait-list lock),
				 * or it may have run and blocked elsewhere: move it
				 * only if it is still ours and still waiting. And
				 * its affinity may have changed (set_affinity leaves
				 * a task that waits with no timer where it is): dst
				 * chosen before may no longer be allowed, so choose
				 * again (regression wake_rechecks_affinity_after_
				 * relock: the old code queued it there, where it ran
				 * against its new affinity; found in review). */
				double_lock(rq, drq);
				if (t->state == from && rq->curr != t &&
				    (uint32_t)t->cpu == rq->cpu) {
					if (unlikely(!allowed_on(t, dst))) {
						double_unlock(rq, drq);
						irq_restore(f);
						goto again;
					}
					enqueue(drq, t);
					check_preempt(drq, t);
				}
				double_unlock(rq, drq);
				irq_restore(f);
				return true;
			}
			enqueue(rq, t);
			check_preempt(rq, t);
		}
		woke = true;
	}
	unlock_rq(rq, f);
	return woke;
}

bool sched_wake(struct task *t, int reason)
{
	return wake_from(t, reason, TASK_BLOCKED, false);
}

bool sched_wake_keep_reason(struct task *t)
{
	return wake_from(t, WAKE_NONE, TASK_BLOCKED, true);
}

void sched_start(struct task *t)
{
	wake_from(t, WAKE_NONE, TASK_NEW, false);
}

void sched_sleep_ns(uint64_t ns)
{
	uint64_t f = irq_save();
	struct rq *rq = this_rq();
	struct task *me = current_task();

	me->wchan = __builtin_return_address(0);
	spin_lock_raw(&rq->lock);
	if (kill_pending(me)) {
		block_refused(rq, NULL, f);
		return;
	}
	me->wake_at_ns = deadline_after_ns(ns ? ns : 1);
	me->state = TASK_BLOCKED;
	sleeper_add(rq, me);
	sched_switch_locked(rq);
	irq_restore(f);
}

/* Lock this CPU's rq and the one that owns next, in CPU order (taking ours
 * first and then next's deadlocked against a sched_wake() migrating a task
 * the other way; regression: ipc_switch_vs_migrating_wake, found by the
 * qemu-uefi-smp4 boot as a 'runqueue' lockup). next->cpu can change until
 * its rq lock is held (a kill may wake and move it): re-check, as
 * lock_task_rq() does. Interrupts off. Returns next's rq. */
static struct rq *lock_both_for(struct rq *rq, struct task *next)
{
	for (;;) {
		struct rq *old = cpu_rq((uint32_t)READ_ONCE(next->cpu));

		if (likely(old == rq))
			spin_lock_raw(&rq->lock);
		else
			double_lock(rq, old);
		if (likely((uint32_t)READ_ONCE(next->cpu) == old->cpu))
			return old;
		double_unlock(rq, old);
	}
}

void sched_switch_to_blocked(struct task *next, struct spinlock *held)
{
	uint64_t f = irq_save();
	struct rq *rq = this_rq();
	struct task *me = current_task();
	struct rq *old = lock_both_for(rq, next);

	/* next must still be what its waker (us, holding W) left it: BLOCKED
	 * and switched out. A kill may have woken it since it was popped
	 * (then it is queued or running somewhere), and a kill of our own
	 * means we must not block: fall back to an ordinary wake and block. */
	if (next->state != TASK_BLOCKED || old->curr == next || kill_pending(me)) {
		double_unlock(rq, old);
		irq_restore(f);
		this_cpu_inc(counters[CNT_IPC_SWITCH_FALLBACK]);
		sched_wake(next, WAKE_SIGNAL); /* a no-op unless still BLOCKED */
		me->wchan = __builtin_return_address(0);
		sched_block(held);
		return;
	}
	/* BLOCKED and not curr under its rq lock: its switch away finished
	 * (that CPU cleared on_cpu before dropping the lock), and a blocked
	 * task is on no run queue. */
	if (old != rq) {
		next->cpu = (int32_t)rq->cpu;
		spin_unlock_raw(&old->lock);
	}
	direct_switch_commit(rq, me, next, held, true, __builtin_return_address(0));
	irq_restore(f);
}

/* ---- ticks ---- */

void sched_tick(void)
{
	struct rq *rq = this_rq();

	if (!rq)
		return;
	uint64_t now = time_ns();

	spin_lock_raw(&rq->lock);
	rq->ticks++;
	while (!list_empty(&rq->sleepers)) {
		struct task *t = list_entry(rq->sleepers.next, struct task, timer_link);

		if (t->wake_at_ns > now)
			break;
		list_del(&t->timer_link);
		t->wake_at_ns = 0;
		if (t->state == TASK_BLOCKED) {
			t->wake_reason = WAKE_TIMEOUT;
			if (rq->curr == t)
				t->state = TASK_RUNNING;
			else
				enqueue(rq, t);
			this_cpu_write(need_resched, 1);
		}
	}
	struct task *curr = rq->curr;

	/* A used-up slice yields as soon as another task waits, not only on
	 * the tick that used it up: a task that ran alone would otherwise keep
	 * the CPU for good (regression expired_slice_starves_newcomer). */
	if (curr != rq->idle && curr->slice_ticks)
		curr->slice_ticks--;
	if (curr != rq->idle && !curr->slice_ticks && rq->nr_running)
		this_cpu_write(need_resched, 1);
	bool idle = curr == rq->idle && !rq->nr_running;

	spin_unlock_raw(&rq->lock);
	if (idle && nr_cpus_online > 1)
		idle_balance(rq);
}

/* Interrupt exit: preempt if a reschedule is due and allowed. */
void irq_exit_work(struct trap_frame *tf)
{
	if (!this_cpu_read(need_resched) || !this_rq())
		return;
	/* Only if the interrupted code could be preempted. */
	if (this_cpu_read(preempt_count) || this_cpu_read(irq_depth) || !trap_irqs_were_enabled(tf))
		return;
	preempt_schedule();
}

void sched_init_cpu(void)
{
	preempt_set_resched(preempt_resched); /* the same on every CPU */
	struct rq *rq = kmalloc(sizeof(*rq));
	struct task *idle = kmalloc(sizeof(*idle));
	uint32_t cpu = this_cpu_id();

	BUG_ON(!rq || !idle);
	spin_init(&rq->lock, "runqueue");
	rq->cpu = cpu;
	for (int p = 0; p < NR_PRIOS; p++)
		list_init(&rq->queue[p]);
	list_init(&rq->sleepers);
	idle->state = TASK_RUNNING;
	idle->on_cpu = 1;
	idle->cpu = (int32_t)cpu;
	idle->prio = NR_PRIOS;
	idle->flags = TF_KTHREAD;
	idle->refcount = 1;
	cpumask_set(&idle->affinity, cpu);
	list_init(&idle->rq_link);
	list_init(&idle->timer_link);
	snprintf_task_name(idle, "idle/%u", cpu);
	rq->idle = idle;
	rq->curr = idle;
	this_cpu_write(current, idle);
	this_cpu_write(idle, idle);
	this_cpu_write(rq, rq);
}
