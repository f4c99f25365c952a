/*
 * Memory objects: one set of pages mapped into several address spaces,
 * and revoked from all of them at once.
 *
 * Glossary
 *   object    npages page slots, each a frame allocated on first touch
 *             (memobj_page) and owned by the object, never by a mapping:
 *             the frames are not FRAME_USER, so unmapping or an mm's
 *             teardown never frees them
 *   record    per address space that maps the object: {mm, vmas}; an mm
 *             appears once however many times it maps the object, and
 *             leaves when its last such VMA goes (unmap, teardown)
 *   epoch     revocations so far; a VMA remembers the epoch it was mapped
 *             in, and a fault in a VMA of an older epoch is refused: a
 *             revoked mapping stays dead (decommit keeps the epoch)
 *
 * Revocation (memobj_revoke), in this order:
 *   1. under mo->lock: take the frames out of the slots (a fault from now
 *      on allocates a fresh frame, or is refused if the epoch moved), bump
 *      the epoch, count this revocation in (revoking), and take a
 *      reference on every recorded mm that is not already being torn down
 *   2. per mm, under its lock: clear every PTE of the object's VMAs
 *      (mm_zap_memobj; no table is freed, so lazy CPUs may stay lazy), a
 *      deferred flush (mm/tlb.c): until step 3 has returned, every other
 *      flush request of the mm covers all of it, so that no CPU reaches a
 *      generation past these changes without having dropped them. With
 *      another revocation in flight, the mm is flushed whole: see below
 *   3. one flush round for all of them (mm_flush_many, mm/tlb.c): every
 *      CPU that may cache a translation of any of the mms, by the
 *      protocol's own rules (generations, lazy CPUs), has flushed when it
 *      returns; it ends the deferred flushes; then counts this
 *      revocation out
 *   4. free the frames taken in step 1 (tlbcheck asserts, for every
 *      context, that no CPU and no PCID can still reach them)
 * Step 1's frames wait for step 4 in the object's own list (taken[],
 * allocated with it), so that a revocation allocates nothing: the one at
 * the last handle's close (kernel/shm.c) cannot fail (regression
 * shm_destroy_revokes_without_memory: it allocated the list, and with no
 * memory the mapping outlived every handle). A second revocation at once
 * allocates its own, and may fail with -ENOMEM.
 * Two at once: the first takes the frames; the second, finding none,
 * may clear the PTEs to them first, and flushes only at its step 3. The
 * first's step 2 then finds those PTEs clear, and without more it would
 * flush nothing there and free frames that TLBs still hold (regression
 * concurrent_revokes_flush_each_others_clears). So a step 2 that sees
 * revoking > 1 after its clears flushes the mm whole. It sees the other's
 * count whenever it found the other's clears: the other counted in (under
 * mo->lock) before it took the mm's lock to clear, and we took that lock
 * after; and an other counted out has flushed its clears already.
 * A CPU that faults in between: before step 2 in its mm it still has the
 * old PTE (no fault); after it, the fault sees the emptied slot. An mm
 * being torn down (refcount 0) is skipped: no CPU has it loaded any more
 * (mm_drop_lazy_users ran before its VMAs go) and its PCIDs are flushed
 * before reuse, so its PTEs to the old frames can never be walked.
 *
 * Lock order: mm->lock before mo->lock (faults, map, unmap); revocation
 * takes mo->lock alone, then each mm->lock alone.
 */
#include "mm/memobj.h"
#include "mm/mm.h"
#include "mm/tlb.h"
#include "mm/tlbcheck.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "lib/spinlock.h"
#include "lib/panic.h"
#include "include/uapi/errno.h"
#include "lib/percpu.h"
#include "lib/time.h"
#include "sched/task.h"

struct mo_mm {
	struct mm *mm;
	uint32_t vmas;
};

struct memobj {
	struct spinlock lock; /* everything below */
	uint32_t npages;
	uint32_t nmms;
	uint32_t refs;	     /* the owner's (kernel/shm.c) and one per VMA */
	uint32_t revoking;   /* revocations between their steps 1 and 3 (atomic) */
	uint32_t taken_busy; /* a revocation holds taken[] (atomic) */
	uint64_t epoch;
	struct mo_mm mms[MEMOBJ_MAX_MMS];
	paddr_t *taken;	 /* npages: a revocation's frames from step 1 to 4 */
	paddr_t pages[]; /* npages, 0: not allocated yet; then taken[]'s room */
};

struct memobj *memobj_create(uint64_t pages)
{
	if (!pages || pages > MEMOBJ_MAX_PAGES)
		return NULL;
	struct memobj *mo = kmalloc(sizeof(*mo) + 2 * pages * sizeof(paddr_t));

	if (!mo)
		return NULL;
	mo->taken = mo->pages + pages;
	spin_init(&mo->lock, "memobj");
	mo->npages = (uint32_t)pages;
	mo->refs = 1;
	return mo;
}

uint64_t memobj_pages(const struct memobj *mo)
{
	return mo->npages;
}

int memobj_vma_added(struct memobj *mo, struct mm *mm, uint64_t *epoch)
{
	int err = -ENOSPC;

	assert_held(&mm->lock);
	spin_lock(&mo->lock);
	for (uint32_t i = 0; i < mo->nmms; i++) {
		if (mo->mms[i].mm == mm) {
			mo->mms[i].vmas++;
			err = 0;
			goto out;
		}
	}
	if (mo->nmms < MEMOBJ_MAX_MMS) {
		mo->mms[mo->nmms++] = (struct mo_mm){ mm, 1 };
		err = 0;
	}
out:
	if (!err)
		mo->refs++;
	*epoch = mo->epoch;
	spin_unlock(&mo->lock);
	return err;
}

