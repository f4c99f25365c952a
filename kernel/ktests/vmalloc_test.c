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
