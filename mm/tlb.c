/*
 * TLB flush protocol, address-space switch and lazy TLB
 * (DESIGN.md "TLB flush protocol", "Lazy TLB").
 *
 * Glossary
 *   tlb_gen     mm->tlb_gen: bumped by every change to mm's user mappings
 *               that needs a flush
 *   slot gen    per CPU per PCID slot: the tlb_gen its kernel PCID is
 *               flushed to (mm/pcid.h)
 *   request     {mm, start, end, stride, new_gen, freed_tables, full}
 *   lazy        a kernel thread (or idle) runs on the previous mm without
 *               switching CR3; the CPU's shared is_lazy flag says so
 *   _in_tx      a function that runs inside a TLB-checker transaction
 *               (tlbcheck_begin .. tlbcheck_end, mm/tlbcheck.h); no lock
 *
 * Flush request (mm_flush_range, the one door for user mappings):
 *   1. new_gen = ++mm->tlb_gen (LOCK XADD: a full barrier, after the PTE
 *      writes and before reading the CPU mask and the lazy flags)
 *   2. this CPU, if it runs mm: flush_one()
 *   3. IPI (synchronously) every other CPU in mm->cpumask, except lazy ones
 *      unless page tables were freed (a lazy CPU's paging-structure caches
 *      may still walk them, SDM Vol. 3A 4.10.3)
 *   flush_one on a CPU: nothing if its slot is at new_gen already; INVLPG
 *   the pages if exactly one generation behind and the range is at most
 *   flush_ceiling pages; otherwise flush the whole PCID (counted with the
 *   reason: a big hammer is never used silently). With PTI the user PCID
 *   is flushed later, on the return to user (mm/pti.c).
 *
 * Races, both sides written down:
 *   a) switch_mm to mm vs a request: the switcher sets its bit in
 *      mm->cpumask (LOCK OR, only the first time) and then reads tlb_gen;
 *      the initiator bumps tlb_gen (LOCK) and then reads the mask. Either
 *      the initiator sees the bit (and IPIs) or the switcher sees the new
 *      generation (and flushes). The bit is never cleared on a switch
 *      (no per-switch write to a shared line); a CPU that no longer runs
 *      mm clears it when an IPI finds it elsewhere. When the bit is set
 *      already nothing orders the switcher's read of tlb_gen after its
 *      stores, so the initiator must IPI it: it may excuse the CPU only as
 *      lazy on mm, and it must read loaded_mm before is_lazy to conclude
 *      that (lazy_on_mm below; regression: model/revoke.pml
 *      -DBROKEN_LAZY_READ_ORDER).
 *   b) leaving lazy mode vs a request that skipped the lazy CPU: the CPU
 *      clears is_lazy, then smp_mb(), then reads tlb_gen; the initiator
 *      bumps tlb_gen (LOCK), then reads is_lazy. Either it IPIs, or the CPU
 *      sees the generation and catches up before using mm's user space.
 *
 * Several mms in one round (mm_flush_many, for a memory object mapped in
 * many spaces): step 1 for every mm first (each its own LOCK XADD, so
 * races a and b hold per mm exactly as above), then one IPI per CPU in
 * the union of the targets each mm would have had; the handler runs
 * flush_ipi's logic for each request. A CPU is excused for an mm only by
 * the rules above (not running it, lazy without freed tables); a CPU that
 * is a target for one mm and excused for another flushes only the first.
 * Returning means every request has returned: the frames of all ranges
 * may then be freed (tlbcheck asserts it for every context at the free).
 *
 * Deferred flushes. The rule the generations rest on: a request for
 * new_gen covers every change made to mm before its bump, so that a slot
 * at generation g holds nothing changed before g (the checker's no-flush
 * load check is this rule). Every operation keeps it by flushing before
 * it lets go of mm->lock, but one: a memory-object revocation clears the
 * PTEs of each mm under that mm's lock (and lets go of it at long-op
 * breaks, mm/vm.c) and flushes all the mms in one round at the end
 * (mm/memobj.c). A request of another operation in between would bring a
 * CPU one generation behind to new_gen by flushing its own range only,
 * and the CPU would claim new_gen while still holding revoked
 * translations (found by the checker: regression
 * flush_during_revocation_covers_it). The frames were safe (freed after
 * the revocation's own round, whose generation comes later), but a slot's
 * generation would no longer mean what it says. So, as Linux's
 * tlb_flush_pending: the revocation counts itself in mm->flush_deferred
 * (LOCK INC, before its first change: mm_flush_defer) until its round has
 * returned, and a request that sees the count after its bump flushes the
 * whole of mm instead of its range (counter tlb_full_deferred; in the
 * round itself a count above its own). Either the request's read sees
 * the count, or the increment follows the bump in the LOCK order, and
 * then so do all the revocation's changes: their own request covers
 * them (the checker stamps each change with tlb_gen + 1 read after it).
 *
 * Freeing an mm that lazy CPUs still hold: one rule, at the last
 * reference: mm_drop_lazy_users() interrupts every CPU in the mask that
 * has it loaded, and each switches to the kernel mm. No refcounts per CPU.
 */
