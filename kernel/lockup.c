/*
 * Lockup detector (see lockup.h).
 *
 * Spinning: lock_slow() records the lock and the start TSC in the per-CPU
 * area and calls lockup_check_spin() on every spin; past the limit we name
 * the holder CPU and where it took the lock, then panic (which NMIs every
 * CPU for a backtrace, the holder's included).
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

int lockup_ms = 10000;
KSWITCH_INT(lockup_ms, "lockup_ms", "lockup detector threshold in ms (0 = off)", 0, 600000);

static uint64_t heartbeat[NR_CPUS];
static int reporting;

static uint64_t limit_tsc(void)
{
	return (uint64_t)lockup_ms * (tsc_khz ? tsc_khz : 3000000);
}

void lockup_check_spin(const struct spinlock *l)
{
	if (!lockup_ms || panic_in_progress)
		return;
	uint64_t start = this_cpu_read(lock_spin_start);

	if (rdtsc() - start < limit_tsc())
		return;
	/* One reporter: the exchange is a full barrier, so exactly one CPU
	 * sees 0 (pairs with the same exchange below). */
	if (__atomic_exchange_n(&reporting, 1, __ATOMIC_SEQ_CST))
		return;
	uint64_t off;
	const char *where = ksym_lookup(l->holder_pc, &off);
	uint32_t cpu;

	/* Who else waits, and for which ticket: a ticket no CPU waits for
	 * between head and tail was taken by a holder that never released
	 * (or the lock's memory was reused under its waiters). */
	for_each_cpu_in (cpu, &cpu_online_mask) {
		struct percpu *pc = percpu_of(cpu);

		if (READ_ONCE(pc->lock_spinning_on) == l)
			pr_emerg("lockup: cpu %u waits for ticket %u", cpu,
				 READ_ONCE(pc->lock_spin_ticket));
	}
	panic("lockup: cpu %u spun %d ms on lock '%s' (%p, head %u tail %u) held by cpu %d "
	      "(taken at %s+0x%lx)",
	      this_cpu_id(), lockup_ms, l->name ? l->name : "?", l, READ_ONCE(l->head),
	      READ_ONCE(l->tail), l->holder, where ? where : "?", where ? off : l->holder_pc);
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
