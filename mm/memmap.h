/*
 * Physical memory map and the early allocator.
 *
 * Built from the regions the boot order hands over (kernel/main.c reads
 * them from the EFI memory map when the loader passed one, else from the
 * multiboot2 e820-style map: kernel/multiboot2.c): a sorted list of RAM
 * ranges, and a list of reserved ranges (kernel image, boot information,
 * modules, low 1 MiB, early allocations) that the frame allocator must
 * never hand out.
 *
 * early_alloc() serves page tables and the frame table before the buddy
 * allocator exists: it carves from the top of the highest usable range below
 * a limit and records the carve-out as reserved.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"
#include "mm/ranges.h"

#define MEMMAP_MAX 512

struct memmap {
	uint32_t nr_ram;
	struct phys_range ram[MEMMAP_MAX]; /* usable RAM, page aligned, sorted */
	uint32_t nr_mapped;
	struct phys_range mapped[MEMMAP_MAX]; /* what the direct map covers */
	uint32_t nr_reserved;
	struct phys_range reserved[MEMMAP_MAX];
	paddr_t ram_top; /* end of the highest RAM range */
	uint64_t ram_bytes;
	uint64_t ram_above_4g; /* usable bytes at or above 4 GiB */
	const char *source;    /* which map: "EFI memory map", "multiboot2 ..." */
	uint32_t nr_source;    /* regions read from it (after merging) */
};

extern struct memmap memmap;

/* What the firmware said a region of the physical address space is. */
enum memmap_kind {
	MEMMAP_RAM,	 /* usable */
	MEMMAP_FIRMWARE, /* ACPI tables or NVS: mapped (read in place), not RAM */
	MEMMAP_OTHER,	 /* reserved, MMIO, bad: neither */
};

struct memmap_region {
	uint64_t base, len;
	enum memmap_kind kind;
};

/* From the loader's n regions (source names the map, for the report). */
void memmap_init(const struct memmap_region *r, uint32_t n, const char *source);
void memmap_reserve(paddr_t start, paddr_t end, const char *why);
bool memmap_is_reserved(paddr_t pa);
/* Page-aligned allocation below limit; panics when memory is exhausted. */
paddr_t early_alloc(uint64_t size, paddr_t limit);
/* The report: the map's source and region count, then (after whatever the
 * caller prints between, e.g. EFI types) RAM and reserved ranges. */
void memmap_print_source(void);
void memmap_print(void);
