// uses: kernel/multiboot2.c lib/string.c
/* Multiboot2 tag parsing: a well-formed block, and malformed ones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <stdint.h>
#include <signal.h>
#include <unistd.h>
#include "kernel/multiboot2.h"

static uint8_t blk[4096] __attribute__((aligned(8)));
static size_t used;
static struct boot_info bi;

static void begin(void)
{
	memset(blk, 0, sizeof(blk));
	used = 8;
}

static uint8_t *tag(uint32_t type, uint32_t size)
{
	uint8_t *p = blk + used;

	memcpy(p, &type, 4);
	memcpy(p + 4, &size, 4);
	used += (size + 7) & ~7u;
	return p;
}

static void end(void)
{
	tag(0, 8);
	uint32_t total = (uint32_t)used;

	memcpy(blk, &total, 4);
}

static void add_cmdline(const char *s)
{
	uint8_t *p = tag(MB2_TAG_CMDLINE, 8 + (uint32_t)strlen(s) + 1);

	strcpy((char *)p + 8, s);
}

static void test_full_block(void **state)
{
	(void)state;
	begin();
	add_cmdline("pti=off asids=6");
	uint8_t *m = tag(MB2_TAG_MODULE, 16 + 14);
	uint32_t ms = 0x400000, me = 0x401000;

	memcpy(m + 8, &ms, 4);
	memcpy(m + 12, &me, 4);
	strcpy((char *)m + 16, "/boot/init x");
	uint8_t *mm = tag(MB2_TAG_MMAP, 16 + 2 * 24);
	uint32_t esize = 24, ever = 0;

	memcpy(mm + 8, &esize, 4);
	memcpy(mm + 12, &ever, 4);
	uint64_t b0 = 0, l0 = 0x9f000, b1 = 0x100000, l1 = 0x7f00000;
	uint32_t t1 = 1, t2 = 1;

	memcpy(mm + 16, &b0, 8);
	memcpy(mm + 24, &l0, 8);
	memcpy(mm + 32, &t1, 4);
	memcpy(mm + 40, &b1, 8);
	memcpy(mm + 48, &l1, 8);
	memcpy(mm + 56, &t2, 4);
	uint8_t *rs = tag(MB2_TAG_ACPI_OLD, 8 + 20);

	memcpy(rs + 8, "RSD PTR ", 8);
	uint8_t *rx = tag(MB2_TAG_ACPI_NEW, 8 + 36);

	memcpy(rx + 8, "RSD PTR ", 8);
	tag(MB2_TAG_EFI64, 16);
	end();

	assert_true(mb2_parse(blk, &bi));
	assert_string_equal(bi.cmdline, "pti=off asids=6");
	assert_int_equal(bi.nr_modules, 1);
	assert_string_equal(bi.modules[0].name, "init");
	assert_int_equal(bi.modules[0].start, 0x400000);
	assert_int_equal(bi.nr_mmap, 2);
	assert_int_equal(bi.mmap[1].base, 0x100000);
	assert_true(bi.rsdp_v2);
	assert_int_equal(bi.rsdp_len, 36);
	assert_true(bi.efi);
	assert_int_equal(bi.warnings, 0);
}

static void test_truncated_tag(void **state)
{
	(void)state;
	begin();
	add_cmdline("a=b");
	uint8_t *p = tag(MB2_TAG_MMAP, 16);
	uint32_t huge = 4000;

	memcpy(p + 4, &huge, 4); /* claims to run past the block */
	end();
	assert_true(mb2_parse(blk, &bi));
	assert_string_equal(bi.cmdline, "a=b");
	assert_int_equal(bi.nr_mmap, 0);
	assert_true(bi.warnings > 0);
}

static void parse_hung(int sig)
{
	static const char m[] = "mb2_parse did not return within 2 s\n";

	(void)sig;
	(void)!write(2, m, sizeof(m) - 1);
	_exit(9);
}

/* A block of one tag of the given type whose size field is size (its
 * bytes past the 16 written run past the block: only the size says so). */
static bool parse_one_tag(uint32_t type, uint32_t size)
{
	begin();
	uint8_t *p = tag(type, 16);

	memcpy(p + 4, &size, 4);
	end();
	signal(SIGALRM, parse_hung);
	alarm(2);
	bool ok = mb2_parse(blk, &bi);

	alarm(0);
	return ok;
}

/*
 * Regression mb2_tag_size_wraps (found in review): the bound
 * off + tag->size > total wrapped for a size near 2^32. An unknown tag of
 * size 0xfffffff9 passed it and its aligned size wrapped to 0, so the
 * parse looped for ever; a command line of size 0xfffffff8 passed it and
 * was read 4 GiB past the block. Both are truncated tags: a warning.
 */
static void test_tag_size_wraps(void **state)
{
	(void)state;
	parse_one_tag(0x1234, 0xfffffff9u);
	assert_true(bi.warnings > 0);
	parse_one_tag(MB2_TAG_CMDLINE, 0xfffffff8u);
	assert_true(bi.warnings > 0);
	assert_string_equal(bi.cmdline, "");
	parse_one_tag(MB2_TAG_MMAP, 0xfffffff8u);
	assert_true(bi.warnings > 0);
	assert_int_equal(bi.nr_mmap, 0);
}

