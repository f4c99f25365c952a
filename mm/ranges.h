/*
 * Physical address ranges: [start, end), and the operations on a list of
 * them that the memory map needs: sort, merge, drop the empty; take one
 * range out.
 *
 * Pure: no kernel state, host-tested (tests/test_ranges.c).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"

struct phys_range {
	paddr_t start, end; /* [start, end) */
};

/* Sort r[0..n) by start, merge overlapping and touching ranges, drop empty
 * ones (end <= start), in place; returns how many remain. */
uint32_t ranges_normalize(struct phys_range *r, uint32_t n);

/* Take [s, e) out of the normalized list r[0..n), which has room for max:
 * a range that holds it on both sides splits in two (when the list is
 * full, the upper part is dropped too: less RAM, never more). Adds the
 * bytes taken out to *removed; returns the new count, still normalized. */
uint32_t ranges_subtract(struct phys_range *r, uint32_t n, uint32_t max, paddr_t s, paddr_t e,
			 uint64_t *removed);
