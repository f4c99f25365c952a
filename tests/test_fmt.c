// uses: lib/fmt.c lib/string.c
/* vsnprintf: every supported conversion checked against the host libc. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include "lib/fmt.h"

static void check(const char *fmt, ...)
{
	char ours[256], theirs[256];
	va_list a, b;

	va_start(a, fmt);
	va_copy(b, a);
	int n1 = k_vsnprintf(ours, sizeof(ours), fmt, a);
	int n2 = vsnprintf(theirs, sizeof(theirs), fmt, b);

	va_end(a);
	va_end(b);
	if (strcmp(ours, theirs) || n1 != n2)
		fail_msg("format \"%s\": got \"%s\" (%d), libc \"%s\" (%d)", fmt, ours, n1, theirs,
			 n2);
}

static void test_integers(void **state)
{
	(void)state;
	check("%d %i %u", 0, -1, 42u);
	check("%d", INT32_MIN);
	check("%ld", (long)INT64_MIN);
	check("%lu %lx %lX", (unsigned long)UINT64_MAX, 0xdeadbeefUL, 0xabcdefUL);
	check("%llu %lld", 12345678901234ULL, -5LL);
	check("%zu %zx", (size_t)77, (size_t)255);
	check("%hhu %hhd %hu %hd", 300, 200, 70000, 40000);
	check("%o %#o %#x %#X", 8, 8, 255, 255);
	check("%x %#x", 0, 0);
}

static void test_width_precision(void **state)
{
	(void)state;
	check("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	check("[%5d] [%05d] [%-05d]", -42, -42, -42);
	check("[%.3d] [%8.3d] [%-8.3d] [%08.3d]", 7, 7, 7, 7);
	check("[%*d] [%-*d] [%*d]", 6, 1, 6, 1, -6, 1);
	check("[%.0d] [%.0x]", 0, 0);
	check("[%016lx] [%#018lx]", 0x1234UL, 0x1234UL);
}

static void test_strings(void **state)
{
	(void)state;
	check("[%s] [%10s] [%-10s] [%.2s] [%.*s]", "abc", "abc", "abc", "abc", 1, "abc");
	check("[%c] [%3c] [%-3c] %%", 'x', 'y', 'z');
}

static void test_pointer(void **state)
{
	(void)state;
	char buf[64];

	k_snprintf(buf, sizeof(buf), "%p", (void *)0xffffffff80001000ULL);
	assert_string_equal(buf, "0xffffffff80001000");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[8];
	int n = k_snprintf(buf, sizeof(buf), "%s-%d", "abcdef", 12345);

	assert_int_equal(n, 12);
	assert_string_equal(buf, "abcdef-");
	n = k_snprintf(buf, 1, "xyz");
	assert_int_equal(n, 3);
	assert_string_equal(buf, "");
	n = k_snprintf(NULL, 0, "%d", 100);
	assert_int_equal(n, 3);
}

static void test_unknown_conversion_is_visible(void **state)
{
	(void)state;
	char buf[32];

	const char *fmt = "a%qb"; /* hidden from -Wformat on purpose */

	k_snprintf(buf, sizeof(buf), fmt);
	assert_string_equal(buf, "a%qb");
}

static void test_ranges(void **state)
{
	(void)state;
	char b[64];
	uint32_t v[300] = { 0 };

	assert_int_equal(fmt_ranges(b, sizeof(b), v, 0), 0);
	assert_string_equal(b, "");
	for (uint32_t i = 0; i < 112; i++)
		v[i] = i; /* socket 0 of a 2 x 56 x 2 machine */
	for (uint32_t i = 0; i < 112; i++)
		v[112 + i] = 128 + i; /* socket 1: package shift 7 */
	assert_int_equal(fmt_ranges(b, sizeof(b), v, 224), 13);
	assert_string_equal(b, "0-111,128-239");
	uint32_t w[] = { 5, 0, 2, 3, 9 };

	fmt_ranges(b, sizeof(b), w, 5);
	assert_string_equal(b, "5,0,2-3,9");
	/* Too small: the runs that fit, then ",...", never past the buffer. */
	for (uint32_t i = 0; i < 300; i++)
		v[i] = 2 * i;
	size_t n = fmt_ranges(b, 20, v, 300);

	assert_string_equal(b, "0,2,4,6,8,10,12,...");
	assert_int_equal(n, strlen(b));
	assert_int_equal(fmt_ranges(b, 3, v, 300), 0);
	assert_string_equal(b, "");
	fmt_ranges(b, 4, w + 4, 1);
	assert_string_equal(b, "9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_width_precision),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_unknown_conversion_is_visible),
	};
	return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
