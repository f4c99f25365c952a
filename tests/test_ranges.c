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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
	};
	return cmocka_run_group_tests_name("ranges", tests, NULL, NULL);
}
