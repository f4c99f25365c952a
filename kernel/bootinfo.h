#pragma once

#include "lib/compiler.h"

/* Parse the multiboot2 information at info_pa and keep a private copy of it
 * (the parsed pointers then refer to the copy, which stays mapped). */
void bootinfo_init(uint32_t info_pa);

struct boot_info;
/* The memory map for mm/memmap.c, from the EFI map or the e820-style one. */
void bootinfo_memmap_init(const struct boot_info *bi);
/* Boot report: bytes per EFI memory type (nothing without an EFI map). */
void bootinfo_print_efi_types(const struct boot_info *bi);
