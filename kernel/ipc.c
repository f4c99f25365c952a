/*
 * Synchronous IPC: endpoints with call and reply_recv (seL4-style).
 *
 * Glossary
 *   endpoint    rendezvous object (a kobj, kernel/handle.c); waiting
 *               receivers and waiting callers queue on it. It has no name:
 *               it is reached only through handles, R_SEND to call, R_RECV
 *               to receive and reply. It dies when the last handle with
 *               R_RECV goes (closed, or its process exits): every queued
 *               and later call fails with -ESHUTDOWN. Its memory goes when
 *               the last reference does (handles and operations in flight)
 *   call        send a message and block until the reply
 *   reply_recv  reply to the current caller, then block for the next call
 *   reply_to    receiver side: the caller it owes a reply (one at a time)
 *   xfer        the handles a message carries (struct ipc_xfer): taken out
 *               of the sender's table when it sends (a move empties the
 *               slot), handed to the receiving task when the message is,
 *               installed by the receiver in its own table on its way out
 *
 * States of a thread in IPC (task->ipc_state, guarded by the endpoint lock
 * for the two waiting states, by the pairing otherwise):
 *   IPC_IDLE, IPC_RECV (queued on ep->receivers), IPC_SEND (queued on
 *   ep->callers with its message), IPC_REPLY (a receiver holds it as
 *   reply_to; it is on no queue and only that receiver wakes it).
 *
 * A receiver holds a reference on its reply_to task: a caller killed while
 * waiting for the reply returns at once, and the late reply lands in a task
 * that still exists (and is no longer blocked, so the wake-up is a no-op).
 * Every operation holds a reference on its endpoint from the handle lookup
 * (handle_get, lock-free) to its return, so a concurrent close never frees
 * an endpoint that a thread is queued on or about to lock. A killed waiter
 * takes itself off the queue when it wakes (nobody else touches its queue
 * links).
 *
 * Handles in messages. A sender whose handle argument carries IPC_HANDLES
 * first takes the handles out of its table (include/uapi/handle.h) into
 * its own me->ipc_xfer_out. Whoever copies the message to the partner
 * also copies that block into the partner's ipc_xfer_in, guarded by the
 * partner's ipc_xfer_state: EMPTY -> BUSY (claimed, CMPXCHG) -> FULL
 * (published, CMPXCHG); the partner, returning, installs a FULL block in
 * its own table and sets EMPTY. The only delivery that can race with the
 * partner is a reply to a caller a kill has already woken: that caller
 * never returns to user (a killed thread exits), and its thread exit
 * exchanges the state to CLOSED, so exactly one side releases the late
 * handles: the exit if the block was FULL, the replier (whose CMPXCHG
 * then fails) otherwise. A message that is never delivered releases its
 * block in the sender. The plain path tests two words (our out-mask at
 * each hand-over, our state on the way out) and runs nothing else.
 *
 * Fast path: a call that finds a waiting receiver allowed on this CPU
 * hands the message over in the receiver's task and switches to it
 * directly, without touching a run queue (sched_switch_to_blocked); the
 * reply does the same in the other direction. When the other side must
 * run elsewhere, it is woken there (an IPI if that CPU must reschedule).
 * The address-space half of the direct switch has its own fast path
 * (mm/tlb.c load_mm_fast: the partner's PCID slot is the one loaded
 * before ours and needs no flush; its comment says why the general
 * load_mm would do the same), and the system calls pass the task's own
 * ipc_msg, so the message is copied once each way (frame to task, task
 * to partner, partner's task to its frame). The task run by a direct
 * switch knows it (wake_reason WAKE_DIRECT, set under the run-queue lock)
 * and skips wait_done's endpoint lock: the lock is there to wait for a
 * waker on another CPU to block, and a direct switcher was BLOCKED on
 * this CPU before we ran.
 *
 * Fused fast path (ipc_sys_call, ipc_sys_reply_recv: the system calls
 * themselves, as seL4's fastpath sits in front of its general path). The
 * common hand-over above runs through four functions (the system call,
 * ipc_call, hand_over, sched_switch_to_blocked), each with its prologue,
 * its own test of what the previous one knew, an interrupt-flag save and
 * the message copied frame -> our ipc_msg -> the partner's. The fused
 * path is one function from the trap frame to switch_to(). It is taken
 * when all of these hold, tested before anything is changed:
 *   - ipcfast=on (boot switch; off: every call takes the general path);
 *   - nothing left in our ipc_xfer_out;
 *   - no test hook armed (test_ipc_delay_us, test_ipc_block_delay_us);
 *   - the handle names a live endpoint with the right (R_SEND; R_RECV),
 *     and R_GRANT too if the message carries handles;
 *   - reply_recv only: we owe a reply (ipc_reply_to set);
 *   - the partner may run on this CPU (sched_can_run_here), and under the
 *     endpoint lock: the endpoint is not dead, and for a call a receiver
 *     is queued, for a reply_recv no caller is queued (the general path
 *     then takes that caller's message without blocking).
 * It then makes exactly the general path's changes, under the same locks
 * in the same order (endpoint lock, then the run-queue lock, the endpoint
 * lock dropped before the switch): the receiver popped and handed the
 * message, reply_to and the caller reference, our state and ipc_ep for a
 * call; the reply delivered, our queue entry for a reply_recv. The switch
 * is sched_direct_switch() (sched/direct_switch.h), which ends in the
 * same direct_switch_commit() as sched_switch_to_blocked() and falls back
 * to that function when its own preconditions fail (the partner woken by
 * a kill meanwhile, or owned by another CPU's run queue, or a kill of
 * ours): the general path would call it at the same point, with the same
 * state. What resumes us is the general tail, the same functions as in
 * ipc_call() and ipc_reply_recv() (call_woken, recv_woken): whichever path
 * the partner (or a kill) took, we find the state those functions would.
 * A failed precondition changes nothing but a counter (ipc_fused_miss) and
 * runs the general path: from the start if the lookup failed, else from
 * the point after the general path's own lookup (call_ep(),
 * reply_recv_ep()), with the fused lookup's reference. Counters:
 * ipc_fused for hand-overs it made, each also an ipc_fastpath, as the
 * general direct switch counts it (counter_read() adds the one to the
 * other: one increment a hand-over).
 *
 * A message with handles (IPC_HANDLES set, which fails the plain path's
 * lookup, so the plain path runs no handle code) has a second copy of the
 * same function. It looks the endpoint up once for both rights, then
 * takes the handles out of our table as the general path's xfer_collect()
 * does; that is its first change, and from there a failed precondition
 * runs the general path from the point after its collect (call_ep() or
 * reply_recv_ep() with the endpoint's reference, the handles in our
 * ipc_xfer_out, the message in our ipc_msg). Both look the endpoint up
 * before they take the handles, so a message may move the very handle the
 * call names, and the call goes through on either path. The hand-over
 * passes the handles with the message under the endpoint lock
 * (xfer_pass(), as hand_over()'s callers do), and the partner installs
 * them on its way out in the tails above. A reply's
 * delivery is its last precondition: to a caller that has exited (killed
 * while waiting for us) it fails, and the general path releases the
 * handles, as it would have, outside the lock that releasing one may take
 * (xfer_try_pass()). Counted as the plain path (ipc_fused) and per handle
 * (handle_xfer).
 *
 * Messages are IPC_MSG_WORDS words passed in registers (RSI, RDX, R10,
 * R8); the kernel copies them task to task and never touches user memory.
 */