#include "mm/tlb.h"
#include "mm/switch_mm.h"
#include "mm/mm.h"
#include "mm/pcid.h"
#include "mm/pti.h"
#include "mm/kflush.h"
#include "mm/kpaging.h"
#include "mm/tlbcheck.h"
#include "arch/pasid.h"
#include "arch/ioperm.h"
#include "lib/percpu.h"
#include "lib/preempt.h"
#include "sched/task.h"
#include "arch/ipi.h"
#include "lib/panic.h"
#include "lib/cmdline.h"
#include "lib/printk.h"
#include "arch/mmu.h"
#include "arch/cpu.h"
#include "lib/trace.h"

static int flush_ceiling = 33;
KSWITCH_INT(flush_ceiling, "flush_ceiling", "most pages a range flush invalidates one by one", 1,
	    1 << 20);
static bool lazytlb = true;
KSWITCH_BOOL(lazytlb, "lazytlb", "kernel threads keep the previous mm loaded");
int tlbinject;
KSWITCH_ENUM(tlbinject, "tlbinject", "fault injection: skip one flush (testing the checker)",
	     "none", "skip_invlpg", "skip_ipi", "skip_user_flush", "skip_lazy_catchup",
	     "skip_asid_flush", "skip_freed_tables_ipi", "skip_kflush", "skip_gen_check",
	     "skip_many_rest");

struct flush_req {
	struct mm *mm;
	uint64_t start, end, stride;
	uint64_t new_gen;
	bool freed_tables;
	bool full; /* all of mm (a deferred flush was in progress) */
};

_Static_assert(TRFULL_CEILING == FULL_CEILING && TRFULL_GEN_GAP == FULL_GEN_GAP &&
		       TRFULL_REQUEST == FULL_REQUEST,
	       "trace reasons name enum full_reason's values");

static void count_full(enum full_reason why)
{
	this_cpu_inc(counters[CNT_TLB_FLUSH_FULL]);
	trace(TR_TLB_FLUSH_FULL, why, 0);
	switch (why) {
	case FULL_CEILING:
		this_cpu_inc(counters[CNT_TLB_FULL_CEILING]);
		break;
	case FULL_GEN_GAP:
		this_cpu_inc(counters[CNT_TLB_FULL_GEN_GAP]);
		break;
	case FULL_REQUEST:
		this_cpu_inc(counters[CNT_TLB_FULL_REQUEST]);
		break;
	default:
		break;
	}
}

void tlb_flush_current_pcid(struct mm *mm, struct asid_slot *s)
{
	struct cpu_tlb *ts = this_tlb();

	if (tlbcheck_enabled)
		tlbcheck_claim(mm->ctx_id, s->tlb_gen, s->kgen);
	arch_write_cr3(cr3_kernel_value(mm, ts->cur, false));
	pti_user_flush_all(s);
}

/* Apply a request on this CPU (its loaded mm is req->mm, not lazy). */
static void flush_one_in_tx(const struct flush_req *r);

static void flush_one(const struct flush_req *r)
{
	uint64_t tx = tlbcheck_begin();

	flush_one_in_tx(r);
	tlbcheck_end(tx);
}

