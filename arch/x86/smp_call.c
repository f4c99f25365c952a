/*
 * Cross-CPU function calls (interface: arch/ipi.h). Below mm/: the TLB
 * shootdown and the kernel flush catch-up call through here, so the
 * protocol uses only lib/ and the APIC; what it needs from above comes in
 * through smp_call_init (the argument check) and lib/time.h (the lockup
 * clock, whose switch kernel/lockup.c declares).
 *
 * Glossary
 *   csd      call slot: {fn, arg, locked}; each source CPU owns one slot per
 *            target CPU (allocated for the CPUs present), so concurrent
 *            callers never share a slot
 *   queue    per-target lock-free LIFO of queued slots, head in the target's
 *            "remote" per-CPU line (written by other CPUs)
 *
 * Protocol
 *   caller:  wait until slot.locked == 0 (acquire; the previous use ended)
 *            fill slot, locked = 1
 *            push slot on the target's queue (CAS, release: fn/arg visible
 *            before the slot is)
 *            if the queue was empty: send the call IPI (a non-empty queue
 *            already has an IPI on its way or a handler about to drain it)
 *            if waiting: spin until locked == 0 (acquire: fn's effects are
 *            visible to the caller)
 *   target:  in the IPI handler, take the whole queue (XCHG with NULL,
 *            acquire), reverse it to run in arrival order, for each slot run
 *            fn(arg) then locked = 0 (release)
 *
 * Why no lost wake-up: a push onto an empty head always IPIs; a push onto a
 * non-empty head happened before the target's XCHG, which then sees it.
 */
#include "arch/ipi.h"
#include "lib/percpu.h"
#include "lib/preempt.h"
#include "lib/panic.h"
#include "lib/time.h"
#include "arch/x86/apic.h"
#include "arch/trap.h"
#include "arch/x86/cpu.h"
#include "arch/mem.h"
#include "lib/trace.h"
#include "lib/ksyms.h"

struct csd {
	struct csd *next;
	smp_call_fn fn;
	void *arg;
	uint32_t locked;
	uint32_t src;
};

static struct csd *csd_slots[NR_CPUS];	   /* per source CPU: nr_cpus slots */
static void (*arg_check)(const void *arg); /* smp_call_init */

static struct csd *slot(uint32_t src, uint32_t dst)
{
	return &csd_slots[src][dst];
}

/* Wait until dst has run the call in slot c. A CPU that owes a call for
 * lockup_ms is reported by name (it has interrupts off, or is wedged). */
static void csd_wait(struct csd *c, uint32_t dst)
{
	uint64_t start = rdtsc();

	/* Acquire: pairs with the release store in call_ipi(); the target's
	 * work (fn) happens-before our return. */
	while (__atomic_load_n(&c->locked, __ATOMIC_ACQUIRE)) {
		cpu_relax();
		if (lockup_expired(start)) {
			uint64_t off;
			const char *fn = ksym_lookup((uintptr_t)c->fn, &off);

			panic("lockup: cpu %u has not run cpu %u's call to %s for %d ms "
			      "(its queue %s)",
			      dst, this_cpu_id(), fn ? fn : "?", lockup_ms,
			      READ_ONCE(percpu_of(dst)->remote.call_queue_head) ? "holds calls"
										: "is empty");
		}
	}
}

static void call_ipi(struct trap_frame *tf)
{
	(void)tf;
	struct percpu *me = this_cpu();
	/* Acquire: pairs with the release CAS in enqueue(), so each slot's
	 * fn/arg are visible. */
	struct csd *list = __atomic_exchange_n((struct csd **)&me->remote.call_queue_head, NULL,
					       __ATOMIC_ACQUIRE);
	struct csd *rev = NULL;

	me->counters[CNT_IPI_RECV]++;
	me->counters[CNT_IPI_RECV_CALL]++;
	trace(TR_IPI_RECV, TRIPI_CALL, 0);
	while (list) {
		struct csd *next = list->next;

		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct csd *next = rev->next;

		/* The argument may be on the caller's kernel stack (vmalloc):
		 * this CPU must have caught up on freed kernel ranges first
		 * (mm/kflush.c; checked with tlbcheck=on). */
		arg_check(rev->arg);
		rev->fn(rev->arg);
		/* Release: fn's effects are visible before the caller sees the
		 * slot free (pairs with csd_wait()). */
		__atomic_store_n(&rev->locked, 0, __ATOMIC_RELEASE);
		rev = next;
	}
}

