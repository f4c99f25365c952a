/*
 * Lockup detector (see lockup.h).
 *
 * Spinning: lock_slow() (kernel/spinlock.c) records the lock and the start TSC in the per-CPU
 * area and calls lockup_check_spin() on every spin; past the limit we name
 * the holder CPU and where it took the lock, then panic (which NMIs every
 * CPU for a backtrace, the holder's included). The start TSC moves forward
 * at every hand-off (head changes), so the limit is how long the lock went
 * without changing hands, not how long this CPU queued: a ticket lock with
 * N waiters queues the last one N hold times, and with 224 vCPUs on a
 * 2-core host a single hand-off can wait for the host to run the next
 * waiter's vCPU. Queueing is contention; no hand-off at all is a lockup.
 *
 * Interrupts off: every CPU's timer tick stores a heartbeat (TSC). Each tick
 * also looks at the other online CPUs; a heartbeat older than twice the
 * limit means that CPU has not taken a timer interrupt, i.e. it ran with
 * interrupts off (idle CPUs still tick: the tick is periodic). Twice, so
 * that a CPU spinning on a lock whose holder has interrupts off reports the
 * lock and its holder first. One checker at a time reports; the report is
 * a panic.
 */
#include "kernel/lockup.h"
#include "kernel/spinlock.h"
#include "kernel/percpu.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/ksyms.h"
#include "kernel/time.h"
#include "kernel/cmdline.h"
#include "kernel/smp.h"
#include "arch/x86/cpu.h"
#include "arch/x86/apic.h"

int lockup_ms = 10000;
KSWITCH_INT(lockup_ms, "lockup_ms", "lockup detector threshold in ms (0 = off)", 0, 600000);

static uint64_t heartbeat[NR_CPUS];
static int reporting;

static uint64_t limit_tsc(void)
{
	return (uint64_t)lockup_ms * (tsc_khz ? tsc_khz : 3000000);
}

bool lockup_expired(uint64_t start)
{
	return lockup_ms && !panic_in_progress && rdtsc() - start >= limit_tsc();
}

void lockup_check_spin(const struct spinlock *l)
{
	if (!lockup_expired(this_cpu_read(lock_spin_start)))
		return;
	/* One reporter: the exchange is a full barrier, so exactly one CPU
	 * sees 0 (pairs with the same exchange below). */
	if (__atomic_exchange_n(&reporting, 1, __ATOMIC_SEQ_CST))
		return;
	/* The lock as it is now: printing the waiters below can take long
	 * enough (minutes, with 224 emulated CPUs) for it to move on. */
	uint16_t head = READ_ONCE(l->head), tail = READ_ONCE(l->tail);
	int32_t holder = READ_ONCE(l->holder);
	uintptr_t holder_pc = READ_ONCE(l->holder_pc);
	uint64_t off;
	const char *where = ksym_lookup(holder_pc, &off);
	uint32_t cpu, waiters = 0, shown = 0;

	/* Who waits, and for which ticket: a ticket no CPU waits for between
	 * head and tail was taken by a holder that never released (or the
	 * lock's memory was reused under its waiters). All of them when few
	 * wait; else the next eight in line (a ticket lock's queue is long on
	 * a 224-CPU machine, and each line costs serial time). */
	for_each_cpu_in (cpu, &cpu_online_mask)
		waiters += READ_ONCE(percpu_of(cpu)->lock_spinning_on) == l;
	for_each_cpu_in (cpu, &cpu_online_mask) {
		struct percpu *pc = percpu_of(cpu);
		uint32_t ticket = READ_ONCE(pc->lock_spin_ticket);

		/* Test-and-set waiters have no order: any eight. */
		bool next = ticket == SPIN_NO_TICKET ? shown < 8 : (uint16_t)(ticket - head) < 8;

		if (READ_ONCE(pc->lock_spinning_on) != l || (waiters > 16 && !next))
			continue;
		if (ticket == SPIN_NO_TICKET)
			pr_emerg("lockup: cpu %u waits (test-and-set)", cpu);
		else
			pr_emerg("lockup: cpu %u waits for ticket %u", cpu, ticket);
		shown++;
	}
	apic_print_state(); /* ours: is an interrupt stuck in service? */
	if (shown < waiters)
		pr_emerg("lockup: %u CPUs wait in all, %u of them not listed", waiters,
			 waiters - shown);
	panic("lockup: cpu %u spun %d ms on lock '%s' without a hand-off (%p, head %u tail %u) held "
	      "by cpu %d (taken at %s+0x%lx)",
	      this_cpu_id(), lockup_ms, l->name ? l->name : "?", l, head, tail, holder,
	      where ? where : "?", where ? off : holder_pc);
}

void lockup_touch(void)
{
	WRITE_ONCE(heartbeat[this_cpu_id()], rdtsc());
}

void lockup_tick(void)
{
	uint32_t me = this_cpu_id();
	uint64_t now = rdtsc();

	WRITE_ONCE(heartbeat[me], now);
	if (!lockup_ms || panic_in_progress)
		return;
	for (uint32_t c = 0; c < nr_cpus; c++) {
		struct percpu *pc = percpu_of(c);
		uint64_t hb = READ_ONCE(heartbeat[c]);

		if (c == me || !pc || !READ_ONCE(pc->shared.online) || !hb)
			continue;
		if (now > hb && now - hb > 2 * limit_tsc()) {
			/* One reporter (pairs with the exchange above). */
			if (__atomic_exchange_n(&reporting, 1, __ATOMIC_SEQ_CST))
				return;
			const void *lock = READ_ONCE(pc->lock_spinning_on);

			panic("lockup: cpu %u took no timer interrupt for %lu ms "
			      "(interrupts off?)%s",
			      c, tsc_to_ns(now - hb) / 1000000,
			      lock ? "; it is spinning on a lock" : "");
		}
	}
}
