/*
 * TLB-coherence checker (tlbcheck=on; DESIGN.md "Proving the TLB protocol").
 *
 * No emulator here keeps PCID-tagged entries across CR3 writes, so a
 * missing flush would pass every test. This file keeps a model of what
 * each CPU's TLB and paging-structure caches may hold under the SDM's rules
 * (Vol. 3A 4.10), fed by the arch/ wrappers of every CR3 write, INVLPG and
 * INVPCID, and by the page-table code whenever a translation is removed or
 * weakened; and it asserts, wherever a translation must be dead, that no
 * CPU and no PCID can still use it.
 *
 * Model, per CPU:
 *   assoc[p]   the contexts (mm ctx_ids) whose translations PCID p may
 *              hold: a context joins when a root of it is loaded with p
 *              (speculative fills may happen any time p is loaded), and
 *              all leave when p is flushed (CR3 write without the no-flush
 *              bit, INVPCID single/all). Kernel (vmalloc) translations are
 *              context 0, held by every PCID loaded with a kernel root.
 *   stale      translations that changed in the page tables but may still
 *              be cached under some PCID: {ctx, va, pa, pcid, covering
 *              generation, page or paging-structure}. Added for every PCID
 *              whose assoc holds the context at the time of the change;
 *              removed by INVLPG (the va in the current PCID, and every
 *              paging-structure entry of that PCID), INVPCID and flushes.
 *              When the list fills up, compact() (tlbcheck_model.c) merges
 *              records that only the next flush or load of their PCID can
 *              judge.
 *
 * Assertions (each names the check, the CPU, the PCID, the address and the
 * caller, then panics):
 *   CR3 load with no-flush   the loaded PCID holds no stale entry the
 *                            caller's claim does not allow: nothing of
 *                            another context, nothing of this context or
 *                            the kernel at or below the claimed generations
 *   range flushed            after a CPU's flush, its current PCID holds
 *                            nothing of the range up to the generation
 *   request returned         no CPU can use a stale translation of the
 *                            range, unless the protocol recorded why it
 *                            may wait: the CPU is lazy on the mm (pages
 *                            only), the slot is behind or was reassigned
 *                            (it will be flushed before use), or the user
 *                            PCID is marked stale or has the page queued
 *   frame freed              the same, for any translation to the frame;
 *                            a paging-structure entry is never excused by
 *                            laziness (a lazy CPU may still walk it)
 *   kernel flush / catch-up  kernel ranges: the same, where a CPU in user
 *                            mode or idle may wait (kflush=defer)
 *
 * Model mode (pcid=model): the logical CR3 values carry PCIDs and no-flush
 * bits the hardware never sees; the model applies PCID semantics to them,
 * so the protocol is held to what a PCID CPU would do.
 *
 * Locking: each CPU's model has its own lock (interrupts off), and so do
 * the protocol records it is judged by: a transaction (tlbcheck_begin) on
 * a CPU holds that CPU's lock while it changes its slot records and does
 * the TLB operation that makes them true. A check of CPU c holds c's lock,
 * so it sees c either before or after a transaction, never halfway.
 * Cross-CPU work (recording a stale translation everywhere, the
 * assertions that scan every CPU) takes one CPU's lock at a time, and
 * never inside a transaction (no lock-order cycles). The table of address
 * spaces has its own lock, taken inside a CPU's. (One global lock was
 * simpler, but 8 vCPUs on 2 host threads convoyed on it: a preempted
 * holder stalled every CR3 write and every return to user.)
 *
 * Files: this one, the assertions and their reports; tlbcheck_model.c, the
 * model, its locks and the table of address spaces; tlbcheck_hooks.c, the
 * events that feed it (the arch's CR3 writes, INVLPG and INVPCID, and the
 * page-table changes); tlbcheck_internal.h, what they share.
 */
#include "mm/tlbcheck.h"
#include "mm/tlbcheck_internal.h"
#include "mm/pcid.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "lib/cmdline.h"
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/ksyms.h"
#include "lib/fmt.h"
#include "arch/mmu.h"

/* The variable is the arch's (arch/mmu.h: its instruction hooks test it);
 * the switch is declared here, with the checker. */
KSWITCH_BOOL(tlbcheck_enabled, "tlbcheck", "TLB-coherence checker (debug)");

