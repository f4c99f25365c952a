/*
 * Binary buddy allocator (see buddy.h). Locking is the caller's (mm/frame.c
 * holds the zone lock around every call).
 */
#include "mm/buddy.h"

void buddy_init(struct buddy_zone *z, struct frame *frames, uint64_t base_pfn, uint64_t nr_pfns)
{
	z->base_pfn = base_pfn;
	z->nr_pfns = nr_pfns;
	z->frames = frames;
	z->free_pages = 0;
	for (unsigned k = 0; k < BUDDY_ORDERS; k++) {
		list_init(&z->free[k]);
		z->nr_free[k] = 0;
	}
	for (uint64_t i = 0; i < nr_pfns; i++) {
		list_init(&frames[i].link);
		frames[i].flags = FRAME_RESERVED;
		frames[i].order = 0;
		frames[i].pt_used = 0;
		frames[i].mapcount = 0;
		frames[i].owner = 0;
	}
}

static void push_free(struct buddy_zone *z, uint64_t idx, unsigned order)
{
	struct frame *f = &z->frames[idx];

	f->flags = FRAME_FREE;
	f->order = (uint8_t)order;
	list_add_head(&z->free[order], &f->link);
	z->nr_free[order]++;
	z->free_pages += 1ull << order;
}

static void pop_free(struct buddy_zone *z, uint64_t idx, unsigned order)
{
	struct frame *f = &z->frames[idx];

	list_del(&f->link);
	f->flags = 0;
	z->nr_free[order]--;
	z->free_pages -= 1ull << order;
}

static bool is_free_block(const struct buddy_zone *z, uint64_t idx, unsigned order)
{
	const struct frame *f = &z->frames[idx];

	return idx < z->nr_pfns && (f->flags & FRAME_FREE) && f->order == order;
}

void buddy_free(struct buddy_zone *z, uint64_t idx, unsigned order)
{
	for (uint64_t i = 1; i < (1ull << order); i++)
		z->frames[idx + i].flags = 0;
	while (order < BUDDY_ORDERS - 1) {
		uint64_t buddy = idx ^ (1ull << order);

		if (buddy + (1ull << order) > z->nr_pfns || !is_free_block(z, buddy, order))
			break;
		pop_free(z, buddy, order);
		/* The upper head of the pair is inside the merged block now:
		 * say so, so that a second free of it is caught as one of a
		 * frame inside another block (found in review: with flags 0
		 * and its old order it passed every check of frame_free() and
		 * went onto a free list twice). */
		z->frames[idx | (1ull << order)].flags = FRAME_TAIL;
		idx &= ~(1ull << order);
		order++;
	}
	push_free(z, idx, order);
}

int64_t buddy_alloc(struct buddy_zone *z, unsigned order)
{
	unsigned k = order;

	while (k < BUDDY_ORDERS && list_empty(&z->free[k]))
		k++;
	if (k == BUDDY_ORDERS)
		return -1;
	struct frame *f = list_entry(z->free[k].next, struct frame, link);
	uint64_t idx = (uint64_t)(f - z->frames);

	pop_free(z, idx, k);
	/* Split: hand the upper halves back. */
	while (k > order) {
		k--;
		push_free(z, idx + (1ull << k), k);
	}
	f->order = (uint8_t)order;
	f->flags = 0;
	for (uint64_t i = 1; i < (1ull << order); i++)
		z->frames[idx + i].flags = FRAME_TAIL;
	return (int64_t)idx;
}

void buddy_release_range(struct buddy_zone *z, uint64_t pfn, uint64_t count)
{
	uint64_t idx = pfn - z->base_pfn, end = idx + count;

	/* Free the largest aligned blocks that fit; buddy_free merges the rest. */
	while (idx < end) {
		unsigned order = BUDDY_ORDERS - 1;

		while (order && ((idx & ((1ull << order) - 1)) || idx + (1ull << order) > end))
			order--;
		for (uint64_t i = 0; i < (1ull << order); i++)
			z->frames[idx + i].flags = 0;
		buddy_free(z, idx, order);
		idx += 1ull << order;
	}
}

const char *buddy_check(const struct buddy_zone *z)
{
	uint64_t total = 0;

	for (unsigned k = 0; k < BUDDY_ORDERS; k++) {
		uint64_t n = 0;
		const struct list_node *pos;

		list_for_each (pos, &z->free[k]) {
			const struct frame *f = list_entry(pos, struct frame, link);
			uint64_t idx = (uint64_t)(f - z->frames);

			if (idx >= z->nr_pfns)
				return "free block outside the zone";
			if (!(f->flags & FRAME_FREE) || f->order != k)
				return "free-list entry without FRAME_FREE/order";
			if (idx & ((1ull << k) - 1))
				return "misaligned free block";
			if (idx + (1ull << k) > z->nr_pfns)
				return "free block runs past the zone";
			for (uint64_t i = 1; i < (1ull << k); i++) {
				if (z->frames[idx + i].flags & (FRAME_FREE | FRAME_RESERVED))
					return "free block overlaps another block";
			}
			if (k < BUDDY_ORDERS - 1) {
				uint64_t b = idx ^ (1ull << k);

				if (b + (1ull << k) <= z->nr_pfns && is_free_block(z, b, k))
					return "unmerged free buddies";
			}
			n++;
		}
		if (n != z->nr_free[k])
			return "nr_free does not match the list";
		total += n << k;
	}
	if (total != z->free_pages)
		return "free_pages does not match the lists";
	return NULL;
}
