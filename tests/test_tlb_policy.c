// uses: mm/tlb_policy.c mm/kflush_ring.c
/* PCID slot choice and flush decisions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "mm/tlb_policy.h"
#include "mm/kflush_ring.h"

static void test_asid_hit_miss_evict(void **state)
{
	(void)state;
	struct asid_slot s[3];
	uint32_t victim = 0;
	enum asid_result r;

	memset(s, 0, sizeof(s));
	assert_int_equal(asid_choose(s, 3, 10, &victim, &r), 0);
	assert_int_equal(r, ASID_MISS);
	s[0].ctx_id = 10;
	assert_int_equal(asid_choose(s, 3, 11, &victim, &r), 1);
	assert_int_equal(r, ASID_MISS);
	s[1].ctx_id = 11;
	assert_int_equal(asid_choose(s, 3, 10, &victim, &r), 0);
	assert_int_equal(r, ASID_HIT);
	s[2].ctx_id = 12;
	/* Full: round-robin victims 0, 1, 2, 0, ... */
	assert_int_equal(asid_choose(s, 3, 13, &victim, &r), 0);
	assert_int_equal(r, ASID_EVICT);
	assert_int_equal(asid_choose(s, 3, 14, &victim, &r), 1);
	assert_int_equal(asid_choose(s, 3, 15, &victim, &r), 2);
	assert_int_equal(asid_choose(s, 3, 16, &victim, &r), 0);
	assert_int_equal(asid_choose(s, 3, 12, &victim, &r), 2);
	assert_int_equal(r, ASID_HIT);
}

static void test_asid_single_slot(void **state)
{
	(void)state;
	struct asid_slot s[1] = { { .ctx_id = 5 } };
	uint32_t victim = 0;
	enum asid_result r;

	assert_int_equal(asid_choose(s, 1, 6, &victim, &r), 0);
	assert_int_equal(r, ASID_EVICT);
	assert_int_equal(asid_choose(s, 1, 5, &victim, &r), 0);
	assert_int_equal(r, ASID_HIT);
}

static void test_flush_decide(void **state)
{
	(void)state;
	enum full_reason why;

	/* Up to date (also: a newer flush already covered this request). */
	assert_int_equal(flush_decide(5, 5, 5, 1, 32, &why), FLUSH_NONE);
	assert_int_equal(flush_decide(7, 6, 7, 1, 32, &why), FLUSH_NONE);
	/* Exactly one behind, small range: pages. */
	assert_int_equal(flush_decide(4, 5, 5, 3, 32, &why), FLUSH_PAGES);
	assert_int_equal(why, FULL_NONE);
	/* The ceiling: 32 pages are pages, 33 a full flush, counted as such. */
	assert_int_equal(flush_decide(4, 5, 5, 32, 32, &why), FLUSH_PAGES);
	assert_int_equal(flush_decide(4, 5, 5, 33, 32, &why), FLUSH_FULL);
	assert_int_equal(why, FULL_CEILING);
	/* Missed an earlier request (deferred, lazy): full. */
	assert_int_equal(flush_decide(3, 5, 5, 1, 32, &why), FLUSH_FULL);
	assert_int_equal(why, FULL_GEN_GAP);
	/* A newer request is already in flight: flush to it at once. */
	assert_int_equal(flush_decide(4, 5, 6, 1, 32, &why), FLUSH_FULL);
	assert_int_equal(why, FULL_GEN_GAP);
	/* "Everything" requests. */
	assert_int_equal(flush_decide(4, 5, 5, 0, 32, &why), FLUSH_FULL);
	assert_int_equal(why, FULL_REQUEST);
}

static void test_kflush_decide(void **state)
{
	(void)state;
	struct kflush_range ring[KFLUSH_RING];

	memset(ring, 0, sizeof(ring));
	for (uint64_t g = 1; g <= 20; g++)
		ring[g % KFLUSH_RING] = (struct kflush_range){ g, g << 20, (g << 20) + 4096 };
	assert_int_equal(kflush_decide(ring, 20, 20, 32), FLUSH_NONE);
	assert_int_equal(kflush_decide(ring, 18, 20, 32), FLUSH_PAGES);
	assert_int_equal(kflush_decide(ring, 18, 20, 1), FLUSH_FULL);  /* 2 pages > 1 */
	assert_int_equal(kflush_decide(ring, 4, 20, 32), FLUSH_PAGES); /* 16 behind: in the ring */
	assert_int_equal(kflush_decide(ring, 3, 20, 32), FLUSH_FULL);  /* 17 behind: lost */
	ring[19 % KFLUSH_RING].gen = 35;			       /* overwritten */
	assert_int_equal(kflush_decide(ring, 18, 20, 32), FLUSH_FULL);
}

/* A reader that used entries (seen, gen] learns whether any was
 * overwritten meanwhile. */
static void test_kflush_ring_intact(void **state)
{
	(void)state;
	struct kflush_range ring[KFLUSH_RING];

	memset(ring, 0, sizeof(ring));
	for (uint64_t g = 1; g <= 20; g++)
		kflush_ring_publish(ring, g, g << 20, (g << 20) + 4096);
	assert_int_equal(ring[20 % KFLUSH_RING].start, 20 << 20);
	assert_true(kflush_ring_intact(ring, 4, 20));
	assert_true(kflush_ring_intact(ring, 20, 20)); /* nothing to check */
	/* An initiator publishes 21..36 while a reader at 10 uses 11..20. */
	assert_int_equal(kflush_decide(ring, 10, 20, 32), FLUSH_PAGES);
	kflush_ring_publish(ring, 27, 1 << 30, (1 << 30) + 4096); /* slot of 11 */
	assert_false(kflush_ring_intact(ring, 10, 20));
	assert_true(kflush_ring_intact(ring, 11, 20)); /* 11 was not needed */
	/* Torn read (new start, old end) is refused before any INVLPG. */
	ring[15 % KFLUSH_RING].start = ring[15 % KFLUSH_RING].end + 4096;
	assert_int_equal(kflush_decide(ring, 14, 15, 32), FLUSH_FULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asid_hit_miss_evict), cmocka_unit_test(test_asid_single_slot),
		cmocka_unit_test(test_flush_decide),	    cmocka_unit_test(test_kflush_decide),
		cmocka_unit_test(test_kflush_ring_intact),
	};
	return cmocka_run_group_tests_name("tlb_policy", tests, NULL, NULL);
}
