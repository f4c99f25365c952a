/*
 * User address spaces: VMAs, page tables, faults (see mm.h).
 *
 * Page tables: user PML4 entries 0..255 of mm->root. Each page-table page's
 * struct frame counts its present entries (pt_used); when an unmap empties a
 * table it is unlinked from its parent and freed, but only after the TLB
 * flush that covers it returned (freed_tables = true: a CPU's
 * paging-structure cache may still walk it, SDM Vol. 3A 4.10.3).
 *
 * Batching: map/unmap/protect collect the affected range and the frames to
 * free in a struct batch; one mm_flush_range() covers the whole operation,
 * and frames are freed only after it.
 *
 * Long operations. An unmap, a protect or a revocation visits every
 * present page of a range the caller chose. Held across all of it,
 * mm->lock (a spinlock: preemption off) let user code keep its CPU from
 * scheduling anything else, and a second thread of the process spinning
 * on the lock run into the lockup detector, for as long as it had pages
 * to map (regressions long_protect_lets_others_run and
 * long_unmap_lets_others_run). So every LOCK_BREAK_PAGES present pages
 * they look whether another CPU waits for the lock or a reschedule is due,
 * and if so let go of it for a moment (op_break()), their batch flushed
 * first: what the lock protects is then as a finished, shorter operation
 * would leave it. What keeps the pieces one operation:
 *   - at its first break, an unmap or a protect marks the VMAs of its
 *     range (split to fit when it began) as its own (vma->op); nothing
 *     else changes a marked VMA: a map, unmap or protect whose range
 *     overlaps one waits until the owner is done (op_wait_range(): it
 *     spins without the lock, preemptible, until an operation ends; mm/
 *     sits below the scheduler, so it cannot sleep). An operation waits
 *     only before it marks anything, so no two wait for each other. Until
 *     its first break an operation held the lock throughout, so every VMA
 *     in its range was its own without a mark (op_owns());
 *   - an unmap's VMAs are dying: a fault in one is refused (the unmap took
 *     effect when it began), no map takes the range (it is not free), and
 *     a revocation still finds their pages; each leaves the list when its
 *     pages are gone. A map into a hole of the range during a break is
 *     another thread's VMA, not marked, and the walk passes it over;
 *   - a protect sets a VMA's protection before it changes the VMA's pages:
 *     a fault at a break maps with the protection its VMA has, and a page
 *     the walk has not reached keeps the old one until it does;
 *   - a revocation (mm_zap_memobj) marks nothing and changes no VMA: it
 *     clears PTEs, finds its place again by address after a break, and
 *     flushes once for all the mms at the end (mm/memobj.c): it frees no
 *     frame before that, and a fault meanwhile gets no old frame.
 * A map with MAP_FIXED is an unmap of its range and then, the lock held,
 * the insert; if a map by another thread took part of the range during a
 * break, it unmaps again first. An operation too short to reach a break
 * pays a decrement a page and one test of ops_marked.
 */
#include "mm/mm.h"
#include "mm/pasid.h"
#include "mm/tlb.h"
#include "mm/pti.h"
#include "mm/tlbcheck.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "mm/kpaging.h"
#include "mm/memobj.h"
#include "arch/pgtable.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "include/uapi/errno.h"
#include "lib/percpu.h"
#include "arch/mmu.h"
#include "arch/cpu.h"

struct mm kernel_mm;
static struct kmem_cache mm_cache, vma_cache;
static uint64_t next_ctx_id = 2; /* 0: "the kernel" to the checker, 1: kernel_mm */

void mm_init(void)
{
	kernel_mm.root = kernel_root;
	kernel_mm.ctx_id = 1;
	kernel_mm.refcount = 1;
	spin_init(&kernel_mm.lock, "kernel_mm");
	list_init(&kernel_mm.vmas);
	kmem_cache_init(&mm_cache, "mm", sizeof(struct mm), 64);
	kmem_cache_init(&vma_cache, "vma", sizeof(struct vma), 8);
}

struct mm *mm_create(void)
{
	struct mm *mm = kmem_cache_alloc(&mm_cache);

	if (!mm)
		return NULL;
	if (pti_alloc_roots(mm)) {
		kmem_cache_free(&mm_cache, mm);
		return NULL;
	}
	const pte_t *k = pt_table(kernel_root);
	pte_t *r = pt_table(mm->root);

	for (int i = 256; i < 512; i++)
		r[i] = k[i];
	mm->ctx_id = __atomic_fetch_add(&next_ctx_id, 1, __ATOMIC_RELAXED);
	if (tlbcheck_enabled)
		tlbcheck_mm_created(mm); /* after ctx_id: the model names mms by it */
	mm->tlb_gen = 1;
	mm->refcount = 1;
	spin_init(&mm->lock, "mm");
	list_init(&mm->vmas);
	mm->vma_hint = NULL;
	return mm;
}

