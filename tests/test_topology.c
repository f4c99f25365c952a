// uses: arch/x86/topology.c
/* CPU topology from CPUID leaves 0x1F/0xB and the counts over APIC IDs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include "arch/x86/topology.h"

/* Subleaf: EAX shift, EBX logical processors at this level, ECX type << 8 | i. */
#define LEVEL(shift, count, type, i)                     \
	{                                                \
		(shift), (count), ((type) << 8) | (i), 0 \
	}

static void test_spr_leaf_1f(void **state)
{
	(void)state;
	/* A Sapphire Rapids 2 x 56 x 2: SMT (shift 1), core (shift 7), then the
	 * end marker; leaf 0x1F may list a die level with the same shift. */
	const struct cpuid_regs sub[] = {
		LEVEL(1, 2, 1, 0),
		LEVEL(7, 112, 2, 1),
		LEVEL(7, 112, 5, 2),
		LEVEL(0, 0, 0, 3),
	};
	struct cpu_topology t;
	struct topology_counts c;
	uint32_t ids[224];

	assert_true(topology_from_leaves(sub, 4, &t));
	assert_int_equal(t.smt_shift, 1);
	assert_int_equal(t.pkg_shift, 7);
	for (uint32_t i = 0; i < 112; i++) {
		ids[i] = i;
		ids[112 + i] = 128 + i;
	}
	topology_count(&t, ids, 224, &c);
	assert_int_equal(c.sockets, 2);
	assert_int_equal(c.cores, 112);
	assert_int_equal(c.threads, 224);
	/* One CPU of socket 1 online only. */
	topology_count(&t, ids + 111, 2, &c);
	assert_int_equal(c.sockets, 2);
	assert_int_equal(c.cores, 2);
}

static void test_no_smt_leaf_b(void **state)
{
	(void)state;
	/* QEMU -smp 8,sockets=2,cores=4,threads=1: SMT level with shift 0. */
	const struct cpuid_regs sub[] = {
		LEVEL(0, 1, 1, 0),
		LEVEL(2, 4, 2, 1),
		LEVEL(0, 0, 0, 2),
	};
	struct cpu_topology t;
	struct topology_counts c;
	const uint32_t ids[] = { 0, 1, 2, 3, 4, 5, 6, 7 };

	assert_true(topology_from_leaves(sub, 3, &t));
	assert_int_equal(t.smt_shift, 0);
	assert_int_equal(t.pkg_shift, 2);
	topology_count(&t, ids, 8, &c);
	assert_int_equal(c.sockets, 2);
	assert_int_equal(c.cores, 8);
	assert_int_equal(c.threads, 8);
}

static void test_invalid_leaf(void **state)
{
	(void)state;
	const struct cpuid_regs sub[] = { LEVEL(0, 0, 0, 0) };
	struct cpu_topology t;

	assert_false(topology_from_leaves(sub, 1, &t));
	assert_false(topology_from_leaves(sub, 0, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spr_leaf_1f),
		cmocka_unit_test(test_no_smt_leaf_b),
		cmocka_unit_test(test_invalid_leaf),
	};
	return cmocka_run_group_tests_name("topology", tests, NULL, NULL);
}