static void flush_one_in_tx(const struct flush_req *r)
{
	struct cpu_tlb *ts = this_tlb();
	struct asid_slot *s = &ts->slots[ts->cur];
	uint64_t mm_gen = __atomic_load_n(&r->mm->tlb_gen, __ATOMIC_ACQUIRE); /* pairs with
								* the initiator's bump */
	uint64_t pages = r->full ? 0 : (r->end - r->start) / r->stride;
	enum full_reason why;

	switch (flush_decide(s->tlb_gen, r->new_gen, mm_gen, pages, (uint64_t)flush_ceiling,
			     &why)) {
	case FLUSH_NONE:
		this_cpu_inc(counters[CNT_TLB_FLUSH_SKIPPED]);
		return;
	case FLUSH_PAGES:
		this_cpu_inc(counters[CNT_TLB_FLUSH_PAGES]);
		trace(TR_TLB_FLUSH_PAGES, (uint32_t)pages, r->start);
		if (r->freed_tables)
			pti_user_flush_freed_tables(s);
		for (uint64_t va = r->start; va < r->end; va += r->stride) {
			/* (With the PCID current, one INVLPG also drops every
			 * paging-structure cache entry of it: SDM Vol. 3A 4.10.4.1.) */
			if (tlbinject != INJECT_SKIP_INVLPG)
				arch_invlpg(va);
			pti_user_flush_page(s, va);
			this_cpu_inc(counters[CNT_TLB_PAGES_FLUSHED]);
		}
		s->tlb_gen = r->new_gen;
		break;
	case FLUSH_FULL:
		count_full(why);
		s->tlb_gen = mm_gen;
		tlb_flush_current_pcid(r->mm, s);
		break;
	}
	if (tlbcheck_enabled)
		tlbcheck_range_flushed(r->mm->ctx_id, r->start, r->end, s->tlb_gen);
}

static void leave_lazy_mm(void);

static void flush_ipi(void *arg)
{
	const struct flush_req *r = arg;

	this_cpu_inc(counters[CNT_IPI_RECV_TLB]);
	if (this_cpu_read(shared.loaded_mm) != r->mm) {
		/* Not ours any more: leave the mask (lazily, here, never in the
		 * switch path). */
		cpumask_clear(&r->mm->cpumask, this_cpu_id());
		return;
	}
	if (this_cpu_read(shared.is_lazy)) {
		/* Only freed tables interrupt a lazy CPU: drop the mm so that no
		 * walk can use the freed tables. */
		if (r->freed_tables)
			leave_lazy_mm();
		return;
	}
	flush_one(r);
}

/*
 * Is the CPU of pc lazy on mm (a kernel thread runs with mm loaded)? The
 * initiator's test that excuses it from an IPI. loaded_mm is read first:
 * switch_mm stores is_lazy = 0 before it stores loaded_mm, so (TSO: stores
 * become visible in order, loads are not reordered) a loaded_mm read as mm
 * comes with that switch's is_lazy or a later one. In the other order the
 * old flag (lazy on the previous mm) can pair with the new loaded_mm: a
 * CPU that is switching to mm with its bit already set in mm's mask (so
 * no LOCK OR orders its read of tlb_gen, which may be the old one) was
 * excused, and kept the stale translation of a page the caller then
 * freed. Found by the model of several mms (model/revoke.pml); the
 * single-mm model had always done a LOCK OR on the switch.
 */
static bool lazy_on_mm(const struct percpu *pc, const struct mm *mm)
{
	return READ_ONCE(pc->shared.loaded_mm) == mm && READ_ONCE(pc->shared.is_lazy);
}

/* A request that must cover the changes of deferred flushes in progress
 * (the header's "Deferred flushes"): all of mm. After the bump. */
static void covers_deferred(struct flush_req *r, uint32_t ours)
{
	/* Relaxed: the bump before it was a LOCK XADD (a full barrier); pairs
	 * with the LOCK INC in mm_flush_defer(). */
	if (likely(__atomic_load_n(&r->mm->flush_deferred, __ATOMIC_RELAXED) <= ours))
		return;
	r->start = 0;
	r->end = USER_TOP;
	r->full = true;
	this_cpu_inc(counters[CNT_TLB_FULL_DEFERRED]);
}

void mm_flush_defer(struct mm *mm)
{
	/* LOCK INC, before the caller's first change: pairs with the read
	 * after the bump in covers_deferred() (the header's argument). */
	__atomic_add_fetch(&mm->flush_deferred, 1, __ATOMIC_SEQ_CST);
}

void mm_flush_defer_end(struct mm *mm)
{
	/* After our round's bump (a LOCK XADD), or with nothing changed:
	 * from here requests need not cover us. Pairs with covers_deferred(). */
	__atomic_sub_fetch(&mm->flush_deferred, 1, __ATOMIC_SEQ_CST);
}

