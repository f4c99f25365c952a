/*
 * Lockup detector (see lockup.h).
 *
 * Spinning: lock_slow() (lib/spinlock.c) records the lock and the start TSC in the per-CPU
 * area and calls lockup_check_spin() on every spin; past the limit we name
 * the holder CPU and where it took the lock, then panic (which NMIs every
 * CPU for a backtrace, the holder's included). The start TSC moves forward
 * at every hand-off (head changes), so the limit is how long the lock went
 * without changing hands, not how long this CPU queued: a ticket lock with
 * N waiters queues the last one N hold times, and with 224 vCPUs on a
 * 2-core host a single hand-off can wait for the host to run the next
 * waiter's vCPU. Queueing is contention; no hand-off at all is a lockup.
 *
 * Interrupts off: every CPU's timer tick stores a heartbeat (TSC); idle
 * CPUs tick too (the tick is periodic). Each tick also looks at the other
 * online CPUs. A heartbeat older than twice the limit (twice, so that a CPU
 * spinning on a lock whose holder has interrupts off reports the lock and
 * its holder first) makes the CPU a suspect, but a silent CPU is not yet a
 * CPU with interrupts off: under emulation the host may simply not be
 * running that virtual CPU (seen: a make test on a loaded 2-core host
 * blamed CPU 1 of a -smp 4 boot for 2003 ms of silence). So the checker
 * that claims the suspect (one at a time, probe.owner) asks the suspect's
 * NMI handler what it was doing (lockup_nmi_probe):
 *   - answered with RFLAGS.IF clear, and again 50 ms later with the
 *     heartbeat unchanged: interrupts off; panic naming the CPU and RIP;
 *   - answered with IF set: it runs with interrupts on but its timer does
 *     not reach it; panic only if that lasts four times the limit;
 *   - heartbeat moves (it ticked): it was not running; counter
 *     lockup_starved, a warning, suspect released;
 *   - no answer: the CPU executes nothing at all, not even NMIs (a
 *     virtual CPU the host does not schedule; on hardware, a wedged core);
 *     a warning, and a panic only after ten times the limit.
 * The probe state is written by its owner only; the suspect's handler
 * writes the answer fields and then `answered` (release), which the owner
 * reads (acquire).
 */
#include "kernel/lockup.h"
#include "lib/spinlock.h"
#include "kernel/percpu_area.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/ksyms.h"
#include "lib/time.h"
#include "lib/cmdline.h"
#include "kernel/smp.h"
#include "arch/x86/cpu.h"
#include "arch/x86/apic.h"
#include "arch/trap.h"
#include "kernel/counters.h"

/* The limit and its clock are lib/time.c's (a cross-CPU call's wait reads
 * them below kernel/); the switch is declared here. */
KSWITCH_INT(lockup_ms, "lockup_ms", "lockup detector threshold in ms (0 = off)", 0, 600000);

static uint64_t heartbeat[NR_CPUS];
static int reporting;

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

/* The interrupts-off probe (protocol above). */
enum probe_phase { PROBE_FIRST, PROBE_SECOND };

static struct {
	int32_t owner; /* checking CPU, -1 when idle (claimed by CAS) */
	uint32_t cpu;  /* the suspect */
	enum probe_phase phase;
	uint64_t hb;	      /* the suspect's heartbeat when claimed */
	uint64_t sent;	      /* TSC: the current NMI was sent */
	bool warned;	      /* "not answering" printed for this suspect */
	uint32_t answered;    /* written by the suspect's NMI handler */
	uint64_t rflags, rip; /* ... what it interrupted */
} probe = { .owner = -1 };

void lockup_nmi_probe(const struct trap_frame *tf)
{
	probe.rflags = tf->rflags;
	probe.rip = tf->rip;
	/* Release: rflags and rip before answered (pairs with the acquire in
	 * probe_step()). */
	__atomic_store_n(&probe.answered, 1, __ATOMIC_RELEASE);
}

static void probe_send(uint64_t now)
{
	struct percpu *pc = percpu_of(probe.cpu);

	probe.answered = 0;
	probe.sent = now;
	/* Relaxed: apic_send_ipi_apic_id() fences before the ICR write. */
	__atomic_store_n(&pc->lockup_probe_pending, 1, __ATOMIC_RELAXED);
	apic_send_nmi(probe.cpu);
}

static void probe_release(void)
{
	__atomic_store_n(&percpu_of(probe.cpu)->lockup_probe_pending, 0, __ATOMIC_RELAXED);
	/* Release: the probe's fields are done with before another CPU can
	 * claim it (pairs with the CAS in lockup_tick()). */
	__atomic_store_n(&probe.owner, -1, __ATOMIC_RELEASE);
}

