/*
 * NMI handling: the panic "stop all CPUs" and the lockup detector's remote
 * backtraces.
 *
 * Protocol (panic): the panicking CPU P sets stop_request and, for each
 * other online CPU C in turn, sets report_cpu = C and sends C an NMI. C's
 * handler sees stop_request; if report_cpu names it, C takes the console
 * (printk's panic owner), prints its frame and backtrace, hands the console
 * back and sets report_done; then C halts forever with interrupts off. P
 * waits a bounded time for report_done before moving on, so a wedged CPU
 * costs a timeout, not a hang.
 */
#include "kernel/nmi.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "kernel/percpu_area.h"
#include "kernel/machine.h"
#include "lib/time.h"
#include "arch/trap.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "lib/trace.h"
#include "kernel/lockup.h"

static volatile int stop_request;
static volatile int report_cpu = -1;
static volatile int report_done;

void nmi_handle(struct trap_frame *tf)
{
	this_cpu_inc(counters[CNT_IPI_RECV_NMI]);
	trace(TR_IPI_RECV, TRIPI_NMI, 0);
	/* The panicking CPU is the one that stops the others: an NMI that
	 * reaches it meanwhile (a test's, a lock-up probe's) must not stop it
	 * too, before its report ends (found in review: the log stopped after
	 * another CPU's report, no verdict). Acquire: pairs with the release
	 * stores in nmi_stop_other_cpus(), so the report_cpu we read is the
	 * one set before our NMI was sent. */
	if (__atomic_load_n(&stop_request, __ATOMIC_ACQUIRE) && !this_cpu()->panicking) {
		if (__atomic_load_n(&report_cpu, __ATOMIC_ACQUIRE) == (int)this_cpu_id()) {
			kprintf("--- cpu %u stopped by NMI ---\n", this_cpu_id());
			trap_print_frame(tf);
			backtrace_print_trap(tf);
			/* Pairs with the acquire load in nmi_stop_other_cpus(). */
			__atomic_store_n(&report_done, 1, __ATOMIC_RELEASE);
		}
		cpu_halt_forever();
	}
	/* NMIs that arrive together merge: answer every request pending. */
	bool expected = false;

	if (__atomic_exchange_n(&this_cpu()->lockup_probe_pending, 0, __ATOMIC_RELAXED)) {
		lockup_nmi_probe(tf); /* kernel/lockup.c: what were we doing? */
		expected = true;
	}
	/* A test's NMI (SYST_SEND_NMI): consumed quietly, with what it found
	 * recorded first. */
	if (__atomic_load_n(&this_cpu()->nmi_test_pending, __ATOMIC_RELAXED)) {
		this_cpu()->nmi_test_seen = (trap_from_user(tf) ? NMI_SEEN_USER : 0) |
					    ((read_rflags() & RFLAGS_AC) ? NMI_SEEN_AC : 0);
		/* Release: the record before the flag's clearing. Pairs with
		 * the sender's acquire load in nmi_send_test(). */
		__atomic_store_n(&this_cpu()->nmi_test_pending, 0, __ATOMIC_RELEASE);
		this_cpu_inc(counters[CNT_NMI_TEST]);
		expected = true;
		/* nmi_send_test_hold(): execute nothing else for that long,
		 * not even NMIs (blocked until our IRET), like a virtual CPU
		 * the host does not run. */
		uint32_t ms =
			__atomic_exchange_n(&this_cpu()->nmi_test_hold_ms, 0, __ATOMIC_RELAXED);

		if (ms)
			udelay(ms * 1000ull);
	}
	if (!expected)
		pr_warn("unexpected NMI (no stop request)");
}

int nmi_send_test_hold(uint32_t cpu, uint32_t hold_ms)
{
	if (cpu >= nr_cpus || !percpu_of(cpu))
		return -22; /* -EINVAL */
	/* Relaxed: ordered before the NMI like nmi_test_pending below. */
	__atomic_store_n(&percpu_of(cpu)->nmi_test_hold_ms, hold_ms, __ATOMIC_RELAXED);
	return nmi_send_test(cpu);
}