#include "kernel/ipc.h"
#include "kernel/proc.h"
#include "include/uapi/errno.h"
#include "lib/spinlock.h"
#include "lib/list.h"
#include "kernel/percpu_area.h"
#include "lib/panic.h"
#include "lib/time.h"
#include "sched/task.h"
#include "mm/kheap.h"
#include "kernel/syscall.h"
#include "lib/cmdline.h"
#include "sched/direct_switch.h"

enum { IPC_IDLE, IPC_RECV, IPC_SEND, IPC_REPLY };

struct endpoint {
	struct kobj kobj; /* first: the typesafe header */
	struct spinlock lock;
	bool dead;
	uint32_t recv_handles; /* handles with R_RECV, in tables or in flight */
	struct list_node receivers;
	struct list_node callers;
};

/* task->ipc_xfer_state: who owns task->ipc_xfer_in. */
enum {
	XFER_EMPTY,  /* nothing delivered: a deliverer may claim it */
	XFER_BUSY,   /* a deliverer is copying into it */
	XFER_FULL,   /* delivered: the task installs it on its way out */
	XFER_CLOSED, /* the task has exited: a deliverer keeps its handles */
};

static struct kmem_cache ep_cache;

static bool ipcfast = true;
KSWITCH_BOOL(ipcfast, "ipcfast", "fused IPC fast path for call and reply_recv");

static struct endpoint *ep_of(struct kobj *o)
{
	return container_of(o, struct endpoint, kobj);
}

/* Wake everyone queued on a dying endpoint: their calls fail. */
static void ep_kill_locked(struct endpoint *ep)
{
	struct list_node *pos;

	assert_held(&ep->lock);
	ep->dead = true;
	while ((pos = list_pop_head(&ep->receivers)) || (pos = list_pop_head(&ep->callers))) {
		struct task *t = list_entry(pos, struct task, ipc_link);

		t->ipc_state = IPC_IDLE;
		t->ipc_status = -ESHUTDOWN;
		sched_wake(t, WAKE_SIGNAL);
	}
}

