/*
 * Binary buddy allocator over an array of frame descriptors. Pure logic,
 * host-tested: it never touches the memory it manages, only struct frame.
 *
 * Invariants (buddy_check verifies them):
 *   - every free block of order k starts at a zone-relative index that is a
 *     multiple of 2^k, has FRAME_FREE and order k on its head frame only,
 *     and is on free[k];
 *   - two free buddies of the same order never coexist (they are merged);
 *   - free_pages == sum over k of nr_free[k] * 2^k.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/list.h"

#define BUDDY_ORDERS 11 /* blocks of 2^0 .. 2^10 pages (4 KiB .. 4 MiB) */

#define FRAME_FREE     (1u << 0) /* head of a free block */
#define FRAME_RESERVED (1u << 1) /* never handed out */
#define FRAME_TAIL     (1u << 2) /* inside a block: allocated, or merged free */
#define FRAME_PGTABLE  (1u << 3) /* holds a page table */
#define FRAME_SLAB     (1u << 4) /* kernel heap slab */
#define FRAME_USER     (1u << 5) /* mapped into user space */
#define FRAME_KSTACK   (1u << 6)
#define FRAME_CACHED   (1u << 7) /* free, on a CPU's page cache (mm/frame.c): not the buddy's */

struct frame {
	struct list_node link; /* free list, or the owner's list */
	uint32_t flags;
	uint8_t order;	   /* block order (head frames) */
	uint8_t node;	   /* NUMA node */
	uint16_t pt_used;  /* page tables: present entries */
	uint32_t mapcount; /* user mappings of this frame */
	uint32_t owner;	   /* debugging tag: who allocated it */
};
_Static_assert(sizeof(struct frame) == 32, "struct frame is 32 bytes");

struct buddy_zone {
	uint64_t base_pfn; /* aligned to 2^(BUDDY_ORDERS-1) */
	uint64_t nr_pfns;
	struct frame *frames; /* frames[i] describes base_pfn + i */
	struct list_node free[BUDDY_ORDERS];
	uint64_t nr_free[BUDDY_ORDERS];
	uint64_t free_pages;
};

/* All frames start reserved; buddy_release_range() makes pages usable. */
void buddy_init(struct buddy_zone *z, struct frame *frames, uint64_t base_pfn, uint64_t nr_pfns);
void buddy_release_range(struct buddy_zone *z, uint64_t pfn, uint64_t count);
/* Returns the zone-relative index of the block, or -1. */
int64_t buddy_alloc(struct buddy_zone *z, unsigned order);
void buddy_free(struct buddy_zone *z, uint64_t idx, unsigned order);
/* Returns NULL if consistent, else a description of the first violation. */
const char *buddy_check(const struct buddy_zone *z);
