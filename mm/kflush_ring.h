/*
 * The deferred kernel flush's ring (mm/kflush_ring.c): the last KFLUSH_RING
 * kernel ranges unmapped, one generation each, so that a CPU a few
 * generations behind can flush pages instead of everything. Pure logic on
 * a ring the caller owns (mm/kflush.c), host-tested.
 */
#pragma once

#include "lib/compiler.h"
#include "mm/tlb_policy.h"

#define KFLUSH_RING 16

struct kflush_range {
	uint64_t gen;
	uint64_t start, end;
};

/*
 * Deferred kernel flush catch-up: a CPU at seen must reach gen. Pages are
 * enough when every range in (seen, gen] is still in the ring and their
 * total is at most ceiling pages.
 */
enum flush_kind kflush_decide(const struct kflush_range *ring, uint64_t seen, uint64_t gen,
			      uint64_t ceiling);

/*
 * The ring is read without the initiators' lock, so an initiator may be
 * overwriting an entry (with a newer generation) while a catching-up CPU
 * reads it. Writers store gen before start and end (kflush_ring_publish);
 * readers load start and end, then call kflush_ring_intact(), which
 * re-reads every gen in (seen, gen] after an acquire fence. false means
 * some range read may have been torn: flush everything instead.
 */
void kflush_ring_publish(struct kflush_range *ring, uint64_t gen, uint64_t start, uint64_t end);
bool kflush_ring_intact(const struct kflush_range *ring, uint64_t seen, uint64_t gen);