void mm_flush_range(struct mm *mm, uint64_t start, uint64_t end, uint64_t stride, bool freed_tables)
{
	struct flush_req r = {
		mm, start, end, stride ? stride : PAGE_SIZE, 0, freed_tables, false
	};
	struct cpumask targets;
	uint32_t me, cpu, n = 0;

	preempt_disable();
	me = this_cpu_id();
	/* Full barrier (LOCK XADD): the PTE writes before it are visible to
	 * every CPU that reads the new generation; the mask and lazy flags we
	 * read after it are current (races a and b in the header). Pairs with
	 * the acquire loads of tlb_gen in load_mm_in_tx(), load_mm_fast()
	 * (mm/switch_mm.h), flush_one_in_tx() and, for race b, the smp_mb()
	 * in lazy_catch_up(). */
	r.new_gen = __atomic_add_fetch(&mm->tlb_gen, 1, __ATOMIC_SEQ_CST);
	covers_deferred(&r, 0);
	if (this_cpu_read(shared.loaded_mm) == mm && !this_cpu_read(shared.is_lazy))
		flush_one(&r);
	cpumask_clear_all(&targets);
	for_each_cpu_in (cpu, &mm->cpumask) {
		struct percpu *pc = percpu_of(cpu);

		if (cpu == me)
			continue;
		bool lazy = lazy_on_mm(pc, mm);

		if (lazy && (!freed_tables || tlbinject == INJECT_SKIP_FREED_TABLES_IPI)) {
			this_cpu_inc(counters[CNT_TLB_LAZY_SKIP]);
			continue;
		}
		cpumask_set(&targets, cpu);
		n++;
	}
	if (n && tlbinject != INJECT_SKIP_IPI) {
		this_cpu_inc(counters[CNT_TLB_SHOOTDOWN]);
		this_cpu_add(counters[CNT_IPI_SENT_TLB], n);
		trace(TR_TLB_SHOOTDOWN, n, r.new_gen);
		smp_call_mask(&targets, flush_ipi, &r, true);
	}
	if (tlbcheck_enabled)
		tlbcheck_request_done(mm, r.start, r.end, r.new_gen);
	preempt_enable();
}

struct many_ctx {
	struct flush_req r[FLUSH_MANY_MAX];
	uint32_t n;
};

static void flush_many_ipi(void *arg)
{
	const struct many_ctx *c = arg;

	this_cpu_inc(counters[CNT_IPI_RECV_TLB]);
	for (uint32_t i = 0; i < c->n; i++) {
		const struct flush_req *r = &c->r[i];

		if (this_cpu_read(shared.loaded_mm) != r->mm)
			continue; /* its mask bit goes at its own next IPI */
		if (this_cpu_read(shared.is_lazy)) {
			if (r->freed_tables)
				leave_lazy_mm();
			continue;
		}
		flush_one(r);
	}
}

/* Would mm_flush_range() interrupt cpu for r? (the lazy rule) */
static bool many_target(const struct flush_req *r, uint32_t cpu)
{
	struct percpu *pc = percpu_of(cpu);
	bool lazy = lazy_on_mm(pc, r->mm);

	if (lazy && (!r->freed_tables || tlbinject == INJECT_SKIP_FREED_TABLES_IPI)) {
		this_cpu_inc(counters[CNT_TLB_LAZY_SKIP]);
		return false;
	}
	return true;
}

