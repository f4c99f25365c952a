/*
 * Physical address ranges: [start, end), and the one operation on a list
 * of them that the memory map needs (sort, merge, drop the empty).
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
