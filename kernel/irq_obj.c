/*
 * IRQ objects (KOBJ_IRQ): an I/O APIC line delivered to a user-level
 * driver, and the hardware resource (KOBJ_HWRES) that creates them.
 *
 * Glossary
 *   line     what irq_create names: an ISA IRQ 0..15 (mapped to its GSI
 *            through the MADT's overrides) or a GSI >= 16
 *   hwres    the hardware resource: one object, whose only handle the
 *            kernel puts in init's table at SPAWN_HANDLE(0) before init
 *            runs. irq_create and ioport_create (kernel/ioport.c) need a
 *            handle to it. Init passes it on only to the programs it
 *            trusts with devices (the test and benchmark programs); the
 *            serial driver gets the IRQ and port handles, never hwres.
 *            Why a handle and not "pid 1 only": authority stays something
 *            that is held and passed, like every other (seL4's IRQControl,
 *            Zircon's root resource), and a test can be given it.
 *   pending  fires the holder has not collected with irq_wait
 *   masked   the line fired and is masked until irq_ack
 *
 * Protocol (one lock, irq_lock, taken with interrupts off everywhere:
 * the fire side is an interrupt handler):
 *   fire (vector of the object, any CPU): mask the line at the I/O APIC,
 *       masked = 1, pending++, wake the waiter; the handler's EOI follows
 *       (arch/x86/traps.c), which clears the level line's remote IRR
 *   irq_wait(h, timeout): R_ACK. pending > 0: return it, pending = 0.
 *       Else block (one waiter at a time: -EBUSY for a second) until a
 *       fire, the timeout (-ETIMEDOUT), a kill (-EINTR) or the last handle
 *       going away (-ESHUTDOWN)
 *   irq_ack(h): R_ACK. masked: unmask; a line still asserted (level,
 *       arch/x86/ioapic.c) fires again at once
 *   last handle gone (close, a move out of a dying process, exit): dead =
 *       1, the line masked and unrouted, the vector and the line free for a
 *       new object, the waiter woken; the memory goes with the last
 *       reference (a waiter's lookup holds one)
 * A fire for a vector whose object is gone (an interrupt already in the
 * LAPIC when the line was unrouted) finds no object and only EOIs.
 *
 * Delivery goes to CPU 0 (physical destination, fixed mode). The object
 * does not go through kernel/ipc.c: a notification word and a wait call
 * are enough for one driver thread, and keep the IPC fast path unaware of
 * interrupts.
 *
 * Counters: irq_user (fires delivered to an object), irq_user_ack
 * (unmasks by acknowledgement).
 */
#include "kernel/irq_obj.h"
#include "kernel/handle.h"
#include "kernel/proc.h"
#include "kernel/counters.h"
#include "kernel/percpu_area.h"
#include "arch/x86/ioapic.h"
#include "arch/x86/apic.h"
#include "arch/trap.h"
#include "lib/spinlock.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/time.h"
#include "mm/kheap.h"
#include "sched/task.h"

#define IRQ_VEC_BASE 0x50 /* below the kernel's vectors (arch/trap.h) */
#define IRQ_VECS     16	  /* IRQ objects alive at once */

struct irq_obj {
	struct kobj kobj; /* first: the typesafe header */
	/* Below: irq_lock. */
	uint32_t gsi;
	uint8_t vec;
	bool masked, dead;
	uint32_t handles;
	uint64_t pending;
	struct task *waiter;
};

struct hwres {
	struct kobj kobj;
};

static struct kmem_cache irq_cache, hwres_cache;
/* Guards by_vec[] and every irq_obj's fields; interrupts off while held.
 * Lock order: irq_lock, then ioapic_lock, then run-queue locks. */
static struct spinlock irq_lock = SPINLOCK_INIT("irq_obj");
static struct irq_obj *by_vec[IRQ_VECS];

static struct irq_obj *irq_of(struct kobj *o)
{
	return container_of(o, struct irq_obj, kobj);
}