static void ep_handle_add(struct kobj *o, uint32_t rights)
{
	struct endpoint *ep = ep_of(o);

	if (!(rights & R_RECV))
		return;
	spin_lock(&ep->lock);
	ep->recv_handles++;
	spin_unlock(&ep->lock);
}

static void ep_handle_drop(struct kobj *o, uint32_t rights)
{
	struct endpoint *ep = ep_of(o);

	if (!(rights & R_RECV))
		return;
	spin_lock(&ep->lock);
	if (--ep->recv_handles == 0 && !ep->dead)
		ep_kill_locked(ep);
	spin_unlock(&ep->lock);
}

static void ep_destroy(struct kobj *o)
{
	struct endpoint *ep = ep_of(o);

	/* Every queued thread holds a reference: none is left. */
	BUG_ON(!list_empty(&ep->receivers) || !list_empty(&ep->callers));
	kmem_cache_free(&ep_cache, ep);
}

static const struct kobj_ops ep_ops = {
	.destroy = ep_destroy,
	.handle_add = ep_handle_add,
	.handle_drop = ep_handle_drop,
};

void ipc_init(void)
{
	kmem_cache_init_typesafe(&ep_cache, "endpoint", sizeof(struct endpoint), 64);
	kobj_register(KOBJ_ENDPOINT, &ep_ops);
}

long ipc_ep_create(void)
{
	struct endpoint *ep = kmem_cache_alloc(&ep_cache);

	if (!ep)
		return -ENOMEM;
	spin_init(&ep->lock, "endpoint");
	list_init(&ep->receivers);
	list_init(&ep->callers);
	kobj_init(&ep->kobj, KOBJ_ENDPOINT);
	return handle_create(proc_current(), &ep->kobj, R_SEND | R_RECV | R_GRANT | R_DUP | R_XFER);
}

static __always_inline struct endpoint *ep_get(uint64_t h, uint32_t need, long *err)
{
	struct kobj *o = NULL;

	*err = handle_get(proc_current()->handles, h, KOBJ_ENDPOINT, need, &o);
	return *err ? NULL : ep_of(o);
}

static void ep_put(struct endpoint *ep)
{
	kobj_put(&ep->kobj);
}

/* ---- handles in messages ---- */

static void xfer_release(struct ipc_xfer *x)
{
	for (int i = 0; i < IPC_MSG_WORDS; i++)
		if (x->mask & (1u << i))
			handle_release(x->obj[i], x->rights[i]);
	x->mask = 0;
}

/* Take the handles desc names out of our table (handle.h's rules) into
 * me->ipc_xfer_out, which our next message carries; the endpoint's R_GRANT
 * is the caller's to check. Moves are final even on error. */
static long xfer_take(struct task *me, uint64_t desc, const struct ipc_msg *msg)
{
	struct ipc_xfer *x = &me->ipc_xfer_out;

	if (desc & ~IPC_XFER_VALID)
		return -EINVAL;
	/* The words with a non-zero field, lowest first (desc loses each). */
	while (desc) {
		int i = __builtin_ctzll(desc) / 16;
		uint32_t f = IPC_XFER_FIELD(desc, i);
		long err;

		desc &= ~(0xffffull << (16 * i));
		if (!(f & 1))
			err = -EINVAL;
		else
			err = handle_take(me->proc, msg->w[i], f & 2, (f >> 2) & R_ALL, &x->obj[i],
					  &x->rights[i]);
		if (err) {
			xfer_release(x);
			return err;
		}
		x->mask |= 1u << i;
	}
	return 0;
}

/* The same for the general calls: the endpoint looked up first, for its
 * R_GRANT and the call's own right (need), then the handles taken; 0 and
 * the endpoint with its reference in *epp, or the error. The lookup comes
 * first, as in the fused path: a message may move the very handle the
 * call names (regression call_moving_its_own_endpoint_handle). */
static long xfer_collect(uint64_t h, uint32_t need, uint64_t desc, const struct ipc_msg *msg,
			 struct endpoint **epp)
{
	long err;

	if (desc & ~IPC_XFER_VALID)
		return -EINVAL; /* before the lookup: whatever h is */
	*epp = ep_get(h, need | R_GRANT, &err);
	if (!*epp)
		return err;
	err = xfer_take(current_task(), desc, msg);
	if (err)
		ep_put(*epp);
	return err;
}

/*
 * The message of `from` is being copied to `to`: the handles go with it,
 * into to->ipc_xfer_in. Claim it (EMPTY -> BUSY), copy, publish (BUSY ->
 * FULL). Either step fails only if `to` has exited meanwhile (CLOSED,
 * ipc_thread_exit), and `to` never looks at its block again: then false,
 * and the handles are still in from's out-block. Releasing them may take
 * an endpoint lock (ep_handle_drop), so no caller may hold one:
 * xfer_pass() releases, the fused reply (which holds its endpoint's lock)
 * misses to the general path instead (regression
 * fused_reply_with_handles_to_dead_caller).
 */
