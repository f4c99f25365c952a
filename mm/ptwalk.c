/*
 * Page-table walker (see ptwalk.h).
 */
#include "mm/ptwalk.h"

struct walk {
	pt_leaf_fn fn;
	void *ctx;
	uint64_t start, end;
	uint64_t count;
	bool stop;
};

static uint64_t canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16);
}

static void walk_level(struct walk *w, paddr_t table, int level, uint64_t base, bool wr, bool us,
		       bool x)
{
	const pte_t *t = pt_table(table);
	uint64_t size = pt_level_size(level);

	for (unsigned i = 0; i < PT_ENTRIES && !w->stop; i++) {
		uint64_t va = canonical(base + (uint64_t)i * size);
		pte_t e = t[i];

		if (!pte_present(e))
			continue;
		if (va + size - 1 < w->start || va >= w->end)
			continue;
		bool w2 = wr && (e & PTE_W), u2 = us && (e & PTE_U), x2 = x && !(e & PTE_NX);

		if (pte_is_leaf(e, level)) {
			struct pt_leaf leaf = {
				.va = va,
				.size = size,
				.pte = e,
				.pa = pte_addr(e) & ~(size - 1) & PTE_ADDR,
				.write = w2,
				.user = u2,
				.exec = x2,
			};

			w->count++;
			if (!w->fn(&leaf, w->ctx))
				w->stop = true;
			continue;
		}
		walk_level(w, pte_addr(e), level - 1, va, w2, u2, x2);
	}
}

uint64_t pt_walk_leaves(paddr_t root, uint64_t start, uint64_t end, pt_leaf_fn fn, void *ctx)
{
	struct walk w = { fn, ctx, start, end, 0, false };

	walk_level(&w, root, 4, 0, true, true, true);
	return w.count;
}
