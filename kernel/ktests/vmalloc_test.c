/*
 * vmalloc tests:
 *   vfree_many_one_flush  sixteen kernel stacks freed together cost one
 *                         kernel flush (one IPI round at most), where
 *                         freeing them one by one costs one each; their
 *                         pages all come back
 *   vmalloc_partial_failure  an allocation that runs out of frames part-way
 *                         returns NULL and gives back, and uncounts,
 *                         exactly the pages it had taken
 *   vmalloc_first_fit     a freed area's virtual range is found again by
 *                         the next allocation that fits (first fit from
 *                         vm_first_free, which a free must lower)
 *   vmalloc_partial_failure_frees_va  a partial failure gives its whole
 *                         virtual reservation back
 *   vmalloc_oom_new_page_table_fails_cleanly  an allocation that needs a
 *                         new kernel page table with no frame free fails
 */
#include "kernel/ktest.h"
#include "kernel/ktests/squeeze.h"
#include "lib/percpu.h"
#include "lib/preempt.h"
#include "include/uapi/counter_ids.h"
#include "mm/vmalloc.h"
#include "mm/kflush.h"
#include "mm/kflush_ring.h"
#include "mm/frame.h"
#include "arch/layout.h"
#include "sched/task.h"
#include "mm/kpaging.h"
#include "arch/pgtable.h"

/* This CPU's kernel-flush rounds; preemption must be off. */
static uint64_t my_rounds(void)
{
	return this_cpu_read(counters[CNT_KFLUSH_ROUND]);
}

KTEST(vfree_many_one_flush)
{
	void *stacks[KFLUSH_RING];

	/* It counts vmalloc pages: the reaper's frees would blur them. */
	if (!ktest_reaper_quiet(t))
		return;
	for (uint32_t i = 0; i < KFLUSH_RING; i++) {
		stacks[i] = kstack_alloc(KSTACK_SIZE, -1);
		if (!KT_EXPECT(t, stacks[i] != NULL))
			return;
		((volatile char *)stacks[i])[0] = 1; /* mapped, and now maybe cached */
	}
	preempt_disable();
	uint64_t r0 = my_rounds(), g0 = kflush_generation(), pages0 = vmalloc_pages_in_use();

	kstack_free(stacks[0]);
	kstack_free(stacks[1]);
	uint64_t r1 = my_rounds();

	kstack_free_many(stacks + 2, KFLUSH_RING - 2);
	uint64_t r2 = my_rounds(), g2 = kflush_generation(), pages2 = vmalloc_pages_in_use();

	preempt_enable();
	KT_EXPECT_EQ(t, r1 - r0, 2ul);	      /* one by one: one each */
	KT_EXPECT_EQ(t, r2 - r1, 1ul);	      /* together: one */
	KT_EXPECT(t, g2 - g0 >= KFLUSH_RING); /* still a generation per range */
	/* All 16 stacks' pages came off the count (a late reaper free can
	 * only make the drop larger). */
	KT_EXPECT(t, pages2 + KFLUSH_RING * KSTACK_SIZE / PAGE_SIZE <= pages0);
	ktest_note("%u stacks: 2 freed alone in %lu rounds, %u together in %lu", KFLUSH_RING,
		   r1 - r0, KFLUSH_RING - 2, r2 - r1);
}

KTEST(vmalloc_partial_failure)
{
	/* With all memory taken, give a few frames back (avail): an
	 * allocation of avail + 5 pages maps avail of them, then fails. The
	 * heap needs no new frame for the area record: its slab is warm from
	 * the test above. */
	if (!ktest_reaper_quiet(t))
		return;
	uint64_t free0 = frames_free();
	paddr_t chain = 0;

	ktest_squeeze(&chain, 3);
	uint64_t avail = frames_free(), pages0 = vmalloc_pages_in_use();
	void *p = vmalloc((avail + 5) * PAGE_SIZE);
	uint64_t pages1 = vmalloc_pages_in_use(), left = frames_free();

	ktest_unsqueeze(&chain);
	if (p)
		vfree(p);
	KT_EXPECT(t, p == NULL);
	KT_EXPECT_EQ(t, pages1, pages0);      /* nothing counted, nothing lost */
	KT_EXPECT_EQ(t, left, avail);	      /* the frames it took came back */
	KT_EXPECT(t, frames_free() >= free0); /* the drained memory is back */
	ktest_note("%lu pages with %lu frames free: %s; vmalloc pages %lu before, %lu after",
		   avail + 5, avail, p ? "mapped" : "NULL", pages0, pages1);
}