static void memobj_free(struct memobj *mo)
{
	BUG_ON(mo->nmms);
	for (uint32_t i = 0; i < mo->npages; i++)
		if (mo->pages[i])
			page_free(mo->pages[i]);
	kfree(mo);
}

void memobj_vma_gone(struct memobj *mo, struct mm *mm)
{
	spin_lock(&mo->lock);
	for (uint32_t i = 0; i < mo->nmms; i++) {
		if (mo->mms[i].mm != mm)
			continue;
		if (--mo->mms[i].vmas == 0)
			mo->mms[i] = mo->mms[--mo->nmms];
		break;
	}
	bool last = --mo->refs == 0;

	spin_unlock(&mo->lock);
	if (last)
		memobj_free(mo);
}

void memobj_put(struct memobj *mo)
{
	spin_lock(&mo->lock);
	bool last = --mo->refs == 0;

	spin_unlock(&mo->lock);
	if (last)
		memobj_free(mo);
}

uint64_t memobj_page(struct memobj *mo, uint64_t epoch, uint64_t i)
{
	paddr_t pa = 0;

	spin_lock(&mo->lock);
	if (epoch == mo->epoch && i < mo->npages) {
		if (!mo->pages[i])
			mo->pages[i] = page_alloc(FA_ZERO | FA_NOWARN);
		pa = mo->pages[i];
	}
	spin_unlock(&mo->lock);
	return pa;
}

/* Take a reference unless the mm is already being torn down. */
static bool mm_tryget(struct mm *mm)
{
	int r = __atomic_load_n(&mm->refcount, __ATOMIC_RELAXED);

	do {
		if (r == 0)
			return false;
		/* Relaxed: the record's mm pointer is stable under mo->lock,
		 * which we hold; the reference only has to exist. */
	} while (!__atomic_compare_exchange_n(&mm->refcount, &r, r + 1, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

/* SYST_REVOKE_DELAY: the calling thread's next revocation spins after
 * the step it names, the window a concurrent one lands in. */
static inline void revoke_test_delay(uint32_t step)
{
	struct task *me = current_task();

	if (unlikely(me->test_revoke_delay_us != 0) && me->test_revoke_delay_step == step)
		udelay_once(&me->test_revoke_delay_us);
}

int memobj_revoke(struct memobj *mo, bool decommit, uint32_t *ipis)
{
	struct flush_many_req reqs[MEMOBJ_MAX_MMS];
	/* The object's own list, unless another revocation holds it (then one
	 * allocated here, which may fail). Acquire: pairs with the release
	 * that gives it back below. */
	bool own = !__atomic_exchange_n(&mo->taken_busy, 1, __ATOMIC_ACQUIRE);
	paddr_t *old = own ? mo->taken : kmalloc(mo->npages * sizeof(paddr_t));
	uint32_t n = 0, live = 0;

	if (!old) {
		BUG_ON(own);
		return -ENOMEM;
	}
	/* 1. */
	spin_lock(&mo->lock);
	for (uint32_t i = 0; i < mo->npages; i++) {
		old[i] = mo->pages[i];
		mo->pages[i] = 0;
	}
	if (!decommit)
		mo->epoch++;
	/* Relaxed: the release of each mm lock we take in step 2 orders it
	 * before our clears (the reader's side is in step 2). */
	__atomic_fetch_add(&mo->revoking, 1, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < mo->nmms; i++)
		if (mm_tryget(mo->mms[i].mm))
			reqs[n++].mm = mo->mms[i].mm;
	spin_unlock(&mo->lock);
	revoke_test_delay(1);
	/* 2. */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t s, e;

		mm_flush_defer(reqs[i].mm);
		mm_zap_memobj(reqs[i].mm, mo, &s, &e);
		/* Another revocation in flight: it may have cleared PTEs to
		 * our frames that it has not flushed yet (above). Acquire:
		 * pairs with the release of the count out after step 3 (a
		 * count we no longer see is a flush that has ended); the count
		 * in is ordered before the other's clears by the mm lock both
		 * took (above). */
		if (__atomic_load_n(&mo->revoking, __ATOMIC_ACQUIRE) > 1) {
			s = 0;
			e = USER_TOP;
			this_cpu_inc(counters[CNT_MEMOBJ_REVOKE_OVERLAP]);
		}
		if (e > s) {
			reqs[live] = (struct flush_many_req){ reqs[i].mm, s, e, false, 0 };
			live++;
		} else {
			mm_flush_defer_end(reqs[i].mm); /* nothing to flush */
			mm_put(reqs[i].mm);
		}
	}
	revoke_test_delay(2);
	/* 3. */
	if (ipis)
		*ipis = 0;
	if (live)
		mm_flush_many(reqs, live, ipis);
	this_cpu_inc(counters[CNT_MEMOBJ_REVOKE]);
	this_cpu_add(counters[CNT_MEMOBJ_REVOKE_MM], live);
	for (uint32_t i = 0; i < live; i++)
		mm_put(reqs[i].mm);
	/* Release: our flush round has ended before another revocation's
	 * step 2 sees the count drop; pairs with the acquire load there. */
	__atomic_fetch_sub(&mo->revoking, 1, __ATOMIC_RELEASE);
	/* 4. */
	for (uint32_t i = 0; i < mo->npages; i++) {
		if (!old[i])
			continue;
		if (tlbcheck_enabled)
			tlbcheck_frame_free(old[i], false);
		page_free(old[i]);
	}
	if (own)
		/* Release: our reads of the list are done before the next
		 * revocation fills it; pairs with the acquire exchange above. */
		__atomic_store_n(&mo->taken_busy, 0, __ATOMIC_RELEASE);
	else
		kfree(old);
	return (int)n;
}
