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
 */
#include "mm/tlbcheck.h"
#include "mm/pcid.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "mm/kheap.h"
#include "arch/pgtable.h"
#include "lib/cmdline.h"
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/ksyms.h"
#include "lib/spinlock.h"
#include "lib/preempt.h"
#include "arch/cpu.h"
#include "lib/string.h"
#include "lib/fmt.h"
#include "arch/mmu.h"

/* The variable is the arch's (arch/mmu.h: its instruction hooks test it);
 * the switch is declared here, with the checker. */
KSWITCH_BOOL(tlbcheck_enabled, "tlbcheck", "TLB-coherence checker (debug)");

#define NR_PCIDS   4096
#define ASSOC_MAX  4
#define STALE_MAX  16384
#define CTX_KERNEL 0
#define MAX_MMS	   4096
#define HASH_SIZE  (2 * STALE_MAX)

enum {
	TC_PAGE,  /* a translation of va to pa */
	TC_TABLE, /* a paging-structure entry through the table at pa */
	TC_CTX,	  /* reports only: the PCID holds entries of another context */
};

struct stale {
	uint64_t ctx, va, pa, gen;
	uint16_t pcid;
	uint8_t kind;
};

struct tc_cpu {
	struct spinlock lock; /* everything below, and the CPU's slot records */
	uint16_t pcid;	      /* logical PCID loaded */
	uint64_t ctx;	      /* context of the loaded root */
	bool user;	      /* the loaded root is a user root */
	uint64_t claim_ctx, claim_gen, claim_kgen;
	bool claimed;
	uint64_t kdeferred_gen; /* last kernel flush the initiator deferred for us */
	uint64_t kclean_gen;	/* kernel flush generation we caught up to */
	uint64_t assoc[NR_PCIDS][ASSOC_MAX];
	uint64_t kassoc[NR_PCIDS / 64]; /* PCIDs that may hold kernel translations */
	uint64_t used[NR_PCIDS / 64];	/* PCIDs with a non-empty assoc */
	uint32_t nstale;
	uint64_t compactions;
	struct stale stale[STALE_MAX];
	uint32_t hash[HASH_SIZE]; /* scratch for compact() */
};

static struct tc_cpu *tcs[NR_CPUS]; /* published once, by each CPU itself */
static struct spinlock mms_lock = SPINLOCK_INIT("tlbcheck_mms");
static struct {
	paddr_t root;
	uint64_t ctx;
	const struct mm *mm;
} mms[MAX_MMS];
static uint32_t nr_mms;
static uint64_t checks, entries_added; /* statistics, atomic */

#define NO_TX TLBCHECK_NO_TX

static struct tc_cpu *tc_of(uint32_t cpu)
{
	/* Acquire: the model is initialised before we use it (pairs with the
	 * release store in tlbcheck_init_cpu). */
	return __atomic_load_n(&tcs[cpu], __ATOMIC_ACQUIRE);
}

/* Call with interrupts off (the CPU cannot change under us). */
static struct tc_cpu *me_tc(void)
{
	return tc_of(this_cpu_id());
}

static void count_check(void)
{
	__atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);
}

uint64_t tlbcheck_begin_slow(void)
{
	uint64_t f = irq_save();
	struct tc_cpu *t = me_tc();

	if (!t || spin_held_by_me(&t->lock)) { /* nested: the outer one ends it */
		irq_restore(f);
		return NO_TX;
	}
	preempt_disable();
	spin_lock_raw(&t->lock);
	return f;
}

void tlbcheck_end_slow(uint64_t token)
{
	spin_unlock_irqrestore(&me_tc()->lock, token);
}

/* This CPU's model, locked (or already locked by a transaction). */
struct held {
	uint64_t flags;
	bool locked; /* by us, here */
};

static struct tc_cpu *lock_me(struct held *h)
{
	h->flags = irq_save();
	struct tc_cpu *t = me_tc();

	h->locked = t && !spin_held_by_me(&t->lock);
	if (h->locked) {
		preempt_disable();
		spin_lock_raw(&t->lock);
	}
	return t;
}

static void unlock_me(struct tc_cpu *t, struct held *h)
{
	if (h->locked)
		spin_unlock_irqrestore(&t->lock, h->flags);
	else
		irq_restore(h->flags);
}

/* Another CPU's model (or ours) for a cross-CPU scan: never inside a
 * transaction of ours, so locks are only ever taken one at a time. */
