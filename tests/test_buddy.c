// uses: mm/buddy.c
/* Buddy allocator: splitting, merging, exhaustion, holes, and the
 * invariants after thousands of random operations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "mm/buddy.h"

#define NPAGES 4096

static struct frame frames[NPAGES];
static struct buddy_zone z;

static void check(void)
{
	const char *err = buddy_check(&z);

	if (err)
		fail_msg("buddy_check: %s", err);
}

static void test_release_builds_max_blocks(void **state)
{
	(void)state;
	buddy_init(&z, frames, 0, NPAGES);
	buddy_release_range(&z, 0, NPAGES);
	check();
	assert_int_equal(z.free_pages, NPAGES);
	assert_int_equal(z.nr_free[BUDDY_ORDERS - 1], NPAGES / 1024);
}

static void test_split_and_merge(void **state)
{
	(void)state;
	buddy_init(&z, frames, 0, 1024);
	buddy_release_range(&z, 0, 1024);
	int64_t a = buddy_alloc(&z, 0);

	assert_true(a >= 0);
	check();
	/* One order-10 block split into 1+1+2+4+...+512 */
	assert_int_equal(z.free_pages, 1023);
	for (unsigned k = 0; k < BUDDY_ORDERS - 1; k++)
		assert_int_equal(z.nr_free[k], 1);
	buddy_free(&z, (uint64_t)a, 0);
	check();
	assert_int_equal(z.nr_free[BUDDY_ORDERS - 1], 1);
	assert_int_equal(z.free_pages, 1024);
}

/* Regression test_merged_head_is_a_tail (found in review): the upper
 * head of a merged pair kept flags 0 and its order, so a second free of it
 * (a double free) passed frame_free()'s checks. It is marked FRAME_TAIL. */
static void test_merged_head_is_a_tail(void **state)
{
	(void)state;
	buddy_init(&z, frames, 0, 1024);
	buddy_release_range(&z, 0, 1024);
	int64_t a = buddy_alloc(&z, 0), b = buddy_alloc(&z, 0);

	assert_int_equal(a ^ b, 1); /* buddies */
	buddy_free(&z, (uint64_t)a, 0);
	buddy_free(&z, (uint64_t)b, 0); /* merges, on up to order 10 */
	check();
	assert_true(frames[a | b].flags & FRAME_TAIL); /* the upper of the two */
	assert_false(frames[0].flags & FRAME_TAIL);
	assert_true(frames[0].flags & FRAME_FREE);
	/* Allocated again, each frame is a head or an allocated tail. */
	int64_t c = buddy_alloc(&z, 0);

	assert_int_equal(frames[c].flags, 0);
	check();
}

static void test_alignment_of_blocks(void **state)
{
	(void)state;
	buddy_init(&z, frames, 0, NPAGES);
	buddy_release_range(&z, 0, NPAGES);
	for (unsigned order = 0; order < BUDDY_ORDERS; order++) {
		int64_t i = buddy_alloc(&z, order);

		assert_true(i >= 0);
		assert_int_equal((uint64_t)i & ((1ull << order) - 1), 0);
		for (uint64_t j = 1; j < (1ull << order); j++)
			assert_true(frames[i + j].flags & FRAME_TAIL);
	}
	check();
}

static void test_exhaustion(void **state)
{
	(void)state;
	buddy_init(&z, frames, 0, 64);
	buddy_release_range(&z, 0, 64);
	int n = 0;

	while (buddy_alloc(&z, 0) >= 0)
		n++;
	assert_int_equal(n, 64);
	assert_int_equal(buddy_alloc(&z, 0), -1);
	assert_int_equal(z.free_pages, 0);
	check();
}

static void test_holes_never_allocated(void **state)
{
	(void)state;
	buddy_init(&z, frames, 0, 2048);
	buddy_release_range(&z, 3, 500); /* odd start */
	buddy_release_range(&z, 1024, 700);
	check();
	assert_int_equal(z.free_pages, 1200);
	int64_t i;

	while ((i = buddy_alloc(&z, 0)) >= 0) {
		bool ok = (i >= 3 && i < 503) || (i >= 1024 && i < 1724);

		assert_true(ok);
	}
	check();
}

static void test_random_operations(void **state)
{
	(void)state;
	static struct {
		int64_t idx;
		unsigned order;
	} live[2000];
	int nlive = 0;

	srand(1234);
	buddy_init(&z, frames, 0, NPAGES);
	buddy_release_range(&z, 1, NPAGES - 1);
	for (int step = 0; step < 20000; step++) {
		if (nlive < 2000 && (rand() & 1)) {
			unsigned order = (unsigned)(rand() % 5);
			int64_t i = buddy_alloc(&z, order);

			if (i >= 0) {
				live[nlive].idx = i;
				live[nlive].order = order;
				nlive++;
			}
		} else if (nlive) {
			int k = rand() % nlive;

			buddy_free(&z, (uint64_t)live[k].idx, live[k].order);
			live[k] = live[--nlive];
		}
		if (step % 997 == 0)
			check();
	}
	while (nlive) {
		nlive--;
		buddy_free(&z, (uint64_t)live[nlive].idx, live[nlive].order);
	}
	check();
	assert_int_equal(z.free_pages, NPAGES - 1);
}

static void test_check_catches_corruption(void **state)
{
	(void)state;
	buddy_init(&z, frames, 0, 1024);
	buddy_release_range(&z, 0, 1024);
	z.free_pages++;
	assert_non_null(buddy_check(&z));
	z.free_pages--;
	int64_t a = buddy_alloc(&z, 0), b = buddy_alloc(&z, 0);

	assert_true(a >= 0 && b >= 0);
	assert_int_equal(a ^ b, 1); /* buddies */
	/* Fake an unmerged pair: mark both free by hand without merging. */
	int64_t pair[2] = { a, b };

	for (int i = 0; i < 2; i++) {
		frames[pair[i]].flags = FRAME_FREE;
		frames[pair[i]].order = 0;
		list_add_head(&z.free[0], &frames[pair[i]].link);
		z.nr_free[0]++;
		z.free_pages++;
	}
	assert_string_equal(buddy_check(&z), "unmerged free buddies");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_builds_max_blocks),
		cmocka_unit_test(test_split_and_merge),
		cmocka_unit_test(test_merged_head_is_a_tail),
		cmocka_unit_test(test_alignment_of_blocks),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_holes_never_allocated),
		cmocka_unit_test(test_random_operations),
		cmocka_unit_test(test_check_catches_corruption),
	};
	return cmocka_run_group_tests_name("buddy", tests, NULL, NULL);
}
