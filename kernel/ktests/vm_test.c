/*
 * User address space tests:
 *   oom_fault_leaves_no_table  a first touch that runs out of memory, for
 *                        its page or for any page table on the way to it,
 *                        fails whole: no table stays linked and every frame
 *                        it took comes back. (A table linked and left empty
 *                        stayed until the mm died, as no unmap finds a table
 *                        without a leaf: one frame lost per such fault, seen
 *                        as resource_exhaustion_clean's frame count.)
 */
#include "kernel/ktest.h"
#include "kernel/ktests/squeeze.h"
#include "mm/mm.h"
#include "mm/frame.h"
#include "arch/pgtable.h"

/* How many page tables the walk to va lacks (0 to 3). */
static int tables_missing(struct mm *mm, uint64_t va)
{
	paddr_t table = mm->root;

	for (int l = 4; l > 1; l--) {
		pte_t e = pt_table(table)[pt_index(va, l)];

		if (!pte_present(e))
			return l - 1;
		table = pte_addr(e);
	}
	return 0;
}

KTEST(oom_fault_leaves_no_table)
{
	struct mm *mm = mm_create();
	uint64_t va = 0;

	KT_ASSERT(t, mm != NULL);
	if (!KT_EXPECT(t, mm_map(mm, &va, PAGE_SIZE, PROT_READ | PROT_WRITE, 0) == 0))
		goto out;
	/* The mm is never loaded: no CPU holds its translations. */
	int need = tables_missing(mm, va);
	uint64_t pt0 = mm->pt_pages, got[5], left[5], pt[5];
	bool ok[5];

	if (!KT_EXPECT(t, need > 0) || !ktest_reaper_quiet(t))
		goto out;
	/* With avail frames free: fewer than need + 1 fails, need + 1 maps. */
	paddr_t chain = 0;

	for (int avail = 0; avail <= need + 1; avail++) {
		ktest_squeeze(&chain, (uint64_t)avail);
		got[avail] = frames_free();
		ok[avail] = mm_handle_fault(mm, va, true, false);
		left[avail] = frames_free();
		pt[avail] = mm->pt_pages;
	}
	ktest_unsqueeze(&chain);
	for (int avail = 0; avail <= need + 1; avail++) {
		bool maps = avail > need;
		uint64_t want_pt = pt0 + (maps ? (uint64_t)need : 0);
		uint64_t want_left = maps ? (uint64_t)(avail - need - 1) : (uint64_t)avail;
		bool good = KT_EXPECT_EQ(t, got[avail], (uint64_t)avail);

		good &= KT_EXPECT_EQ(t, ok[avail], maps);
		good &= KT_EXPECT_EQ(t, pt[avail], want_pt);
		good &= KT_EXPECT_EQ(t, left[avail], want_left);
		if (!good)
			ktest_note(
				"with %d frames free: the fault %s, %lu tables linked, %lu frames left "
				"(want %s, %lu, %lu)",
				avail, ok[avail] ? "mapped" : "failed", pt[avail] - pt0,
				left[avail], maps ? "mapped" : "failed", want_pt - pt0, want_left);
	}
	uint64_t stayed = 0;

	for (int avail = 0; avail <= need; avail++)
		stayed += pt[avail] - pt0;
	ktest_note("first touch needing %d tables and a page: failed with 0 to %d frames free, "
		   "leaving %lu tables linked in all; mapped with %d",
		   need, need, stayed, need + 1);
out:
	mm_put(mm);
}