static uint64_t lock_other(struct tc_cpu *t)
{
	struct held h;
	struct tc_cpu *me = lock_me(&h);

	if (!h.locked && me)
		panic("tlbcheck: cross-CPU check inside a transaction");
	unlock_me(me, &h);
	return spin_lock_irqsave(&t->lock);
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
	spin_init(&t->lock, "tlbcheck_cpu");
	/* Release: the initialised model before the pointer. Pairs with the
	 * acquire load in tc_of(). */
	__atomic_store_n(&tcs[this_cpu_id()], t, __ATOMIC_RELEASE);
}

void tlbcheck_mm_created(const struct mm *mm)
{
	uint64_t f = spin_lock_irqsave(&mms_lock);

	if (nr_mms == MAX_MMS)
		panic("tlbcheck: more than %d address spaces", MAX_MMS);
	mms[nr_mms++] = (typeof(mms[0])){ mm->root, mm->ctx_id, mm };
	spin_unlock_irqrestore(&mms_lock, f);
}

/* Context of a root; *user set if it is a PTI user root. */
static uint64_t ctx_of_root(paddr_t root, bool *user)
{
	const struct mm *lm = this_cpu_read(shared.loaded_mm);

	/* Nearly always the mm this CPU has loaded (load_mm records it before
	 * its CR3 write; entry and exit switch between its two roots): no
	 * shared lock on the hot path. */
	*user = lm && lm->user_root == root;
	if (lm && (lm->root == root || *user))
		return lm->ctx_id;
	uint64_t ctx = ~0ull, f = spin_lock_irqsave(&mms_lock);

	for (uint32_t i = 0; i < nr_mms; i++) {
		if (mms[i].root == root) {
			ctx = mms[i].ctx;
			break;
		}
		if (mms[i].mm->user_root && mms[i].mm->user_root == root) {
			*user = true;
			ctx = mms[i].ctx;
			break;
		}
	}
	spin_unlock_irqrestore(&mms_lock, f);
	return ctx;
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

static bool same_record(const struct stale *a, const struct stale *b)
{
	return a->pcid == b->pcid && a->ctx == b->ctx && a->va == b->va && a->pa == b->pa &&
	       a->kind == b->kind;
}

/*
 * The list is full: merge records that differ only in generation, keeping
 * the oldest, in PCIDs the CPU does not have loaded. (Those pile up: a PCID
 * that is not loaded collects a record for every change to the mappings
 * it may hold until it is loaded again, and vmalloc reuses addresses.)
 * Exact while the PCID is not loaded: every rule that excuses or ignores
 * an older record does so for a newer one too. A merged record that a
 * later no-flush load brings back is judged by its oldest generation.
 */
static void compact(struct tc_cpu *t)
{
	uint32_t *slot = t->hash, n = 0;

	memset(slot, 0xff, sizeof(t->hash));
	for (uint32_t i = 0; i < t->nstale; i++) {
		struct stale *s = &t->stale[i];

		if (s->pcid == t->pcid || s->pcid == (t->pcid ^ UPCID_BIT)) {
			t->stale[n++] = *s;
			continue;
		}
		uint64_t h = (s->va >> 12) * 0x9e3779b97f4a7c15ull ^ s->pcid ^ (s->ctx << 20) ^
			     s->pa ^ s->kind;
		uint32_t b = (uint32_t)(h >> 40) % HASH_SIZE;

		for (;; b = (b + 1) % HASH_SIZE) {
			if (slot[b] == ~0u) {
				slot[b] = n;
				t->stale[n++] = *s;
				break;
			}
			struct stale *k = &t->stale[slot[b]];

			if (same_record(k, s)) {
				k->gen = MIN(k->gen, s->gen);
				break;
			}
		}
	}
	t->nstale = n;
	t->compactions++;
}

static void add_stale(struct tc_cpu *t, const struct stale *s)
{
	if (t->nstale == STALE_MAX)
		compact(t);
	if (t->nstale == STALE_MAX)
		panic("tlbcheck: more than %d possibly-stale translations on one CPU "
		      "(is a CPU never flushing?)",
		      STALE_MAX);
	t->stale[t->nstale++] = *s;
	__atomic_fetch_add(&entries_added, 1, __ATOMIC_RELAXED);
}

static void report(const char *check, uint32_t cpu, const struct stale *s, void *caller)
{
	uint64_t off;
	const char *fn = ksym_lookup((uint64_t)caller, &off);

	const struct cpu_tlb *ts = percpu_of(cpu)->tlb;
	uint32_t slot = (s->pcid & ~UPCID_BIT) - 1u;

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
	/* Translations of another address space, even current ones, would
	 * be used for this one's addresses. */
	for (int i = 0; i < ASSOC_MAX; i++) {
		uint64_t other = t->assoc[p][i] ? t->assoc[p][i] - 1 : ctx;

		if (other != ctx) {
			struct stale s = { other, 0, 0, 0, p, TC_CTX };

			report("CR3 load with the no-flush bit for another address space",
			       this_cpu_id(), &s, caller);
		}
	}
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

static void cr3_write(struct tc_cpu *t, uint64_t cr3, void *caller, bool check)
{
	bool user;
	paddr_t root = cr3 & CR3_ADDR_MASK;
	uint64_t ctx = ctx_of_root(root, &user);
	uint16_t p = pcid_mode == PCID_OFF ? 0 : (uint16_t)(cr3 & CR3_PCID_MASK);
	bool noflush = pcid_mode != PCID_OFF && (cr3 & CR3_NOFLUSH);

	count_check();
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
	struct held h;
	struct tc_cpu *t = lock_me(&h);

	if (t)
		cr3_write(t, cr3, __builtin_return_address(0), true);
	unlock_me(t, &h);
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
	struct held h;
	struct tc_cpu *t = lock_me(&h);

	if (t)
		invlpg(t, t->pcid, va);
	unlock_me(t, &h);
}

void tlbcheck_invpcid_slow(unsigned type, uint64_t pcid, uint64_t va)
{
	struct held h;
	struct tc_cpu *t = lock_me(&h);

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
	unlock_me(t, &h);
}

void tlbcheck_flush_all_slow(void)
{
	struct held h;
	struct tc_cpu *t = lock_me(&h);

	if (t) {
		flush_everything(t);
		assoc_add(t, t->pcid, t->ctx);
		if (!t->user)
			bit_set(t->kassoc, t->pcid);
	}
	unlock_me(t, &h);
}

const struct mmu_check_ops tlbcheck_mmu_ops = {
	.cr3_write = tlbcheck_cr3_write_slow,
	.invlpg = tlbcheck_invlpg_slow,
	.invpcid = tlbcheck_invpcid_slow,
	.flush_all = tlbcheck_flush_all_slow,
};

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
		struct tc_cpu *t = tc_of(c);

		if (!t)
			continue;
		uint64_t f = lock_other(t);

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
		spin_unlock_irqrestore(&t->lock, f);
	}
}

