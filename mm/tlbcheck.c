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
 * Locking: one global spinlock (interrupts off) around all model state:
 * this is a debug mode, simplicity over speed.
 */
#include "mm/tlbcheck.h"
#include "mm/pcid.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "mm/kheap.h"
#include "mm/pgtable.h"
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/ksyms.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "arch/x86/tlb.h"

int tlbcheck_enabled;
KSWITCH_BOOL(tlbcheck_enabled, "tlbcheck", "TLB-coherence checker (debug)");

#define NR_PCIDS   4096
#define ASSOC_MAX  4
#define STALE_MAX  16384
#define CTX_KERNEL 0
#define MAX_MMS	   4096

enum { TC_PAGE, TC_TABLE };

struct stale {
	uint64_t ctx, va, pa, gen;
	uint16_t pcid;
	uint8_t kind;
};

struct tc_cpu {
	uint16_t pcid; /* logical PCID loaded */
	uint64_t ctx;  /* context of the loaded root */
	bool user;     /* the loaded root is a user root */
	uint64_t claim_ctx, claim_gen, claim_kgen;
	bool claimed;
	uint64_t kdeferred_gen; /* last kernel flush the initiator deferred for us */
	uint64_t kclean_gen;	/* kernel flush generation we caught up to */
	uint64_t assoc[NR_PCIDS][ASSOC_MAX];
	uint64_t kassoc[NR_PCIDS / 64]; /* PCIDs that may hold kernel translations */
	uint64_t used[NR_PCIDS / 64];	/* PCIDs with a non-empty assoc */
	uint32_t nstale;
	struct stale stale[STALE_MAX];
};

static struct spinlock tc_lock = SPINLOCK_INIT("tlbcheck");
static struct tc_cpu *tcs[NR_CPUS];
static struct {
	paddr_t root;
	uint64_t ctx;
	const struct mm *mm;
} mms[MAX_MMS];
static uint32_t nr_mms;
static uint64_t checks, entries_added;

/* Nested use is allowed: a CPU inside tlbcheck_begin() already holds it. */
#define LOCK()                                     \
	bool __nested = spin_held_by_me(&tc_lock); \
	uint64_t __f = __nested ? 0 : spin_lock_irqsave(&tc_lock)
#define UNLOCK()                                               \
	do {                                                   \
		if (!__nested)                                 \
			spin_unlock_irqrestore(&tc_lock, __f); \
	} while (0)

uint64_t tlbcheck_begin(void)
{
	if (!tlbcheck_enabled || spin_held_by_me(&tc_lock))
		return ~0ull;
	return spin_lock_irqsave(&tc_lock);
}

void tlbcheck_end(uint64_t token)
{
	if (token != ~0ull)
		spin_unlock_irqrestore(&tc_lock, token);
}

static struct tc_cpu *me_tc(void)
{
	return tcs[this_cpu_id()];
}

void tlbcheck_init(void)
{
	mms[nr_mms++] = (typeof(mms[0])){ kernel_mm.root, kernel_mm.ctx_id, &kernel_mm };
	pr_info("tlbcheck: on (PCID model: %s)", pcid_mode_name());
}

void tlbcheck_init_cpu(void)
{
	struct tc_cpu *t = kmalloc(sizeof(*t));

	if (!t)
		panic("tlbcheck: no memory for the model of cpu %u", this_cpu_id());
	tcs[this_cpu_id()] = t;
}

void tlbcheck_mm_created(const struct mm *mm)
{
	LOCK();
	if (nr_mms == MAX_MMS)
		panic("tlbcheck: more than %d address spaces", MAX_MMS);
	mms[nr_mms++] = (typeof(mms[0])){ mm->root, mm->ctx_id, mm };
	UNLOCK();
}

void tlbcheck_mm_freed(const struct mm *mm)
{
	LOCK();
	for (uint32_t i = 0; i < nr_mms; i++) {
		if (mms[i].mm == mm) {
			mms[i] = mms[--nr_mms];
			break;
		}
	}
	UNLOCK();
}

