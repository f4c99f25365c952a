// uses: lib/cmdline.c lib/fmt.c lib/string.c
/* Boot switch parsing: every type, bad values, unknown keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "lib/cmdline.h"

static bool pti;
static int asids, mode;
static const char *ktest;
static const char *const modes[] = { "full", "precise", NULL };
static char strbuf[256];
static int warned;
static char last_warn[128];

static void warn(const char *msg, const char *key, const char *value)
{
	warned++;
	snprintf(last_warn, sizeof(last_warn), "%s:%s=%s", msg, key, value);
}

static struct kswitch sw[4];

static int setup(void **state)
{
	(void)state;
	pti = true;
	asids = 6;
	mode = 0;
	ktest = NULL;
	warned = 0;
	last_warn[0] = 0;
	sw[0] = (struct kswitch){ .name = "pti", .type = SW_BOOL, .var = &pti };
	sw[1] = (struct kswitch){
		.name = "asids", .type = SW_INT, .var = &asids, .min = 1, .max = 2047
	};
	sw[2] = (struct kswitch){
		.name = "ptiflush", .type = SW_ENUM, .var = &mode, .choices = modes
	};
	sw[3] = (struct kswitch){ .name = "ktest", .type = SW_STRING, .var = &ktest };
	return 0;
}

static int parse(const char *s)
{
	return cmdline_parse(s, sw, 4, strbuf, sizeof(strbuf), warn);
}

static void test_all_types(void **state)
{
	(void)state;
	assert_int_equal(parse("pti=off asids=64 ptiflush=precise ktest=a,b*"), 0);
	assert_int_equal(pti, 0);
	assert_int_equal(asids, 64);
	assert_int_equal(mode, 1);
	assert_string_equal(ktest, "a,b*");
	assert_true(sw[0].given && sw[1].given && sw[2].given && sw[3].given);
}

static void test_bool_spellings(void **state)
{
	(void)state;
	parse("pti=no");
	assert_int_equal(pti, 0);
	parse("pti=yes");
	assert_int_equal(pti, 1);
	parse("pti=0");
	assert_int_equal(pti, 0);
	parse("pti");
	assert_int_equal(pti, 1);
}

static void test_hex_and_range(void **state)
{
	(void)state;
	assert_int_equal(parse("asids=0x10"), 0);
	assert_int_equal(asids, 16);
	assert_int_equal(parse("asids=0"), 1);
	assert_int_equal(asids, 16); /* unchanged */
	assert_string_equal(last_warn, "value out of range:asids=0");
	assert_int_equal(parse("asids=4096"), 1);
	assert_int_equal(parse("asids=12x"), 1);
	assert_int_equal(parse("asids="), 1);
	assert_int_equal(parse("asids=99999999999999999999999"), 1);
	assert_int_equal(asids, 16);
}

static void test_unknown_and_bad(void **state)
{
	(void)state;
	assert_int_equal(parse("bogus=1 pti=maybe ptiflush=sometimes"), 3);
	assert_int_equal(pti, 1);
	assert_int_equal(mode, 0);
	assert_false(sw[0].given);
}

static void test_kernel_path_and_spaces(void **state)
{
	(void)state;
	assert_int_equal(parse("/boot/kernel.elf   pti=off\tasids=2  "), 0);
	assert_int_equal(pti, 0);
	assert_int_equal(asids, 2);
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse(NULL), 0);
}

static void test_format(void **state)
{
	(void)state;
	char buf[64];

	parse("ptiflush=precise");
	kswitch_format(&sw[2], buf, sizeof(buf));
	assert_string_equal(buf, "ptiflush=precise");
	kswitch_format(&sw[0], buf, sizeof(buf));
	assert_string_equal(buf, "pti=on");
}

static void test_string_buffer_exhaustion(void **state)
{
	(void)state;
	char big[600];

	memset(big, 'x', sizeof(big));
	memcpy(big, "ktest=", 6);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(parse(big), 1);
	assert_null(ktest);
}

/* Regression bool_switch_value_is_one_byte: a bool switch's value is its
 * one byte, whatever lies after it (SYST_SWITCH read four bytes: smep, smap
 * and umip, three bools side by side: smap read as 0x101, umip as 0x10101; the
 * CPU fuzzer then expected SMSW, STR, SIDT and SLDT to run under UMIP). */
static void test_bool_switch_value_is_one_byte(void **state)
{
	(void)state;
	static bool three[4] = { true, true, true, false };
	struct kswitch b = { .name = "smep", .type = SW_BOOL, .var = &three[0] };

	assert_int_equal(kswitch_value(&b), 1);
	three[0] = false;
	assert_int_equal(kswitch_value(&b), 0);
	assert_int_equal(kswitch_value(&sw[1]), 6);
	assert_int_equal(parse("ptiflush=precise"), 0);
	assert_int_equal(kswitch_value(&sw[2]), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_all_types, setup),
		cmocka_unit_test_setup(test_bool_spellings, setup),
		cmocka_unit_test_setup(test_hex_and_range, setup),
		cmocka_unit_test_setup(test_unknown_and_bad, setup),
		cmocka_unit_test_setup(test_kernel_path_and_spaces, setup),
		cmocka_unit_test_setup(test_format, setup),
		cmocka_unit_test_setup(test_string_buffer_exhaustion, setup),
		cmocka_unit_test_setup(test_bool_switch_value_is_one_byte, setup),
	};
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
