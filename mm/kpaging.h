/*
 * Kernel page tables: the kernel half shared by every address space.
 *
 * kernel_root is the master PML4. Its entries 256..511 are created in
 * kpaging_init() and never change afterwards (every table below them may),
 * so an address space copies them once when it is created.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/pgtable.h"

extern paddr_t kernel_root;
extern bool kpaging_global; /* kernel mappings use the G bit (pti=off) */
extern uint64_t kpt_pages;  /* kernel page-table frames allocated after boot, never freed */

void kpaging_init(void);
/* After frame_init: page tables come from the frame allocator. */
void kpaging_frames_ready(void);

/* Map/unmap one 4 KiB kernel page. No TLB flush here: the caller owns the
 * flush (permanent mappings never need one; vmalloc uses mm/kflush.c).
 * global: use the G bit if kernel mappings are global (pti=off). Mappings
 * that are ever unmapped must not be: a global entry survives the CR3
 * writes and INVPCID single-context flushes the PCID protocol relies on
 * (SDM Vol. 3A 4.10.4.1). */
void kmap_page(uint64_t va, paddr_t pa, uint64_t flags, bool global);
/* The same, but false when a page table it needs cannot be had (no free
 * frame): for allocations that can fail (vmalloc). kmap_page panics. */
bool kmap_page_try(uint64_t va, paddr_t pa, uint64_t flags, bool global);
paddr_t kunmap_page(uint64_t va);
/* Leaf entry for va in the kernel half (NULL if not mapped), and its level. */
pte_t *kpte_lookup(uint64_t va, int *level);
/* Is [va, va + len) mapped in the kernel half (a panic report's reads of
 * frames: lib/panic.h panic_ops.readable)? Lock-free. */
bool kernel_readable(uint64_t va, uint64_t len);
/* Leaf entry for va under any root. */
pte_t *pt_lookup(paddr_t root, uint64_t va, int *level);

/* Permanent MMIO mapping; cache is PTE_CACHE_UC or PTE_CACHE_WC. */
void *ioremap(paddr_t pa, uint64_t size, uint64_t cache);
/* Firmware tables at pa: the direct map where it covers them (memmap's
 * mapped ranges), else a permanent write-back ioremap. */
const void *kmap_firmware(paddr_t pa, uint64_t size);
/* What the arch gets of mm (arch/mem.h; kernel_main registers it). */
extern const struct arch_mem_ops mm_arch_mem_ops;

/* Page-table page allocation for the kernel half (early or buddy). */
paddr_t kpt_alloc_page(void);