/* The memory map's entry size near 2^32: off + esize wrapped, and entries
 * were read from inside the tag's header. None may be taken. */
static void test_mmap_entry_size_wraps(void **state)
{
	(void)state;
	begin();
	uint8_t *p = tag(MB2_TAG_MMAP, 40);
	uint32_t esize = 0xfffffff8u;

	memcpy(p + 8, &esize, 4);
	end();
	assert_true(mb2_parse(blk, &bi));
	assert_int_equal(bi.nr_mmap, 0);
}

static void test_unterminated_strings(void **state)
{
	(void)state;
	begin();
	uint8_t *p = tag(MB2_TAG_CMDLINE, 12);

	memcpy(p + 8, "abcd", 4); /* no NUL inside the tag */
	uint8_t *m = tag(MB2_TAG_MODULE, 20);

	memset(m + 8, 'x', 12);
	end();
	assert_true(mb2_parse(blk, &bi));
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(bi.nr_modules, 0);
	assert_int_equal(bi.warnings, 2);
}

static void test_module_end_before_start(void **state)
{
	(void)state;
	begin();
	uint8_t *m = tag(MB2_TAG_MODULE, 16 + 2);
	uint32_t ms = 0x5000, me = 0x4000;

	memcpy(m + 8, &ms, 4);
	memcpy(m + 12, &me, 4);
	strcpy((char *)m + 16, "x");
	end();
	assert_true(mb2_parse(blk, &bi));
	assert_int_equal(bi.nr_modules, 0);
	assert_int_equal(bi.warnings, 1);
}

static void test_bad_total_size(void **state)
{
	(void)state;
	begin();
	uint32_t total = 4;

	memcpy(blk, &total, 4);
	assert_false(mb2_parse(blk, &bi));
}

static void test_no_end_tag(void **state)
{
	(void)state;
	begin();
	add_cmdline("x=1");
	uint32_t total = (uint32_t)used;

	memcpy(blk, &total, 4);
	assert_true(mb2_parse(blk, &bi));
	assert_string_equal(bi.cmdline, "x=1");
	assert_int_equal(bi.warnings, 1);
}

/* A synthetic EFI memory map (48-byte descriptors, as OVMF hands them over)
 * beside an e820-style map that disagrees with it: the EFI map wins. */
struct efi_desc {
	uint32_t type, pad;
	uint64_t phys, virt, pages, attr;
	uint64_t extra; /* descriptor size 48: the parser must stride by it */
};

static void add_efi_mmap(const struct efi_desc *d, uint32_t n)
{
	uint8_t *p = tag(MB2_TAG_EFI_MMAP, 16 + n * (uint32_t)sizeof(*d));
	uint32_t dsize = sizeof(*d), dver = 1;

	memcpy(p + 8, &dsize, 4);
	memcpy(p + 12, &dver, 4);
	memcpy(p + 16, d, n * sizeof(*d));
}

static void add_e820(uint64_t base, uint64_t len)
{
	uint8_t *mm = tag(MB2_TAG_MMAP, 16 + 24);
	uint32_t esize = 24, ever = 0, type = MB2_MEM_AVAILABLE;

	memcpy(mm + 8, &esize, 4);
	memcpy(mm + 12, &ever, 4);
	memcpy(mm + 16, &base, 8);
	memcpy(mm + 24, &len, 8);
	memcpy(mm + 32, &type, 4);
}

