/*
 * PASID numbers (mm/pasid.c): the 20-bit ids an address space is known by
 * to devices (ENQCMD, an IOMMU). kernel/pasid.c binds and unbinds them;
 * the last reference to an mm gives its id back (mm_put).
 */
#pragma once

#include "lib/compiler.h"

struct mm;

/* How many PASIDs (1..pasids) binds may take: an IOMMU may offer fewer
 * than the 20 bits, and a small value makes exhaustion testable (boot
 * switch pasids=, declared in kernel/pasid.c). */
extern int pasids;

/* A free PASID, 0 if none is left. */
uint32_t pasid_alloc(void);
/* Give p back (0: nothing). */
void pasid_free(uint32_t p);
/* The last reference to mm is gone: its PASID goes back. */
void pasid_mm_exit(struct mm *mm);