/* The slot that PCID p belongs to (its kernel or user half); ts->nr or
 * more for none. */
static uint32_t pcid_slot(uint16_t p)
{
	return (p & ~UPCID_BIT) - 1u;
}

/* Is p a user PCID of slot as, marked stale and not loaded on CPU c? Its
 * next load flushes it whole (pti_prepare_exit_slow); until then nothing
 * uses it. */
static bool user_flush_due(uint32_t c, const struct asid_slot *as, uint16_t p)
{
	return (p & UPCID_BIT) && as->user_stale && tcs[c]->pcid != p;
}

void tc_report(const char *check, uint32_t cpu, const struct stale *s, void *caller)
{
	uint64_t off;
	const char *fn = ksym_lookup((uint64_t)caller, &off);

	const struct cpu_tlb *ts = percpu_of(cpu)->tlb;
	uint32_t slot = pcid_slot(s->pcid);

	char what[128], whose[80], state[192];

	/* One message (printed only by the first CPU to panic): what the
	 * protocol believed, next to what the model says the TLB may hold. */
	snprintf(state, sizeof(state),
		 "cpu %u: pcid %#x loaded, slot %u current; slot %u: ctx %lu gen %lu kgen %lu "
		 "user_stale %d; context %u, lazy %u",
		 cpu, tcs[cpu]->pcid, ts->cur, slot, slot < ts->nr ? ts->slots[slot].ctx_id : 0,
		 slot < ts->nr ? ts->slots[slot].tlb_gen : 0,
		 slot < ts->nr ? ts->slots[slot].kgen : 0,
		 slot < ts->nr ? ts->slots[slot].user_stale : 0, percpu_of(cpu)->entry.context,
		 percpu_of(cpu)->shared.is_lazy);

	if (s->ctx == CTX_KERNEL)
		snprintf(whose, sizeof(whose), "the kernel (stale since kernel flush %lu)", s->gen);
	else if (s->kind == TC_CTX)
		snprintf(whose, sizeof(whose), "mm ctx %lu", s->ctx);
	else
		snprintf(whose, sizeof(whose), "mm ctx %lu (stale since generation %lu)", s->ctx,
			 s->gen);
	if (s->kind == TC_CTX)
		snprintf(what, sizeof(what), "entries");
	else if (s->kind == TC_PAGES)
		snprintf(what, sizeof(what), "translations of pages");
	else if (s->ctx == CTX_KERNEL) /* kernel unmaps record no frame */
		snprintf(what, sizeof(what), "a translation of %#lx", s->va);
	else
		snprintf(what, sizeof(what), "%s %#lx -> %#lx",
			 s->kind == TC_TABLE ? "a paging-structure entry for" : "a translation of",
			 s->va, s->pa);
	panic("tlbcheck: %s: cpu %u pcid %#x may still hold %s of %s; checked from %s+%#lx\n"
	      "  protocol state: %s",
	      check, cpu, s->pcid, what, whose, fn ? fn : "?", fn ? off : (uint64_t)caller, state);
}

/* ---- assertions ---- */

/* A record of pages, one page or any (compact()'s TC_PAGES). */
static bool is_page(const struct stale *s)
{
	return s->kind == TC_PAGE || s->kind == TC_PAGES;
}

/*
 * Must the protocol flush the whole PCID that s (a page of an mm) sits in
 * on CPU c before anything uses it again? c's lock held (its slot records
 * and loaded mm are stable). Two cases:
 *   - a user PCID marked stale and not loaded: its next load flushes it
 *     (pti_prepare_exit_slow);
 *   - the slot still holds s's mm, is behind s, and s's change is in the
 *     mm's generation already (its bump done), and either the slot is not
 *     loaded (its next load finds it behind the mm: load_mm flushes it)
 *     or c is lazy on that mm (leaving lazy mode flushes it:
 *     lazy_catch_up). Not a change whose bump is still to come: the slot
 *     may then be loaded, or leave lazy mode, without a flush before that
 *     bump, and then flush that page alone.
 * With pcid=off every CR3 write flushes everything, so only the second
 * case's lazy CPU keeps records, in its current slot.
 */
