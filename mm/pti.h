/*
 * PTI: split page tables (mm/pti.c).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"

struct mm;
struct asid_slot;

extern int pti_enabled;
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
void pti_switch_away(struct asid_slot *s);
/* Return to user: compute the user CR3 and the INVLPG queue for the exit. */
void pti_prepare_exit(void);
/* Entry from user: model (and count) the CR3 switch the entry code made. */
void pti_note_entry(void);
/* The user root maps nothing of the kernel but the entry area; returns the
 * number of violations (printed). */
int pti_check_user_root(const struct mm *mm);
