// uses: lib/ksyms.c lib/string.c
/* Symbol lookup used by backtraces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "lib/ksyms.h"

static const struct ksym syms[] = {
	{ 0x1000, 0, 0 },
	{ 0x1040, 6, 0 },
	{ 0x2000, 12, 0 },
};
static const char names[] = "alpha\0bravo\0charlie";
static const struct ksym_table tab = { 3, syms, names };

static void test_lookup(void **state)
{
	(void)state;
	uint64_t off = 99;

	assert_null(ksym_lookup_in(&tab, 0xfff, &off));
	assert_string_equal(ksym_lookup_in(&tab, 0x1000, &off), "alpha");
	assert_int_equal(off, 0);
	assert_string_equal(ksym_lookup_in(&tab, 0x103f, &off), "alpha");
	assert_int_equal(off, 0x3f);
	assert_string_equal(ksym_lookup_in(&tab, 0x1040, &off), "bravo");
	assert_string_equal(ksym_lookup_in(&tab, 0x5000, &off), "charlie");
	assert_int_equal(off, 0x3000);
}

static void test_empty(void **state)
{
	(void)state;
	struct ksym_table empty = { 0, syms, names };

	assert_null(ksym_lookup_in(&empty, 0x1000, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests_name("ksyms", tests, NULL, NULL);
}
