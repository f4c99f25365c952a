/*
 * Multiboot2 boot information (the tags GRUB hands over), parsed once into
 * struct boot_info. Parsing is pure and host-tested: it validates every
 * tag's size against the total and ignores what it does not know.
 */
#pragma once

#include "lib/compiler.h"

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

/*
 * EFI memory types (UEFI 2.10, 7.2 EFI_BOOT_SERVICES.AllocatePages(),
 * EFI_MEMORY_TYPE) as the EFI memory map tag (type 17) carries them, in
 * descriptors of at least 40 bytes: u32 type, u32 pad, u64 physical start,
 * u64 virtual start, u64 number of 4 KiB pages, u64 attributes.
 */
#define EFI_RESERVED_TYPE	  0
#define EFI_LOADER_CODE		  1
#define EFI_LOADER_DATA		  2
#define EFI_BOOT_SERVICES_CODE	  3
#define EFI_BOOT_SERVICES_DATA	  4
#define EFI_RUNTIME_SERVICES_CODE 5
#define EFI_RUNTIME_SERVICES_DATA 6
#define EFI_CONVENTIONAL_MEMORY	  7
#define EFI_UNUSABLE_MEMORY	  8
#define EFI_ACPI_RECLAIM_MEMORY	  9
#define EFI_ACPI_MEMORY_NVS	  10
#define EFI_MEMORY_MAPPED_IO	  11
#define EFI_MEMORY_MAPPED_IO_PORT 12
#define EFI_PAL_CODE		  13
#define EFI_PERSISTENT_MEMORY	  14
#define EFI_UNACCEPTED_MEMORY	  15
#define EFI_NR_TYPES		  16
#define EFI_MEMORY_SP		  (1ull << 18) /* specific-purpose: not general RAM */

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

/*
 * The memory map the kernel trusts: the EFI memory map when the loader
 * passed one (the firmware's own map, taken at ExitBootServices), else the
 * e820-style multiboot2 map. EFI types fold into MB2_MEM_* as the memory
 * stands after ExitBootServices: loader and boot-services code and data and
 * conventional memory are usable; runtime-services code and data, MMIO,
 * reserved, PAL code, persistent, unaccepted and specific-purpose memory
 * stay reserved; ACPI reclaim is MB2_MEM_ACPI, ACPI NVS MB2_MEM_NVS and
 * unusable memory MB2_MEM_BAD. Adjacent entries of the same folded type are
 * merged. Fills up to max regions and returns the count; *source names the
 * map used; *dropped counts entries skipped (malformed, or past max).
 */
uint32_t mb2_memory_regions(const struct boot_info *bi, struct mem_region *out, uint32_t max,
			    const char **source, uint32_t *dropped);
uint32_t efi_type_to_mb2(uint32_t efi_type, uint64_t attr);
const char *efi_type_name(uint32_t efi_type);
/* EFI descriptor i of bi's EFI map (i < bi->nr_efi_mmap). */
void efi_mmap_entry(const struct boot_info *bi, uint32_t i, uint32_t *type, uint64_t *base,
		    uint64_t *pages, uint64_t *attr);

extern struct boot_info boot_info_parsed;