void mm_get(struct mm *mm)
{
	__atomic_fetch_add(&mm->refcount, 1, __ATOMIC_RELAXED);
}

/* ---- batches ---- */

#define BATCH_FRAMES 64

/* Present pages a long operation visits between two looks at the lock
 * ("Long operations" above): a level-1 table's worth. */
#define LOCK_BREAK_PAGES 512

/* One operation's record: what to flush and free, and its breaks. */
struct batch {
	struct mm *mm;
	uint64_t start, end;
	bool freed_tables;
	uint32_t op;	 /* its number while it owns VMAs (vma->op), else 0 */
	uint32_t budget; /* present pages left before the next look */
	uint32_t n;
	paddr_t frames[BATCH_FRAMES];
};

static void batch_init(struct batch *b, struct mm *mm)
{
	b->mm = mm;
	b->start = ~0ull;
	b->end = 0;
	b->freed_tables = false;
	b->op = 0;
	b->budget = LOCK_BREAK_PAGES;
	b->n = 0;
}

/* Frames are page aligned: bit 0 of a batch entry marks a page table. */
#define BATCH_TABLE 1ull

static void batch_flush(struct batch *b)
{
	if (b->end > b->start)
		mm_flush_range(b->mm, b->start, b->end, PAGE_SIZE, b->freed_tables);
	for (uint32_t i = 0; i < b->n; i++) {
		paddr_t pa = b->frames[i] & ~BATCH_TABLE;

		if (tlbcheck_enabled)
			tlbcheck_frame_free(pa, b->frames[i] & BATCH_TABLE);
		page_free(pa);
	}
	b->start = ~0ull;
	b->end = 0;
	b->freed_tables = false;
	b->n = 0;
}

static void batch_range(struct batch *b, uint64_t va)
{
	b->start = MIN(b->start, va);
	b->end = MAX(b->end, va + PAGE_SIZE);
}

static void batch_free(struct batch *b, paddr_t pa)
{
	if (b->n == BATCH_FRAMES)
		batch_flush(b);
	b->frames[b->n++] = pa;
}

/* ---- page tables ---- */

static uint64_t prot_bits(uint32_t prot)
{
	uint64_t bits = PTE_P | PTE_U;

	if (prot & PROT_WRITE)
		bits |= PTE_W;
	if (!(prot & PROT_EXEC) && arch_mmu_has_nx())
		bits |= PTE_NX;
	return bits;
}

static paddr_t pt_alloc(struct mm *mm)
{
	paddr_t pa = page_alloc(FA_ZERO | FA_NOWARN);

	if (pa) {
		pa_to_frame(pa)->flags |= FRAME_PGTABLE;
		mm->pt_pages++;
	}
	return pa;
}

/* A table pt_alloc() gave that was never linked: no CPU can have seen it. */
static void pt_free_unlinked(struct mm *mm, paddr_t pa)
{
	pa_to_frame(pa)->flags &= ~FRAME_PGTABLE;
	mm->pt_pages--;
	page_free(pa);
}

/* The level-1 entry for va, or NULL if a table on the way is missing. */
static pte_t *walk(struct mm *mm, uint64_t va)
{
	paddr_t table = mm->root;

	for (int l = 4; l > 1; l--) {
		pte_t e = pt_table(table)[pt_index(va, l)];

		if (!pte_present(e))
			return NULL;
		table = pte_addr(e);
	}
	return &pt_table(table)[pt_index(va, 1)];
}

/*
 * The level-1 entry for va, making the tables it lacks; NULL when there is
 * no memory for them. Every missing table is allocated before any is linked:
 * running out part-way then leaves nothing behind. A table linked first and
 * found useless later could not simply be freed, for a CPU running this mm
 * may have cached the entry that leads to it (paging-structure caches, SDM
 * Vol. 3A 4.10.3), and an unlinked table no leaf entry leads to is one that
 * clear_leaf() never finds: each such table stayed until the mm died (one
 * frame per first touch that ran out of memory: resource_exhaustion_clean).
 */
static pte_t *walk_create(struct mm *mm, uint64_t va)
{
	paddr_t table = mm->root, fresh[3];
	int l = 4, n = 0;

	for (; l > 1; l--) {
		pte_t e = pt_table(table)[pt_index(va, l)];

		if (!pte_present(e))
			break;
		table = pte_addr(e);
	}
	/* Missing: the tables of levels l-1 down to 1. */
	for (; n < l - 1; n++) {
		fresh[n] = pt_alloc(mm);
		if (!fresh[n]) {
			while (n--)
				pt_free_unlinked(mm, fresh[n]);
			return NULL;
		}
	}
	for (n = 0; l > 1; l--, n++) {
		WRITE_ONCE(pt_table(table)[pt_index(va, l)], fresh[n] | PTE_P | PTE_W | PTE_U);
		pti_sync_user_pml4(mm, va, l);
		pa_to_frame(table)->pt_used++;
		table = fresh[n];
	}
	return &pt_table(table)[pt_index(va, 1)];
}

