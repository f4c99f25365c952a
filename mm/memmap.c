/*
 * Physical memory map (see memmap.h).
 */
#include "mm/memmap.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "lib/fmt.h"

struct memmap memmap;

static const char *reserve_why[MEMMAP_MAX];

static void add_range(struct phys_range *arr, uint32_t *n, paddr_t s, paddr_t e)
{
	if (e <= s)
		return;
	if (*n == MEMMAP_MAX)
		panic("memmap: more than %d ranges", MEMMAP_MAX);
	arr[(*n)++] = (struct phys_range){ s, e };
}

void memmap_reserve(paddr_t start, paddr_t end, const char *why)
{
	start = ALIGN_DOWN(start, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	/* Early allocations come top-down and adjacent: grow the previous one. */
	for (uint32_t i = 0; i < memmap.nr_reserved; i++) {
		struct phys_range *r = &memmap.reserved[i];

		if (reserve_why[i] == why && (r->start == end || r->end == start)) {
			r->start = MIN(r->start, start);
			r->end = MAX(r->end, end);
			return;
		}
	}
	reserve_why[memmap.nr_reserved] = why;
	add_range(memmap.reserved, &memmap.nr_reserved, start, end);
}

bool memmap_is_reserved(paddr_t pa)
{
	for (uint32_t i = 0; i < memmap.nr_reserved; i++) {
		if (pa >= memmap.reserved[i].start && pa < memmap.reserved[i].end)
			return true;
	}
	return false;
}

extern char __kernel_end[];

void memmap_init(const struct memmap_region *regions, uint32_t n, const char *source)
{
	uint32_t past = 0;
	uint64_t overlap = 0;

	memmap.source = source;
	memmap.nr_source = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct memmap_region *m = &regions[i];
		paddr_t s = m->base, e = m->base + m->len;

		if (e < s)
			continue; /* wraps: firmware bug, ignore the entry */
		/* What the direct map cannot reach is neither RAM nor mapped:
		 * a RAM entry at 2^52 sized the frame table by it and panicked,
		 * a firmware entry there was mapped at a wrapped address (found
		 * in review; regression row memmap-bad-entries). */
		if (e > DIRECT_MAP_REACH) {
			past++;
			if (s >= DIRECT_MAP_REACH)
				continue;
			e = DIRECT_MAP_REACH;
		}
		if (m->kind == MEMMAP_RAM)
			add_range(memmap.ram, &memmap.nr_ram, ALIGN_UP(s, PAGE_SIZE),
				  ALIGN_DOWN(e, PAGE_SIZE));
		/* The direct map covers RAM and the ACPI tables (read in place). */
		if (m->kind == MEMMAP_RAM || m->kind == MEMMAP_FIRMWARE)
			add_range(memmap.mapped, &memmap.nr_mapped, ALIGN_DOWN(s, PAGE_SIZE),
				  ALIGN_UP(e, PAGE_SIZE));
	}
	/* The first MiB holds BIOS data, the EBDA and our AP trampoline. */
	add_range(memmap.mapped, &memmap.nr_mapped, 0, 0x100000);
	/* The kernel image, whatever the loader called its memory: the boot
	 * patches its text through the direct map (arch/static_branch.h). */
	add_range(memmap.mapped, &memmap.nr_mapped, KERNEL_PHYS,
		  ALIGN_UP(kimage_to_phys(__kernel_end), PAGE_SIZE));
	memmap.nr_ram = ranges_normalize(memmap.ram, memmap.nr_ram);
	/* An entry that is not RAM wins over a RAM entry it overlaps: the
	 * firmware's tables or a device may be there (early allocations once
	 * landed on the ACPI tables; found in review). */
	for (uint32_t i = 0; i < n; i++) {
		const struct memmap_region *m = &regions[i];

		if (m->kind != MEMMAP_RAM && m->base + m->len > m->base)
			memmap.nr_ram = ranges_subtract(
				memmap.ram, memmap.nr_ram, MEMMAP_MAX,
				ALIGN_DOWN(m->base, PAGE_SIZE),
				ALIGN_UP(MIN(m->base + m->len, DIRECT_MAP_REACH), PAGE_SIZE),
				&overlap);
	}
	if (past)
		pr_warn("memmap: %u entr%s reach past the direct map's %lu TiB: clipped there",
			past, past == 1 ? "y" : "ies", DIRECT_MAP_REACH >> 40);
	if (overlap)
		pr_warn("memmap: %lu KiB called usable overlap entries that are not: not used",
			overlap >> 10);
	memmap.nr_mapped = ranges_normalize(memmap.mapped, memmap.nr_mapped);
	if (!memmap.nr_ram)
		panic("memmap: the boot loader reported no usable RAM");
	for (uint32_t i = 0; i < memmap.nr_ram; i++) {
		memmap.ram_bytes += memmap.ram[i].end - memmap.ram[i].start;
		if (memmap.ram[i].end > (1ull << 32))
			memmap.ram_above_4g +=
				memmap.ram[i].end - MAX(memmap.ram[i].start, 1ull << 32);
	}
	memmap.ram_top = memmap.ram[memmap.nr_ram - 1].end;

	memmap_reserve(0, 0x100000, "low memory");
	memmap_reserve(KERNEL_PHYS, kimage_to_phys(__kernel_end), "kernel image");
}

void memmap_print_source(void)
{
	pr_info("memmap: from the %s, %u region%s", memmap.source, memmap.nr_source,
		memmap.nr_source == 1 ? "" : "s");
}

void memmap_print(void)
{
	pr_info("memory: %lu MiB usable in %u ranges (%lu MiB above 4 GiB), top of RAM %#lx",
		memmap.ram_bytes >> 20, memmap.nr_ram, memmap.ram_above_4g >> 20, memmap.ram_top);
	for (uint32_t i = 0; i < memmap.nr_ram; i++)
		pr_info("  ram  %#014lx-%#014lx (%lu KiB)", memmap.ram[i].start, memmap.ram[i].end,
			(memmap.ram[i].end - memmap.ram[i].start) >> 10);
	for (uint32_t i = 0; i < memmap.nr_reserved; i++)
		pr_info("  rsvd %#014lx-%#014lx %s", memmap.reserved[i].start,
			memmap.reserved[i].end, reserve_why[i] ? reserve_why[i] : "");
}

/* Highest free page-aligned block of size bytes in [s, e), avoiding reserved ranges. */
static paddr_t carve(paddr_t s, paddr_t e, uint64_t size)
{
	paddr_t top = e;

	while (top >= s + size) {
		paddr_t cand = top - size;
		bool clash = false;

		for (uint32_t i = 0; i < memmap.nr_reserved; i++) {
			const struct phys_range *r = &memmap.reserved[i];

			if (cand < r->end && r->start < top) {
				top = r->start;
				clash = true;
				break;
			}
		}
		if (!clash)
			return cand;
	}
	return 0;
}

paddr_t early_alloc(uint64_t size, paddr_t limit)
{
	size = ALIGN_UP(size, PAGE_SIZE);
	for (int i = (int)memmap.nr_ram - 1; i >= 0; i--) {
		paddr_t s = memmap.ram[i].start, e = MIN(memmap.ram[i].end, limit);

		if (e <= s)
			continue;
		paddr_t pa = carve(s, e, size);

		if (pa) {
			memmap_reserve(pa, pa + size, "early allocation");
			memset(phys_to_virt(pa), 0, size);
			return pa;
		}
	}
	panic("early_alloc: no %lu bytes of RAM below %#lx", size, limit);
}
