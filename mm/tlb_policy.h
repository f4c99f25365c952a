/*
 * Pure TLB decisions (host-tested in tests/test_tlb_policy.c): which PCID
 * slot an address space gets, and how much a CPU must flush to catch up.
 * mm/tlb.c and mm/kflush.c apply them; nothing here touches hardware.
 */
#pragma once

#include "lib/compiler.h"

struct asid_slot {
	uint64_t ctx_id;  /* mm->ctx_id cached under this slot's PCIDs; 0 = empty */
	uint64_t tlb_gen; /* the mm generation this slot's kernel PCID is flushed to */
	uint64_t kgen;	  /* the kernel-flush generation it is flushed to */
	bool user_stale;  /* the user PCID must be flushed at the next return to user */
	/* mm/pcid.c's cache of the CR3 values for the root last loaded in
	 * this slot (they depend only on the root, the slot and boot
	 * switches): kcr3 logical with the no-flush bit, kcr3_hw its
	 * hardware value, ucr3_keep the per-CPU user_cr3_keep's. */
	uint64_t cr3_root, kcr3, kcr3_hw, ucr3_keep;
};

enum asid_result {
	ASID_HIT,   /* ctx found in its slot */
	ASID_MISS,  /* an empty slot was used */
	ASID_EVICT, /* another ctx was evicted */
};

/*
 * Slot for ctx among n slots: its own if present, else an empty one, else
 * the round-robin victim *next_victim (advanced). Returns the index.
 */
uint32_t asid_choose(struct asid_slot *slots, uint32_t n, uint64_t ctx, uint32_t *next_victim,
		     enum asid_result *res);

enum flush_kind {
	FLUSH_NONE,  /* already up to date */
	FLUSH_PAGES, /* invalidate the request's pages */
	FLUSH_FULL,  /* invalidate the whole PCID */
};

enum full_reason {
	FULL_NONE,
	FULL_CEILING, /* the range has more pages than flush_ceiling */
	FULL_GEN_GAP, /* more than one generation behind */
	FULL_REQUEST, /* the request asked for everything */
};

/*
 * A CPU whose PCID is flushed to local_gen receives a request that moves
 * the mm to new_gen (the mm is at mm_gen now, mm_gen >= new_gen). Pages are
 * enough only when this request is the only one it missed (local_gen + 1 ==
 * new_gen == mm_gen) and the range is at most ceiling pages (pages == 0
 * means "everything").
 */
enum flush_kind flush_decide(uint64_t local_gen, uint64_t new_gen, uint64_t mm_gen, uint64_t pages,
			     uint64_t ceiling, enum full_reason *why);
