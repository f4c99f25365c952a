// uses: lib/select.c lib/string.c
/* Test and benchmark selectors (ktest=, utest=, bench=): names, prefixes,
 * "all", exclusions in any order, death tests by full name only, and
 * elements that name nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include "lib/select.h"

static bool w(const char *sel, const char *name)
{
	return select_wanted(sel, name, false);
}

static void test_names_and_prefixes(void **state)
{
	(void)state;
	assert_true(w("ipc_call", "ipc_call"));
	assert_false(w("ipc_call", "ipc_cal")); /* a prefix of the element */
	assert_false(w("ipc_cal", "ipc_call")); /* an element that is a prefix */
	assert_true(w("a,b,ipc_call", "ipc_call"));
	assert_true(w("ipc_*", "ipc_call"));
	assert_true(w("ipc_*", "ipc_"));
	assert_false(w("ipc_*", "ipc"));
	assert_true(w("*", "anything"));
	assert_true(w("all", "anything"));
	assert_true(w("foo,all", "anything")); /* "all" anywhere in the list */
	assert_false(w("alla", "anything"));
	assert_false(w("none", "anything"));
	assert_false(w("", "anything"));
	assert_false(select_wanted(NULL, "anything", false));
	assert_false(w(",,", "anything"));
	assert_true(w(",ipc_call,", "ipc_call"));
}

static void test_exclusions(void **state)
{
	(void)state;
	assert_false(w("all,-long_mm_ops_race", "long_mm_ops_race"));
	assert_true(w("all,-long_mm_ops_race", "long_mm_ops"));
	assert_true(w("all,-long_mm_ops_race", "long_mm_ops_race_2"));
	assert_false(w("-long_*,all", "long_mm_ops_race")); /* any order */
	assert_true(w("-long_*,all", "short"));
	assert_false(w("ipc_call,-ipc_call", "ipc_call")); /* exclusion wins */
	assert_false(w("-ipc_call", "other"));		   /* nothing selected */
	assert_false(w("all,-all", "anything"));
	assert_false(w("all,-*", "anything"));
	assert_true(w("all,-", "anything")); /* an empty exclusion names nothing */
}

static void test_by_name_only(void **state)
{
	(void)state;
	assert_false(select_wanted("all", "death_bug", true));
	assert_false(select_wanted("death_*", "death_bug", true));
	assert_true(select_wanted("death_bug", "death_bug", true));
	assert_true(select_wanted("all,death_bug", "death_bug", true));
	assert_false(select_wanted("death_bug,-death_*", "death_bug", true)); /* still excludes */
}

static void test_bench_arguments(void **state)
{
	(void)state;
	/* bench= carries its own settings between the names. */
	assert_true(w("all,batches=5", "null_syscall"));
	assert_true(w("ipc_*,batches=5", "ipc_pingpong_same_cpu"));
	assert_false(w("ipc_*,batches=5", "null_syscall"));
	assert_true(w("all,batches=5,-as_ring_*", "null_syscall"));
	assert_false(w("all,batches=5,-as_ring_*", "as_ring_2_64"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_prefixes),
		cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_by_name_only),
		cmocka_unit_test(test_bench_arguments),
	};
	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
