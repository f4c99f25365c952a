/*
 * Physical frame allocator: one buddy zone per NUMA node over the RAM the
 * memory map reports, minus reserved ranges. Frames are named by physical
 * address; struct frame (mm/buddy.h) holds per-frame metadata.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"
#include "mm/buddy.h"

#define FA_ZERO	  (1u << 0) /* clear the block */
#define FA_NOWARN (1u << 1) /* running out is expected: do not log */

void frame_init(void);
/* Returns the block's physical address, or 0 when memory is exhausted. */
paddr_t frame_alloc(unsigned order, unsigned flags);
paddr_t frame_alloc_node(unsigned order, unsigned flags, int node);
void frame_free(paddr_t pa, unsigned order);
struct frame *pa_to_frame(paddr_t pa);
bool frame_is_ram(paddr_t pa);
/* Whether pa lies in a block on a free list (any order). */
bool frame_in_free_block(paddr_t pa);

/* Free frames: in the zones and in the CPUs' page caches. */
uint64_t frames_free(void);
/* Per-CPU page caches (framecache=on): a CPU's free pages, up to
 * FRAME_CACHE_HIGH; it refills and spills FRAME_CACHE_BATCH at a time. */
#define FRAME_CACHE_BATCH 16
#define FRAME_CACHE_HIGH  64
bool frame_cache_enabled(void);
uint32_t frame_cache_pages(uint32_t cpu);
/* Give every CPU's page cache back to the zones; returns the pages moved. */
uint64_t frame_drain_caches(void);
uint64_t frames_total(void);
/* Runs buddy_check on every zone; NULL if all consistent. */
const char *frame_check(void);

static inline paddr_t page_alloc(unsigned flags)
{
	return frame_alloc(0, flags);
}

static inline void page_free(paddr_t pa)
{
	frame_free(pa, 0);
}