static void resched_ipi(struct trap_frame *tf)
{
	(void)tf;
	this_cpu_inc(counters[CNT_IPI_RECV]);
	this_cpu_inc(counters[CNT_IPI_RECV_RESCHED]);
	trace(TR_IPI_RECV, TRIPI_RESCHED, 0);
	this_cpu_write(need_resched, 1);
}

void smp_call_init(void (*check)(const void *arg))
{
	arg_check = check;
	irq_register(VEC_IPI_CALL, call_ipi);
	irq_register(VEC_IPI_RESCHED, resched_ipi);
}

void smp_call_cpu_init(uint32_t cpu)
{
	csd_slots[cpu] = arch_mem.alloc(sizeof(struct csd) * nr_cpus);
	if (!csd_slots[cpu])
		panic("smp: no memory for call slots");
}

static void enqueue(uint32_t dst, struct csd *c)
{
	struct percpu *pc = percpu_of(dst);
	struct csd **head = (struct csd **)&pc->remote.call_queue_head;
	struct csd *old = __atomic_load_n(head, __ATOMIC_RELAXED);

	do {
		c->next = old;
		/* Release on success: fn/arg/locked are visible before the slot
		 * can be seen on the queue (pairs with the XCHG in call_ipi). */
	} while (!__atomic_compare_exchange_n(head, &old, c, true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	if (!old) {
		this_cpu_inc(counters[CNT_IPI_SENT]);
		this_cpu_inc(counters[CNT_IPI_SENT_CALL]);
		trace(TR_IPI_SEND, TRIPI_CALL, dst);
		apic_send_ipi(dst, VEC_IPI_CALL);
	}
}

static void prepare(struct csd *c, smp_call_fn fn, void *arg)
{
	csd_wait(c, (uint32_t)(c - csd_slots[this_cpu_id()]));
	c->fn = fn;
	c->arg = arg;
	c->src = this_cpu_id();
	c->locked = 1;
}

void smp_call(uint32_t cpu, smp_call_fn fn, void *arg, bool wait)
{
	if (wait && !irqs_enabled())
		panic("smp_call: synchronous call with interrupts off");
	preempt_disable();
	uint32_t me = this_cpu_id();

	if (cpu == me) {
		uint64_t f = irq_save();

		fn(arg);
		irq_restore(f);
	} else {
		struct csd *c = slot(me, cpu);

		prepare(c, fn, arg);
		enqueue(cpu, c);
		if (wait)
			csd_wait(c, cpu);
	}
	preempt_enable();
}

void smp_call_mask(const struct cpumask *mask, smp_call_fn fn, void *arg, bool wait)
{
	uint32_t me, cpu;

	if (wait && !irqs_enabled())
		panic("smp_call_mask: synchronous call with interrupts off");
	preempt_disable();
	me = this_cpu_id();
	for_each_cpu_in (cpu, mask) {
		if (cpu == me || !cpumask_test(&cpu_online_mask, cpu))
			continue;
		struct csd *c = slot(me, cpu);

		prepare(c, fn, arg);
		enqueue(cpu, c);
	}
	if (wait) {
		for_each_cpu_in (cpu, mask) {
			if (cpu != me && cpumask_test(&cpu_online_mask, cpu))
				csd_wait(slot(me, cpu), cpu);
		}
	}
	preempt_enable();
}

void smp_call_others(smp_call_fn fn, void *arg, bool wait)
{
	smp_call_mask(&cpu_online_mask, fn, arg, wait);
}