static __noreturn void blame(const char *how, uint64_t silent)
{
	uint64_t off;
	const char *sym = ksym_lookup(probe.rip, &off);

	/* One reporter (pairs with the exchange in lockup_check_spin()). */
	if (__atomic_exchange_n(&reporting, 1, __ATOMIC_SEQ_CST))
		for (;;)
			cpu_relax();
	panic("lockup: cpu %u took no timer interrupt for %lu ms (%s); its NMI found it at "
	      "%s+0x%lx",
	      probe.cpu, tsc_to_ns(silent) / 1000000, how, sym ? sym : "?", sym ? off : probe.rip);
}

/* Is the probe still ours? Another CPU takes it over from an owner that
 * stopped ticking (lockup_tick()); an owner the host stopped inside a
 * step and then ran again must not release it or blame with the new
 * owner's fields (found in review). */
static bool probe_still_mine(void)
{
	return READ_ONCE(probe.owner) == (int32_t)this_cpu_id();
}

/* One step of the owner's probe, at its tick (interrupts off). */
static void probe_step(uint64_t now)
{
	uint32_t c = probe.cpu;
	uint64_t hb = READ_ONCE(heartbeat[c]), silent = now - probe.hb;

	if (hb != probe.hb) {
		/* It ticked: it was not running, not running with interrupts
		 * off. */
		this_cpu_inc(counters[CNT_LOCKUP_STARVED]);
		pr_warn("lockup: cpu %u was silent for %lu ms, then ticked (a virtual CPU the "
			"host did not run?); not a lockup",
			c, tsc_to_ns(now - probe.hb) / 1000000);
		if (probe_still_mine())
			probe_release();
		return;
	}
	/* Acquire: pairs with the release in lockup_nmi_probe(). */
	if (!__atomic_load_n(&probe.answered, __ATOMIC_ACQUIRE)) {
		if (silent > 10 * lockup_limit_tsc()) {
			probe.rip = 0;
			if (probe_still_mine())
				blame("and answers no NMI", silent);
		}
		if (!probe.warned && now - probe.sent > lockup_limit_tsc()) {
			probe.warned = true;
			pr_warn("lockup: cpu %u silent for %lu ms and not answering an NMI (not "
				"scheduled by the host?); waiting",
				c, tsc_to_ns(silent) / 1000000);
		}
		return;
	}
	if (probe.rflags & RFLAGS_IF) {
		/* Interrupts on, yet no tick: its timer does not reach it. */
		if (silent > 4 * lockup_limit_tsc() && probe_still_mine())
			blame("interrupts on: its timer does not fire", silent);
		if (now - probe.sent > lockup_limit_tsc() / 4)
			probe_send(now); /* look again */
		return;
	}
	if (probe.phase == PROBE_FIRST) {
		/* Interrupts off once; make sure it was no short irq-off
		 * section: ask again 50 ms later. */
		if (now - probe.sent >= ns_to_tsc(50 * 1000000ull)) {
			probe.phase = PROBE_SECOND;
			probe_send(now);
		}
		return;
	}
	if (probe_still_mine())
		blame("interrupts off", silent);
}

void lockup_tick(void)
{
	uint32_t me = this_cpu_id();
	uint64_t now = rdtsc();

	WRITE_ONCE(heartbeat[me], now);
	if (!lockup_ms || panic_in_progress)
		return;
	int32_t owner = READ_ONCE(probe.owner);

	if (owner == (int32_t)me) {
		probe_step(now);
		return;
	}
	if (owner >= 0) {
		/* Another CPU looks at a suspect, at its own ticks. An owner
		 * that stopped ticking (it runs with interrupts off itself,
		 * or the host does not run it) is the suspect now: without
		 * this no CPU ever looked again (found in review; death test
		 * lockup-probe-owner-wedges). */
		uint64_t ohb = READ_ONCE(heartbeat[owner]);

		if (now <= ohb || now - ohb <= 2 * lockup_limit_tsc())
			return;
		/* Acquire, as the claim below. */
		if (!__atomic_compare_exchange_n(&probe.owner, &owner, (int32_t)me, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		__atomic_store_n(&percpu_of(probe.cpu)->lockup_probe_pending, 0, __ATOMIC_RELAXED);
		probe.cpu = (uint32_t)owner;
		probe.hb = ohb;
		probe.phase = PROBE_FIRST;
		probe.warned = false;
		probe_send(now);
		return;
	}
	for (uint32_t c = 0; c < nr_cpus; c++) {
		struct percpu *pc = percpu_of(c);
		uint64_t hb = READ_ONCE(heartbeat[c]);
		int32_t idle = -1;

		if (c == me || !pc || !READ_ONCE(pc->shared.online) || !hb)
			continue;
		if (now <= hb || now - hb <= 2 * lockup_limit_tsc())
			continue;
		/* Acquire: the previous owner's release of the fields. */
		if (!__atomic_compare_exchange_n(&probe.owner, &idle, (int32_t)me, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		probe.cpu = c;
		probe.hb = hb;
		probe.phase = PROBE_FIRST;
		probe.warned = false;
		probe_send(now);
		return;
	}
}

int32_t lockup_probe_owner(void)
{
	return READ_ONCE(probe.owner);
}
