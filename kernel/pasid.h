/*
 * PASID per address space (kernel/pasid.c).
 */
#pragma once

#include "lib/compiler.h"

struct mm;
struct task;

#define PASID_VALID (1u << 31)
#define PASID_BITS  20

enum { PASID_MSR, PASID_XSTATE };
extern int pasid_mode; /* pasid=msr|xstate */

void pasid_init(void);
/* switch_mm(): load next's PASID, writing only on change (pasid=msr). */
void pasid_switch_mm(const struct mm *next);
/* Return to user of t; full_restore: its extended state was just restored
 * from memory (pasid=xstate loads the thread's copy then). */
void pasid_restore_for_user(struct task *t, bool full_restore);
/* System calls: bind (allocate, or the PASID already bound) and unbind. */
long pasid_bind(void);
long pasid_unbind(void);
/* The last reference to mm is gone. */
void pasid_mm_exit(struct mm *mm);
/* The IA32_PASID value (or its shadow) on this CPU, for tests. */
long pasid_read_this_cpu_irqsafe(void);

/*
 * Boot self-test of the IA32_PASID path (kernel/pasid_selftest.c): on a
 * CPU with ENQCMD, values loaded through pasid_switch_mm() must read back
 * from the MSR; without ENQCMD it is skipped, visibly.
 */
void pasid_selftest_boot(void);
void pasid_selftest_print(void);
