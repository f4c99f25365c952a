/*
 * Pure TLB decisions (see tlb_policy.h).
 */
#include "mm/tlb_policy.h"

uint32_t asid_choose(struct asid_slot *slots, uint32_t n, uint64_t ctx, uint32_t *next_victim,
		     enum asid_result *res)
{
	uint32_t empty = n;

	for (uint32_t i = 0; i < n; i++) {
		if (slots[i].ctx_id == ctx) {
			*res = ASID_HIT;
			return i;
		}
		if (!slots[i].ctx_id && empty == n)
			empty = i;
	}
	if (empty < n) {
		*res = ASID_MISS;
		return empty;
	}
	uint32_t v = *next_victim % n;

	*next_victim = (v + 1) % n;
	*res = ASID_EVICT;
	return v;
}

enum flush_kind flush_decide(uint64_t local_gen, uint64_t new_gen, uint64_t mm_gen, uint64_t pages,
			     uint64_t ceiling, enum full_reason *why)
{
	*why = FULL_NONE;
	if (local_gen >= mm_gen)
		return FLUSH_NONE;
	if (local_gen + 1 != new_gen || new_gen != mm_gen) {
		*why = FULL_GEN_GAP;
		return FLUSH_FULL;
	}
	if (pages == 0) {
		*why = FULL_REQUEST;
		return FLUSH_FULL;
	}
	if (pages > ceiling) {
		*why = FULL_CEILING;
		return FLUSH_FULL;
	}
	return FLUSH_PAGES;
}

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