static void set_leaf(pte_t *e, pte_t v)
{
	paddr_t table = virt_to_phys(e) & ~(uint64_t)(PAGE_SIZE - 1);

	if (!pte_present(*e) && pte_present(v))
		pa_to_frame(table)->pt_used++;
	WRITE_ONCE(*e, v);
}

/* Clear the leaf for va and free tables that become empty (after the flush). */
static void clear_leaf(struct mm *mm, uint64_t va, struct batch *b)
{
	paddr_t tables[4];
	pte_t *entries[4];
	paddr_t table = mm->root;

	for (int l = 4; l >= 1; l--) {
		pte_t *e = &pt_table(table)[pt_index(va, l)];

		tables[l - 1] = table;
		entries[l - 1] = e;
		if (!pte_present(*e))
			return;
		if (l > 1)
			table = pte_addr(*e);
	}
	pte_t old = *entries[0];
	struct frame *pf = pa_to_frame(pte_addr(old));

	if (tlbcheck_enabled)
		tlbcheck_pte_change(mm, va, old, 0);
	WRITE_ONCE(*entries[0], 0);
	batch_range(b, va);
	if (pf && (pf->flags & FRAME_USER) && --pf->mapcount == 0) {
		pf->flags &= ~FRAME_USER;
		mm->rss_pages--;
		batch_free(b, pte_addr(old));
	}
	/* Walk up: a table with no present entries left goes away, and its
	 * parent loses an entry (the root itself is never freed). */
	for (int l = 1; l < 4; l++) {
		struct frame *tf = pa_to_frame(tables[l - 1]);

		if (--tf->pt_used)
			break;
		WRITE_ONCE(*entries[l], 0);
		pti_sync_user_pml4(mm, va, l + 1);
		tf->flags &= ~FRAME_PGTABLE;
		mm->pt_pages--;
		/* The unlinked table needs a flush of its own if the batch
		 * already flushed (it was full): record the range again. */
		b->freed_tables = true;
		batch_range(b, va);
		if (tlbcheck_enabled)
			tlbcheck_table_free(mm, va, tables[l - 1]);
		batch_free(b, tables[l - 1] | BATCH_TABLE);
		if (l == 3)
			pa_to_frame(tables[3])->pt_used--;
	}
}

bool mm_translate(struct mm *mm, uint64_t va, paddr_t *pa, uint64_t *pte)
{
	pte_t *e = walk(mm, va);

	if (!e || !pte_present(*e))
		return false;
	if (pa)
		*pa = pte_addr(*e) | (va & (PAGE_SIZE - 1));
	if (pte)
		*pte = *e;
	return true;
}

/* ---- VMAs ---- */

/* The VMA containing addr by a walk of the sorted list, or NULL. */
static struct vma *vma_walk(const struct mm *mm, uint64_t addr)
{
	struct list_node *pos;

	list_for_each (pos, &mm->vmas) {
		struct vma *v = list_entry(pos, struct vma, link);

		if (addr < v->start)
			return NULL;
		if (addr < v->end)
			return v;
	}
	return NULL;
}

/* The VMA containing addr, or NULL; mm->lock held (every caller takes
 * it: mm_map, mm_unmap, mm_protect and the fault). The hint first: VMAs
 * do not overlap, so a live VMA containing addr is the one the walk would
 * find. */
static struct vma *vma_find(struct mm *mm, uint64_t addr)
{
	struct vma *h = mm->vma_hint;

	if (h && addr >= h->start && addr < h->end)
		return h;
	struct vma *v = vma_walk(mm, addr);

	if (v)
		mm->vma_hint = v;
	return v;
}

const struct vma *mm_vma_at(const struct mm *mm, uint64_t va)
{
	return vma_walk(mm, va);
}

static bool range_free(struct mm *mm, uint64_t start, uint64_t end)
{
	struct list_node *pos;

	list_for_each (pos, &mm->vmas) {
		struct vma *v = list_entry(pos, struct vma, link);

		if (v->start < end && start < v->end)
			return false;
	}
	return true;
}

static void vma_insert(struct mm *mm, struct vma *v)
{
	struct list_node *pos;

	list_for_each (pos, &mm->vmas) {
		if (list_entry(pos, struct vma, link)->start > v->start)
			break;
	}
	list_insert_between(&v->link, pos->prev, pos);
	mm->vma_hint = v; /* a fault in it comes next, typically */
}

