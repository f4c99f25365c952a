/*
 * Memory: map, unmap, protect, populate, fixed mappings, faults on each.
 */
#include "user/utest/utest.h"

void t_map_unmap_protect(const char *arg)
{
	(void)arg;
	const size_t n = 16;
	uint8_t *p = map(NULL, n * PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);

	if (!T_EXPECT(!MAP_FAILED(p)))
		return;
	uint64_t pf0 = counter("page_fault_user");

	for (size_t i = 0; i < n; i++)
		p[i * PAGE_SIZE + 5] = (uint8_t)(i + 1);
	T_EXPECT(counter("page_fault_user") - pf0 >= n); /* faulted in on first touch */
	for (size_t i = 0; i < n; i++)
		T_EQ(p[i * PAGE_SIZE + 5], i + 1);
	T_EQ(p[3], 0); /* fresh pages are zero */

	/* Read-only: reads work, the contents survive. */
	T_EQ(protect(p, n * PAGE_SIZE, UPROT_READ), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(p[i * PAGE_SIZE + 5], i + 1);
	T_EQ(protect(p, n * PAGE_SIZE, UPROT_READ | UPROT_WRITE), 0);
	p[5] = 99;
	T_EQ(p[5], 99);

	/* Unmap a page in the middle: its neighbours stay. */
	T_EQ(unmap(p + 4 * PAGE_SIZE, PAGE_SIZE), 0);
	T_EQ(p[3 * PAGE_SIZE + 5], 4);
	T_EQ(p[5 * PAGE_SIZE + 5], 6);
	/* Protect across the hole: part of the range is unmapped. */
	T_EQ(protect(p, n * PAGE_SIZE, UPROT_READ), -12);

	/* A fixed mapping over the hole brings a zero page back. */
	uint8_t *q = map(p + 4 * PAGE_SIZE, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED);

	T_EXPECT(q == p + 4 * PAGE_SIZE);
	T_EQ(q[5], 0);
	T_EQ(unmap(p, n * PAGE_SIZE), 0);

	/* Populated mappings take no faults when touched. */
	uint8_t *r = map(NULL, 8 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	pf0 = counter("page_fault_user");
	for (int i = 0; i < 8; i++)
		r[i * PAGE_SIZE] = 1;
	T_EQ(counter("page_fault_user") - pf0, 0);
	T_EQ(unmap(r, 8 * PAGE_SIZE), 0);

	/* Large sparse mapping: only touched pages cost memory. */
	uint8_t *big = map(NULL, 1ull << 30, UPROT_READ | UPROT_WRITE, 0);

	T_EXPECT(!MAP_FAILED(big));
	big[0] = 1;
	big[(1ull << 30) - 1] = 2;
	T_EQ(big[(1ull << 30) - 1], 2);
	T_EQ(unmap(big, 1ull << 30), 0);

	/* Writing to a read-only page, or to an unmapped one, kills: also
	 * just past the mapping the fault handler found last, and in one
	 * it found and that was then unmapped (mm/vm.c's VMA hint). */
	T_EQ(run_child("role_segv ro"), 128 + 14);
	T_EQ(run_child("role_segv past"), 128 + 14);
	T_EQ(run_child("role_segv unmapped"), 128 + 14);
}

/* Regression (found by syscall_fuzz): protect and unmap stepped through
 * every page of a range, mapped or not, under the mm lock: on a 1 TiB
 * mapping, 2^28 steps, and another thread of the process faulting in
 * meanwhile spun on the lock until the lockup detector stopped the
 * machine. They now skip absent page tables: fast however large the hole. */
void t_unmap_huge_sparse_range(const char *arg)
{
	(void)arg;
	const uint64_t len = 1ull << 40; /* the most one map() takes */
	uint8_t *big = map(NULL, len, UPROT_READ | UPROT_WRITE, 0);

	if (!T_EXPECT(!MAP_FAILED(big)))
		return;
	big[0] = 1;
	big[len / 2] = 2;
	big[len - 1] = 3;
	uint64_t t0 = clock_ns();

	T_EQ(protect(big, len, UPROT_READ), 0);
	T_EQ(big[len / 2], 2);
	T_EQ(unmap(big, len), 0);
	uint64_t ms = (clock_ns() - t0) / 1000000;

	T_EXPECT(ms < 1000);
	ut_note("protect and unmap of a 1 TiB range with 3 pages: %lu ms", ms);
}
