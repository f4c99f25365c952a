/*
 * Synchronous IPC: endpoints with call and reply_recv (seL4-style).
 *
 * Glossary
 *   endpoint    rendezvous object; waiting receivers and waiting callers
 *               queue on it; named by a 64-bit key, referenced by handles;
 *               owned by the process that created it: when the owner
 *               closes it (or exits) the endpoint dies, every queued and
 *               later call fails with -ESHUTDOWN, and the key is free again
 *   call        send a message and block until the reply
 *   reply_recv  reply to the current caller, then block for the next call
 *   reply_to    receiver side: the caller it owes a reply (one at a time)
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
 * to its return, so a concurrent close never frees an endpoint that a
 * thread is queued on or about to lock. A killed waiter takes itself off
 * the queue when it wakes (nobody else touches its queue links).
 *
 * Fast path: a call that finds a waiting receiver allowed on this CPU
 * hands the message over in the receiver's task and switches to it
 * directly, without touching a run queue (sched_switch_to_blocked); the
 * reply does the same in the other direction. When the other side must
 * run elsewhere, it is woken there (an IPI if that CPU must reschedule).
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

enum { IPC_IDLE, IPC_RECV, IPC_SEND, IPC_REPLY };

struct endpoint {
	struct spinlock lock;
	uint64_t key;
	int refcount; /* handles */
	bool dead;
	struct proc *owner;
	struct list_node receivers;
	struct list_node callers;
	struct list_node link; /* global key list */
};

static struct spinlock keys_lock = SPINLOCK_INIT("ipc keys");
static struct list_node endpoints = LIST_INIT(endpoints);
static struct kmem_cache ep_cache;

static void ep_put(struct endpoint *ep, struct proc *closer);

void ipc_init(void)
{
	kmem_cache_init(&ep_cache, "endpoint", sizeof(struct endpoint), 64);
}

static struct endpoint *find_key(uint64_t key)
{
	struct list_node *pos;

	list_for_each (pos, &endpoints) {
		struct endpoint *ep = list_entry(pos, struct endpoint, link);

		if (ep->key == key && !ep->dead)
			return ep;
	}
	return NULL;
}

static int handle_install(struct endpoint *ep)
{
	struct proc *p = proc_current();
	int h = -EMFILE;

	spin_lock(&p->lock);
	for (int i = 0; i < PROC_MAX_HANDLES; i++) {
		if (!p->handles[i]) {
			p->handles[i] = ep;
			h = i;
			break;
		}
	}
	spin_unlock(&p->lock);
	return h;
}

/* The endpoint behind handle h, with a reference the caller drops with
 * ep_put(ep, NULL): a concurrent close cannot free it mid-operation. */
static struct endpoint *handle_get(int h)
{
	struct proc *p = proc_current();
	struct endpoint *ep = NULL;

	if (h < 0 || h >= PROC_MAX_HANDLES)
		return NULL;
	spin_lock(&p->lock);
	ep = p->handles[h];
	if (ep) {
		spin_lock(&keys_lock);
		ep->refcount++;
		spin_unlock(&keys_lock);
	}
	spin_unlock(&p->lock);
	return ep;
}

int ipc_ep_create(uint64_t key)
{
	struct endpoint *ep = kmem_cache_alloc(&ep_cache);

	if (!ep)
		return -ENOMEM;
	spin_init(&ep->lock, "endpoint");
	list_init(&ep->receivers);
	list_init(&ep->callers);
	ep->key = key;
	ep->refcount = 1;
	ep->owner = proc_current();
	spin_lock(&keys_lock);
	if (find_key(key)) {
		spin_unlock(&keys_lock);
		kmem_cache_free(&ep_cache, ep);
		return -EEXIST;
	}
	list_add_tail(&endpoints, &ep->link);
	spin_unlock(&keys_lock);
	int h = handle_install(ep);

	/* No handle for it (-EMFILE): the endpoint dies at once. Not a plain
	 * free: from list_add_tail above, ipc_ep_open() in another thread or
	 * process can find the key and take a reference (the fuzzer hit that:
	 * its later ep_put decremented a freed endpoint). As its owner, we
	 * kill it; the last reference frees it. */
	if (h < 0)
		ep_put(ep, ep->owner);
	return h;
}

int ipc_ep_open(uint64_t key)
{
	spin_lock(&keys_lock);
	struct endpoint *ep = find_key(key);

	if (ep)
		ep->refcount++;
	spin_unlock(&keys_lock);
	if (!ep)
		return -ENOENT;
	int h = handle_install(ep);

	if (h < 0)
		ep_put(ep, NULL);
	return h;
}

/* Wake everyone queued on a dying endpoint: their calls fail. */
static void ep_kill(struct endpoint *ep)
{
	struct list_node *pos;

	spin_lock(&ep->lock);
	ep->dead = true;
	while ((pos = list_pop_head(&ep->receivers)) || (pos = list_pop_head(&ep->callers))) {
		struct task *t = list_entry(pos, struct task, ipc_link);

		t->ipc_state = IPC_IDLE;
		t->ipc_status = -ESHUTDOWN;
		sched_wake(t, WAKE_SIGNAL);
	}
	spin_unlock(&ep->lock);
}

static void ep_put(struct endpoint *ep, struct proc *closer)
{
	if (ep->owner == closer)
		ep_kill(ep);
	spin_lock(&keys_lock);
	bool last = --ep->refcount == 0;

	if (last)
		list_del(&ep->link);
	spin_unlock(&keys_lock);
	if (last) {
		if (!ep->dead)
			ep_kill(ep);
		kmem_cache_free(&ep_cache, ep);
	}
}

