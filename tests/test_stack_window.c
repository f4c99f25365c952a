// uses: lib/stack_window.c
/* Which stack a panic's RSP is in, and how many words of it the report
 * reads: never below a stack (its guard page) nor past its top. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "lib/stack_window.h"

static const struct stack_range stacks[] = {
	{ 0x11000, 0x13000, "entry" },
	{ 0x14000, 0x16000, "NMI" },
	{ 0, 0, "task" }, /* no current task: an empty range matches nothing */
};

static void test_inside(void **state)
{
	(void)state;
	unsigned n;

	/* An error-code frame from user mode: six words below the top. */
	assert_int_equal(stack_window(stacks, 3, 0x13000 - 48, 16, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(stack_window(stacks, 3, 0x15000, 16, &n), 1);
	assert_int_equal(n, 16);
	assert_int_equal(stack_window(stacks, 3, 0x11000, 4, &n), 0);
	assert_int_equal(n, 4);
	/* The last word below the top, and a partial word: whole words only. */
	assert_int_equal(stack_window(stacks, 3, 0x13000 - 8, 16, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(stack_window(stacks, 3, 0x13000 - 4, 16, &n), 0);
	assert_int_equal(n, 0);
}

static void test_outside(void **state)
{
	(void)state;
	unsigned n = 99;

	/* The guard page below, the top itself, between stacks, zero. */
	assert_int_equal(stack_window(stacks, 3, 0x11000 - 8, 16, &n), -1);
	assert_int_equal(n, 0);
	assert_int_equal(stack_window(stacks, 3, 0x13000, 16, &n), -1);
	assert_int_equal(stack_window(stacks, 3, 0x13800, 16, &n), -1);
	assert_int_equal(stack_window(stacks, 3, 0, 16, &n), -1);
	assert_int_equal(stack_window(stacks, 0, 0x12000, 16, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_outside),
	};
	return cmocka_run_group_tests_name("stack_window", tests, NULL, NULL);
}
