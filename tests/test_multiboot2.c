// uses: kernel/multiboot2.c kernel/string.c
/* Multiboot2 tag parsing: a well-formed block, and malformed ones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <stdint.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_block),
		cmocka_unit_test(test_truncated_tag),
		cmocka_unit_test(test_unterminated_strings),
		cmocka_unit_test(test_module_end_before_start),
		cmocka_unit_test(test_bad_total_size),
		cmocka_unit_test(test_no_end_tag),
	};
	return cmocka_run_group_tests_name("multiboot2", tests, NULL, NULL);
}