int nmi_send_test(uint32_t cpu)
{
	struct percpu *pc = cpu < nr_cpus ? percpu_of(cpu) : NULL;

	if (!pc || !READ_ONCE(pc->shared.online) || cpu == this_cpu_id())
		return -22; /* -EINVAL */
	/* Relaxed: apic_send_ipi_apic_id() fences before the ICR write (an
	 * x2APIC WRMSR is not serializing), so the flag is visible first. */
	__atomic_store_n(&pc->nmi_test_pending, 1, __ATOMIC_RELAXED);
	apic_send_nmi(cpu);
	this_cpu_inc(counters[CNT_IPI_SENT_NMI]);
	/* Synchronous: a second NMI sent while one is pending would merge
	 * with it. 10 s is a hang bound: an emulated CPU the host does not
	 * run can take seconds (seen: 100 ms missed once in 1200 on a loaded
	 * 2-core host). */
	uint64_t end = rdtsc() + 10000 * (tsc_khz ? tsc_khz : 3000000);

	/* Acquire: the handler's record (nmi_test_seen) before its clearing
	 * of the flag; pairs with the release store in nmi_handle(). */
	while (__atomic_load_n(&pc->nmi_test_pending, __ATOMIC_ACQUIRE)) {
		if (rdtsc() > end)
			return -110; /* -ETIMEDOUT */
		cpu_relax();
	}
	return 0;
}

uint32_t nmi_test_seen(uint32_t cpu)
{
	struct percpu *pc = cpu < nr_cpus ? percpu_of(cpu) : NULL;

	return pc ? READ_ONCE(pc->nmi_test_seen) : 0;
}

void nmi_stop_other_cpus(bool backtraces)
{
	uint32_t me = this_cpu_id();

	if (nr_cpus_online <= 1)
		return;
	/* Release: the reporting CPU sees everything we printed before.
	 * Pairs with the acquire load of stop_request in nmi_handle(). */
	__atomic_store_n(&stop_request, 1, __ATOMIC_RELEASE);
	for (uint32_t c = 0; c < nr_cpus; c++) {
		struct percpu *pc = percpu_of(c);

		if (c == me || !pc || !READ_ONCE(pc->shared.online))
			continue;
		report_done = 0;
		/* Release: report_done's reset is visible before the target can
		 * see its turn (pairs with the acquire load in nmi_handle()). */
		__atomic_store_n(&report_cpu, backtraces ? (int)c : -1, __ATOMIC_RELEASE);
		console_handover((int)c);
		apic_send_nmi(c);
		this_cpu_inc(counters[CNT_IPI_SENT_NMI]);
		trace(TR_IPI_SEND, TRIPI_NMI, c);
		if (backtraces) {
			/* Wait while the report comes: 500 ms without a byte
			 * printed, or 10 s in all, ends the wait (a wedged CPU
			 * costs a timeout, a slow console on a loaded host only
			 * time: a flat 500 ms cut reports short there). */
			uint64_t khz = tsc_khz ? tsc_khz : 3000000, start = rdtsc(), last = start;
			size_t printed = printk_bytes_written();

			/* Pairs with the release store of report_done in nmi_handle(). */
			while (!__atomic_load_n(&report_done, __ATOMIC_ACQUIRE)) {
				uint64_t now = rdtsc();

				if (printk_bytes_written() != printed) {
					printed = printk_bytes_written();
					last = now;
				}
				if (now - last > 500 * khz || now - start > 10000 * khz)
					break;
				cpu_relax();
			}
			/* The console is ours again first: printed while it
			 * was still c's, the line was dropped (found in review). */
			console_handover((int)me);
			if (!report_done)
				kprintf("--- cpu %u did not answer the stop NMI ---\n", c);
		}
		console_handover((int)me);
	}
}
