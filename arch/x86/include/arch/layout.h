/*
 * The kernel's virtual address map (4-level paging, 48-bit addresses): x86-64
 * (interface).
 *
 *   0x0000000000000000 - 0x00007fffffffffff  user space (PML4 0..255)
 *   0xffff800000000000 - 0xffffbfffffffffff  direct map of all RAM (PML4 256..383)
 *   0xffffc00000000000 - 0xffffc07fffffffff  vmalloc-class area (PML4 384): the only
 *                                            kernel mappings that are ever torn down;
 *                                            their flushes may be deferred (kflush=)
 *   0xffffd00000000000 - 0xffffd07fffffffff  ioremap area (PML4 416): permanent MMIO
 *   0xfffffe0000000000 - 0xfffffe7fffffffff  entry area (PML4 508): per-CPU areas
 *                                            (entry page, stacks) and the IDT; the parts
 *                                            the entry code needs are also mapped in the
 *                                            PTI user root
 *   0xffffffff80000000 - 0xffffffffffffffff  kernel image (PML4 511), loaded at
 *                                            physical KERNEL_PHYS
 *
 * The kernel-half PML4 entries are created at boot and never change, so every
 * address space's kernel root can copy them once.
 */
#pragma once

#define KERNEL_VMA	      0xffffffff80000000
#define KERNEL_PHYS	      0x200000
#define DIRECT_MAP_BASE	      0xffff800000000000
#define DIRECT_MAP_PML4_FIRST 256
#define DIRECT_MAP_PML4_LAST  383
#define VMALLOC_BASE	      0xffffc00000000000
/* Physical addresses the direct map reaches: [0, DIRECT_MAP_REACH), 64 TiB. */
#define DIRECT_MAP_REACH      (VMALLOC_BASE - DIRECT_MAP_BASE)
#define VMALLOC_SIZE	      0x0000008000000000
#define IOREMAP_BASE	      0xffffd00000000000
#define IOREMAP_SIZE	      0x0000008000000000
#define ENTRY_AREA_BASE	      0xfffffe0000000000
#define ENTRY_AREA_SIZE	      0x0000008000000000
/* The per-CPU areas, at arch/percpu.h's PERCPU_AREA_OFFSET in the entry
 * area (checked in kernel/percpu_area.c). */
#define PERCPU_AREA_BASE      (ENTRY_AREA_BASE + 0x200000)
#define USER_TOP	      0x0000800000000000

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096

#ifndef __ASSEMBLER__
#include "lib/compiler.h"

typedef uint64_t paddr_t;

static inline void *phys_to_virt(paddr_t p)
{
	return (void *)(p + DIRECT_MAP_BASE);
}

static inline paddr_t virt_to_phys(const void *v)
{
	uintptr_t a = (uintptr_t)v;

	if (a >= KERNEL_VMA)
		return a - KERNEL_VMA;
	return a - DIRECT_MAP_BASE;
}

/* Kernel image addresses (linked high, loaded at KERNEL_PHYS). */
static inline paddr_t kimage_to_phys(const void *v)
{
	return (uintptr_t)v - KERNEL_VMA;
}
#endif