void tlbcheck_pte_change(const struct mm *mm, uint64_t va, uint64_t old_pte, uint64_t new_pte)
{
	if (!weakened(old_pte, new_pte))
		return;
	/* The flush that covers this change brings the mm to tlb_gen + 1. */
	add_everywhere(mm->ctx_id, va & ~0xfffull, pte_addr(old_pte), mm->tlb_gen + 1, TC_PAGE);
}

void tlbcheck_table_free(const struct mm *mm, uint64_t va, paddr_t table)
{
	add_everywhere(mm->ctx_id, va & ~0xfffull, table, mm->tlb_gen + 1, TC_TABLE);
}

void tlbcheck_kernel_unmap(uint64_t va, paddr_t pa, uint64_t gen)
{
	add_everywhere(CTX_KERNEL, va, pa, gen, TC_PAGE);
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

		/* The loaded PCID, deferred by the initiator (it saw the CPU
		 * in user mode or idle) and not caught up yet: it will before
		 * it touches any deferrable mapping (checked in
		 * tlbcheck_kernel_caught_up). */
		if (loaded && kernel_deferred_ok && t->kdeferred_gen >= s->gen &&
		    t->kclean_gen < s->gen)
			return true;
		if (pcid_mode == PCID_OFF)
			return false;
		uint32_t slot = (p & ~UPCID_BIT) - 1u;

		/* Another PCID: flushed before it is loaded if it is behind. */
		return !loaded && slot < ts->nr && ts->slots[slot].kgen < s->gen;
	}
	/* c's loaded mm stays alive while we hold c's lock: freeing an mm
	 * first moves every CPU off it, in a transaction (tlb.c). */
	const struct mm *lm = READ_ONCE(pc->shared.loaded_mm);
	bool runs = lm && lm->ctx_id == s->ctx;
	bool lazy = runs && READ_ONCE(pc->shared.is_lazy);

	if (pcid_mode == PCID_OFF)
		return (s->kind == TC_PAGE && lazy) || !runs;
	uint32_t slot = (p & ~UPCID_BIT) - 1u;

	if (slot >= ts->nr)
		return false;
	const struct asid_slot *as = &ts->slots[slot];

	/* A user PCID marked stale is flushed by its next load, whatever the
	 * slot holds now (pti_prepare_exit); until then nothing uses it. */
	if ((p & UPCID_BIT) && as->user_stale && tcs[c]->pcid != p)
		return true;
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
		return s->ctx == q->ctx && s->gen <= q->gen && s->va >= q->start && s->va < q->end;
	case SCAN_FRAME:
		return s->pa == q->pa && s->ctx != CTX_KERNEL && (s->kind == TC_TABLE) == q->table;
	}
	return false;
}