static void irq_fire(struct trap_frame *tf)
{
	uint32_t i = (uint32_t)tf->vector - IRQ_VEC_BASE;

	spin_lock(&irq_lock); /* in an interrupt handler: interrupts are off */
	struct irq_obj *o = i < IRQ_VECS ? by_vec[i] : NULL;

	if (o) {
		ioapic_mask(o->gsi);
		o->masked = true;
		o->pending++;
		if (o->waiter) {
			sched_wake(o->waiter, WAKE_SIGNAL);
			o->waiter = NULL;
		}
		this_cpu_inc(counters[CNT_IRQ_USER]);
	}
	spin_unlock(&irq_lock);
}

/* The last handle went: the line and the vector are free again. Once:
 * from then on another object may own them. */
static void irq_unbind_locked(struct irq_obj *o)
{
	assert_held(&irq_lock);
	if (WARN_ON(o->dead))
		return;
	o->dead = true;
	ioapic_mask(o->gsi);
	by_vec[o->vec - IRQ_VEC_BASE] = NULL;
	if (o->waiter) {
		sched_wake(o->waiter, WAKE_SIGNAL);
		o->waiter = NULL;
	}
}

/*
 * A handle may be added to an object whose last handle has just gone: a
 * dup (or a copy in a message) takes its reference under the process lock
 * and counts the handle after it (kernel/handle.c), and a close of the
 * source in between kills the object. Dead stays dead: such handles are
 * not counted, and their drop unbinds nothing. Counted, the handle
 * revived the count, and its close unbound the object a second time:
 * the vector and the line another object had taken since, whose fires
 * then went nowhere and whose line a third object could take
 * (regression irq_handle_of_dead_object_unbinds_nothing; found in
 * review).
 */
static void irq_handle_add(struct kobj *k, uint32_t rights)
{
	(void)rights;
	struct irq_obj *o = irq_of(k);
	uint64_t f = spin_lock_irqsave(&irq_lock);

	if (!o->dead)
		o->handles++;
	spin_unlock_irqrestore(&irq_lock, f);
}

static void irq_handle_drop(struct kobj *k, uint32_t rights)
{
	(void)rights;
	struct irq_obj *o = irq_of(k);
	uint64_t f = spin_lock_irqsave(&irq_lock);

	if (!o->dead) {
		BUG_ON(!o->handles);
		if (--o->handles == 0)
			irq_unbind_locked(o);
	}
	spin_unlock_irqrestore(&irq_lock, f);
}

static void irq_destroy(struct kobj *k)
{
	struct irq_obj *o = irq_of(k);
	uint64_t f = spin_lock_irqsave(&irq_lock);

	if (!o->dead) /* created, never given a handle (create failed) */
		irq_unbind_locked(o);
	spin_unlock_irqrestore(&irq_lock, f);
	kmem_cache_free(&irq_cache, o);
}

static const struct kobj_ops irq_ops = {
	.destroy = irq_destroy,
	.handle_add = irq_handle_add,
	.handle_drop = irq_handle_drop,
};

static void hwres_destroy(struct kobj *k)
{
	kmem_cache_free(&hwres_cache, container_of(k, struct hwres, kobj));
}

static const struct kobj_ops hwres_ops = { .destroy = hwres_destroy };

void irq_obj_init(void)
{
	kmem_cache_init_typesafe(&irq_cache, "irq object", sizeof(struct irq_obj), 16);
	kmem_cache_init_typesafe(&hwres_cache, "hwres", sizeof(struct hwres), 16);
	kobj_register(KOBJ_IRQ, &irq_ops);
	kobj_register(KOBJ_HWRES, &hwres_ops);
	for (uint32_t i = 0; i < IRQ_VECS; i++)
		irq_register((uint8_t)(IRQ_VEC_BASE + i), irq_fire);
	ioapic_init();
}

void hwres_grant(struct proc *p)
{
	struct hwres *r = kmem_cache_alloc(&hwres_cache);

	BUG_ON(!r);
	kobj_init(&r->kobj, KOBJ_HWRES);
	BUG_ON(handle_create(p, &r->kobj, R_DUP | R_XFER) != SPAWN_HANDLE(0));
}

long hwres_check(uint64_t h)
{
	/* Authority only: the object itself is never used. */
	return handle_check_current(h, KOBJ_HWRES, 0);
}

/* Bind o to a free vector and its line; -EBUSY if the line has an object,
 * -ENOSPC if every vector has one. */
