/*
 * Frame allocator tests (the per-CPU page caches, mm/frame.c):
 *   frame_cache_reuses_and_spills  a page freed on a CPU is the next page
 *                        that CPU allocates; a cache past its high mark
 *                        gives a batch back; draining every cache moves
 *                        pages to the zones and loses none
 *   frame_cache_oom_drains_other_cpus  with the zones empty and the last
 *                        free pages in another CPU's cache, an allocation
 *                        drains the caches and gets one: a page allocation
 *                        fails only when memory is out; and the drain
 *                        takes the lock of the caches that hold pages
 *                        only (frame_cache_drained), not of every CPU's
 */
#include "kernel/ktest.h"
#include "kernel/ktests/squeeze.h"
#include "mm/frame.h"
#include "lib/percpu.h"
#include "lib/preempt.h"
#include "sched/task.h"
#include "include/uapi/counter_ids.h"

#define SPILL_PAGES (FRAME_CACHE_HIGH + 1)

KTEST(frame_cache_reuses_and_spills)
{
	static paddr_t pages[SPILL_PAGES];

	if (!frame_cache_enabled()) {
		ktest_skip(t, "framecache=off");
		return;
	}
	preempt_disable();
	uint32_t cpu = this_cpu_id();
	paddr_t a = page_alloc(0), b;

	page_free(a);
	b = page_alloc(0);
	bool same = a && b == a;

	page_free(b);
	/* Enough pages back at once that the cache passes its high mark. */
	uint32_t n = 0;

	for (; n < SPILL_PAGES && (pages[n] = page_alloc(FA_NOWARN)); n++)
		;
	uint64_t spills0 = this_cpu_read(counters[CNT_FRAME_CACHE_SPILL]);

	for (uint32_t i = 0; i < n; i++)
		page_free(pages[i]);
	uint64_t spills = this_cpu_read(counters[CNT_FRAME_CACHE_SPILL]) - spills0;
	uint32_t held = frame_cache_pages(cpu);
	uint64_t free0 = frames_free(), moved = frame_drain_caches(), free1 = frames_free();
	uint32_t after = frame_cache_pages(cpu);

	preempt_enable();
	KT_EXPECT(t, same);
	KT_EXPECT_EQ(t, n, (uint32_t)SPILL_PAGES);
	KT_EXPECT(t, spills >= 1);
	KT_EXPECT(t, held <= FRAME_CACHE_HIGH);
	KT_EXPECT(t, moved >= held);
	KT_EXPECT_EQ(t, after, 0u);
	/* Other CPUs may allocate or free meanwhile; the drain itself moves
	 * pages between counts that frames_free() both sums. */
	KT_EXPECT_EQ(t, free1, free0);
	ktest_note("page freed and allocated again: %s; %u pages freed: %lu spills, %u cached; "
		   "drain moved %lu",
		   same ? "the same page" : "another page", n, spills, held, moved);
}

KTEST(frame_cache_oom_drains_other_cpus)
{
	if (!frame_cache_enabled() || nr_cpus_online < 2) {
		ktest_skip(t, !frame_cache_enabled() ? "framecache=off" : "needs two CPUs");
		return;
	}
	struct cpumask saved = current_task()->affinity;
	paddr_t chain = 0, p[3] = { 0 }, got = 0;
	uint64_t drains0 = 0, drains = 0, drained0 = 0, drained = 0;
	uint32_t cached1 = 0, after1 = 0;

	KT_ASSERT(t, ktest_reaper_quiet(t) && ktest_move_to_cpu(0) == 0);
	/* All memory taken but three pages, then those three too... */
	ktest_squeeze(&chain, 3);
	for (int i = 0; i < 3; i++)
		p[i] = page_alloc(FA_NOWARN);
	/* ...and given back on CPU 1: its cache holds the last free pages. */
	if (ktest_move_to_cpu(1) == 0) {
		for (int i = 0; i < 3; i++)
			if (p[i])
				page_free(p[i]);
		cached1 = frame_cache_pages(1);
		if (ktest_move_to_cpu(0) == 0) {
			drains0 = this_cpu_read(counters[CNT_FRAME_CACHE_DRAIN_ALL]);
			drained0 = this_cpu_read(counters[CNT_FRAME_CACHE_DRAINED]);
			got = page_alloc(FA_NOWARN);
			drains = this_cpu_read(counters[CNT_FRAME_CACHE_DRAIN_ALL]) - drains0;
			drained = this_cpu_read(counters[CNT_FRAME_CACHE_DRAINED]) - drained0;
			after1 = frame_cache_pages(1);
			if (got)
				page_free(got);
		}
	}
	ktest_unsqueeze(&chain);
	sched_set_affinity(current_task(), &saved);
	KT_EXPECT(t, p[0] && p[1] && p[2]);
	KT_EXPECT_EQ(t, cached1, 3u);
	KT_EXPECT(t, got != 0);
	KT_EXPECT(t, drains >= 1);
	KT_EXPECT_EQ(t, after1, 0u);
	/* The other CPUs are idle and were drained by the squeeze: at -smp
	 * 4 and up a drain that locked every cache would count them all. */
	KT_EXPECT(t, drained >= 1);
	if (nr_cpus_online >= 4)
		KT_EXPECT(t, drained < nr_cpus_online);
	ktest_note("3 free pages in CPU 1's cache, none elsewhere: CPU 0's allocation %s after %lu "
		   "drains, which locked %lu of %u caches",
		   got ? "got one" : "failed", drains, drained, nr_cpus_online);
}