/* Context of a root; *user set if it is a PTI user root. */
static uint64_t ctx_of_root(paddr_t root, bool *user)
{
	*user = false;
	for (uint32_t i = 0; i < nr_mms; i++) {
		if (mms[i].root == root)
			return mms[i].ctx;
		if (mms[i].mm->user_root && mms[i].mm->user_root == root) {
			*user = true;
			return mms[i].ctx;
		}
	}
	return ~0ull;
}

static const struct mm *mm_of_ctx(uint64_t ctx)
{
	for (uint32_t i = 0; i < nr_mms; i++) {
		if (mms[i].ctx == ctx)
			return mms[i].mm;
	}
	return NULL;
}

static void bit_set(uint64_t *m, uint32_t i)
{
	m[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(uint64_t *m, uint32_t i)
{
	m[i / 64] &= ~(1ull << (i % 64));
}

static void assoc_add(struct tc_cpu *t, uint16_t p, uint64_t ctx)
{
	for (int i = 0; i < ASSOC_MAX; i++) {
		if (t->assoc[p][i] == ctx + 1)
			return;
	}
	for (int i = 0; i < ASSOC_MAX; i++) {
		if (!t->assoc[p][i]) {
			t->assoc[p][i] = ctx + 1;
			bit_set(t->used, p);
			return;
		}
	}
	panic("tlbcheck: pcid %#x holds more than %d contexts without a flush", p, ASSOC_MAX);
}

static bool assoc_has(const struct tc_cpu *t, uint16_t p, uint64_t ctx)
{
	for (int i = 0; i < ASSOC_MAX; i++) {
		if (t->assoc[p][i] == ctx + 1)
			return true;
	}
	return false;
}

static void drop_where(struct tc_cpu *t, bool (*match)(const struct stale *, const void *),
		       const void *arg)
{
	for (uint32_t i = 0; i < t->nstale;) {
		if (match(&t->stale[i], arg))
			t->stale[i] = t->stale[--t->nstale];
		else
			i++;
	}
}

static bool match_pcid(const struct stale *s, const void *arg)
{
	return s->pcid == *(const uint16_t *)arg;
}

/* PCID p flushed completely on t. */
static void flush_pcid(struct tc_cpu *t, uint16_t p)
{
	drop_where(t, match_pcid, &p);
	memset(t->assoc[p], 0, sizeof(t->assoc[p]));
	bit_clear(t->used, p);
	bit_clear(t->kassoc, p);
}

static void flush_everything(struct tc_cpu *t)
{
	t->nstale = 0;
	for (uint32_t w = 0; w < NR_PCIDS / 64; w++) {
		for (uint64_t bits = t->used[w]; bits; bits &= bits - 1)
			memset(t->assoc[w * 64 + (uint32_t)__builtin_ctzll(bits)], 0,
			       sizeof(t->assoc[0]));
		t->used[w] = 0;
		t->kassoc[w] = 0;
	}
}

static void add_stale(struct tc_cpu *t, const struct stale *s)
{
	if (t->nstale == STALE_MAX)
		panic("tlbcheck: more than %d possibly-stale translations on one CPU "
		      "(is a CPU never flushing?)",
		      STALE_MAX);
	t->stale[t->nstale++] = *s;
	entries_added++;
}

static void report(const char *check, uint32_t cpu, const struct stale *s, void *caller)
{
	uint64_t off;
	const char *fn = ksym_lookup((uint64_t)caller, &off);

	struct cpu_tlb *ts = percpu_of(cpu)->tlb;
	uint32_t slot = (s->pcid & ~UPCID_BIT) - 1u;

	pr_emerg("tlbcheck: cpu %u: loaded pcid %#x (model), slot %u current; slot %u: ctx %lu "
		 "gen %lu kgen %lu user_stale %d; cpu context %u lazy %u",
		 cpu, tcs[cpu]->pcid, ts->cur, slot, slot < ts->nr ? ts->slots[slot].ctx_id : 0,
		 slot < ts->nr ? ts->slots[slot].tlb_gen : 0,
		 slot < ts->nr ? ts->slots[slot].kgen : 0,
		 slot < ts->nr ? ts->slots[slot].user_stale : 0, percpu_of(cpu)->entry.context,
		 percpu_of(cpu)->shared.is_lazy);
	panic("tlbcheck: %s: cpu %u pcid %#x may still hold %s %#lx -> %#lx of %s %lu "
	      "(stale since generation %lu); checked from %s+%#lx",
	      check, cpu, s->pcid,
	      s->kind == TC_TABLE ? "a paging-structure entry for" : "a translation of", s->va,
	      s->pa, s->ctx == CTX_KERNEL ? "the kernel" : "mm ctx", s->ctx, s->gen, fn ? fn : "?",
	      fn ? off : (uint64_t)caller);
}

/* ---- hardware events ---- */

void tlbcheck_claim(uint64_t ctx, uint64_t gen, uint64_t kgen)
{
	struct tc_cpu *t = me_tc();

	if (!t)
		return;
	t->claim_ctx = ctx;
	t->claim_gen = gen;
	t->claim_kgen = kgen;
	t->claimed = true;
}

/* With no-flush: what the claim allows to survive in PCID p. */
static void check_noflush_load(struct tc_cpu *t, uint16_t p, uint64_t ctx, void *caller)
{
	for (uint32_t i = 0; i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->pcid != p)
			continue;
		bool ok = t->claimed &&
			  ((s->ctx == CTX_KERNEL && s->gen > t->claim_kgen) ||
			   (s->ctx == ctx && ctx == t->claim_ctx && s->gen > t->claim_gen));

		if (!ok)
			report("CR3 load with the no-flush bit", this_cpu_id(), s, caller);
	}
}

static void cr3_write(uint64_t cr3, void *caller, bool check)
{
	struct tc_cpu *t = me_tc();
	bool user;

	if (!t)
		return;
	paddr_t root = cr3 & CR3_ADDR_MASK;
	uint64_t ctx = ctx_of_root(root, &user);
	uint16_t p = pcid_mode == PCID_OFF ? 0 : (uint16_t)(cr3 & CR3_PCID_MASK);
	bool noflush = pcid_mode != PCID_OFF && (cr3 & CR3_NOFLUSH);

	checks++;
	if (pcid_mode == PCID_OFF)
		flush_everything(t);
	else if (!noflush)
		flush_pcid(t, p);
	else if (check)
		check_noflush_load(t, p, ctx, caller);
	t->claimed = false;
	if (ctx != ~0ull)
		assoc_add(t, p, ctx);
	if (!user)
		bit_set(t->kassoc, p);
	t->pcid = p;
	t->ctx = ctx;
	t->user = user;
}

void tlbcheck_cr3_write_slow(uint64_t cr3)
{
	LOCK();
	cr3_write(cr3, __builtin_return_address(0), true);
	UNLOCK();
}

static bool match_va_cur(const struct stale *s, const void *arg)
{
	const struct stale *k = arg;

	return s->pcid == k->pcid && (s->kind == TC_TABLE || s->va == k->va);
}

static void invlpg(struct tc_cpu *t, uint16_t p, uint64_t va)
{
	struct stale k = { .pcid = p, .va = va & ~0xfffull };

	/* The page in that PCID, and every paging-structure cache entry of
	 * the PCID (SDM Vol. 3A 4.10.4.1, INVLPG). */
	drop_where(t, match_va_cur, &k);
}

void tlbcheck_invlpg_slow(uint64_t va)
{
	LOCK();
	struct tc_cpu *t = me_tc();

	if (t)
		invlpg(t, t->pcid, va);
	UNLOCK();
}

void tlbcheck_invpcid_slow(unsigned type, uint64_t pcid, uint64_t va)
{
	LOCK();
	struct tc_cpu *t = me_tc();

	if (t) {
		if (type == INVPCID_ADDR)
			invlpg(t, (uint16_t)pcid, va);
		else if (type == INVPCID_SINGLE)
			flush_pcid(t, (uint16_t)pcid);
		else
			flush_everything(t);
		if (type != INVPCID_ADDR && t->pcid == pcid) {
			assoc_add(t, t->pcid, t->ctx);
			if (!t->user)
				bit_set(t->kassoc, t->pcid);
		}
	}
	UNLOCK();
}

void tlbcheck_flush_all_slow(void)
{
	LOCK();
	struct tc_cpu *t = me_tc();

	if (t) {
		flush_everything(t);
		assoc_add(t, t->pcid, t->ctx);
		if (!t->user)
			bit_set(t->kassoc, t->pcid);
	}
	UNLOCK();
}

/* ---- page-table events ---- */

static bool weakened(uint64_t o, uint64_t n)
{
	if (!(o & PTE_P))
		return false;
	return !(n & PTE_P) || pte_addr(o) != pte_addr(n) || ((o & PTE_W) && !(n & PTE_W)) ||
	       (!(o & PTE_NX) && (n & PTE_NX));
}

static void add_everywhere(uint64_t ctx, uint64_t va, paddr_t pa, uint64_t gen, uint8_t kind)
{
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tcs[c];

		if (!t)
			continue;
		for (uint32_t w = 0; w < NR_PCIDS / 64; w++) {
			uint64_t bits = ctx == CTX_KERNEL ? t->kassoc[w] : t->used[w];

			while (bits) {
				uint16_t p = (uint16_t)(w * 64 + (uint32_t)__builtin_ctzll(bits));

				bits &= bits - 1;
				if (ctx != CTX_KERNEL && !assoc_has(t, p, ctx))
					continue;
				struct stale s = { ctx, va, pa, gen, p, kind };

				add_stale(t, &s);
			}
		}
	}
}

