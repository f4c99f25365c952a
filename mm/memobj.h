/*
 * Memory objects: pages several address spaces map (mm/memobj.c has the
 * protocol; kernel/shm.c names them by handles).
 */
#pragma once

#include "lib/compiler.h"

struct mm;
struct memobj;

#define MEMOBJ_MAX_PAGES 512 /* 2 MiB */
#define MEMOBJ_MAX_MMS	 16  /* address spaces mapping one object at once */

struct memobj *memobj_create(uint64_t pages); /* NULL: no memory */
uint64_t memobj_pages(const struct memobj *mo);
/* Revoke: remove every mapping in every address space and free the pages,
 * returning once no CPU can use any of those translations. decommit: the
 * mappings stay, and the next touch faults in fresh zeroed pages; else
 * they are dead (a touch faults like an unmapped address) until mapped
 * anew. Returns the address spaces that had the object mapped. */
int memobj_revoke(struct memobj *mo, bool decommit, uint32_t *ipis);
/* Drop the creator's reference; each mapping holds one of its own, and
 * the object goes with the last. */
void memobj_put(struct memobj *mo);

/* For mm/vm.c, under mm->lock: */
int memobj_vma_added(struct memobj *mo, struct mm *mm, uint64_t *epoch);
void memobj_vma_gone(struct memobj *mo, struct mm *mm);
/* The page at index i for a mapping made at epoch (allocated on first
 * touch); 0 if that mapping was revoked or memory ran out. */
uint64_t memobj_page(struct memobj *mo, uint64_t epoch, uint64_t i);
