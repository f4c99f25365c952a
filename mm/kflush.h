/*
 * Flushing kernel (vmalloc-class) mappings on every CPU (mm/kflush.c).
 */
#pragma once

#include "lib/compiler.h"

struct kflush_range; /* mm/tlb_policy.h */

/* Returns when no CPU that could touch [start, end) can still use a stale
 * translation for it; CPUs in user mode or idle may catch up later (they
 * do before touching any such mapping). */
void kflush_kernel_range(uint64_t start, uint64_t end);
/* The same for nr ranges (1..KFLUSH_RING) with one IPI round; only their
 * start and end are read. */
void kflush_kernel_ranges(const struct kflush_range *ranges, uint32_t nr);
/* Entry into the kernel (from user or idle): publish KERNEL, fence, catch
 * up. with_fence is false when the entry already serialized (PTI CR3). */
void kflush_enter_kernel(bool with_fence);
/* The same for an interrupt that found the CPU idle, before its handler
 * runs (counter kflush_catchup_irq when there was something to flush). */
void kflush_enter_from_idle(void);
uint64_t kflush_generation(void);
/* tlbcheck=on: panic if p lies in a kernel range this CPU has yet to
 * flush (an entry path that skipped its catch-up); what names the read. */
void kflush_assert_caught_up(const void *p, const char *what);
/* A call IPI's argument, before the handler reads it: the assertion
 * above, and counter kflush_ipi_arg_fresh when the interrupt's catch-up at
 * entry (kflush_enter_from_idle) is what made the read safe. */
void kflush_check_ipi_arg(const void *p);
extern int kflush_defer;
