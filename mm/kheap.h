/*
 * Kernel heap: object caches (slabs of one page) for small objects and
 * whole buddy blocks for large ones. kmalloc/kfree route to the power-of-two
 * caches; subsystems with hot fixed-size objects make their own cache.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/list.h"
#include "lib/spinlock.h"

struct kmem_cache {
	const char *name;
	uint32_t obj_size; /* rounded up to the alignment */
	uint32_t per_slab;
	uint32_t first_off; /* offset of the first object in a slab */
	struct spinlock lock;
	struct list_node partial; /* slabs with free objects */
	struct list_node full;
	uint64_t objs_in_use;
	uint64_t slabs;
	uint32_t unpoisoned; /* leading bytes never poisoned (free-list word, typesafe header) */
	bool typesafe;	     /* slabs never go back: see kmem_cache_init_typesafe() */
	struct kmem_cache *next; /* registry for reports */
};

void kheap_init(void);
void kmem_cache_init(struct kmem_cache *c, const char *name, uint32_t size, uint32_t align);
/*
 * A type-stable cache (Linux's SLAB_TYPESAFE_BY_RCU without the grace
 * period): its slabs are never given back, so memory that was once one of
 * its objects stays one, and the KMEM_TYPESAFE_HDR bytes after the free-list
 * word are neither poisoned nor changed by a free. A lock-free reader may
 * therefore follow a stale pointer to a freed object and read (or
 * atomically increment-if-nonzero) a counter kept there, as long as the
 * counter is 0 whenever the object is free (kernel/handle.c relies on it).
 * Its cost: the slabs of the most objects ever live at once stay held.
 */
#define KMEM_TYPESAFE_HDR 8
void kmem_cache_init_typesafe(struct kmem_cache *c, const char *name, uint32_t size,
			      uint32_t align);
void *kmem_cache_alloc(struct kmem_cache *c); /* zeroed; NULL when out of memory */
/* A cache in mm's storage for the arch (arch/mem.h cache_create); NULL
 * once the few there are have been given out. */
void *kmem_cache_create_for_arch(const char *name, uint32_t size, uint32_t align);
void *kmem_cache_alloc_for_arch(void *cache);
void kmem_cache_free(struct kmem_cache *c, void *obj);

void *kmalloc(size_t size); /* zeroed; NULL when out of memory or size is 0 */
void kfree(void *p);

/* Bytes currently handed out (objects and large blocks), for leak checks. */
uint64_t kheap_bytes_in_use(void);
uint64_t kheap_allocs_in_use(void);
/* Frames held by slabs (in use or cached empty). */
uint64_t kheap_slab_pages(void);
void kheap_print(void);