static void test_efi_map_preferred(void **state)
{
	(void)state;
	static const struct efi_desc d[] = {
		{ .type = EFI_BOOT_SERVICES_CODE, .phys = 0x0, .pages = 0xa0 },
		{ .type = EFI_CONVENTIONAL_MEMORY, .phys = 0x100000, .pages = 0x100 },
		{ .type = EFI_LOADER_DATA, .phys = 0x200000, .pages = 0x100 },
		{ .type = EFI_BOOT_SERVICES_DATA, .phys = 0x300000, .pages = 0x100 },
		{ .type = EFI_RUNTIME_SERVICES_CODE, .phys = 0x400000, .pages = 0x10 },
		{ .type = EFI_RUNTIME_SERVICES_DATA, .phys = 0x410000, .pages = 0x10 },
		{ .type = EFI_ACPI_RECLAIM_MEMORY, .phys = 0x420000, .pages = 0x10 },
		{ .type = EFI_ACPI_MEMORY_NVS, .phys = 0x430000, .pages = 0x10 },
		{ .type = EFI_UNUSABLE_MEMORY, .phys = 0x440000, .pages = 0x10 },
		{ .type = EFI_MEMORY_MAPPED_IO, .phys = 0xfec00000, .pages = 0x1 },
		{ .type = EFI_CONVENTIONAL_MEMORY, .phys = 0x100000000ull, .pages = 0x40000 },
		{ .type = EFI_CONVENTIONAL_MEMORY,
		  .phys = 0x140000000ull,
		  .pages = 0x100,
		  .attr = EFI_MEMORY_SP },
		{ .type = EFI_MEMORY_MAPPED_IO, .phys = 0x380000000000ull, .pages = 0x1000 },
		{ .type = EFI_PERSISTENT_MEMORY, .phys = 0x200000000ull, .pages = 0x100 },
		{ .type = EFI_CONVENTIONAL_MEMORY, .phys = 0x300000000ull, .pages = 1ull << 60 },
	};
	struct mem_region r[32];
	const char *src;
	uint32_t dropped;

	begin();
	add_e820(0x100000, 0x7f00000); /* the e820 view: one range, must be ignored */
	add_efi_mmap(d, sizeof(d) / sizeof(d[0]));
	end();
	assert_true(mb2_parse(blk, &bi));
	assert_true(bi.efi);
	assert_int_equal(bi.nr_efi_mmap, 15);
	uint32_t n = mb2_memory_regions(&bi, r, 32, &src, &dropped);

	assert_string_equal(src, "EFI memory map");
	assert_int_equal(dropped, 1); /* the 2^60-page descriptor */
	/* Boot services, conventional and loader memory merge into one usable
	 * run; what follows keeps its class. */
	const struct mem_region want[] = {
		{ 0x0, 0xa0000, MB2_MEM_AVAILABLE },
		{ 0x100000, 0x300000, MB2_MEM_AVAILABLE },
		{ 0x400000, 0x20000, MB2_MEM_RESERVED }, /* runtime code + data */
		{ 0x420000, 0x10000, MB2_MEM_ACPI },
		{ 0x430000, 0x10000, MB2_MEM_NVS },
		{ 0x440000, 0x10000, MB2_MEM_BAD },
		{ 0xfec00000, 0x1000, MB2_MEM_RESERVED },
		{ 0x100000000ull, 0x40000000ull, MB2_MEM_AVAILABLE },
		{ 0x140000000ull, 0x100000, MB2_MEM_RESERVED }, /* specific-purpose */
		{ 0x380000000000ull, 0x1000000, MB2_MEM_RESERVED },
		{ 0x200000000ull, 0x100000, MB2_MEM_RESERVED },
	};
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(r[i].base, want[i].base);
		assert_int_equal(r[i].len, want[i].len);
		assert_int_equal(r[i].type, want[i].type);
	}
	/* Too little room: what fits, the rest counted. */
	n = mb2_memory_regions(&bi, r, 3, &src, &dropped);
	assert_int_equal(n, 3);
	assert_int_equal(dropped, 1 + 8);
}

static void test_e820_without_efi_map(void **state)
{
	(void)state;
	struct mem_region r[4];
	const char *src;
	uint32_t dropped;

	begin();
	add_e820(0x100000, 0x7f00000);
	tag(MB2_TAG_EFI64, 16); /* UEFI, but no EFI map tag */
	end();
	assert_true(mb2_parse(blk, &bi));
	assert_int_equal(mb2_memory_regions(&bi, r, 4, &src, &dropped), 1);
	assert_string_equal(src, "multiboot2 memory map (e820)");
	assert_int_equal(r[0].base, 0x100000);
	assert_int_equal(r[0].type, MB2_MEM_AVAILABLE);
	assert_int_equal(dropped, 0);
}

static void test_efi_types(void **state)
{
	(void)state;
	assert_int_equal(efi_type_to_mb2(EFI_BOOT_SERVICES_DATA, 0), MB2_MEM_AVAILABLE);
	assert_int_equal(efi_type_to_mb2(EFI_RUNTIME_SERVICES_DATA, 0), MB2_MEM_RESERVED);
	assert_int_equal(efi_type_to_mb2(EFI_UNACCEPTED_MEMORY, 0), MB2_MEM_RESERVED);
	assert_int_equal(efi_type_to_mb2(EFI_CONVENTIONAL_MEMORY, EFI_MEMORY_SP), MB2_MEM_RESERVED);
	assert_int_equal(efi_type_to_mb2(99, 0), MB2_MEM_RESERVED);
	assert_string_equal(efi_type_name(EFI_ACPI_MEMORY_NVS), "ACPI NVS");
	assert_string_equal(efi_type_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_block),
		cmocka_unit_test(test_truncated_tag),
		cmocka_unit_test(test_tag_size_wraps),
		cmocka_unit_test(test_mmap_entry_size_wraps),
		cmocka_unit_test(test_unterminated_strings),
		cmocka_unit_test(test_module_end_before_start),
		cmocka_unit_test(test_bad_total_size),
		cmocka_unit_test(test_no_end_tag),
		cmocka_unit_test(test_efi_map_preferred),
		cmocka_unit_test(test_e820_without_efi_map),
		cmocka_unit_test(test_efi_types),
	};
	return cmocka_run_group_tests_name("multiboot2", tests, NULL, NULL);
}
