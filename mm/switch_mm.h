/*
 * switch_mm(), inline: the context switch compiles the common case of the
 * address-space half into itself (sched/context_switch.h). Protocol:
 * mm/tlb.c (the switch, lazy TLB, races a and b) and mm/pcid.c (slots).
 */
#pragma once

#include "mm/tlb.h"
#include "mm/mm.h"
#include "mm/pcid.h"
#include "mm/kflush.h"
#include "mm/tlbcheck.h"
#include "arch/pasid.h"
#include "lib/percpu.h"
#include "lib/spinlock.h"
#include "include/uapi/counter_ids.h"
#include "arch/mmu.h"
#include "arch/static_branch.h"

/*
 * load_mm()'s common case, inline: next is in the slot this CPU loaded
 * before the current one (two address spaces taking turns), that slot is
 * flushed up to next's generation and the kernel's, this CPU's bit is in
 * next's mask already, and no precise user flush is queued. Then the
 * general path would: set no bit (and so issue no barrier), flush
 * nothing, count an ASID hit, leave the slot's generations as they are,
 * and load the cached no-flush CR3 (pcid_load_cr3). This does exactly
 * that. Anything else (pcid=off, tlbcheck=on, fault injection, a miss, a
 * flush due, a CR3 cache for another root) takes load_mm(). Race a holds
 * as on the general path with the bit already set: the generation is read
 * after the bit, and an initiator that read the bit interrupts us once
 * interrupts are on again, when loaded_mm is next.
 */
static __always_inline bool load_mm_fast(struct mm *next)
{
	struct cpu_tlb *ts = this_tlb();
	uint32_t slot = ts->prev;
	struct asid_slot *s = &ts->slots[slot];

	if (unlikely(!static_branch(&switch_mm_fast_allowed)))
		return false;
	/* (slot < ts->nr: prev is 0 or a former cur.) The ctx_id alone names
	 * the slot's CR3 values: a ctx_id is never reused (a 64-bit count,
	 * mm_create), an mm's root never changes, and each load that puts a
	 * ctx_id in a slot also caches that mm's root's values there
	 * (load_mm_in_tx -> pcid_load_cr3, interrupts off), so a slot holding
	 * next's ctx_id holds next's cr3_root. */
	if (s->ctx_id != next->ctx_id || !cpumask_test(&next->cpumask, this_cpu_id()) ||
	    this_cpu_read(entry.flush_count))
		return false;
	/* Acquire, as load_mm_in_tx's: after the mask bit. Pairs with the
	 * LOCK XADD bump of tlb_gen in mm_flush_range() (mm/tlb.c, race a). */
	if (s->tlb_gen < __atomic_load_n(&next->tlb_gen, __ATOMIC_ACQUIRE) ||
	    s->kgen < kflush_generation())
		return false;
	/* One count for the three the general path makes (an ASID hit, a
	 * CR3 write, a no-flush one): counter_read() adds it to each. */
	this_cpu_inc(counters[CNT_MM_SWITCH_FAST]);
	/* The general path's "if (cur != slot) prev = cur": when cur == slot
	 * it is also prev (slot came from prev), so the store is the same. */
	ts->prev = ts->cur;
	ts->cur = slot;
	this_cpu_write(kgen_seen, s->kgen);
	this_cpu_write(shared.loaded_mm, next);
	this_cpu_write(entry.kernel_cr3, s->kcr3_hw);
	/* The precise-flush queue is empty (tested above). */
	this_cpu_write(entry.user_cr3_keep, s->user_stale ? 0 : s->ucr3_keep);
	/* The checker is off: no hook. switch_mm_fast_allowed means PCIDs
	 * (the hardware's or pcid=model's), so the logical CR3 s->kcr3
	 * carries the no-flush bit (pcid_load_cr3); under the model its
	 * hardware value kcr3_hw has none, and the write flushes, as the
	 * general path's would. Counted above. */
	arch_write_cr3_hw_noflush(s->kcr3_hw);
	return true;
}

/* Everything but the common case below: the same mm again (lazy catch-up,
 * race b), leaving lazy mode, the checker's transaction, load_mm(). */
void switch_mm_slow(struct mm *next);

/*
 * Load next's address space on this CPU (context switch, interrupts off:
 * context_switch() asserts it).
 * The common cases, a user task after another on a CPU that was not lazy:
 * of the same mm (nothing to load: not the PASID nor the I/O bitmap
 * either), or of another with load_mm_fast's
 * conditions. There this does what switch_mm_slow() would (is_lazy is 0
 * already, nothing to trace, the checker is off so no transaction),
 * without the call.
 */
static __always_inline void switch_mm(struct mm *next)
{
	if (this_cpu_read(shared.loaded_mm) == next) {
		/* Another thread of the loaded mm, CPU not lazy: nothing to do
		 * (the checker's transaction, if on, is switch_mm_slow's). One
		 * OR of the two, not two tests: both reads are harmless. */
		if (unlikely(this_cpu_read(shared.is_lazy) | (uint32_t)tlbcheck_enabled))
			switch_mm_slow(next);
		/* Nor its PASID or I/O bitmap: this CPU holds next's already. A
		 * change calls every CPU that has the mm loaded (lazy or not),
		 * which loads the new one there (kernel/pasid.c, kernel/ioport.c
		 * "Load"), and only then returns. */
		return;
	}
	if (this_cpu_read(shared.is_lazy) || !load_mm_fast(next))
		switch_mm_slow(next);
	/* After the mask bit is set (load_mm): see the race in kernel/pasid.c. */
	arch_pasid_switch_mm(READ_ONCE(next->pasid_msr));
	/* The same race for the I/O bitmap (kernel/ioport.c): one predictable
	 * compare for a process without ports on a CPU whose TSS holds none. */
	if (unlikely(this_cpu_read(io_key) != READ_ONCE(next->io_key)))
		mm_load_io_bitmap(next);
}
