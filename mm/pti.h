/*
 * PTI split page tables (mm/pti.c): root allocation and the user root's
 * mirror of the user PML4 entries.
 */
#pragma once

#include "kernel/compiler.h"

struct mm;

extern int pti_enabled;

/* Allocate mm->root (and, with PTI, the user root beside it). */
int pti_alloc_roots(struct mm *mm);
void pti_free_roots(struct mm *mm);
/* A PML4 entry of the user half changed (level 4): mirror it. */
void pti_sync_user_pml4(struct mm *mm, uint64_t va, int level);
void pti_init(void);
void pti_init_cpu(void);