void tlbcheck_pte_change(const struct mm *mm, uint64_t va, uint64_t old_pte, uint64_t new_pte)
{
	if (!weakened(old_pte, new_pte))
		return;
	LOCK();
	/* The flush that covers this change brings the mm to tlb_gen + 1. */
	add_everywhere(mm->ctx_id, va & ~0xfffull, pte_addr(old_pte), mm->tlb_gen + 1, TC_PAGE);
	UNLOCK();
}

void tlbcheck_table_free(const struct mm *mm, uint64_t va, paddr_t table)
{
	LOCK();
	add_everywhere(mm->ctx_id, va & ~0xfffull, table, mm->tlb_gen + 1, TC_TABLE);
	UNLOCK();
}

void tlbcheck_kernel_unmap(uint64_t va, paddr_t pa, uint64_t gen)
{
	LOCK();
	add_everywhere(CTX_KERNEL, va, pa, gen, TC_PAGE);
	UNLOCK();
}

/* ---- assertions ---- */

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

		/* Deferred by the initiator (it saw the CPU in user mode or
		 * idle) and not caught up yet: it will before it touches any
		 * deferrable mapping (checked in tlbcheck_kernel_caught_up). */
		if (kernel_deferred_ok && t->kdeferred_gen >= s->gen && t->kclean_gen < s->gen)
			return true;
		if (pcid_mode == PCID_OFF)
			return false;
		uint32_t slot = (p & ~UPCID_BIT) - 1u;

		/* Another PCID: flushed before it is loaded if it is behind. */
		return !loaded && slot < ts->nr && ts->slots[slot].kgen < s->gen;
	}
	const struct mm *mm = mm_of_ctx(s->ctx);
	bool lazy = READ_ONCE(pc->shared.is_lazy) && READ_ONCE(pc->shared.loaded_mm) == mm;

	if (pcid_mode == PCID_OFF)
		return (s->kind == TC_PAGE && lazy) || READ_ONCE(pc->shared.loaded_mm) != mm;
	uint32_t slot = (p & ~UPCID_BIT) - 1u;

	if (slot >= ts->nr)
		return false;
	const struct asid_slot *as = &ts->slots[slot];

	if (as->ctx_id != s->ctx)
		return !loaded;
	if (!loaded && as->tlb_gen < s->gen)
		return true;
	if (s->kind == TC_PAGE && lazy)
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

