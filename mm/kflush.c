/*
 * Deferred kernel flush (DESIGN.md "TLB flush protocol"; seed 001).
 *
 * vmalloc-class mappings are the only kernel mappings ever torn down. With
 * kflush=defer their flush does not interrupt CPUs that are in user mode or
 * idle: those CPUs cannot be touching such a mapping, and they catch up on
 * their way back into the kernel, before they touch one.
 *
 * Glossary
 *   kgen      global kernel-flush generation, one per unmapped range
 *   ring      the last KFLUSH_RING ranges, so that a CPU a few generations
 *             behind can INVLPG them instead of flushing everything;
 *             written under kflush_lock, read without it, so a reader
 *             re-checks each entry's generation after using it
 *             (kflush_ring_intact) and flushes everything if an initiator
 *             overwrote it meanwhile
 *   context   per CPU {KERNEL, USER, IDLE} in its entry page, on its own
 *             cache line (written by the owner, read by initiators)
 *
 * The race, both sides (a store-buffer pattern; each side needs a full
 * fence between its store and its load, SDM Vol. 3A 9.2.3.4):
 *   initiator: write ring entry; kgen++ (store); smp_mb();
 *              read context[c] for every c; IPI only those in KERNEL
 *   entering:  context = KERNEL (store); fence; read kgen; catch up
 *   Either the initiator sees KERNEL and interrupts the CPU, or the CPU
 *   sees the new kgen and flushes; both may happen (a harmless extra flush).
 *   The entering CPU's fence is free with PTI: the entry code stores
 *   KERNEL before its CR3 write, and MOV to CR3 is serializing (SDM Vol. 3A
 *   10.3), so the load of kgen after it is ordered. Without PTI we pay an
 *   explicit MFENCE on every entry (measured: kernel_unmap and null_syscall
 *   with kflush=defer vs ipi, pti=off).
 *
 * Every entry from a non-kernel context catches up before any handler
 * runs: system calls, exceptions and interrupts from user mode
 * (user_enter_kernel), and interrupts that find the CPU idle
 * (irq_enter_from_idle, from trap_dispatch). Handlers cannot be trusted to
 * touch permanent mappings only: the shootdown IPI reads its request on
 * the initiator's kernel stack, vmalloc memory, and that stack may sit
 * where a stack freed with this CPU's flush deferred used to be (found by
 * review; regression kflush_idle_ipi_reads_flushed, whose assertion,
 * kflush_assert_caught_up(), runs on every call-IPI argument with
 * tlbcheck=on). Before catching up a CPU touches only its entry page and
 * entry/IST stacks (permanent) and the kernel stack of the task it runs,
 * mapped before it left the kernel and not freed while it runs. The
 * paranoid handlers (NMI, #MC, #DF, and #DB from the kernel) run without
 * catching up and touch only permanent mappings: kernel text and data,
 * per-CPU areas, the direct map (kmalloc).
 *
 * Other PCIDs: INVLPG reaches only the current PCID, and kernel mappings
 * are not global with PTI, so every slot records the kgen it is flushed to
 * (asid_slot.kgen); switching to a slot that is behind flushes it
 * (mm/tlb.c load_mm).
 */
#include "mm/kflush.h"
#include "mm/kflush_ring.h"
#include "mm/pcid.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "mm/tlb.h"
#include "mm/tlbcheck.h"
#include "arch/layout.h"
#include "arch/ipi.h"
#include "lib/percpu.h"
#include "lib/cpumask.h"
#include "lib/spinlock.h"
#include "lib/cmdline.h"
#include "lib/panic.h"
#include "arch/mmu.h"
#include "arch/cpu.h"
#include "lib/trace.h"

int kflush_defer = 1;
KSWITCH_ENUM(kflush_defer, "kflush", "kernel unmaps: interrupt every CPU, or defer for idle/user",
	     "ipi", "defer");

static struct spinlock kflush_lock = SPINLOCK_INIT("kflush");
static struct kflush_range ring[KFLUSH_RING];
/* More pages than this to catch up on: flush everything instead. */
#define KFLUSH_CEILING 32
uint64_t kflush_kgen; /* written under kflush_lock; read with kflush_generation() */