KTEST(vmalloc_first_fit)
{
	char *a = vmalloc(PAGE_SIZE), *b = vmalloc(PAGE_SIZE), *c = vmalloc(PAGE_SIZE);

	if (!KT_EXPECT(t, a && b && c))
		goto out;
	vfree(b);
	/* Other CPUs may free (the reaper) or take space meanwhile: a hole
	 * at or below b's is all first fit promises. */
	b = vmalloc(PAGE_SIZE);
	KT_EXPECT(t, b && b < c);
	vfree(a);
	vfree(b);
	a = vmalloc(PAGE_SIZE);
	b = NULL;
	KT_EXPECT(t, a && a < c);
out:
	vfree(a);
	vfree(b);
	vfree(c);
}

/*
 * Regression vmalloc_partial_failure_frees_va (found in review): an
 * allocation that ran out of frames after i of its pages gave back i + 1
 * pages of its virtual reservation (pages + a guard): the rest stayed
 * marked for good, up to 16 KiB a failed thread_create, until no thread
 * or process could be made. The same 8-page allocation before and after
 * a partial failure must land at the same place (first fit).
 */
KTEST(vmalloc_partial_failure_frees_va)
{
	if (!ktest_reaper_quiet(t))
		return;
	void *q0 = vmalloc(8 * PAGE_SIZE);

	KT_ASSERT(t, q0 != NULL);
	vfree(q0);
	paddr_t chain = 0;

	ktest_squeeze(&chain, 2);
	void *p = vmalloc(8 * PAGE_SIZE); /* fails after two pages */

	ktest_unsqueeze(&chain);
	if (p)
		vfree(p);
	void *q1 = vmalloc(8 * PAGE_SIZE);

	KT_EXPECT(t, p == NULL);
	KT_EXPECT_EQ(t, (uint64_t)q1, (uint64_t)q0);
	ktest_note("first fit for 8 pages: %p before a partial failure, %p after", q0, q1);
	vfree(q1);
}

/* Is there a page table (a level-2 entry) for va in the kernel's tables? */
static bool pd_entry_present(uint64_t va)
{
	pte_t *table = pt_table(kernel_root);

	for (int l = 4; l > 1; l--) {
		pte_t *e = &table[pt_index(va, l)];

		if (!pte_present(*e))
			return false;
		if (l == 2)
			return true;
		table = pt_table(pte_addr(*e));
	}
	return true;
}

/*
 * Regression vmalloc_oom_new_page_table_fails_cleanly (found in review):
 * a kernel page table that vmalloc needed came from kpt_alloc_page(),
 * which panicked with no frame free ("kpaging: out of memory for kernel
 * page tables"): a thread_create loop under memory pressure brought the
 * kernel down. 1-page areas are taken until the next one would start a
 * fresh 2 MiB (no page table yet), then, with one frame free (the
 * page's, none for the table), that allocation must fail.
 */
KTEST(vmalloc_oom_new_page_table_fails_cleanly)
{
	static void *held[6000];
	uint32_t n = 0;
	bool found = false;

	if (!ktest_reaper_quiet(t))
		return;
	while (n < ARRAY_SIZE(held)) {
		void *p = vmalloc(PAGE_SIZE);

		KT_ASSERT(t, p != NULL);
		held[n++] = p;
		uint64_t next = (uint64_t)p + 2 * PAGE_SIZE; /* after its guard */

		if (!(next & ((2ull << 20) - 1)) && !pd_entry_present(next)) {
			found = true;
			break;
		}
		/* A 1-page area takes two pages (its guard): starting on an odd
		 * page, the next never lands on a 2 MiB boundary. A 2-page area
		 * (three pages) shifts it by one (the full run of f0980e1 never
		 * found the boundary on qemu-bios-smp1). */
		if ((next >> PAGE_SHIFT) & 1 && n < ARRAY_SIZE(held)) {
			p = vmalloc(2 * PAGE_SIZE);
			KT_ASSERT(t, p != NULL);
			held[n++] = p;
		}
	}
	ktest_note("%u areas until the next starts a fresh 2 MiB: %s", n, found ? "yes" : "no");
	KT_EXPECT(t, found);
	void *q = NULL;

	if (found) {
		paddr_t chain = 0;

		ktest_squeeze(&chain, 1);
		q = vmalloc(PAGE_SIZE);
		ktest_unsqueeze(&chain);
		KT_EXPECT(t, q == NULL);
	}
	if (q)
		vfree(q);
	vfree_many(held, n);
}