void tlbcheck_request_done(const struct mm *mm, uint64_t start, uint64_t end, uint64_t gen)
{
	LOCK();
	checks++;
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tcs[c];

		for (uint32_t i = 0; t && i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (s->ctx == mm->ctx_id && s->gen <= gen && s->va >= start &&
			    s->va < end && !excused(c, s, false))
				report("flush request returned", c, s, __builtin_return_address(0));
		}
	}
	UNLOCK();
}

void tlbcheck_range_flushed(uint64_t ctx, uint64_t start, uint64_t end, uint64_t gen)
{
	LOCK();
	struct tc_cpu *t = me_tc();

	checks++;
	for (uint32_t i = 0; t && i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->pcid == t->pcid && s->ctx == ctx && s->gen <= gen &&
		    (s->kind == TC_TABLE || (s->va >= start && s->va < end)))
			report("after this CPU's flush", this_cpu_id(), s,
			       __builtin_return_address(0));
	}
	UNLOCK();
}

void tlbcheck_frame_free(paddr_t pa, bool table)
{
	LOCK();
	checks++;
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tcs[c];

		for (uint32_t i = 0; t && i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (s->pa != pa || s->ctx == CTX_KERNEL || (s->kind == TC_TABLE) != table)
				continue;
			if (!excused(c, s, false))
				report(table ? "page-table page freed" : "frame freed", c, s,
				       __builtin_return_address(0));
		}
	}
	UNLOCK();
}

