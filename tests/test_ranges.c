// uses: mm/ranges.c
/* Physical range normalisation (sort, merge, drop empty). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "mm/ranges.h"

static void test_normalize(void **state)
{
	(void)state;
	struct phys_range r[] = {
		{ 0x100000, 0x200000 }, { 0x0, 0x9f000 },	{ 0x180000, 0x300000 },
		{ 0x500000, 0x500000 }, { 0x300000, 0x400000 }, { 0x800000, 0x700000 },
	};
	uint32_t n = ranges_normalize(r, 6);

	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, 0x9f000);
	assert_int_equal(r[1].start, 0x100000);
	assert_int_equal(r[1].end, 0x400000);
}

/* The memory map's RAM minus overlapping non-RAM entries (regression
 * memmap_subtracts_other_entries_from_ram: an entry the firmware calls
 * reserved, overlapping one it calls usable, was RAM, and early
 * allocations landed on the ACPI tables; found in review). */
static void test_subtract(void **state)
{
	(void)state;
	struct phys_range r[4] = { { 0x0, 0x9f000 }, { 0x100000, 0x1000000 } };
	uint64_t removed = 0;
	uint32_t n = 2;

	/* Inside the second: it splits. */
	n = ranges_subtract(r, n, 4, 0x200000, 0x300000, &removed);
	assert_int_equal(n, 3);
	assert_int_equal(r[1].end, 0x200000);
	assert_int_equal(r[2].start, 0x300000);
	assert_int_equal(r[2].end, 0x1000000);
	assert_int_equal(removed, 0x100000);
	/* Over the end of the first and the start of the second. */
	n = ranges_subtract(r, n, 4, 0x90000, 0x180000, &removed);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].end, 0x90000);
	assert_int_equal(r[1].start, 0x180000);
	assert_int_equal(removed, 0x100000 + 0xf000 + 0x80000);
	/* Covering one whole, and apart from all. */
	n = ranges_subtract(r, n, 4, 0x180000, 0x200000, &removed);
	assert_int_equal(n, 2);
	assert_int_equal(r[1].start, 0x300000);
	n = ranges_subtract(r, n, 4, 0x2000000, 0x3000000, &removed);
	assert_int_equal(n, 2);
	/* Everything. */
	n = ranges_subtract(r, n, 4, 0, ~0ull, &removed);
	assert_int_equal(n, 0);
}

/* A split in a full list drops the upper part (counted as removed). */
static void test_subtract_full(void **state)
{
	(void)state;
	struct phys_range r[2] = { { 0x0, 0x1000 }, { 0x10000, 0x20000 } };
	uint64_t removed = 0;
	uint32_t n = ranges_subtract(r, 2, 2, 0x14000, 0x15000, &removed);

	assert_int_equal(n, 2);
	assert_int_equal(r[1].start, 0x10000);
	assert_int_equal(r[1].end, 0x14000);
	assert_int_equal(removed, 0x20000 - 0x14000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_subtract),
		cmocka_unit_test(test_subtract_full),
	};
	return cmocka_run_group_tests_name("ranges", tests, NULL, NULL);
}
