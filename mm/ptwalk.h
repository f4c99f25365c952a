/*
 * Page-table walker for invariant checks: visits every present leaf in a
 * virtual range of a root, with the effective permissions along the path
 * (SDM Vol. 3A 4.6: a page is writable only if every level says W, user
 * only if every level says U, executable only if no level says NX).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/pgtable.h"

struct pt_leaf {
	uint64_t va;
	uint64_t size; /* 4 KiB, 2 MiB or 1 GiB */
	paddr_t pa;
	pte_t pte;
	bool write, user, exec;
};

typedef bool (*pt_leaf_fn)(const struct pt_leaf *leaf, void *ctx); /* false: stop */

/* Returns the number of leaves visited. */
uint64_t pt_walk_leaves(paddr_t root, uint64_t start, uint64_t end, pt_leaf_fn fn, void *ctx);