static void scan_all(const struct scan *q)
{
	count_check();
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tc_of(c);

		if (!t)
			continue;
		uint64_t f = lock_other(t);

		for (uint32_t i = 0; i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (scan_match(q, s) && !excused(c, s, q->deferred_ok))
				report(q->check, c, s, q->caller);
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
	struct tc_cpu *t = lock_me(&h);

	count_check();
	for (uint32_t i = 0; t && i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->pcid == t->pcid && s->ctx == ctx && s->gen <= gen &&
		    (s->kind == TC_TABLE || (s->va >= start && s->va < end)))
			report("after this CPU's flush", this_cpu_id(), s,
			       __builtin_return_address(0));
	}
	unlock_me(t, &h);
}

void tlbcheck_kflush_deferred(uint32_t cpu, uint64_t gen)
{
	struct tc_cpu *t = tc_of(cpu);

	if (t) {
		uint64_t f = lock_other(t);

		t->kdeferred_gen = gen;
		spin_unlock_irqrestore(&t->lock, f);
	}
}

void tlbcheck_kernel_caught_up(uint64_t kgen)
{
	struct held h;
	struct tc_cpu *t = lock_me(&h);

	count_check();
	if (t)
		t->kclean_gen = kgen;
	for (uint32_t i = 0; t && i < t->nstale; i++) {
		const struct stale *s = &t->stale[i];

		if (s->ctx == CTX_KERNEL && s->pcid == t->pcid && s->gen <= kgen)
			report("kernel entry caught up", this_cpu_id(), s,
			       __builtin_return_address(0));
	}
	unlock_me(t, &h);
}

void tlbcheck_user_exit(uint64_t cr3, const uint64_t *queue, uint64_t n, uint64_t gen)
{
	struct held h;
	struct tc_cpu *t = lock_me(&h);

	if (t) {
		uint64_t ctx = t->ctx;

		/* The exit code's CR3 load, then its INVLPGs, then the check:
		 * the user PCID is current through gen. */
		cr3_write(t, cr3, NULL, false);
		for (uint64_t i = 0; i < n; i++)
			invlpg(t, t->pcid, queue[i]);
		for (uint32_t i = 0; i < t->nstale; i++) {
			const struct stale *s = &t->stale[i];

			if (s->pcid == t->pcid && (s->ctx != ctx || s->gen <= gen))
				report("return to user", this_cpu_id(), s,
				       __builtin_return_address(0));
		}
		count_check();
	}
	unlock_me(t, &h);
}

static bool match_ctx(const struct stale *s, const void *arg)
{
	return s->ctx == *(const uint64_t *)arg;
}

/*
 * The last reference to mm is gone and no CPU runs it: its frames and
 * tables are freed next, without flushes. That is safe only if no CPU has
 * a PCID loaded that may hold its entries; every other PCID that may is
 * flushed before it is loaded again (its slot changes hands first), which
 * the association check at every no-flush load enforces. So the
 * individual stale records of mm are no longer needed: drop them.
 */
void tlbcheck_mm_freed(const struct mm *mm)
{
	uint64_t ctx = mm->ctx_id;

	count_check();
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tc_of(c);

		if (!t)
			continue;
		uint64_t fl = lock_other(t);

		if (assoc_has(t, t->pcid, ctx)) {
			struct stale s = { ctx, 0, 0, 0, t->pcid, TC_CTX };

			report("address space freed", c, &s, __builtin_return_address(0));
		}
		drop_where(t, match_ctx, &ctx);
		spin_unlock_irqrestore(&t->lock, fl);
	}
	uint64_t f = spin_lock_irqsave(&mms_lock);

	for (uint32_t i = 0; i < nr_mms; i++) {
		if (mms[i].mm == mm) {
			mms[i] = mms[--nr_mms];
			break;
		}
	}
	spin_unlock_irqrestore(&mms_lock, f);
}

void tlbcheck_print(void)
{
	uint64_t held = 0, compactions = 0;

	for (uint32_t c = 0; c < NR_CPUS; c++) {
		held += tcs[c] ? tcs[c]->nstale : 0;
		compactions += tcs[c] ? tcs[c]->compactions : 0;
	}
	pr_info("tlbcheck: %lu checks, %lu stale translations tracked, %lu still pending, "
		"%lu compactions",
		checks, entries_added, held, compactions);
}