void tlbcheck_kflush_done(uint64_t start, uint64_t end, uint64_t gen, bool deferred_ok)
{
	LOCK();
	checks++;
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tcs[c];

		for (uint32_t i = 0; t && i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (s->ctx == CTX_KERNEL && s->gen <= gen && s->va >= start &&
			    s->va < end && !excused(c, s, deferred_ok))
				report("kernel flush returned", c, s, __builtin_return_address(0));
		}
	}
	UNLOCK();
}

void tlbcheck_kflush_deferred(uint32_t cpu, uint64_t gen)
{
	LOCK();
	if (tcs[cpu])
		tcs[cpu]->kdeferred_gen = gen;
	UNLOCK();
}

void tlbcheck_kernel_caught_up(uint64_t kgen)
{
	LOCK();
	struct tc_cpu *t = me_tc();

	checks++;
	if (t)
		t->kclean_gen = kgen;
	for (uint32_t i = 0; t && i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->ctx == CTX_KERNEL && s->pcid == t->pcid && s->gen <= kgen)
			report("kernel entry caught up", this_cpu_id(), s,
			       __builtin_return_address(0));
	}
	UNLOCK();
}

void tlbcheck_user_exit(uint64_t cr3, const uint64_t *queue, uint64_t n, uint64_t gen)
{
	LOCK();
	struct tc_cpu *t = me_tc();

	if (t) {
		uint64_t ctx = t->ctx;

		/* The exit code's CR3 load, then its INVLPGs, then the check:
		 * the user PCID is current through gen. */
		cr3_write(cr3, NULL, false);
		for (uint64_t i = 0; i < n; i++)
			invlpg(t, t->pcid, queue[i]);
		for (uint32_t i = 0; i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (s->pcid == t->pcid && (s->ctx != ctx || s->gen <= gen))
				report("return to user", this_cpu_id(), s,
				       __builtin_return_address(0));
		}
		checks++;
	}
	UNLOCK();
}

void tlbcheck_print(void)
{
	uint64_t held = 0;

	for (uint32_t c = 0; c < NR_CPUS; c++)
		held += tcs[c] ? tcs[c]->nstale : 0;
	pr_info("tlbcheck: %lu checks, %lu stale translations tracked, %lu still pending", checks,
		entries_added, held);
}