/* Bring this CPU's current PCID up to the global kgen; false if it was
 * there already. Inside catch_up()'s TLB-checker transaction (_in_tx,
 * mm/tlbcheck.h); kflush_lock is not held. */
static bool catch_up_in_tx(void);

/* INVLPG the ranges (seen, g] of the ring; false if an initiator overwrote
 * one while we read it (then some page may have been missed). */
static bool flush_ring_pages(uint64_t seen, uint64_t g)
{
	for (uint64_t x = seen + 1; x <= g; x++) {
		const struct kflush_range *r = &ring[x % KFLUSH_RING];
		/* Relaxed: validated by kflush_ring_intact() below. */
		uint64_t start = __atomic_load_n(&r->start, __ATOMIC_RELAXED);
		uint64_t end = __atomic_load_n(&r->end, __ATOMIC_RELAXED);

		if (end - start > KFLUSH_CEILING * PAGE_SIZE)
			break; /* torn; kflush_ring_intact() will say so */
		for (uint64_t va = start; va < end; va += PAGE_SIZE)
			arch_invlpg(va);
	}
	if (kflush_ring_intact(ring, seen, g))
		return true;
	this_cpu_inc(counters[CNT_KFLUSH_RING_RACE]);
	return false;
}

static bool catch_up(void)
{
	uint64_t tx = tlbcheck_begin();
	bool behind = catch_up_in_tx();

	tlbcheck_end(tx);
	return behind;
}

static bool catch_up_in_tx(void)
{
	struct cpu_tlb *ts = this_tlb();
	uint64_t g = kflush_generation();

	uint64_t seen = this_cpu_read(kgen_seen);

	if (!ts || seen >= g)
		return false;
	struct asid_slot *s = &ts->slots[ts->cur];
	struct mm *mm = this_cpu_read(shared.loaded_mm);

	this_cpu_inc(counters[CNT_KFLUSH_CATCHUP]);
	if (tlbinject != INJECT_SKIP_KFLUSH) {
		if (kflush_decide(ring, seen, g, KFLUSH_CEILING) == FLUSH_PAGES &&
		    flush_ring_pages(seen, g)) {
			trace(TR_KFLUSH_CATCHUP, TRKF_PAGES, g);
		} else {
			this_cpu_inc(counters[CNT_TLB_FLUSH_FULL]);
			this_cpu_inc(counters[CNT_TLB_FULL_KFLUSH]);
			trace(TR_KFLUSH_CATCHUP, TRKF_FULL, g);
			tlb_flush_current_pcid(mm, s);
		}
	}
	this_cpu_write(kgen_seen, g);
	s->kgen = g;
	if (tlbcheck_enabled)
		tlbcheck_kernel_caught_up(g);
	return true;
}

static void catch_up_ipi(void *arg)
{
	(void)arg;
	this_cpu_inc(counters[CNT_IPI_RECV_TLB]);
	catch_up();
}

void kflush_catch_up(void)
{
	catch_up();
}

void kflush_enter_from_idle(void)
{
	this_cpu_write(entry.context, CTX_KERNEL);
	/* Interrupt delivery does not serialize: fence. Store KERNEL before
	 * loading kgen; pairs with the initiator's smp_mb() in
	 * kflush_kernel_ranges. */
	smp_mb();
	bool behind = catch_up();

	if (behind)
		this_cpu_inc(counters[CNT_KFLUSH_CATCHUP_IRQ]);
	this_cpu_write(kflush_irq_caught_up, behind);
}

void kflush_check_ipi_arg(const void *p)
{
	/* This interrupt found the CPU idle and behind, and the handler is
	 * about to read vmalloc memory: the catch-up at entry was needed. */
	if (this_cpu_read(kflush_irq_caught_up) && (uint64_t)p >= VMALLOC_BASE)
		this_cpu_inc(counters[CNT_KFLUSH_IPI_ARG_FRESH]);
	this_cpu_write(kflush_irq_caught_up, 0);
	kflush_assert_caught_up(p, "a call IPI's argument");
}