void mm_flush_many(struct flush_many_req *reqs, uint32_t n, uint32_t *ipis)
{
	struct many_ctx ctx, *c = &ctx; /* read by the IPIs: on our (vmalloc) stack,
					   * as mm_flush_range's request is */
	struct cpumask targets;
	uint32_t me, cpu, nt = 0;

	BUG_ON(n > FLUSH_MANY_MAX || n == 0);
	preempt_disable();
	me = this_cpu_id();
	c->n = n;
	/* Step 1 for every mm before any mask is read. */
	for (uint32_t i = 0; i < n; i++) {
		struct flush_req *r = &c->r[i];

		r->mm = reqs[i].mm;
		r->start = reqs[i].start;
		r->end = reqs[i].end;
		r->stride = PAGE_SIZE;
		r->freed_tables = reqs[i].freed_tables;
		r->full = false;
		/* Full barrier (LOCK XADD): the PTE writes before it are visible
		 * to every CPU that reads the new generation; the masks and lazy
		 * flags read below are current. Pairs with the switcher's LOCK
		 * OR and the lazy leaver's smp_mb() (races a and b, per mm). */
		r->new_gen = __atomic_add_fetch(&r->mm->tlb_gen, 1, __ATOMIC_SEQ_CST);
		covers_deferred(r, 1); /* another revocation's, not ours */
		reqs[i].new_gen = c->r[i].new_gen;
	}
	cpumask_clear_all(&targets);
	for (uint32_t i = 0; i < n; i++) {
		const struct flush_req *r = &c->r[i];

		if (this_cpu_read(shared.loaded_mm) == r->mm && !this_cpu_read(shared.is_lazy))
			flush_one(r);
		if (i > 0 && tlbinject == INJECT_SKIP_MANY_REST)
			continue;
		for_each_cpu_in (cpu, &r->mm->cpumask) {
			if (cpu == me || cpumask_test(&targets, cpu) || !many_target(r, cpu))
				continue;
			cpumask_set(&targets, cpu);
			nt++;
		}
	}
	if (nt && tlbinject != INJECT_SKIP_IPI) {
		this_cpu_inc(counters[CNT_TLB_SHOOTDOWN]);
		this_cpu_add(counters[CNT_IPI_SENT_TLB], nt);
		trace(TR_TLB_SHOOTDOWN, nt, c->r[0].new_gen);
		smp_call_mask(&targets, flush_many_ipi, c, true);
	}
	if (ipis)
		*ipis = nt;
	if (tlbcheck_enabled)
		for (uint32_t i = 0; i < n; i++)
			tlbcheck_request_done(c->r[i].mm, c->r[i].start, c->r[i].end,
					      c->r[i].new_gen);
	for (uint32_t i = 0; i < n; i++)
		mm_flush_defer_end(c->r[i].mm);
	preempt_enable();
}

static void load_mm_in_tx(struct mm *next);

/* asid_choose() with its result folded into the return value (slot, and
 * the enum asid_result above bit 16), so that load_mm_in_tx has no
 * address-taken local (and no stack-protector canary to pay for). */
_Static_assert(MAX_ASIDS <= 0xffff, "choose_slot: a slot fits in 16 bits");
static __noinline uint32_t choose_slot(struct cpu_tlb *ts, uint64_t ctx)
{
	enum asid_result res;
	uint32_t slot = asid_choose(ts->slots, ts->nr, ctx, &ts->next_victim, &res);

	return slot | (uint32_t)res << 16;
}

/* Load mm on this CPU in a slot (switch_mm's second half). */
static void load_mm(struct mm *next)
{
	uint64_t tx = tlbcheck_begin();

	load_mm_in_tx(next);
	tlbcheck_end(tx);
}

