/*
 * Boot information: the multiboot2 block GRUB left in low memory is parsed
 * in place (through the boot direct map of 0..4 GiB), then copied into the
 * kernel's .bss so that nothing depends on where GRUB put it.
 */
#include "kernel/bootinfo.h"
#include "kernel/multiboot2.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "arch/layout.h"
#include "mm/memmap.h"
#include "lib/cmdline.h"

#define BOOTINFO_MAX (128 * 1024)

struct boot_info boot_info_parsed;
static uint8_t info_copy[BOOTINFO_MAX] __aligned(8);

void bootinfo_init(uint32_t info_pa)
{
	const void *info = phys_to_virt(info_pa);
	uint32_t total = *(const uint32_t *)info;

	if (total > BOOTINFO_MAX)
		panic("multiboot2 information is %u bytes; at most %u supported", total,
		      BOOTINFO_MAX);
	memcpy(info_copy, info, total);
	if (!mb2_parse(info_copy, &boot_info_parsed))
		panic("multiboot2 information block is unusable (size %u)", total);
}

/* memmap_inject=bad (testing only): the loader's map plus entries broken
 * firmware reports, for mm/memmap.c to clip and drop: RAM and ACPI
 * entries at 2^52 (past the direct map), and a RAM entry over every entry
 * below 4 GiB that is not RAM (the ACPI tables among them). */
static bool memmap_inject;
KSWITCH_BOOL(memmap_inject, "memmap_inject",
	     "add broken memory-map entries to test their sanitising (testing only)");

static uint32_t inject_bad_regions(struct memmap_region *out, uint32_t n, uint32_t max)
{
	uint32_t orig = n;

	pr_warn("memmap: memmap_inject: broken entries added on purpose (fault injection)");
	if (n < max)
		out[n++] = (struct memmap_region){ 1ull << 52, 2ull << 20, MEMMAP_RAM };
	if (n < max)
		out[n++] = (struct memmap_region){ (1ull << 52) + (4ull << 20), 1ull << 20,
						   MEMMAP_FIRMWARE };
	for (uint32_t i = 0; i < orig && n < max; i++)
		if (out[i].kind != MEMMAP_RAM && out[i].base + out[i].len <= (1ull << 32))
			out[n++] = (struct memmap_region){ out[i].base, out[i].len, MEMMAP_RAM };
	return n;
}

/* The loader's memory map, handed to mm/memmap.c in its own terms; the
 * boot modules are reserved there too. */
void bootinfo_memmap_init(const struct boot_info *bi)
{
	static struct mem_region regions[MEMMAP_MAX];
	static struct memmap_region out[MEMMAP_MAX];
	const char *source;
	uint32_t dropped;
	uint32_t n = mb2_memory_regions(bi, regions, MEMMAP_MAX, &source, &dropped);

	if (dropped)
		pr_warn("memmap: %u entr%s of the %s skipped (malformed or too many)", dropped,
			dropped == 1 ? "y" : "ies", source);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = regions[i].type;

		out[i].base = regions[i].base;
		out[i].len = regions[i].len;
		out[i].kind = t == MB2_MEM_AVAILABLE		      ? MEMMAP_RAM
			      : t == MB2_MEM_ACPI || t == MB2_MEM_NVS ? MEMMAP_FIRMWARE
								      : MEMMAP_OTHER;
	}
	if (memmap_inject)
		n = inject_bad_regions(out, n, MEMMAP_MAX);
	memmap_init(out, n, source);
	for (uint32_t i = 0; i < bi->nr_modules; i++)
		memmap_reserve(bi->modules[i].start, bi->modules[i].end, "boot module");
}

/* Under UEFI: how much of each EFI type the firmware reported. */
void bootinfo_print_efi_types(const struct boot_info *bi)
{
	uint64_t bytes[EFI_NR_TYPES + 1] = { 0 };
	char line[160];
	size_t used = 0;

	for (uint32_t i = 0; i < bi->nr_efi_mmap; i++) {
		uint32_t type;
		uint64_t base, pages, attr;

		efi_mmap_entry(bi, i, &type, &base, &pages, &attr);
		if (pages < (1ull << 40))
			bytes[MIN(type, (uint32_t)EFI_NR_TYPES)] += pages << 12;
	}
	for (uint32_t t = 0; t <= EFI_NR_TYPES; t++) {
		if (!bytes[t])
			continue;
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s %lu KiB",
					 used ? ", " : "", efi_type_name(t), bytes[t] >> 10);
		if (used > 90) {
			pr_info("  efi: %s", line);
			used = 0;
		}
	}
	if (used)
		pr_info("  efi: %s", line);
}