int ipc_ep_close(int h)
{
	struct proc *p = proc_current();
	struct endpoint *ep;

	if (h < 0 || h >= PROC_MAX_HANDLES)
		return -EINVAL;
	spin_lock(&p->lock);
	ep = p->handles[h];
	p->handles[h] = NULL;
	spin_unlock(&p->lock);
	if (!ep)
		return -EINVAL;
	ep_put(ep, p);
	return 0;
}

void ipc_close_all(struct proc *p)
{
	for (int h = 0; h < PROC_MAX_HANDLES; h++) {
		struct endpoint *ep = p->handles[h];

		p->handles[h] = NULL;
		if (ep)
			ep_put(ep, p);
	}
}

uint64_t ipc_objects(bool refs)
{
	struct list_node *pos;
	uint64_t n = 0;

	spin_lock(&keys_lock);
	list_for_each (pos, &endpoints)
		n += refs ? (uint64_t)list_entry(pos, struct endpoint, link)->refcount : 1;
	spin_unlock(&keys_lock);
	return n;
}

/* Give a blocked partner the CPU: directly if it may run here, otherwise
 * wake it where it belongs and block ourselves. Drops ep->lock. */
static void hand_over(struct endpoint *ep, struct task *partner)
{
	if (sched_can_run_here(partner)) {
		this_cpu_inc(counters[CNT_IPC_FASTPATH]);
		sched_switch_to_blocked(partner, &ep->lock);
		return;
	}
	this_cpu_inc(counters[CNT_IPC_SLOWPATH]);
	/* Our state must be BLOCKED before the partner can reply: block
	 * (which drops the lock) only after the partner was woken under it. */
	sched_wake(partner, WAKE_SIGNAL);
	sched_block(&ep->lock);
}

/* After a wait: leave the endpoint's queue if still on it (killed, or the
 * endpoint died), forget the endpoint. The operation's reference keeps it
 * alive until here. */
static void wait_done(struct task *me, struct endpoint *ep)
{
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

/* Test hook (SYST_IPC_SWITCH_DELAY, one call): a receiver is off the
 * endpoint and not yet run, the window in which a kill can wake it. */
static void test_delay_after_pop(struct task *me)
{
	uint32_t us = me->test_ipc_delay_us;

	me->test_ipc_delay_us = 0;
	udelay(us);
}

long ipc_call(int h, struct ipc_msg *msg)
{
	struct endpoint *ep = handle_get(h);
	struct task *me = current_task();
	long r;

	if (!ep)
		return -EINVAL;
	me->ipc_msg = *msg;
	me->ipc_status = 0;
	spin_lock(&ep->lock);
	if (ep->dead) {
		spin_unlock(&ep->lock);
		ep_put(ep, NULL);
		return -ESHUTDOWN;
	}
	struct list_node *n = list_pop_head(&ep->receivers);

	me->ipc_ep = ep;
	if (n) {
		struct task *r2 = list_entry(n, struct task, ipc_link);

		if (unlikely(me->test_ipc_delay_us))
			test_delay_after_pop(me);
		r2->ipc_msg = me->ipc_msg;
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
	/* Woken by the reply, by teardown (status < 0) or because we were
	 * killed while queued or waiting for the reply. */
	if (me->ipc_state == IPC_REPLY)
		me->ipc_status = -EINTR; /* killed: the late reply finds us gone */
	wait_done(me, ep);
	r = me->ipc_status;
	if (r >= 0)
		*msg = me->ipc_msg;
	ep_put(ep, NULL);
	return r;
}

long ipc_reply_recv(int h, struct ipc_msg *msg, bool reply)
{
	struct endpoint *ep = handle_get(h);
	struct task *me = current_task();
	struct task *caller = me->ipc_reply_to;
	long r;

	if (!ep)
		return -EINVAL;
	if (reply && !caller) {
		ep_put(ep, NULL);
		return -EINVAL;
	}
	me->ipc_reply_to = NULL;
	if (caller) {
		caller->ipc_msg = *msg;
		caller->ipc_status = (long)me->tid;
		caller->ipc_state = IPC_IDLE;
	}
	spin_lock(&ep->lock);
	if (ep->dead) {
		spin_unlock(&ep->lock);
		if (caller) {
			sched_wake(caller, WAKE_SIGNAL);
			task_put(caller);
		}
		ep_put(ep, NULL);
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
		spin_unlock(&ep->lock);
		if (caller) {
			sched_wake(caller, WAKE_SIGNAL);
			task_put(caller);
		}
		ep_put(ep, NULL);
		return (long)c->tid;
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
	/* Woken with a message (state IDLE, status = caller's tid), by
	 * teardown (status < 0), or killed (still queued). */
	wait_done(me, ep);
	r = me->ipc_status;
	if (r >= 0)
		*msg = me->ipc_msg;
	ep_put(ep, NULL);
	return r;
}

long ipc_reply(int h, const struct ipc_msg *msg)
{
	struct endpoint *ep = handle_get(h);
	struct task *me = current_task();
	struct task *caller = me->ipc_reply_to;

	if (ep)
		ep_put(ep, NULL);
	if (!ep || !caller)
		return -EINVAL;
	me->ipc_reply_to = NULL;
	caller->ipc_msg = *msg;
	caller->ipc_status = (long)me->tid;
	caller->ipc_state = IPC_IDLE;
	sched_wake(caller, WAKE_SIGNAL);
	task_put(caller);
	return 0;
}

void ipc_thread_exit(struct task *t)
{
	struct task *caller = t->ipc_reply_to;

	if (caller) {
		/* We owed a reply: the caller's call fails. */
		t->ipc_reply_to = NULL;
		caller->ipc_status = -ESHUTDOWN;
		caller->ipc_state = IPC_IDLE;
		sched_wake(caller, WAKE_SIGNAL);
		task_put(caller);
	}
}
