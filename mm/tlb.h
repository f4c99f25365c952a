/*
 * TLB flush interface used by the rest of the kernel (mm/tlb.c).
 *
 * mm_flush_range() is the one function every change to a user mapping goes
 * through: it returns when no CPU can use a translation of [start, end) in
 * mm any more (and, with freed_tables, no paging-structure cache entry
 * for page tables freed in that range).
 */
#pragma once

#include "lib/compiler.h"

/* tlbinject=: the one flush a test boot skips, to prove the checker and the
 * stale-read torture catch it (the KSWITCH_ENUM in mm/tlb.c names them in
 * this order). */
enum tlb_inject {
	INJECT_NONE,
	INJECT_SKIP_INVLPG,	      /* a page flush of a request */
	INJECT_SKIP_IPI,	      /* the shootdown IPIs */
	INJECT_SKIP_USER_FLUSH,	      /* the deferred user-PCID flush (PTI) */
	INJECT_SKIP_LAZY_CATCHUP,     /* the flush when a lazy CPU leaves lazy mode */
	INJECT_SKIP_ASID_FLUSH,	      /* the flush of a reused PCID slot */
	INJECT_SKIP_FREED_TABLES_IPI, /* the IPI to lazy CPUs when tables are freed */
	INJECT_SKIP_KFLUSH,	      /* the deferred kernel flush's catch-up */
	INJECT_SKIP_GEN_CHECK,	      /* a slot's generation compare on switch */
	INJECT_SKIP_MANY_REST,	      /* all but the first mm of a several-mm flush */
};
extern int tlbinject; /* enum tlb_inject */
/* pcid on or model, tlbcheck=off, tlbinject=none: the boot switches under
 * which switch_mm's inline case may run (set once, tlb_init). */
extern bool switch_mm_fast_allowed;

struct mm;

void mm_flush_range(struct mm *mm, uint64_t start, uint64_t end, uint64_t stride,
		    bool freed_tables);

/*
 * Deferred flushes (mm/tlb.c): an operation that will flush its changes
 * to mm only after it has let go of mm->lock says so before its first
 * change (mm_flush_defer); mm_flush_many() ends it for each of its mms,
 * mm_flush_defer_end() if there was nothing to flush after all.
 */
void mm_flush_defer(struct mm *mm);
void mm_flush_defer_end(struct mm *mm);

/*
 * One flush round for ranges of several mms (a memory object revoked in
 * every space that maps it, mm/memobj.c): each mm gets its own generation
 * as in mm_flush_range(), but every CPU that must flush any of them gets
 * one IPI that applies all its requests. Returns when no CPU can use a
 * translation of any of the ranges. Counts IPIs in *ipis (may be NULL).
 * Every mm's request is a deferred flush of the caller's (mm_flush_defer):
 * the round ends it.
 */
#define FLUSH_MANY_MAX 16
struct flush_many_req {
	struct mm *mm;
	uint64_t start, end;
	bool freed_tables;
	uint64_t new_gen; /* set by the flush */
};
void mm_flush_many(struct flush_many_req *reqs, uint32_t n, uint32_t *ipis);

/* Context switch: load next's address space on this CPU (switch_mm(),
 * inline: mm/switch_mm.h). */
/* Load mm's I/O bitmap (kernel/ioport.c builds it and has the protocol)
 * into this CPU's TSS, or none: switch_mm when the key differs, ioport
 * when it changes the bitmap. Interrupts off. */
void mm_load_io_bitmap(const struct mm *mm);
/* A kernel thread runs: keep the loaded mm (lazytlb=on) or load the
 * kernel mm. */
void enter_lazy_tlb(void);
/* An exiting thread leaves its mm for good: load the kernel mm here. */
void tlb_switch_to_kernel_mm(void);
/* Before an mm's page tables are freed: no CPU may have it loaded. */
void mm_drop_lazy_users(struct mm *mm);
void tlb_init(void);
void tlb_init_cpu(void);

struct asid_slot;
/* Flush this CPU's current PCID completely (kernel side; the user side is
 * marked stale) for mm in slot s: reloads CR3 without the no-flush bit.
 * Interrupts off. Used by requests, lazy catch-up and the kernel flush. */
void tlb_flush_current_pcid(struct mm *mm, struct asid_slot *s);
