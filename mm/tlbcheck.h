/*
 * TLB-coherence checker hooks (mm/tlbcheck*.c; the protocol is at the top
 * of mm/tlbcheck.c). With tlbcheck=off (the default) each hook is one
 * predictable branch.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"

struct mm;

#include "arch/mmu.h" /* tlbcheck_enabled and the hooks of the arch wrappers */

/*
 * A transaction: the protocol's records (slot generations, lazy flag,
 * deferred-flush state) and the TLB operations that make them true change
 * together as far as the checker can see, so that it never judges another
 * CPU halfway. No-ops with tlbcheck=off; may nest.
 */
#define TLBCHECK_NO_TX ~0ull
/* The instruction hooks (arch/mmu.h struct mmu_check_ops; kernel_main
 * registers tlbcheck_mmu_ops). */
void tlbcheck_cr3_write_slow(uint64_t cr3);
void tlbcheck_invlpg_slow(uint64_t va);
void tlbcheck_invpcid_slow(unsigned type, uint64_t pcid, uint64_t va);
void tlbcheck_flush_all_slow(void);
extern const struct mmu_check_ops tlbcheck_mmu_ops;

uint64_t tlbcheck_begin_slow(void);
void tlbcheck_end_slow(uint64_t token);

/* Inline so that with tlbcheck=off a transaction costs one predictable
 * branch at each end and no call (a call with its frame was ~17 + 4
 * instructions, eight times per IPC round trip). */
static __always_inline uint64_t tlbcheck_begin(void)
{
	if (likely(!tlbcheck_enabled))
		return TLBCHECK_NO_TX;
	return tlbcheck_begin_slow();
}

static __always_inline void tlbcheck_end(uint64_t token)
{
	if (unlikely(token != TLBCHECK_NO_TX))
		tlbcheck_end_slow(token);
}

/* Everything below is called only when tlbcheck_enabled. */
void tlbcheck_init(void);
void tlbcheck_init_cpu(void);
void tlbcheck_mm_created(const struct mm *mm);
void tlbcheck_mm_freed(const struct mm *mm);
/* The next CR3 load on this CPU claims its PCID is flushed for ctx up to
 * gen (mm) and kgen (kernel flushes); checked if the load keeps entries. */
void tlbcheck_claim(uint64_t ctx, uint64_t gen, uint64_t kgen);
/* A user translation of mm changed: the old one may be cached. */
void tlbcheck_pte_change(const struct mm *mm, uint64_t va, uint64_t old_pte, uint64_t new_pte);
/* A page-table page of mm (mapping va at level) is about to be freed. */
void tlbcheck_table_free(const struct mm *mm, uint64_t va, paddr_t table);
/* A kernel (vmalloc) page was unmapped; kgen is the flush that covers it. */
void tlbcheck_kernel_unmap(uint64_t va, paddr_t pa, uint64_t kgen);
/* Assertion points. */
void tlbcheck_request_done(const struct mm *mm, uint64_t start, uint64_t end, uint64_t gen);
void tlbcheck_range_flushed(uint64_t ctx, uint64_t start, uint64_t end, uint64_t gen);
void tlbcheck_frame_free(paddr_t pa, bool table);
void tlbcheck_kflush_done(uint64_t start, uint64_t end, uint64_t gen, bool deferred_ok);
void tlbcheck_kernel_caught_up(uint64_t kgen);
/* The kernel-flush initiator did not interrupt cpu for gen (kflush=defer). */
void tlbcheck_kflush_deferred(uint32_t cpu, uint64_t gen);
/* The exit to user: the user CR3 load and the precise INVLPG queue the
 * entry code will run, applied to the model in that order, then checked. */
void tlbcheck_user_exit(uint64_t cr3, const uint64_t *queue, uint64_t n, uint64_t gen);
void tlbcheck_print(void);