static void load_mm_in_tx(struct mm *next)
{
	struct cpu_tlb *ts = this_tlb();
	uint32_t cpu = this_cpu_id();
	enum asid_result res;

	if (!cpumask_test(&next->cpumask, cpu))
		cpumask_set(&next->cpumask, cpu); /* LOCK OR: a full barrier (race a) */
	/* Acquire, after the mask bit: pairs with the LOCK XADD bump of
	 * tlb_gen in mm_flush_range() (race a in the header). */
	uint64_t gen = __atomic_load_n(&next->tlb_gen, __ATOMIC_ACQUIRE);
	uint64_t kgen = kflush_generation();

	pti_switch_away(&ts->slots[ts->cur]);
	/* A ctx_id is in at most one slot (it enters one only when
	 * asid_choose found it in none), so a hit on the hint is the hit
	 * asid_choose's scan would have found. */
	uint32_t slot = ts->prev;

	if (slot < ts->nr && ts->slots[slot].ctx_id == next->ctx_id) {
		res = ASID_HIT;
	} else {
		slot = choose_slot(ts, next->ctx_id);
		res = (enum asid_result)(slot >> 16);
		slot &= 0xffff;
	}
	struct asid_slot *s = &ts->slots[slot];
	bool flush = true;

	if (res == ASID_HIT) {
		this_cpu_inc(counters[CNT_ASID_HIT]);
		if ((s->tlb_gen >= gen && s->kgen >= kgen) || tlbinject == INJECT_SKIP_GEN_CHECK)
			flush = false;
		else if (s->tlb_gen < gen)
			count_full(FULL_GEN_GAP);
		else {
			/* Only the kernel's generation lags: a full flush too
			 * (regression tlb_flush_full_is_the_sum_of_its_reasons). */
			this_cpu_inc(counters[CNT_KFLUSH_CATCHUP]);
			this_cpu_inc(counters[CNT_TLB_FLUSH_FULL]);
			this_cpu_inc(counters[CNT_TLB_FULL_KFLUSH]);
			trace(TR_KFLUSH_CATCHUP, TRKF_SWITCH, kgen);
		}
	} else {
		this_cpu_inc(counters[res == ASID_MISS ? CNT_ASID_MISS : CNT_ASID_EVICT]);
		this_cpu_inc(counters[CNT_TLB_FLUSH_FULL]);
		this_cpu_inc(counters[CNT_TLB_FULL_ASID_NEW]);
		trace(TR_TLB_FLUSH_FULL, TRFULL_ASID_NEW, 0);
		s->ctx_id = next->ctx_id;
		if (tlbinject == INJECT_SKIP_ASID_FLUSH)
			flush = false;
	}
	if (pcid_mode == PCID_OFF && !flush) {
		flush = true; /* every CR3 write flushes */
		this_cpu_inc(counters[CNT_TLB_FLUSH_FULL]);
		this_cpu_inc(counters[CNT_TLB_FULL_NOPCID]);
		trace(TR_TLB_FLUSH_FULL, TRFULL_NOPCID, 0);
	}
	s->tlb_gen = MAX(s->tlb_gen, gen);
	if (flush) {
		s->tlb_gen = gen;
		s->kgen = kgen;
		pti_user_flush_all(s);
	}
	/* What the slot now claims; a no-flush load is checked against it. */
	if (tlbcheck_enabled)
		tlbcheck_claim(next->ctx_id, s->tlb_gen, s->kgen);
	if (ts->cur != slot)
		ts->prev = ts->cur;
	ts->cur = slot;
	this_cpu_write(kgen_seen, s->kgen);
	this_cpu_write(shared.loaded_mm, next);
	pcid_load_cr3(next, slot, flush);
}

/* Leaving lazy mode for the mm that is still loaded: catch up (race b). */
static void lazy_catch_up(struct mm *mm)
{
	struct cpu_tlb *ts = this_tlb();
	struct asid_slot *s = &ts->slots[ts->cur];

	this_cpu_write(shared.is_lazy, 0);
	smp_mb(); /* race b: clear is_lazy before reading tlb_gen; pairs with the
		   * LOCK XADD in mm_flush_range */
	uint64_t gen = __atomic_load_n(&mm->tlb_gen, __ATOMIC_ACQUIRE);
	bool flush = s->tlb_gen < gen && tlbinject != INJECT_SKIP_LAZY_CATCHUP;

	trace(TR_LAZY_LEAVE, TRLAZY_SAME_MM, flush);
	if (flush) {
		this_cpu_inc(counters[CNT_TLB_LAZY_CATCHUP]);
		count_full(FULL_GEN_GAP);
		s->tlb_gen = gen;
		tlb_flush_current_pcid(mm, s);
	} else if (s->tlb_gen < gen) {
		s->tlb_gen = gen; /* tlbinject=skip_lazy_catchup: claim without flushing */
	}
	if (tlbcheck_enabled)
		tlbcheck_range_flushed(mm->ctx_id, 0, USER_TOP, s->tlb_gen);
}

void switch_mm_slow(struct mm *next)
{
	uint64_t tx = tlbcheck_begin();

	if (this_cpu_read(shared.loaded_mm) == next) {
		if (this_cpu_read(shared.is_lazy))
			lazy_catch_up(next);
	} else {
		if (trace_active() && this_cpu_read(shared.is_lazy))
			trace_log(TR_LAZY_LEAVE, TRLAZY_OTHER_MM, 0);
		this_cpu_write(shared.is_lazy, 0);
		if (!load_mm_fast(next))
			load_mm(next);
	}
	tlbcheck_end(tx);
}

void mm_load_io_bitmap(const struct mm *mm)
{
	uint64_t key = READ_ONCE(mm->io_key);
	const uint8_t *bits = READ_ONCE(mm->io_bitmap);

	arch_io_bitmap_switch(key, bits);
}

/* A kernel thread is about to run: keep the user mm loaded (lazytlb=on) or
 * switch to the kernel mm (lazytlb=off). The mm a CPU runs on is its
 * loaded_mm (none yet on a CPU that has run no user task: the kernel
 * root). */
