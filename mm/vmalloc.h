/*
 * vmalloc-class kernel mappings: virtually contiguous, page-backed, with an
 * unmapped guard page on each side. These are the only kernel mappings that
 * are ever torn down, so they are the only ones whose TLB flush the
 * deferred kernel flush (mm/kflush.c, kflush=) may postpone.
 */
#pragma once

#include "lib/compiler.h"

void *vmalloc(size_t size); /* zeroed, NULL on failure */
void vfree(void *p);
/* Free n areas (NULL entries skipped) with one kernel flush per batch of
 * small ones, not one per area. */
void vfree_many(void *const *ps, uint32_t n);
/* Kernel stack: size bytes, guard page below (overflow faults). */
void *kstack_alloc(size_t size, int node);
void kstack_free(void *p);
/* n stacks (NULL entries skipped) with one kernel flush per KFLUSH_RING. */
void kstack_free_many(void *const *stacks, uint32_t n);

uint64_t vmalloc_pages_in_use(void);