/* Split v at addr (strictly inside): v keeps [start, addr). */
static int vma_split(struct vma *v, uint64_t addr)
{
	if (v->mo)
		return -EINVAL; /* memory objects are unmapped whole */
	struct vma *n = kmem_cache_alloc(&vma_cache);

	if (!n)
		return -ENOMEM;
	n->start = addr;
	n->end = v->end;
	n->prot = v->prot;
	v->end = addr;
	list_insert_between(&n->link, &v->link, v->link.next);
	return 0;
}

/* Where a walk of the VMAs overlapping [start, ...) may begin: the VMA
 * containing start (every VMA before it ends at or below start: the list
 * is sorted and VMAs do not overlap), else the head of the list. */
static struct list_node *vmas_from(struct mm *mm, uint64_t start)
{
	struct vma *v = vma_find(mm, start);

	return v ? &v->link : mm->vmas.next;
}

/* Make [start, end) start and end on VMA boundaries. */
static int split_around(struct mm *mm, uint64_t start, uint64_t end)
{
	struct vma *v = vma_find(mm, start);

	if (v && v->start < start) {
		int err = vma_split(v, start);

		if (err)
			return err;
	}
	v = vma_find(mm, end - 1);
	if (v && v->end > end)
		return vma_split(v, end);
	return 0;
}

static bool user_range_ok(uint64_t addr, uint64_t len)
{
	return len && IS_ALIGNED(addr, PAGE_SIZE) && addr >= PAGE_SIZE && addr < USER_TOP &&
	       len <= USER_TOP - addr;
}

static uint64_t find_gap(struct mm *mm, uint64_t len)
{
	uint64_t cand = USER_MMAP_BASE;
	struct list_node *pos;

	list_for_each (pos, &mm->vmas) {
		struct vma *v = list_entry(pos, struct vma, link);

		if (v->end <= cand)
			continue;
		if (v->start >= cand + len + PAGE_SIZE)
			break;
		cand = v->end + PAGE_SIZE; /* leave a hole: overruns fault */
	}
	return cand + len <= USER_MMAP_TOP ? cand : 0;
}

/*
 * The first page in [va, end) with a present leaf, its level-1 entry in
 * *ep; end if there is none. An absent upper-level entry is skipped whole,
 * so that walking a huge, barely touched range costs what it maps, not
 * what it spans (regression unmap_huge_sparse_range, found by syscall_fuzz:
 * unmapping a 1 TiB area stepped through 2^28 pages under mm->lock, and the
 * lockup detector caught another thread of the process spinning on it for
 * 10 s). A level-1 table is scanned in place, a load and a test an entry,
 * not walked from the root for each of its pages: a process with many
 * tables of one page each (one page touched every 2 MiB) otherwise held
 * mm->lock through a root-to-leaf walk per absent entry, 512 a table
 * (regression sparse_tables_walk_in_place). One walk per call: the caller
 * may free the table (clear_leaf) before the next.
 */
static __always_inline uint64_t next_present(struct mm *mm, uint64_t va, uint64_t end, pte_t **ep)
{
	while (va < end) {
		paddr_t table = mm->root;
		int l = 4;

		for (; l > 1; l--) {
			pte_t e = pt_table(table)[pt_index(va, l)];

			if (!pte_present(e))
				break;
			table = pte_addr(e);
		}
		if (l > 1) {
			uint64_t span = 1ull << (PAGE_SHIFT + 9 * (l - 1)); /* what entry l maps */

			va = (va & ~(span - 1)) + span; /* below USER_TOP: no overflow */
			continue;
		}
		/* Level 1: va's entry first (a dense range, a one-page one),
		 * then the rest of this table or of the range. */
		pte_t *first = &pt_table(table)[pt_index(va, 1)];

		if (pte_present(*first)) {
			*ep = first;
			return va;
		}
		/* (A level-1 table maps PAGE_SIZE_2M.) */
		uint64_t limit = MIN((va | (PAGE_SIZE_2M - 1)) + 1, end);
		pte_t *stop = first + (limit - va) / PAGE_SIZE;

		for (pte_t *e = first + 1; e < stop; e++) {
			if (pte_present(*e)) {
				*ep = e;
				return va + (uint64_t)(e - first) * PAGE_SIZE;
			}
		}
		va = limit;
	}
	return end;
}

/* ---- long operations (protocol: "Long operations" above) ---- */

/* Does another CPU wait for mm->lock, or is a reschedule due? */
static __always_inline bool lock_break_due(struct mm *mm)
{
	return spin_needbreak(&mm->lock) || this_cpu_read(need_resched);
}

/* The break itself, once the operation has left what the lock protects
 * as a finished operation would: every break, counted. */
static void lock_break(struct mm *mm)
{
	this_cpu_inc(counters[CNT_MM_LOCK_BREAK]);
	spin_lock_break(&mm->lock);
}