bool tc_flush_due(uint32_t c, const struct stale *s)
{
	struct percpu *pc = percpu_of(c);
	const struct cpu_tlb *ts = pc->tlb;
	uint16_t p = s->pcid;
	bool off = pcid_mode == PCID_OFF;
	uint32_t slot = off ? ts->cur : pcid_slot(p);

	if (s->ctx == CTX_KERNEL || slot >= ts->nr)
		return false;
	const struct asid_slot *as = &ts->slots[slot];

	if (!off && user_flush_due(c, as, p))
		return true;
	if (as->ctx_id != s->ctx || as->tlb_gen >= s->gen)
		return false;
	if (off || tcs[c]->pcid == p || tcs[c]->pcid == (p ^ UPCID_BIT)) {
		const struct mm *lm = READ_ONCE(pc->shared.loaded_mm);

		if (!lm || lm->ctx_id != s->ctx || !READ_ONCE(pc->shared.is_lazy))
			return false;
	}
	return s->gen <= tc_mm_gen(s->ctx);
}

/*
 * May CPU c still have s, according to the protocol's own records?
 * "Loaded" is the model's view (the last CR3 write it saw), not the CPU's
 * slot index: another CPU may be between updating its slot records and
 * its CR3 write (it waits for our lock); whatever it loads next is
 * checked when the load happens (check_noflush_load).
 */
static bool excused(uint32_t c, const struct stale *s, bool kernel_deferred_ok)
{
	struct percpu *pc = percpu_of(c);
	struct cpu_tlb *ts = pc->tlb;
	uint16_t p = s->pcid;
	bool loaded = tcs[c]->pcid == p || tcs[c]->pcid == (p ^ UPCID_BIT);

	if (s->ctx == CTX_KERNEL) {
		const struct tc_cpu *t = tcs[c];

		/* The loaded PCID, deferred by the initiator (it saw the CPU
		 * in user mode or idle) and not caught up yet: it will before
		 * it touches any deferrable mapping (checked in
		 * tlbcheck_kernel_caught_up). */
		if (loaded && kernel_deferred_ok && t->kdeferred_gen >= s->gen &&
		    t->kclean_gen < s->gen)
			return true;
		if (pcid_mode == PCID_OFF)
			return false;
		uint32_t slot = pcid_slot(p);

		/* Another PCID: flushed before it is loaded if it is behind. */
		return !loaded && slot < ts->nr && ts->slots[slot].kgen < s->gen;
	}
	/* c's loaded mm stays alive while we hold c's lock: freeing an mm
	 * first moves every CPU off it, in a transaction (tlb.c). */
	const struct mm *lm = READ_ONCE(pc->shared.loaded_mm);
	bool runs = lm && lm->ctx_id == s->ctx;
	bool lazy = runs && READ_ONCE(pc->shared.is_lazy);

	if (pcid_mode == PCID_OFF)
		return (is_page(s) && lazy) || !runs;
	uint32_t slot = pcid_slot(p);

	if (slot >= ts->nr)
		return false;
	const struct asid_slot *as = &ts->slots[slot];

	/* Whatever the slot holds now. */
	if (user_flush_due(c, as, p))
		return true;
	if (as->ctx_id != s->ctx)
		return !loaded;
	if (!loaded && as->tlb_gen < s->gen)
		return true;
	if (is_page(s) && lazy)
		return true;
	if (p & UPCID_BIT) {
		if (as->user_stale)
			return true;
		if (loaded && s->kind == TC_PAGE) {
			for (uint64_t i = 0; i < pc->entry.flush_count; i++) {
				if (pc->entry.flush_addr[i] == s->va)
					return true;
			}
		}
	}
	return false;
}

/* A check over every CPU's model: each record that matches, unless the
 * protocol's own records excuse it, is a stale translation that must not
 * exist any more. */
struct scan {
	const char *check;
	enum { SCAN_RANGE, SCAN_FRAME } what;
	uint64_t ctx, start, end, gen; /* ranges: records up to gen */
	paddr_t pa;		       /* frames */
	bool table;		       /* frames: a page-table page */
	bool deferred_ok;	       /* kernel ranges: kflush=defer */
	void *caller;
};

