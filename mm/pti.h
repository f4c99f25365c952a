/*
 * PTI: split page tables (mm/pti.c).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"
#include "arch/mmu.h" /* tlbcheck_enabled */
#include "arch/static_branch.h"
#include "mm/pcid.h"

struct mm;
struct asid_slot;

extern bool pti_enabled;
extern int ptiflush_precise;

void pti_init(void);	    /* boot CPU, before kpaging_init */
void pti_init_tables(void); /* after kpaging_init: entry text, IDT */
void pti_init_cpu(void);
/* Map a CPU's entry page and entry/IST stacks into the user template. */
void pti_map_cpu_area(uint64_t base);

int pti_alloc_roots(struct mm *mm);
void pti_free_roots(struct mm *mm);
/* A PML4 entry of the user half changed (level 4): mirror it. */
void pti_sync_user_pml4(struct mm *mm, uint64_t va, int level);

/* Deferred user flushes (ptiflush=full|precise) for slot s. */
void pti_user_flush_page(struct asid_slot *s, uint64_t va);
void pti_user_flush_freed_tables(struct asid_slot *s);
void pti_user_flush_all(struct asid_slot *s);
/* This CPU leaves slot s: a queued precise flush becomes a full one. */
static __always_inline void pti_switch_away(struct asid_slot *s)
{
	if (static_branch(&pti_enabled) && this_cpu_read(entry.flush_count))
		pti_user_flush_all(s);
}
/* Return to user: compute the user CR3 and the INVLPG queue for the exit
 * (entry.user_cr3, entry.flush_addr), when entry.user_cr3_keep is 0. */
void pti_prepare_exit_slow(void);
/* Entry from user: model the CR3 switch the entry code made (tlbcheck). */
void pti_note_entry_slow(void);

/*
 * The exit to user mode by IRET (traps and interrupts), inline:
 * entry.user_cr3_keep (arch/percpu.h says who clears and sets it) is
 * non-zero only while the current slot's user PCID is not stale and no
 * precise flush is queued, so the exit loads that cached user CR3 with the
 * no-flush bit: what pti_prepare_exit_slow() computes in that case.
 * Counted once, in pti_cr3, which counter_read() adds to cr3_write and
 * cr3_write_noflush (one increment on the path, not two). This CPU's own
 * fields (written by it only, interrupts off). The system call's exit
 * code makes the same test itself and calls pti_prepare_exit_slow() when
 * it fails (arch/x86/entry.S).
 */
static __always_inline void pti_prepare_exit(void)
{
	if (!static_branch(&pti_enabled))
		return;
	uint64_t keep = this_cpu_read(entry.user_cr3_keep);

	if (likely(keep)) {
		this_cpu_write(entry.user_cr3, keep);
		/* The exit code's CR3 write, a no-flush one: counted in
		 * cr3_write and cr3_write_noflush by counter_read(). */
		this_cpu_inc(counters[CNT_PTI_CR3]);
		return;
	}
	pti_prepare_exit_slow();
}

/* may_check: false where the caller is compiled for tlbcheck=off only
 * (kernel/syscall.c picks its system call at boot). syscall: the entry
 * was a system call's, whose CR3 write is not counted here: with PTI
 * every system call makes one, and counter_read() adds the syscall count
 * to pti_cr3 (kernel/counters.c). */
static __always_inline void pti_note_entry_as(bool on, bool may_check, bool syscall)
{
	if (!on)
		return;
	if (!syscall)
		this_cpu_inc(counters[CNT_PTI_CR3]); /* the entry code's, as above */
	if (may_check && unlikely(static_branch(&tlbcheck_enabled)))
		pti_note_entry_slow();
}
/* The user root maps nothing of the kernel but the entry area; returns the
 * number of violations (printed). */
int pti_check_user_root(const struct mm *mm);