/*
 * An unmap's or a protect's break: let go of mm->lock if another CPU
 * waits for it or a reschedule is due, the batch flushed first. At the
 * first, the operation marks the VMAs overlapping its range [lo, hi) as
 * its own (an unmap's as dying). Afterwards the caller's page-table
 * pointers, and every VMA it does not own, may have changed.
 */
static __noinline void op_break(struct batch *b, uint64_t lo, uint64_t hi, bool unmap)
{
	struct mm *mm = b->mm;

	b->budget = LOCK_BREAK_PAGES;
	if (!lock_break_due(mm))
		return;
	batch_flush(b);
	if (!b->op) {
		struct list_node *pos;

		do
			b->op = ++mm->op_seq;
		while (!b->op); /* (0 is none) */

		for (pos = vmas_from(mm, lo); pos != &mm->vmas; pos = pos->next) {
			struct vma *v = list_entry(pos, struct vma, link);

			if (v->start >= hi)
				break;
			if (v->end <= lo)
				continue;
			v->op = b->op;
			v->dying = unmap;
		}
		mm->ops_marked++;
	}
	lock_break(mm);
}

/* After each present page of a long operation: every LOCK_BREAK_PAGES, a
 * break (op_break()). Inline: a decrement and a branch a page. */
static __always_inline void op_tick(struct batch *b, uint64_t lo, uint64_t hi, bool unmap)
{
	if (unlikely(!--b->budget))
		op_break(b, lo, hi, unmap);
}

/* Is v one of the operation's VMAs in its range? Before its first break
 * every VMA there is (the lock has been held since the range was split);
 * after, only those it marked (another thread may have mapped a hole). */
static __always_inline bool op_owns(const struct batch *b, const struct vma *v)
{
	return !b->op || v->op == b->op;
}

/* Does an operation in progress own a VMA overlapping [start, end)? */
static bool range_busy(struct mm *mm, uint64_t start, uint64_t end)
{
	struct list_node *pos;

	for (pos = vmas_from(mm, start); pos != &mm->vmas; pos = pos->next) {
		struct vma *v = list_entry(pos, struct vma, link);

		if (v->start >= end)
			break;
		if (v->end > start && v->op)
			return true;
	}
	return false;
}

/* op_wait_range()'s wait: without the lock, until an operation that
 * owned VMAs ends (ops_done moves), then look again. Polling the lock
 * instead made the owner break at every chunk for the poller (with
 * ticket locks on an overcommitted host, a hand-off each time). */
static __noinline void op_wait(struct mm *mm, uint64_t start, uint64_t end)
{
	this_cpu_inc(counters[CNT_MM_OP_WAIT]);
	do {
		uint32_t done = mm->ops_done;

		spin_unlock(&mm->lock); /* a reschedule that is due runs here */
		/* Relaxed: only whether it moved; spin_lock() orders the rest. */
		while (__atomic_load_n(&mm->ops_done, __ATOMIC_RELAXED) == done)
			cpu_relax();
		spin_lock(&mm->lock);
	} while (range_busy(mm, start, end));
}

/* Wait until no operation owns a VMA overlapping [start, end): mm->lock
 * held on entry and on return, let go of while waiting (preemptible: a
 * reschedule that is due runs). The owner finishes in bounded time: it
 * runs in the kernel until it is done. Nothing to look at while no
 * operation owns any VMA (ops_marked 0: none has had a break). */
static __always_inline void op_wait_range(struct mm *mm, uint64_t start, uint64_t end)
{
	if (unlikely(mm->ops_marked) && range_busy(mm, start, end))
		op_wait(mm, start, end);
}

/* An operation that owned VMAs is done with them (they are unmarked or
 * gone): waiters look again. */
static void op_done(struct mm *mm)
{
	mm->ops_marked--;
	/* Relaxed: op_wait() polls it without the lock, then takes it. */
	__atomic_store_n(&mm->ops_done, mm->ops_done + 1, __ATOMIC_RELAXED);
}

/* The end of an operation that marked VMAs: those in [lo, hi) still in
 * the list are free for others again. */
static __noinline void op_unmark(struct batch *b, uint64_t lo, uint64_t hi)
{
	struct list_node *pos;

	for (pos = vmas_from(b->mm, lo); pos != &b->mm->vmas; pos = pos->next) {
		struct vma *v = list_entry(pos, struct vma, link);

		if (v->start >= hi)
			break;
		if (v->op == b->op) {
			v->op = 0;
			v->dying = false;
		}
	}
	b->op = 0;
	op_done(b->mm);
}

/*
 * Unmap [start, end): mm->lock held on entry and on return, let go of at
 * breaks. b collects what to flush and free; the caller flushes it before
 * it unlocks. 0, or split_around()'s error (then nothing is unmapped).
 * Each VMA leaves the list once its pages are gone, and the next is read
 * after that, from a VMA of ours (a break may have freed others).
 */
