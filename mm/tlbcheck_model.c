/*
 * The TLB-coherence checker's model (the protocol, its locking and the
 * assertions are at the top of mm/tlbcheck.c): per CPU, the contexts each
 * PCID may hold and the possibly-stale translations, kept under the CPU's
 * own lock; the transactions that hold that lock; the table of address
 * spaces that maps a root to its context; the statistics. Only this file
 * changes the model's shape (associations, records, compaction); the
 * hooks (mm/tlbcheck_hooks.c) say when.
 */
#include "mm/tlbcheck.h"
#include "mm/tlbcheck_internal.h"
#include "mm/pcid.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "mm/kheap.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/preempt.h"
#include "arch/cpu.h"
#include "lib/string.h"

#define MAX_MMS 4096

struct tc_cpu *tcs[NR_CPUS]; /* published once, by each CPU itself */
static struct spinlock mms_lock = SPINLOCK_INIT("tlbcheck_mms");
static struct {
	paddr_t root;
	uint64_t ctx;
	const struct mm *mm;
} mms[MAX_MMS];
static uint32_t nr_mms;
static uint64_t checks, entries_added; /* statistics, atomic */

#define NO_TX TLBCHECK_NO_TX

struct tc_cpu *tc_of(uint32_t cpu)
{
	/* Acquire: the model is initialised before we use it (pairs with the
	 * release store in tlbcheck_init_cpu). */
	return __atomic_load_n(&tcs[cpu], __ATOMIC_ACQUIRE);
}

/* Call with interrupts off (the CPU cannot change under us). */
struct tc_cpu *me_tc(void)
{
	return tc_of(this_cpu_id());
}

void tc_count_check(void)
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

struct tc_cpu *tc_lock_me(struct held *h)
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

void tc_unlock_me(struct tc_cpu *t, struct held *h)
{
	if (h->locked)
		spin_unlock_irqrestore(&t->lock, h->flags);
	else
		irq_restore(h->flags);
}

/* Another CPU's model (or ours) for a cross-CPU scan: never inside a
 * transaction of ours, so locks are only ever taken one at a time. */
uint64_t tc_lock_other(struct tc_cpu *t)
{
	struct held h;
	struct tc_cpu *me = tc_lock_me(&h);

	if (!h.locked && me)
		panic("tlbcheck: cross-CPU check inside a transaction");
	tc_unlock_me(me, &h);
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
	t->cpu = this_cpu_id();
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

/* The generation of the mm of context ctx (0: none, freed). Its entry
 * goes before the mm is freed (tlbcheck_mm_freed), under mms_lock. */
uint64_t tc_mm_gen(uint64_t ctx)
{
	uint64_t gen = 0, f = spin_lock_irqsave(&mms_lock);

	for (uint32_t i = 0; i < nr_mms; i++) {
		if (mms[i].ctx == ctx) {
			gen = __atomic_load_n(&mms[i].mm->tlb_gen, __ATOMIC_RELAXED);
			break;
		}
	}
	spin_unlock_irqrestore(&mms_lock, f);
	return gen;
}

/* Context of a root; *user set if it is a PTI user root. */
uint64_t tc_ctx_of_root(paddr_t root, bool *user)
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

void tc_bit_set(uint64_t *m, uint32_t i)
{
	m[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(uint64_t *m, uint32_t i)
{
	m[i / 64] &= ~(1ull << (i % 64));
}

void tc_assoc_add(struct tc_cpu *t, uint16_t p, uint64_t ctx)
{
	for (int i = 0; i < ASSOC_MAX; i++) {
		if (t->assoc[p][i] == ctx + 1)
			return;
	}
	for (int i = 0; i < ASSOC_MAX; i++) {
		if (!t->assoc[p][i]) {
			t->assoc[p][i] = ctx + 1;
			tc_bit_set(t->used, p);
			return;
		}
	}
	panic("tlbcheck: pcid %#x holds more than %d contexts without a flush", p, ASSOC_MAX);
}

bool tc_assoc_has(const struct tc_cpu *t, uint16_t p, uint64_t ctx)
{
	for (int i = 0; i < ASSOC_MAX; i++) {
		if (t->assoc[p][i] == ctx + 1)
			return true;
	}
	return false;
}

void tc_drop_where(struct tc_cpu *t, bool (*match)(const struct stale *, const void *),
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
void tc_flush_pcid(struct tc_cpu *t, uint16_t p)
{
	tc_drop_where(t, match_pcid, &p);
	memset(t->assoc[p], 0, sizeof(t->assoc[p]));
	bit_clear(t->used, p);
	bit_clear(t->kassoc, p);
}

void tc_flush_everything(struct tc_cpu *t)
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
 *
 * And the page records of a PCID that the protocol must flush whole
 * before its next use (tc_flush_due: a user PCID marked stale, a slot
 * behind its mm, not loaded or lazy) become one TC_PAGES record per PCID and
 * context, with the oldest generation: the PCID's pages, whatever their
 * addresses. (Those pile up too: a CPU that stays in the kernel or idles
 * lazily collects a record for every page any CPU unmaps or protects in
 * the mm, and the mm race of t_mm.c made 16384 of them.) Exact for the
 * checks that can still fire for them, at the flush or load that ends
 * the case (one with the no-flush bit fails for any record of a
 * generation up to the claim, that is for the oldest); every other check
 * excuses them until then, and that flush drops them all (INVLPG, which
 * a lazy CPU may run for kernel addresses, keeps a TC_PAGES record).
 */
static void compact(struct tc_cpu *t)
{
	uint32_t *slot = t->hash, n = 0;

	memset(slot, 0xff, sizeof(t->hash));
	for (uint32_t i = 0; i < t->nstale; i++) {
		struct stale *s = &t->stale[i];

		if (s->kind == TC_PAGE && tc_flush_due(t->cpu, s)) {
			s->va = 0;
			s->pa = 0;
			s->kind = TC_PAGES;
		} else if (s->pcid == t->pcid || s->pcid == (t->pcid ^ UPCID_BIT)) {
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

void tc_add_stale(struct tc_cpu *t, const struct stale *s)
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

	tc_count_check();
	for (uint32_t c = 0; c < NR_CPUS; c++) {
		struct tc_cpu *t = tc_of(c);

		if (!t)
			continue;
		uint64_t fl = tc_lock_other(t);

		if (tc_assoc_has(t, t->pcid, ctx)) {
			struct stale s = { ctx, 0, 0, 0, t->pcid, TC_CTX };

			tc_report("address space freed", c, &s, __builtin_return_address(0));
		}
		tc_drop_where(t, match_ctx, &ctx);
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