static __noinline bool xfer_try_pass(struct task *from, struct task *to)
{
	uint32_t st = XFER_EMPTY;

	/* Locked CMPXCHG: orders the claim before our copy. Pairs with the
	 * exchange in ipc_thread_exit(). */
	if (__atomic_compare_exchange_n(&to->ipc_xfer_state, &st, XFER_BUSY, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		to->ipc_xfer_in = from->ipc_xfer_out;
		st = XFER_BUSY;
		/* Release (and a full barrier, locked): the copy is visible
		 * before FULL. Pairs with the acquire fence in xfer_install() and
		 * the exchange in ipc_thread_exit(). */
		if (__atomic_compare_exchange_n(&to->ipc_xfer_state, &st, XFER_FULL, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			from->ipc_xfer_out.mask = 0;
			return true;
		}
	}
	return false;
}

/*
 * The same, releasing the handles if `to` has exited. Under an endpoint
 * lock only where `to` cannot have: a receiver popped from the endpoint's
 * queue (it leaves the queue under that lock, in wait_done(), before it
 * can exit), or the caller of ipc_reply_recv() itself.
 */
static void xfer_pass(struct task *from, struct task *to)
{
	if (!xfer_try_pass(from, to))
		xfer_release(&from->ipc_xfer_out);
}

static inline void xfer_hand(struct task *from, struct task *to)
{
	if (unlikely(from->ipc_xfer_out.mask))
		xfer_pass(from, to);
}

/* Returning from a receive or a call with status r: install the handles
 * delivered to us into our table, their values into the message words;
 * returns r with the mask of those words (IPC_RESULT_HANDLES). */
static __noinline long xfer_install(struct task *me, struct ipc_msg *msg, long r)
{
	struct ipc_xfer *x = &me->ipc_xfer_in;
	uint32_t got = 0;

	/* Acquire: after xfer_arrived()'s read of FULL (pairs with the
	 * CMPXCHG to FULL in xfer_try_pass()). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (r < 0) { /* not for us after all (a late reply): drop them */
		xfer_release(x);
	} else {
		for (uint32_t m = x->mask; m; m &= m - 1) {
			int i = __builtin_ctz(m);
			long nh = handle_deliver(me->proc, x->obj[i], x->rights[i]);

			msg->w[i] = (uint64_t)nh;
			if (nh >= 0)
				got |= 1u << i;
			this_cpu_inc(counters[CNT_HANDLE_XFER]);
		}
		x->mask = 0;
	}
	/* Only we leave FULL, and nobody claims the block (EMPTY -> BUSY)
	 * before we do: we read it in place. Release: our reads of it come
	 * before a later deliverer's copy into it. Pairs with the CMPXCHG
	 * in xfer_pass(). */
	__atomic_store_n(&me->ipc_xfer_state, XFER_EMPTY, __ATOMIC_RELEASE);
	return r < 0 ? r : r | (long)((uint64_t)got << IPC_RESULT_HANDLES_SHIFT);
}

static inline long xfer_arrived(struct task *me, struct ipc_msg *msg, long r)
{
	/* The block is read after FULL: xfer_install()'s acquire fence,
	 * pairs with xfer_try_pass(). A plain read, which the compiler tests in
	 * memory (CMPL; an atomic load costs a MOV more, as fused_allowed()
	 * says of ipcfast): x86 keeps loads in order, and the fence behind
	 * the call keeps the compiler from reading the block first. A BUSY
	 * here is a late reply racing with our kill: ipc_thread_exit()
	 * settles it. */
	if (unlikely(me->ipc_xfer_state == XFER_FULL))
		return xfer_install(me, msg, r);
	return r;
}

/* The message was not delivered: its handles are released. */
static inline void xfer_undelivered(struct task *me)
{
	if (unlikely(me->ipc_xfer_out.mask))
		xfer_release(&me->ipc_xfer_out);
}

/* Give a blocked partner the CPU: directly if it may run here, otherwise
 * wake it where it belongs and block ourselves. Drops ep->lock. */
static __always_inline void hand_over(struct endpoint *ep, struct task *partner)
{
	if (sched_can_run_here(partner)) {
		this_cpu_inc(counters[CNT_IPC_FASTPATH]);
		sched_switch_to_blocked(partner, &ep->lock);
		return;
	}
	this_cpu_inc(counters[CNT_IPC_SLOWPATH]);
	/* Our state must be BLOCKED before the partner can reply: block
	 * (which drops the lock) only after the partner was woken under it.
	 * The partner's wait_done() takes the lock, so it cannot reply
	 * before we are BLOCKED. */
	sched_wake(partner, WAKE_SIGNAL);
	/* Test hook (SYST_IPC_BLOCK_DELAY, one hand-over): the partner is
	 * awake elsewhere and we are not yet blocked, the window its
	 * wait_done() must not let it reply in. */
	if (unlikely(current_task()->test_ipc_block_delay_us))
		udelay_once(&current_task()->test_ipc_block_delay_us);
	sched_block(&ep->lock);
}

/* After a wait: leave the endpoint's queue if still on it (killed, or the
 * endpoint died), forget the endpoint. The operation's reference keeps it
 * alive until here.
 *
 * The lock is taken even when our state says we were dequeued: a waker
 * that must wake us on another CPU (hand_over) holds it from the wake-up
 * until it is BLOCKED itself, and taking it here is what keeps our reply
 * from reaching the waker before it blocks (a lost wake-up otherwise:
 * regression ipc_wait_done_races_the_wakers_block). */
static __always_inline void wait_done(struct task *me, struct endpoint *ep)
{
	/* Run by a direct switch (WAKE_DIRECT): the switcher dequeued us and
	 * was BLOCKED before we ran, on this CPU; the lock would find nothing
	 * to do and no waker to wait for. */
	if (likely(me->wake_reason == WAKE_DIRECT)) {
		me->ipc_ep = NULL;
		return;
	}
	spin_lock(&ep->lock);
	if (me->ipc_state == IPC_RECV || me->ipc_state == IPC_SEND) {
		list_del(&me->ipc_link);
		me->ipc_state = IPC_IDLE;
		if (me->ipc_status >= 0)
			me->ipc_status = -EINTR;
	}
	spin_unlock(&ep->lock);
	me->ipc_ep = NULL;
}

/* The two waits' tails, shared by the general calls and the fused fast
 * path (whatever woke us, both find the state these expect). Each returns
 * the call's result; when it is >= 0 the message is in me->ipc_msg. */

/* A call's: woken by the reply, by teardown (status < 0) or because we
 * were killed while queued or waiting for the reply. handed: we gave the
 * message to a receiver ourselves before we blocked (the fused path), so
 * our out-block is empty (xfer_pass() emptied it, or it carried nothing)
 * and only we fill it: there is nothing undelivered to release. */
static __always_inline long call_woken(struct task *me, struct endpoint *ep, bool handed)
{
	if (me->ipc_state == IPC_REPLY)
		me->ipc_status = -EINTR; /* killed: the late reply finds us gone */
	wait_done(me, ep);
	if (!handed)
		xfer_undelivered(me); /* still ours: nobody took the message */
	return xfer_arrived(me, &me->ipc_msg, me->ipc_status);
}

/* A receive's: woken with a message (state IDLE, status = caller's tid),
 * by teardown (status < 0), or killed (still queued). */
static __always_inline long recv_woken(struct task *me, struct endpoint *ep)
{
	wait_done(me, ep);
	return xfer_arrived(me, &me->ipc_msg, me->ipc_status);
}

static long call_ep(struct endpoint *ep, struct ipc_msg *msg);

/* A call whose message carries handles: take them, then the plain call
 * (which hands them over with the message). */
static __noinline long ipc_call_xfer(uint64_t h, struct ipc_msg *msg, uint64_t desc)
{
	struct endpoint *ep;
	long r = xfer_collect(h, R_SEND, desc, msg, &ep);

	return r ? r : call_ep(ep, msg);
}

long ipc_call(uint64_t h, struct ipc_msg *msg, uint64_t desc)
{
	long r;
	struct endpoint *ep = ep_get(h, R_SEND, &r);

	if (unlikely(!ep)) {
		/* IPC_HANDLES fails the lookup's range check: the plain path
		 * pays nothing for messages with handles. */
		if (h & IPC_HANDLES)
			return ipc_call_xfer(h & ~IPC_HANDLES, msg, desc);
		xfer_undelivered(current_task());
		return r;
	}
	return call_ep(ep, msg);
}

/* ipc_call() from the point after its lookup: ep with the call's
 * reference (R_SEND), which this drops; our handles, if the message
 * carries any, in our ipc_xfer_out. */
static long call_ep(struct endpoint *ep, struct ipc_msg *msg)
{
	struct task *me = current_task();
	long r;

	if (msg != &me->ipc_msg) /* the system call passes our own (ipc.h) */
		me->ipc_msg = *msg;
	me->ipc_status = 0;
	spin_lock(&ep->lock);
	if (ep->dead) {
		spin_unlock(&ep->lock);
		ep_put(ep);
		xfer_undelivered(me);
		return -ESHUTDOWN;
	}
	struct list_node *n = list_pop_head(&ep->receivers);

	me->ipc_ep = ep;
	if (n) {
		struct task *r2 = list_entry(n, struct task, ipc_link);

		/* Test hook (SYST_IPC_SWITCH_DELAY, one call): a receiver
		 * is off the endpoint and not yet run, the window in which a
		 * kill can wake it. */
		if (unlikely(me->test_ipc_delay_us))
			udelay_once(&me->test_ipc_delay_us);
		r2->ipc_msg = me->ipc_msg;
		xfer_hand(me, r2);
		r2->ipc_state = IPC_IDLE;
		task_get(me);
		r2->ipc_reply_to = me;
		r2->ipc_status = (long)me->tid;
		me->ipc_state = IPC_REPLY;
		hand_over(ep, r2);
	} else {
		me->ipc_state = IPC_SEND;
		list_add_tail(&ep->callers, &me->ipc_link);
		sched_block(&ep->lock);
	}
	r = call_woken(me, ep, false);
	if (r >= 0 && msg != &me->ipc_msg)
		*msg = me->ipc_msg;
	ep_put(ep);
	return r;
}

/* Give our reply (message and handles) to the caller we owe it. */
static void reply_to_caller(struct task *me, struct task *caller, const struct ipc_msg *msg)
{
	caller->ipc_msg = *msg;
	xfer_hand(me, caller);
	caller->ipc_status = (long)me->tid;
	caller->ipc_state = IPC_IDLE;
}

static long reply_recv_ep(struct endpoint *ep, struct ipc_msg *msg, bool reply);

static __noinline long reply_recv_xfer(uint64_t h, struct ipc_msg *msg, bool reply, uint64_t desc)
{
	struct endpoint *ep;
	long r;

	if (!reply || !current_task()->ipc_reply_to)
		return -EINVAL;
	r = xfer_collect(h, R_RECV, desc, msg, &ep);
	return r ? r : reply_recv_ep(ep, msg, reply);
}

long ipc_reply_recv(uint64_t h, struct ipc_msg *msg, bool reply, uint64_t desc)
{
	long r;
	struct endpoint *ep = ep_get(h, R_RECV, &r);

	if (unlikely(!ep)) {
		if (h & IPC_HANDLES)
			return reply_recv_xfer(h & ~IPC_HANDLES, msg, reply, desc);
		xfer_undelivered(current_task());
		return r;
	}
	return reply_recv_ep(ep, msg, reply);
}

/* ipc_reply_recv() from the point after its lookup: ep with the call's
 * reference (R_RECV), which this drops; our reply's handles, if any, in
 * our ipc_xfer_out. */
static long reply_recv_ep(struct endpoint *ep, struct ipc_msg *msg, bool reply)
{
	struct task *me = current_task();
	struct task *caller = me->ipc_reply_to;
	long r;

	if (reply && !caller) {
		ep_put(ep);
		return -EINVAL;
	}
	me->ipc_reply_to = NULL;
	if (caller)
		reply_to_caller(me, caller, msg);
	spin_lock(&ep->lock);
	if (ep->dead) {
		spin_unlock(&ep->lock);
		if (caller) {
			sched_wake(caller, WAKE_SIGNAL);
			task_put(caller);
		}
		ep_put(ep);
		return -ESHUTDOWN;
	}
	struct list_node *n = list_pop_head(&ep->callers);

	if (n) {
		/* A caller is already waiting: take its message now. */
		struct task *c = list_entry(n, struct task, ipc_link);

		c->ipc_state = IPC_REPLY;
		task_get(c);
		me->ipc_reply_to = c;
		*msg = c->ipc_msg;
		xfer_hand(c, me);
		spin_unlock(&ep->lock);
		if (caller) {
			sched_wake(caller, WAKE_SIGNAL);
			task_put(caller);
		}
		ep_put(ep);
		return xfer_arrived(me, msg, (long)c->tid);
	}
	me->ipc_state = IPC_RECV;
	me->ipc_ep = ep;
	me->ipc_status = 0;
	list_add_tail(&ep->receivers, &me->ipc_link);
	if (caller) {
		hand_over(ep, caller);
		task_put(caller);
	} else {
		sched_block(&ep->lock);
	}
	r = recv_woken(me, ep);
	if (r >= 0 && msg != &me->ipc_msg)
		*msg = me->ipc_msg;
	ep_put(ep);
	return r;
}

/* ---- the fused fast path (protocol: "Fused fast path" above) ---- */

/*
 * The general system calls (call: ipc_call(), else ipc_reply_recv()): the
 * message goes through the task's own ipc_msg (ipc.h allows it). With ep,
 * from the point after their lookup (call_ep(), reply_recv_ep()): the
 * fused path looked the endpoint up, and passes its reference on; with
 * collected also after their collect: the fused path with handles took
 * them too, and the message is in our ipc_msg.
 */
static __noinline long sys_general(struct trap_frame *tf, bool call, struct endpoint *ep,
				   bool collected)
{
	struct ipc_msg *m = &current_task()->ipc_msg;
	long r;

	this_cpu_inc(counters[CNT_IPC_FUSED_MISS]);
	if (!collected)
		syscall_msg_in(tf, m);
	if (ep)
		r = call ? call_ep(ep, m) : reply_recv_ep(ep, m, true);
	else
		r = call ? ipc_call(tf->rdi, m, tf->r9) : ipc_reply_recv(tf->rdi, m, true, tf->r9);
	if (r >= 0)
		syscall_msg_out(tf, m);
	return r;
}

int ipc_set_fastpath(bool on)
{
	return __atomic_exchange_n(&ipcfast, on, __ATOMIC_RELAXED);
}

/* The preconditions on us alone: switch on, no handles left over, no hook.
 * ipcfast is a plain read, which the compiler tests in memory (CMPB; a
 * volatile load costs a MOVZBL more, as trace_active() says): read once
 * per call, and either value is a correct path (ipc_set_fastpath() only
 * chooses which later calls take). The two words are ORed and tested
 * once (a MOV, an OR from memory and a branch; two tests cost two more). */
static __always_inline bool fused_allowed(const struct task *me)
{
	return likely(ipcfast) && !(me->ipc_xfer_out.mask | me->test_ipc_hooks);
}

/*
 * The two fused system calls are each compiled twice: plain (xfer false:
 * the common case, which runs no handle code) and for a message with
 * handles (xfer true: IPC_HANDLES set, which fails the plain lookup's
 * range check; called from the plain one's miss).
 */
static __noinline long sys_call_xfer(struct trap_frame *tf);
static __noinline long sys_reply_recv_xfer(struct trap_frame *tf);

/*
 * The endpoint h names, with its reference (in *epp), for a call (R_SEND)
 * or a reply_recv (R_RECV). With handles (xfer): looked up once for
 * R_GRANT too, then the words read from the frame into our ipc_msg and
 * the handles they name taken (xfer_take(), as xfer_collect() would).
 * False if that failed: then *r is the system call's result, from the
 * general path run from the start (nothing changed yet), from the copy
 * with handles, or the error the collect ends the call with. (A bool and
 * tests of the lookup's error, not of the pointer: the error is a
 * constant 0 on the success path, the pointer a load the compiler would
 * test again, two instructions a call.)
 */
static __always_inline bool fused_lookup(struct trap_frame *tf, struct task *me, uint64_t h,
					 bool call, bool xfer, struct endpoint **epp, long *r)
{
	uint32_t need = call ? R_SEND : R_RECV;

	if (!xfer) {
		/* Fails with IPC_HANDLES set. On a miss h is re-read from the
		 * frame: kept in a register, it costs one instruction a lookup. */
		*epp = ep_get(h, need, r);
		if (likely(!*r))
			return true;
		if (h & IPC_HANDLES)
			*r = call ? sys_call_xfer(tf) : sys_reply_recv_xfer(tf);
		else
			*r = sys_general(tf, call, NULL, false);
		return false;
	}
	*epp = ep_get(h, need | R_GRANT, r);
	if (unlikely(*r)) {
		*r = sys_general(tf, call, NULL, false);
		return false;
	}
	syscall_msg_in(tf, &me->ipc_msg);
	*r = xfer_take(me, tf->r9, &me->ipc_msg);
	if (unlikely(*r)) {
		ep_put(*epp);
		return false;
	}
	return true;
}

static __always_inline long call_fused(struct trap_frame *tf, bool xfer)
{
	struct task *me = current_task();
	uint64_t h = xfer ? tf->rdi & ~IPC_HANDLES : tf->rdi;
	struct endpoint *ep;
	long r;

	/* With handles: the plain copy, our only caller, has tested us. */
	if (!xfer && unlikely(!fused_allowed(me)))
		return sys_general(tf, true, NULL, false);
	if (unlikely(!fused_lookup(tf, me, h, true, xfer, &ep, &r)))
		return r;
	irq_disable();
	spin_lock_raw(&ep->lock); /* interrupts off: nothing to preempt */
	struct list_node *n = ep->receivers.next;
	struct task *r2 = list_entry(n, struct task, ipc_link);

	if (unlikely(ep->dead || n == &ep->receivers || !sched_can_run_here(r2))) {
		spin_unlock_raw(&ep->lock);
		irq_enable();
		return sys_general(tf, true, ep, xfer); /* with our reference */
	}
	/* ipc_call()'s hand-over to a waiting receiver, from the frame (with
	 * handles: from our ipc_msg, the handles with it). */
	list_del(n);
	if (xfer) {
		r2->ipc_msg = me->ipc_msg;
		xfer_pass(me, r2);
	} else {
		syscall_msg_in(tf, &r2->ipc_msg);
	}
	r2->ipc_state = IPC_IDLE;
	task_get(me);
	r2->ipc_reply_to = me;
	r2->ipc_status = (long)me->tid;
	me->ipc_status = 0;
	me->ipc_ep = ep;
	me->ipc_state = IPC_REPLY;
	this_cpu_inc(counters[CNT_IPC_FUSED]); /* and ipc_fastpath (counter_read()) */
	sched_direct_switch(me, r2, &ep->lock, (void *)ipc_sys_call);
	irq_enable();
	r = call_woken(me, ep, true); /* ipc_call()'s tail */
	if (r >= 0)
		syscall_msg_out(tf, &me->ipc_msg);
	ep_put(ep);
	return r;
}

long ipc_sys_call(struct trap_frame *tf)
{
	return call_fused(tf, false);
}

static __noinline long sys_call_xfer(struct trap_frame *tf)
{
	return call_fused(tf, true);
}

static __always_inline long reply_recv_fused(struct trap_frame *tf, bool xfer)
{
	struct task *me = current_task();
	struct task *caller = me->ipc_reply_to;
	uint64_t h = xfer ? tf->rdi & ~IPC_HANDLES : tf->rdi;
	struct endpoint *ep;
	long r;

	/* With handles: the plain copy, our only caller, has tested both. */
	if (!xfer && unlikely(!fused_allowed(me) || !caller))
		return sys_general(tf, false, NULL, false);
	if (unlikely(!fused_lookup(tf, me, h, false, xfer, &ep, &r)))
		return r;
	irq_disable();
	spin_lock_raw(&ep->lock); /* interrupts off: nothing to preempt */
	/* With handles, the last precondition is their delivery, the first
	 * change: it fails only if the caller has exited (killed while it
	 * waited for us), and then the handles stay ours and the general path
	 * releases them, outside this lock (xfer_try_pass()). */
	if (unlikely(ep->dead || !list_empty(&ep->callers) || !sched_can_run_here(caller) ||
		     (xfer && !xfer_try_pass(me, caller)))) {
		spin_unlock_raw(&ep->lock);
		irq_enable();
		return sys_general(tf, false, ep, xfer); /* with our reference */
	}
	/* ipc_reply_recv()'s reply (reply_to_caller, from the frame; with
	 * handles from our ipc_msg, the handles delivered above), then its
	 * wait with the hand-over to the caller. */
	me->ipc_reply_to = NULL;
	if (xfer) {
		caller->ipc_msg = me->ipc_msg;
	} else {
		syscall_msg_in(tf, &caller->ipc_msg);
	}
	caller->ipc_status = (long)me->tid;
	caller->ipc_state = IPC_IDLE;
	me->ipc_state = IPC_RECV;
	me->ipc_ep = ep;
	me->ipc_status = 0;
	list_add_tail(&ep->receivers, &me->ipc_link);
	this_cpu_inc(counters[CNT_IPC_FUSED]); /* and ipc_fastpath (counter_read()) */
	sched_direct_switch(me, caller, &ep->lock, (void *)ipc_sys_reply_recv);
	irq_enable();
	task_put(caller);
	r = recv_woken(me, ep); /* ipc_reply_recv()'s tail */
	if (r >= 0)
		syscall_msg_out(tf, &me->ipc_msg);
	ep_put(ep);
	return r;
}

long ipc_sys_reply_recv(struct trap_frame *tf)
{
	return reply_recv_fused(tf, false);
}

static __noinline long sys_reply_recv_xfer(struct trap_frame *tf)
{
	return reply_recv_fused(tf, true);
}

long ipc_reply(uint64_t h, const struct ipc_msg *msg, uint64_t desc)
{
	struct task *me = current_task();
	struct task *caller = me->ipc_reply_to;
	long r;

	if (!caller)
		return -EINVAL;
	struct endpoint *ep;

	if (h & IPC_HANDLES) {
		r = xfer_collect(h & ~IPC_HANDLES, R_RECV, desc, msg, &ep);
		if (r)
			return r;
	} else {
		ep = ep_get(h, R_RECV, &r);
		if (!ep) {
			xfer_undelivered(me);
			return r;
		}
	}
	ep_put(ep);
	me->ipc_reply_to = NULL;
	reply_to_caller(me, caller, msg);
	sched_wake(caller, WAKE_SIGNAL);
	task_put(caller);
	return 0;
}

void ipc_thread_exit(struct task *t)
{
	struct task *caller = t->ipc_reply_to;
	/* Locked exchange: after this no deliverer claims or publishes our
	 * block (its CMPXCHG fails and it releases the handles); one already
	 * FULL is ours to release. Pairs with xfer_pass(). */
	if (__atomic_exchange_n(&t->ipc_xfer_state, XFER_CLOSED, __ATOMIC_SEQ_CST) == XFER_FULL)
		xfer_release(&t->ipc_xfer_in);
	xfer_undelivered(t);

	if (caller) {
		/* We owed a reply: the caller's call fails. */
		t->ipc_reply_to = NULL;
		caller->ipc_status = -ESHUTDOWN;
		caller->ipc_state = IPC_IDLE;
		sched_wake(caller, WAKE_SIGNAL);
		task_put(caller);
	}
}
