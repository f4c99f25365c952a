/*
 * PASID per address space (kernel/pasid.c).
 */
#pragma once

#include "kernel/compiler.h"

struct mm;
struct task;

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
