/*
 * Flushing kernel (vmalloc-class) mappings on every CPU (mm/kflush.c).
 */
#pragma once

#include "lib/compiler.h"
#include "mm/pcid.h"
#include "arch/cpu.h"

struct kflush_range; /* mm/tlb_policy.h */

/* Returns when no CPU that could touch [start, end) can still use a stale
 * translation for it; CPUs in user mode or idle may catch up later (they
 * do before touching any such mapping). */
void kflush_kernel_range(uint64_t start, uint64_t end);
/* The same for nr ranges (1..KFLUSH_RING) with one IPI round; only their
 * start and end are read. */
void kflush_kernel_ranges(const struct kflush_range *ranges, uint32_t nr);
/* Bring this CPU's current PCID up to kflush_kgen (interrupts off). */
void kflush_catch_up(void);
extern uint64_t kflush_kgen;

static __always_inline uint64_t kflush_generation(void)
{
	/* Acquire: the ring entry for this generation is visible (pairs with
	 * the release store in kflush_kernel_ranges). */
	return __atomic_load_n(&kflush_kgen, __ATOMIC_ACQUIRE);
}

/* Entry into the kernel (from user or idle): publish KERNEL, fence, catch
 * up. with_fence is false when the entry already serialized (PTI CR3).
 * Inline: the common case compares two generations and calls nothing. */
static __always_inline void kflush_enter_kernel(bool with_fence)
{
	this_cpu_write(entry.context, CTX_KERNEL);
	if (with_fence)
		smp_mb(); /* store KERNEL before loading kgen; pairs with the
			   * initiator's smp_mb() in kflush_kernel_ranges */
	/* Before this CPU has TLB state (kgen_seen 0), the catch-up
	 * returns at once. */
	if (unlikely(this_cpu_read(kgen_seen) < kflush_generation()))
		kflush_catch_up();
}
/* Entry from user mode: the entry code (arch/x86/entry.S) already stored
 * KERNEL, before its CR3 write. */
static __always_inline void kflush_enter_from_user(bool with_fence)
{
	if (with_fence)
		smp_mb(); /* as in kflush_enter_kernel(): the entry code's
			   * store of KERNEL before loading kgen; pairs with the
			   * initiator's smp_mb() in kflush_kernel_ranges */
	if (unlikely(this_cpu_read(kgen_seen) < kflush_generation()))
		kflush_catch_up();
}
/* The same for an interrupt that found the CPU idle, before its handler
 * runs (counter kflush_catchup_irq when there was something to flush). */
void kflush_enter_from_idle(void);
/* tlbcheck=on: panic if p lies in a kernel range this CPU has yet to
 * flush (an entry path that skipped its catch-up); what names the read. */
void kflush_assert_caught_up(const void *p, const char *what);
/* A call IPI's argument, before the handler reads it: the assertion
 * above, and counter kflush_ipi_arg_fresh when the interrupt's catch-up at
 * entry (kflush_enter_from_idle) is what made the read safe. */
void kflush_check_ipi_arg(const void *p);
extern int kflush_defer;