void enter_lazy_tlb(void)
{
	struct mm *mm = this_cpu_read(shared.loaded_mm);

	if (!lazytlb) {
		if (mm != &kernel_mm)
			load_mm(&kernel_mm);
		return;
	}
	if (mm && mm != &kernel_mm && !this_cpu_read(shared.is_lazy)) {
		/* Becoming lazy loosens what the checker excuses; no transaction
		 * needed (nothing in the TLB changes). */
		this_cpu_write(shared.is_lazy, 1);
		this_cpu_inc(counters[CNT_TLB_LAZY_ENTER]);
		trace(TR_LAZY_ENTER, 0, 0);
	}
}

/* Lazy CPU gives up the user mm it still has loaded. */
static void leave_lazy_mm(void)
{
	uint64_t tx = tlbcheck_begin();

	trace(TR_LAZY_LEAVE, TRLAZY_DROPPED, 0);
	this_cpu_write(shared.is_lazy, 0);
	load_mm(&kernel_mm);
	tlbcheck_end(tx);
}

void tlb_switch_to_kernel_mm(void)
{
	uint64_t f = irq_save();
	uint64_t tx = tlbcheck_begin();

	if (trace_active() && this_cpu_read(shared.is_lazy))
		trace_log(TR_LAZY_LEAVE, TRLAZY_DROPPED, 0);
	this_cpu_write(shared.is_lazy, 0);
	if (this_cpu_read(shared.loaded_mm) != &kernel_mm)
		load_mm(&kernel_mm);
	tlbcheck_end(tx);
	irq_restore(f);
}

static void drop_lazy(void *arg)
{
	struct mm *mm = arg;

	if (this_cpu_read(shared.loaded_mm) != mm)
		return;
	/* Loaded and not lazy: a thread of the dying mm is running here. */
	BUG_ON(!this_cpu_read(shared.is_lazy));
	leave_lazy_mm();
}

/* SYST_LAZY_DROP_MOVE: the caller moves to the CPU it names between the
 * two steps below if it can be preempted there, as a preemption and an
 * idle CPU's pull would move it. Out of line: only tests arm it. Since
 * the fix it never can (preemption is off there): the test then checks
 * that no CPU keeps the mm, and on the old code it made the move. */
static __noinline void lazy_drop_test_move(struct task *me)
{
	struct cpumask m;
	uint32_t cpu = me->test_lazy_drop_move - 1;

	me->test_lazy_drop_move = 0;
	if (!preemptible() || cpu >= nr_cpus)
		return;
	cpumask_clear_all(&m);
	cpumask_set(&m, cpu);
	sched_set_affinity(me, &m);
}

void mm_drop_lazy_users(struct mm *mm)
{
	/* One CPU for both steps: the cross-call skips the caller's CPU,
	 * so a caller preempted after dropping its own and pulled to
	 * another CPU lazy on mm left that one on the freed mm: its CR3 on
	 * the freed roots, its loaded_mm the next mm from the same slab
	 * slot (regression lazy_drop_stays_on_one_cpu; found in review). */
	uint32_t cpu;

	preempt_disable();
	uint64_t f = irq_save();

	drop_lazy(mm);
	irq_restore(f);
	if (unlikely(current_task()->test_lazy_drop_move != 0))
		lazy_drop_test_move(current_task());
	smp_call_mask(&mm->cpumask, drop_lazy, mm, true);
	preempt_enable();
	/* The rule's check: no CPU has it loaded now. A CPU not in the mask
	 * never loaded it, and the mm has no task left to load it again. */
	for_each_cpu_in (cpu, &mm->cpumask)
		BUG_ON(READ_ONCE(percpu_of(cpu)->shared.loaded_mm) == mm);
}

bool switch_mm_fast_allowed;

void tlb_init(void)
{
	pcid_init();
	if (tlbcheck_enabled)
		tlbcheck_init();
	/* load_mm_fast()'s boot-time preconditions, in one flag. */
	switch_mm_fast_allowed =
		pcid_mode != PCID_OFF && !tlbcheck_enabled && tlbinject == INJECT_NONE;
}

void tlb_init_cpu(void)
{
	pcid_init_cpu();
	if (tlbcheck_enabled)
		tlbcheck_init_cpu();
	this_cpu_write(shared.loaded_mm, NULL);
	load_mm(&kernel_mm);
}