static int unmap_op(struct mm *mm, uint64_t start, uint64_t end, struct batch *b)
{
	struct list_node *pos, *next;

	assert_held(&mm->lock);
	op_wait_range(mm, start, end);
	int err = split_around(mm, start, end);

	if (err)
		return err;
	for (pos = vmas_from(mm, start); pos != &mm->vmas; pos = next) {
		struct vma *v = list_entry(pos, struct vma, link);

		next = pos->next;
		if (v->start >= end)
			break; /* sorted: nothing after it overlaps either */
		if (v->end <= start || !op_owns(b, v))
			continue;
		pte_t *e;

		for (uint64_t va = next_present(mm, v->start, v->end, &e); va < v->end;
		     va = next_present(mm, va + PAGE_SIZE, v->end, &e)) {
			clear_leaf(mm, va, b);
			op_tick(b, start, end, true); /* next_present() walks afresh */
		}
		next = pos->next;
		list_del(&v->link);
		mm->vma_hint = NULL; /* it may have been v */
		if (v->mo) {
			/* Flushed before the object forgets us: a revocation
			 * that no longer finds this mm flushes nothing here and
			 * frees the frames at once, and our unflushed PTEs were
			 * still in some TLB (regression
			 * unmap_flushes_before_memobj_forgets_mm; found in
			 * review). The same holds for the object's own frames,
			 * freed here if this was its last reference. */
			batch_flush(b);
			memobj_vma_gone(v->mo, mm);
		}
		kmem_cache_free(&vma_cache, v);
	}
	if (unlikely(b->op)) {
		b->op = 0; /* its VMAs are gone: nothing to unmark */
		op_done(mm);
	}
	return 0;
}

/* W^X for user memory too (as for ELF segments): never both at once. */
static bool wx(uint32_t prot)
{
	return (prot & PROT_WRITE) && (prot & PROT_EXEC);
}

