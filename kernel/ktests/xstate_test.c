/*
 * Extended-state tests:
 *   fpu_owner_stale_cpu  a CPU whose registers do not hold a task's state
 *                        (the task's tag is another CPU's: it was last
 *                        loaded there) must not save at switch-out: its
 *                        registers hold an older state of that task (or
 *                        another task's), and the save would roll the
 *                        buffer back. With this CPU's tag the same call
 *                        saves. (Named for the owner-pointer protocol it
 *                        was written against; tags replaced it.)
 */
#include "kernel/ktest.h"
#include "lib/percpu.h"
#include "include/uapi/counter_ids.h"
#include "lib/string.h"
#include "arch/x86/cpu.h"
#include "arch/fpu.h"
#include "mm/kheap.h"

#define PATTERN 0xa5

static bool all_pattern(const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (b[i] != PATTERN)
			return false;
	}
	return true;
}

KTEST(fpu_owner_stale_cpu)
{
	struct arch_task *fake = kmalloc(sizeof(*fake));

	if (!KT_EXPECT(t, fake) || !KT_EXPECT_EQ(t, xstate_task_alloc(fake), 0)) {
		kfree(fake);
		return;
	}
	uint32_t n = fake->xstate_size;

	memset(fake->xstate, PATTERN, n);
	uint64_t f = irq_save();
	uint64_t mine = this_cpu_read(fpu_tag);
	uint64_t saves0 = this_cpu_read(counters[CNT_XSAVE]);

	/* Stale: another CPU's tag (tags modulo NR_CPUS name their CPU). The
	 * registers are not touched by a save, so the state they hold stays
	 * live for whoever owns it. */
	fake->fpu_tag = mine + 1;
	xstate_switch_out(fake);
	bool untouched = all_pattern(fake->xstate, n);
	uint64_t stale_saves = this_cpu_read(counters[CNT_XSAVE]) - saves0;

	/* Not stale: the same call saves (the header's XSTATE_BV, or the
	 * legacy area with FXSAVE, is written). */
	fake->fpu_tag = mine;
	xstate_switch_out(fake);
	bool saved = !all_pattern(fake->xstate, n);
	uint64_t saves = this_cpu_read(counters[CNT_XSAVE]) - saves0;

	fake->fpu_tag = 0;
	irq_restore(f);
	KT_EXPECT(t, untouched);
	KT_EXPECT_EQ(t, stale_saves, 0ul);
	KT_EXPECT(t, saved);
	KT_EXPECT_EQ(t, saves, 1ul);
	xstate_task_free(fake);
	kfree(fake);
}