void kflush_assert_caught_up(const void *p, const char *what)
{
	struct cpu_tlb *ts = this_tlb();
	uint64_t va = (uint64_t)p;

	if (!tlbcheck_enabled || !ts || va < VMALLOC_BASE)
		return;
	/* Every ring entry newer than what this CPU reached (older ones are
	 * overwritten, but a CPU that far behind flushes everything anyway:
	 * the entries still here are the ranges it has not flushed). */
	for (uint32_t i = 0; i < KFLUSH_RING; i++) {
		const struct kflush_range *r = &ring[i];
		uint64_t g = READ_ONCE(r->gen);

		if (g > this_cpu_read(kgen_seen) && va >= READ_ONCE(r->start) &&
		    va < READ_ONCE(r->end))
			panic("kflush: cpu %u reads %s at %p through a kernel mapping it has not "
			      "flushed (range [%#lx, %#lx) freed at generation %lu, this CPU at "
			      "%lu): the page may be another's by now",
			      this_cpu_id(), what, p, r->start, r->end, g,
			      this_cpu_read(kgen_seen));
	}
}

void kflush_kernel_range(uint64_t start, uint64_t end)
{
	struct kflush_range r = { 0, start, end };

	kflush_kernel_ranges(&r, 1);
}

/* Several ranges (up to KFLUSH_RING), one generation each, one IPI round:
 * the reaper frees many dead tasks' stacks with one. */
void kflush_kernel_ranges(const struct kflush_range *ranges, uint32_t nr)
{
	struct cpumask targets;
	uint32_t cpu, me, n = 0;

	if (!irqs_enabled() && nr_cpus_online > 1)
		panic("kflush: kernel unmap with interrupts off on an SMP machine");
	BUG_ON(nr == 0 || nr > KFLUSH_RING);
	this_cpu_inc(counters[CNT_KFLUSH_ROUND]);
	spin_lock(&kflush_lock);
	uint64_t first = kflush_kgen + 1, g = kflush_kgen + nr;

	for (uint32_t i = 0; i < nr; i++) {
		uint64_t gi = first + i;

		kflush_ring_publish(ring, gi, ranges[i].start, ranges[i].end);
		/* Every CPU may have cached these under any PCID it used since
		 * that PCID was last flushed: record them before anyone flushes. */
		for (uint64_t va = ranges[i].start; tlbcheck_enabled && va < ranges[i].end;
		     va += PAGE_SIZE)
			tlbcheck_kernel_unmap(va, 0, gi);
	}
	/* Release: the ring entry is visible to whoever reads kgen == g.
	 * Pairs with the acquire load in kflush_generation() (mm/kflush.h). */
	__atomic_store_n(&kflush_kgen, g, __ATOMIC_RELEASE);
	smp_mb(); /* store kgen before loading the contexts; pairs with the
		   * entering CPU's fence in kflush_enter_kernel */
	me = this_cpu_id();
	uint64_t f = irq_save();

	catch_up();
	irq_restore(f);
	cpumask_clear_all(&targets);
	for_each_cpu_in (cpu, &cpu_online_mask) {
		if (cpu == me)
			continue;
		uint32_t ctx = READ_ONCE(percpu_of(cpu)->entry.context);

		if (kflush_defer && ctx != CTX_KERNEL) {
			this_cpu_inc(counters[CNT_KFLUSH_DEFERRED]);
			if (tlbcheck_enabled)
				tlbcheck_kflush_deferred(cpu, g);
			continue;
		}
		cpumask_set(&targets, cpu);
		n++;
	}
	if (n) {
		this_cpu_add(counters[CNT_KFLUSH_IPI], n);
		this_cpu_add(counters[CNT_IPI_SENT_TLB], n);
		smp_call_mask(&targets, catch_up_ipi, NULL, true);
	}
	for (uint32_t i = 0; tlbcheck_enabled && i < nr; i++)
		tlbcheck_kflush_done(ranges[i].start, ranges[i].end, first + i, kflush_defer);
	spin_unlock(&kflush_lock);
}