int mm_map(struct mm *mm, uint64_t *addr, uint64_t len, uint32_t prot, uint32_t flags)
{
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!len || len > (1ull << 40) || (prot & ~7u) || (flags & ~3u) || wx(prot))
		return -EINVAL;
	struct vma *v = kmem_cache_alloc(&vma_cache);

	if (!v)
		return -ENOMEM;
	struct batch b;

	batch_init(&b, mm);
	spin_lock(&mm->lock);
	uint64_t start = *addr;

	if (flags & MAP_FIXED) {
		if (!user_range_ok(start, len)) {
			spin_unlock(&mm->lock);
			kmem_cache_free(&vma_cache, v);
			return -EINVAL;
		}
		int err;

		/* Again if a map took part of the range during a break. */
		do
			err = unmap_op(mm, start, start + len, &b);
		while (!err && !range_free(mm, start, start + len));
		if (err) {
			batch_flush(&b); /* a second round's error: the first's pages */
			spin_unlock(&mm->lock);
			kmem_cache_free(&vma_cache, v);
			return err;
		}
	} else if (!start || !user_range_ok(start, len) || !range_free(mm, start, start + len)) {
		start = find_gap(mm, len);
		if (!start) {
			spin_unlock(&mm->lock);
			kmem_cache_free(&vma_cache, v);
			return -ENOMEM;
		}
	}
	v->start = start;
	v->end = start + len;
	v->prot = (uint8_t)(prot | PROT_READ);
	vma_insert(mm, v);
	batch_flush(&b);
	spin_unlock(&mm->lock);
	*addr = start;
	if (flags & MAP_POPULATE) {
		for (uint64_t va = start; va < start + len; va += PAGE_SIZE) {
			if (!mm_handle_fault(mm, va, false, false)) {
				mm_unmap(mm, start, len);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

int mm_unmap(struct mm *mm, uint64_t addr, uint64_t len)
{
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!user_range_ok(addr, len))
		return -EINVAL;
	struct batch b;

	batch_init(&b, mm);
	spin_lock(&mm->lock);
	int err = unmap_op(mm, addr, addr + len, &b);

	batch_flush(&b);
	spin_unlock(&mm->lock);
	return err;
}

int mm_protect(struct mm *mm, uint64_t addr, uint64_t len, uint32_t prot)
{
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!user_range_ok(addr, len) || (prot & ~7u) || wx(prot))
		return -EINVAL;
	uint64_t end = addr + len, covered = 0;
	struct batch b;
	struct list_node *pos;

	batch_init(&b, mm);
	spin_lock(&mm->lock);
	op_wait_range(mm, addr, end);
	int err = split_around(mm, addr, end);

	/* A split error walks nothing; -EACCES ends the walk, and the VMAs
	 * before it are changed. Each VMA's protection is set before its
	 * pages: a fault at a break maps with the one its VMA has. */
	for (pos = err ? &mm->vmas : vmas_from(mm, addr); pos != &mm->vmas; pos = pos->next) {
		struct vma *v = list_entry(pos, struct vma, link);

		if (v->start >= end)
			break; /* sorted: nothing after it overlaps either */
		if (v->end <= addr || !op_owns(&b, v))
			continue;
		if (v->mo && (prot & ~v->max_prot)) {
			err = -EACCES; /* more than the object's handle allowed */
			break;
		}
		v->prot = (uint8_t)(prot | PROT_READ);
		covered += v->end - v->start;
		pte_t *e;

		for (uint64_t va = next_present(mm, v->start, v->end, &e); va < v->end;
		     va = next_present(mm, va + PAGE_SIZE, v->end, &e)) {
			pte_t nv = (*e & PTE_ADDR) | prot_bits(v->prot);

			if (nv != (*e & (PTE_ADDR | PTE_P | PTE_U | PTE_W | PTE_NX))) {
				if (tlbcheck_enabled)
					tlbcheck_pte_change(mm, va, *e, nv);
				WRITE_ONCE(*e, nv);
				batch_range(&b, va);
			}
			op_tick(&b, addr, end, false); /* next_present() walks afresh */
		}
	}
	if (unlikely(b.op))
		op_unmark(&b, addr, end);
	batch_flush(&b);
	spin_unlock(&mm->lock);
	if (!err && covered != len)
		return -ENOMEM; /* part of the range was not mapped */
	return err;
}

bool mm_handle_fault(struct mm *mm, uint64_t addr, bool write, bool exec)
{
	uint64_t va = ALIGN_DOWN(addr, PAGE_SIZE);
	bool ok = false;

	if (addr >= USER_TOP)
		return false;
	spin_lock(&mm->lock);
	struct vma *v = vma_find(mm, addr);

	if (!v || v->dying || (write && !(v->prot & PROT_WRITE)) ||
	    (exec && !(v->prot & PROT_EXEC)))
		goto out; /* (a dying VMA's unmap has taken effect) */
	pte_t *e = walk(mm, va);

	if (e && pte_present(*e)) {
		/* Already mapped: if the entry allows the access, this was a
		 * stale TLB entry from before a permission upgrade; drop it
		 * locally and retry. If it does not, refuse (no retry loop). */
		if ((write && !(*e & PTE_W)) || (exec && (*e & PTE_NX)))
			goto out;
		arch_invlpg(va);
		ok = true;
		goto out;
	}
	/* The page first, then the tables it needs (walk_create): running
	 * out of either leaves nothing linked. */
	paddr_t pa;

	if (v->mo) {
		/* The object's page (allocated on first touch); none once the
		 * mapping was revoked. Not FRAME_USER: the object frees it. */
		pa = memobj_page(v->mo, v->mo_epoch, (va - v->start) / PAGE_SIZE);
		if (!pa || (!e && !(e = walk_create(mm, va))))
			goto out;
		set_leaf(e, pa | prot_bits(v->prot));
		ok = true;
		goto out;
	}
	pa = page_alloc(FA_ZERO | FA_NOWARN);
	if (!pa)
		goto out;
	if (!e && !(e = walk_create(mm, va))) {
		page_free(pa);
		goto out;
	}
	struct frame *f = pa_to_frame(pa);

	f->flags |= FRAME_USER;
	f->mapcount = 1;
	set_leaf(e, pa | prot_bits(v->prot));
	mm->rss_pages++;
	ok = true;
out:
	spin_unlock(&mm->lock);
	return ok;
}

int mm_populate_copy(struct mm *mm, uint64_t va, const void *src, uint64_t len)
{
	uint64_t off = 0;

	while (off < len) {
		uint64_t cur = va + off, page = ALIGN_DOWN(cur, PAGE_SIZE);
		uint64_t n = MIN(len - off, PAGE_SIZE - (cur - page));
		paddr_t pa;

		if (!mm_handle_fault(mm, page, false, false))
			return -ENOMEM;
		if (!mm_translate(mm, page, &pa, NULL))
			return -EFAULT;
		memcpy((char *)phys_to_virt(pa) + (cur - page), (const char *)src + off, n);
		off += n;
	}
	return 0;
}

int mm_map_memobj(struct mm *mm, struct memobj *mo, uint64_t pages, uint64_t *addr, uint32_t prot)
{
	uint64_t len = pages * PAGE_SIZE, start = *addr;

	if (!pages || (prot & ~(uint32_t)(PROT_READ | PROT_WRITE)))
		return -EINVAL;
	struct vma *v = kmem_cache_alloc(&vma_cache);

	if (!v)
		return -ENOMEM;
	spin_lock(&mm->lock);
	if (!start || !IS_ALIGNED(start, PAGE_SIZE) || !user_range_ok(start, len) ||
	    !range_free(mm, start, start + len))
		start = find_gap(mm, len);
	int err = start ? memobj_vma_added(mo, mm, &v->mo_epoch) : -ENOMEM;

	if (err) {
		spin_unlock(&mm->lock);
		kmem_cache_free(&vma_cache, v);
		return err;
	}
	v->start = start;
	v->end = start + len;
	v->prot = (uint8_t)(prot | PROT_READ);
	v->max_prot = v->prot;
	v->mo = mo;
	vma_insert(mm, v);
	spin_unlock(&mm->lock);
	*addr = start;
	return 0;
}

void mm_zap_memobj(struct mm *mm, struct memobj *mo, uint64_t *start, uint64_t *end)
{
	struct list_node *pos;
	uint64_t done = 0; /* every page below it is cleared */
	uint32_t budget = LOCK_BREAK_PAGES;

	*start = ~0ull;
	*end = 0;
	spin_lock(&mm->lock);
again:
	for (pos = done ? vmas_from(mm, done) : mm->vmas.next; pos != &mm->vmas; pos = pos->next) {
		struct vma *v = list_entry(pos, struct vma, link);

		if (v->mo != mo || v->end <= done)
			continue;
		pte_t *e;

		for (uint64_t va = next_present(mm, MAX(v->start, done), v->end, &e); va < v->end;
		     va = next_present(mm, va + PAGE_SIZE, v->end, &e)) {
			if (tlbcheck_enabled)
				tlbcheck_pte_change(mm, va, *e, 0);
			WRITE_ONCE(*e, 0);
			/* The table stays (empty tables go at the next unmap
			 * that empties them, or with the mm): no table is
			 * freed, so lazy CPUs need no IPI. */
			pa_to_frame(virt_to_phys(e) & ~(uint64_t)(PAGE_SIZE - 1))->pt_used--;
			*start = MIN(*start, va);
			*end = MAX(*end, va + PAGE_SIZE);
			/* A break as op_break()'s, with nothing to flush (the
			 * revocation flushes every mm at the end) or mark. */
			if (unlikely(!--budget)) {
				budget = LOCK_BREAK_PAGES;
				if (lock_break_due(mm)) {
					lock_break(mm);
					done = va + PAGE_SIZE; /* v may be gone */
					goto again;
				}
			}
		}
	}
	spin_unlock(&mm->lock);
}

static void free_tables(paddr_t table, int level)
{
	pte_t *t = pt_table(table);

	for (unsigned i = 0; i < (level == 4 ? 256u : 512u); i++) {
		if (!pte_present(t[i]))
			continue;
		if (level > 1) {
			free_tables(pte_addr(t[i]), level - 1);
			continue;
		}
		struct frame *f = pa_to_frame(pte_addr(t[i]));

		if (f && (f->flags & FRAME_USER) && --f->mapcount == 0) {
			f->flags &= ~FRAME_USER;
			page_free(pte_addr(t[i]));
		}
	}
	if (level < 4) {
		pa_to_frame(table)->flags &= ~FRAME_PGTABLE;
		page_free(table);
	}
}

void mm_put(struct mm *mm)
{
	/* Acquire on the last reference: every other holder's use of the mm
	 * happens-before the teardown (pairs with their release decrement). */
	if (__atomic_sub_fetch(&mm->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	BUG_ON(mm == &kernel_mm);
	/* No task uses it; lazy CPUs may still have it in CR3. */
	mm_drop_lazy_users(mm);
	/* The memory objects' PTEs go first. A revocation can no longer take
	 * this mm (its count is 0), so it skips it and frees the object's
	 * frames at once; by the time free_tables() below reached such a PTE
	 * its frame could be another process's user page, whose map count it
	 * would drop and which it would free (found in review, not
	 * reproduced). Clearing a PTE touches no frame, and no CPU runs this
	 * mm any more: nothing to flush. */
	struct list_node *pos, *tmp;

	list_for_each (pos, &mm->vmas) {
		struct vma *v = list_entry(pos, struct vma, link);
		uint64_t s, e;

		if (v->mo)
			mm_zap_memobj(mm, v->mo, &s, &e);
	}
	if (tlbcheck_enabled)
		tlbcheck_mm_freed(mm); /* no CPU may have its PCIDs loaded now */
	pasid_mm_exit(mm);
	mm->vma_hint = NULL;
	list_for_each_safe (pos, tmp, &mm->vmas) {
		struct vma *v = list_entry(pos, struct vma, link);

		list_del(pos);
		if (v->mo)
			memobj_vma_gone(v->mo, mm);
		kmem_cache_free(&vma_cache, v);
	}
	free_tables(mm->root, 4);
	pti_free_roots(mm);
	kmem_cache_free(&mm_cache, mm);
}
