/*
 * Memory the arch asks of mm (interface). The arch stands below mm and
 * names none of its functions: mm fills struct arch_mem_ops (mm/kpaging.c
 * mm_arch_mem_ops) and kernel_main registers it first thing, before any
 * table or register is mapped; the arch calls through its copy, arch_mem
 * (arch/x86/mem.c). Its users: ACPI (tables, the HPET), the local and I/O
 * APICs (registers), the IDT's alias, the cross-CPU call slots, SMP start-up and topology
 * (scratch arrays), extended state (its buffers: a cache of the base
 * size, the heap for larger ones). Nothing on a per-operation path but a
 * new thread's extended-state buffer, whose call through the copy is one
 * instruction as a direct call is.
 */
#pragma once

#include "lib/compiler.h"

struct arch_mem_ops {
	/* A permanent mapping of device registers; cache is PTE_CACHE_UC, WC
	 * or WB (arch/pgtable.h); panics when the area is exhausted
	 * (mm/kpaging.c ioremap). */
	void *(*map_mmio)(uint64_t pa, uint64_t size, uint64_t cache);
	/* Firmware tables at pa: the direct map where it covers them, else a
	 * permanent write-back mapping (mm/kpaging.c kmap_firmware). */
	const void *(*map_firmware)(uint64_t pa, uint64_t size);
	/* Map one kernel page at va (the IDT's alias in the entry area);
	 * flags beside present (PTE_NX, ...), global as kernel mappings are
	 * (mm/kpaging.c kmap_page). */
	void (*map_page)(uint64_t va, uint64_t pa, uint64_t flags, bool global);
	/* [pa, pa + size) lies in one range of usable RAM the firmware
	 * reported (mm/memmap.c's ram ranges; SMP start-up places its
	 * trampoline in low memory with it). */
	bool (*is_ram)(uint64_t pa, uint64_t size);
	/* The kernel heap: zeroed, NULL when out of memory or size is 0;
	 * free takes either kind of block (mm/kheap.c kmalloc, kfree). */
	void *(*alloc)(size_t size);
	void (*free)(void *p);
	/* A cache of equal objects of size bytes, aligned to align, for the
	 * life of the kernel (a handle, NULL if none is left), and one zeroed
	 * object from it (NULL when out of memory); free takes the objects
	 * back (mm/kheap.c kmem_cache, in storage of mm's). */
	void *(*cache_create)(const char *name, uint32_t size, uint32_t align);
	void *(*cache_alloc)(void *cache);
};

extern struct arch_mem_ops arch_mem;
/* Copy ops into arch_mem; every field must be set. */
void arch_mem_init(const struct arch_mem_ops *ops);
