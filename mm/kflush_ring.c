/*
 * The deferred kernel flush's ring (see kflush_ring.h). Written under the
 * initiators' lock (mm/kflush.c kflush_lock), read without it: the
 * publish/intact pair below is the protocol that makes lock-free reads
 * safe (a reader that may have read a torn range flushes everything).
 */
#include "mm/kflush_ring.h"

enum flush_kind kflush_decide(const struct kflush_range *ring, uint64_t seen, uint64_t gen,
			      uint64_t ceiling)
{
	uint64_t pages = 0;

	if (seen >= gen)
		return FLUSH_NONE;
	if (gen - seen > KFLUSH_RING)
		return FLUSH_FULL;
	for (uint64_t g = seen + 1; g <= gen; g++) {
		const struct kflush_range *r = &ring[g % KFLUSH_RING];
		uint64_t start = __atomic_load_n(&r->start, __ATOMIC_RELAXED);
		uint64_t end = __atomic_load_n(&r->end, __ATOMIC_RELAXED);

		/* Relaxed: a hint; kflush_ring_intact() decides after the
		 * pages are flushed. */
		if (__atomic_load_n(&r->gen, __ATOMIC_RELAXED) != g)
			return FLUSH_FULL; /* overwritten by a newer range */
		if (end < start)
			return FLUSH_FULL; /* torn: being overwritten */
		pages += (end - start) / 4096;
		if (pages > ceiling)
			return FLUSH_FULL;
	}
	return FLUSH_PAGES;
}

void kflush_ring_publish(struct kflush_range *ring, uint64_t gen, uint64_t start, uint64_t end)
{
	struct kflush_range *r = &ring[gen % KFLUSH_RING];

	__atomic_store_n(&r->gen, gen, __ATOMIC_RELAXED);
	/* Release fence: a reader whose load of start or end sees the new
	 * value also sees the new gen (pairs with the acquire fence in
	 * kflush_ring_intact). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&r->start, start, __ATOMIC_RELAXED);
	__atomic_store_n(&r->end, end, __ATOMIC_RELAXED);
}

bool kflush_ring_intact(const struct kflush_range *ring, uint64_t seen, uint64_t gen)
{
	/* Acquire fence: the caller's loads of start and end come before
	 * these loads of gen (pairs with kflush_ring_publish). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (uint64_t g = seen + 1; g <= gen; g++) {
		/* Relaxed: ordered by the fence above. */
		if (__atomic_load_n(&ring[g % KFLUSH_RING].gen, __ATOMIC_RELAXED) != g)
			return false;
	}
	return true;
}
