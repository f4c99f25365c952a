/*
 * Running the machine out of memory for a test (squeeze.h). The frames
 * taken are chained through themselves: the first words of each block hold
 * the next block and its order, so a squeeze needs no memory of its own.
 */
#include "kernel/ktests/squeeze.h"
#include "kernel/lockup.h"
#include "mm/frame.h"
#include "mm/buddy.h"
#include "sched/task.h"

struct taken {
	paddr_t next;
	unsigned order;
};

bool ktest_reaper_quiet(struct ktest *t)
{
	for (int ms = 0; tasks_dying() && ms < (lockup_ms ? lockup_ms : 10000); ms += 10)
		sched_sleep_ns(10000000);
	return KT_EXPECT_EQ(t, tasks_dying(), 0u);
}

static paddr_t take(paddr_t chain, paddr_t pa, unsigned order)
{
	struct taken *b = phys_to_virt(pa);

	b->next = chain;
	b->order = order;
	return pa;
}

/* Give back the chain's first block; returns the rest. */
static paddr_t give_one(paddr_t chain)
{
	struct taken *b = phys_to_virt(chain);
	paddr_t next = b->next;

	frame_free(chain, b->order);
	return next;
}

void ktest_squeeze(paddr_t *chain, uint64_t left)
{
	/* First everything, largest blocks first; then blocks back (the
	 * smallest first: they were taken last) until at least left are
	 * free, then single frames away until exactly left are. */
	if (!*chain) {
		frame_drain_caches(); /* the CPUs' page caches too */
		for (int order = BUDDY_ORDERS - 1; order >= 0; order--) {
			for (paddr_t pa; (pa = frame_alloc((unsigned)order, FA_NOWARN));)
				*chain = take(*chain, pa, (unsigned)order);
		}
	}
	while (*chain && frames_free() < left)
		*chain = give_one(*chain);
	while (frames_free() > left) {
		paddr_t pa = frame_alloc(0, FA_NOWARN);

		if (!pa)
			break;
		*chain = take(*chain, pa, 0);
	}
}

uint64_t ktest_squeezed(paddr_t chain)
{
	uint64_t n = 0;

	for (; chain; chain = ((struct taken *)phys_to_virt(chain))->next)
		n += 1ull << ((struct taken *)phys_to_virt(chain))->order;
	return n;
}

void ktest_unsqueeze(paddr_t *chain)
{
	while (*chain)
		*chain = give_one(*chain);
}
