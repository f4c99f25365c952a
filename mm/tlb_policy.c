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
