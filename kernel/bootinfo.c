/*
 * Boot information: the multiboot2 block GRUB left in low memory is parsed
 * in place (through the boot direct map of 0..4 GiB), then copied into the
 * kernel's .bss so that nothing depends on where GRUB put it.
 */
#include "kernel/bootinfo.h"
#include "kernel/multiboot2.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "arch/layout.h"

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