static long irq_bind(struct irq_obj *o, uint32_t gsi, bool active_low)
{
	uint64_t f = spin_lock_irqsave(&irq_lock);
	long err = -ENOSPC;

	for (uint32_t i = 0; i < IRQ_VECS; i++) {
		if (by_vec[i] && by_vec[i]->gsi == gsi) {
			err = -EBUSY;
			break;
		}
	}
	for (uint32_t i = 0; i < IRQ_VECS && err == -ENOSPC; i++) {
		if (!by_vec[i]) {
			o->gsi = gsi;
			o->vec = (uint8_t)(IRQ_VEC_BASE + i);
			by_vec[i] = o;
			ioapic_route(gsi, o->vec, active_low, percpu_of(0)->entry.apic_id);
			ioapic_unmask(gsi);
			err = 0;
		}
	}
	if (err)
		o->dead = true; /* destroy has nothing to unbind */
	spin_unlock_irqrestore(&irq_lock, f);
	return err;
}

long irq_create(uint64_t res, uint64_t line)
{
	long err = hwres_check(res);
	bool active_low;

	if (err)
		return err;
	if (line > 255)
		return -EINVAL;
	uint32_t gsi = ioapic_line_to_gsi((uint32_t)line, &active_low);

	if (!ioapic_gsi_valid(gsi))
		return -ENODEV;
	struct irq_obj *o = kmem_cache_alloc(&irq_cache);

	if (!o)
		return -ENOMEM;
	kobj_init(&o->kobj, KOBJ_IRQ);
	err = irq_bind(o, gsi, active_low);
	if (err) {
		kobj_put(&o->kobj);
		return err;
	}
	return handle_create(proc_current(), &o->kobj, R_ACK | R_DUP | R_XFER);
}

long irq_wait(uint64_t h, uint64_t timeout_ns)
{
	struct kobj *k;
	long r = handle_get_current(h, KOBJ_IRQ, R_ACK, &k);

	if (r)
		return r;
	struct irq_obj *o = irq_of(k);
	struct task *me = current_task();
	uint64_t deadline = timeout_ns ? deadline_after_ns(timeout_ns) : 0;
	uint64_t f = spin_lock_irqsave(&irq_lock);

	for (;;) {
		if (o->waiter == me)
			o->waiter = NULL; /* timed out or killed: not woken */
		if (o->pending) {
			r = (long)o->pending;
			o->pending = 0;
		} else if (o->dead) {
			r = -ESHUTDOWN;
		} else if (o->waiter) {
			r = -EBUSY;
		} else if (__atomic_load_n(&me->flags, __ATOMIC_RELAXED) & TF_KILLED) {
			r = -EINTR;
		} else if (deadline && time_ns() >= deadline) {
			r = -ETIMEDOUT;
		} else {
			o->waiter = me;
			me->wake_reason = WAKE_NONE;
			/* Drops irq_lock (and its preemption count); returns with
			 * interrupts still off (they were off when it was called). */
			sched_block_timeout(&irq_lock, deadline);
			spin_lock(&irq_lock);
			continue;
		}
		break;
	}
	spin_unlock_irqrestore(&irq_lock, f);
	kobj_put(k);
	return r;
}

long irq_ack(uint64_t h)
{
	struct kobj *k;
	long r = handle_get_current(h, KOBJ_IRQ, R_ACK, &k);

	if (r)
		return r;
	struct irq_obj *o = irq_of(k);
	uint64_t f = spin_lock_irqsave(&irq_lock);

	if (o->masked && !o->dead) {
		o->masked = false;
		ioapic_unmask(o->gsi);
		this_cpu_inc(counters[CNT_IRQ_USER_ACK]);
	}
	spin_unlock_irqrestore(&irq_lock, f);
	kobj_put(k);
	return 0;
}

long irq_raise_test(uint64_t h)
{
	struct kobj *k;
	long r = handle_get_current(h, KOBJ_IRQ, R_ACK, &k);

	if (r)
		return r;
	struct irq_obj *o = irq_of(k);
	uint64_t f = spin_lock_irqsave(&irq_lock);
	/* A dead object's vector may be another's by now. */
	bool dead = o->dead;
	uint8_t vec = o->vec;

	spin_unlock_irqrestore(&irq_lock, f);
	kobj_put(k);
	if (dead)
		return -ESHUTDOWN;
	apic_send_ipi(this_cpu_id(), vec);
	return 0;
}