static bool scan_match(const struct scan *q, const struct stale *s)
{
	switch (q->what) {
	case SCAN_RANGE:
		return s->ctx == q->ctx && s->gen <= q->gen &&
		       (s->kind == TC_PAGES || (s->va >= q->start && s->va < q->end));
	case SCAN_FRAME:
		return (s->pa == q->pa || s->kind == TC_PAGES) && s->ctx != CTX_KERNEL &&
		       (s->kind == TC_TABLE) == q->table;
	}
	return false;
}

static void scan_all(const struct scan *q)
{
	tc_count_check();
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tc_of(c);

		if (!t)
			continue;
		uint64_t f = tc_lock_other(t);

		for (uint32_t i = 0; i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (scan_match(q, s) && !excused(c, s, q->deferred_ok))
				tc_report(q->check, c, s, q->caller);
		}
		spin_unlock_irqrestore(&t->lock, f);
	}
}

static void scan_range(const char *check, uint64_t ctx, uint64_t start, uint64_t end, uint64_t gen,
		       bool deferred_ok, void *caller)
{
	struct scan q = { .check = check,
			  .what = SCAN_RANGE,
			  .ctx = ctx,
			  .start = start,
			  .end = end,
			  .gen = gen,
			  .deferred_ok = deferred_ok,
			  .caller = caller };

	scan_all(&q);
}

void tlbcheck_request_done(const struct mm *mm, uint64_t start, uint64_t end, uint64_t gen)
{
	scan_range("flush request returned", mm->ctx_id, start, end, gen, false,
		   __builtin_return_address(0));
}

void tlbcheck_kflush_done(uint64_t start, uint64_t end, uint64_t gen, bool deferred_ok)
{
	scan_range("kernel flush returned", CTX_KERNEL, start, end, gen, deferred_ok,
		   __builtin_return_address(0));
}

void tlbcheck_frame_free(paddr_t pa, bool table)
{
	struct scan q = { .check = table ? "page-table page freed" : "frame freed",
			  .what = SCAN_FRAME,
			  .pa = pa,
			  .table = table,
			  .caller = __builtin_return_address(0) };

	scan_all(&q);
}

void tlbcheck_range_flushed(uint64_t ctx, uint64_t start, uint64_t end, uint64_t gen)
{
	struct held h;
	struct tc_cpu *t = tc_lock_me(&h);

	tc_count_check();
	for (uint32_t i = 0; t && i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->pcid == t->pcid && s->ctx == ctx && s->gen <= gen &&
		    (s->kind == TC_TABLE || s->kind == TC_PAGES || (s->va >= start && s->va < end)))
			tc_report("after this CPU's flush", this_cpu_id(), s,
				  __builtin_return_address(0));
	}
	tc_unlock_me(t, &h);
}

void tlbcheck_kflush_deferred(uint32_t cpu, uint64_t gen)
{
	struct tc_cpu *t = tc_of(cpu);

	if (t) {
		uint64_t f = tc_lock_other(t);

		t->kdeferred_gen = gen;
		spin_unlock_irqrestore(&t->lock, f);
	}
}

void tlbcheck_kernel_caught_up(uint64_t kgen)
{
	struct held h;
	struct tc_cpu *t = tc_lock_me(&h);

	tc_count_check();
	if (t)
		t->kclean_gen = kgen;
	for (uint32_t i = 0; t && i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->ctx == CTX_KERNEL && s->pcid == t->pcid && s->gen <= kgen)
			tc_report("kernel entry caught up", this_cpu_id(), s,
				  __builtin_return_address(0));
	}
	tc_unlock_me(t, &h);
}

void tlbcheck_user_exit(uint64_t cr3, const uint64_t *queue, uint64_t n, uint64_t gen)
{
	struct held h;
	struct tc_cpu *t = tc_lock_me(&h);

	if (t) {
		uint64_t ctx = t->ctx;

		/* The exit code's CR3 load, then its INVLPGs, then the check:
		 * the user PCID is current through gen. */
		tc_cr3_write(t, cr3, NULL, false);
		for (uint64_t i = 0; i < n; i++)
			tc_invlpg(t, t->pcid, queue[i]);
		for (uint32_t i = 0; i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (s->pcid == t->pcid && (s->ctx != ctx || s->gen <= gen))
				tc_report("return to user", this_cpu_id(), s,
					  __builtin_return_address(0));
		}
		tc_count_check();
	}
	tc_unlock_me(t, &h);
}
