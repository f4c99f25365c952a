/*
 * Multiboot2 boot information (the tags GRUB hands over), parsed once into
 * struct boot_info. Parsing is pure and host-tested: it validates every
 * tag's size against the total and ignores what it does not know.
 */
#pragma once

#include "kernel/compiler.h"

#define MB2_TAG_END	     0
#define MB2_TAG_CMDLINE	     1
#define MB2_TAG_LOADER	     2
#define MB2_TAG_MODULE	     3
#define MB2_TAG_MEMINFO	     4
#define MB2_TAG_BOOTDEV	     5
#define MB2_TAG_MMAP	     6
#define MB2_TAG_FRAMEBUFFER  8
#define MB2_TAG_ELF_SECTIONS 9
#define MB2_TAG_APM	     10
#define MB2_TAG_EFI32	     11
#define MB2_TAG_EFI64	     12
#define MB2_TAG_SMBIOS	     13
#define MB2_TAG_ACPI_OLD     14
#define MB2_TAG_ACPI_NEW     15
#define MB2_TAG_NETWORK	     16
#define MB2_TAG_EFI_MMAP     17
#define MB2_TAG_EFI_BS	     18
#define MB2_TAG_EFI32_IH     19
#define MB2_TAG_EFI64_IH     20
#define MB2_TAG_LOAD_BASE    21

/* Multiboot2 memory types. */
#define MB2_MEM_AVAILABLE 1
#define MB2_MEM_RESERVED  2
#define MB2_MEM_ACPI	  3
#define MB2_MEM_NVS	  4
#define MB2_MEM_BAD	  5

#define BOOT_MAX_MMAP	 256
#define BOOT_MAX_MODULES 32

struct mem_region {
	uint64_t base, len;
	uint32_t type; /* MB2_MEM_* */
};

struct boot_module {
	uint64_t start, end; /* physical */
	char name[64];	     /* first word of the module's command line */
	const char *cmdline; /* full command line (inside the boot info) */
};

struct boot_fb {
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, type; /* type 1 = RGB, 2 = EGA text */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_info {
	const char *cmdline;
	const char *loader;
	uint32_t nr_mmap;
	struct mem_region mmap[BOOT_MAX_MMAP];
	uint32_t nr_modules;
	struct boot_module modules[BOOT_MAX_MODULES];
	bool has_fb;
	struct boot_fb fb;
	const void *rsdp; /* copy of the RSDP inside the boot info */
	uint32_t rsdp_len;
	bool rsdp_v2;
	bool efi; /* booted through UEFI (an EFI system table tag) */
	uint64_t efi_system_table;
	uint32_t nr_efi_mmap; /* EFI memory map descriptors found */
	const void *efi_mmap;
	uint32_t efi_desc_size;
	uint32_t warnings; /* malformed tags skipped */
};

/*
 * Parse the boot information at info (total size in its first word). Pure:
 * pointers in the result point into the info block. Returns false if the
 * block itself is unusable.
 */
bool mb2_parse(const void *info, struct boot_info *out);
const char *mb2_mem_type_name(uint32_t type);

extern struct boot_info boot_info_parsed;
