/*
 * PASID per address space (kernel/pasid.c).
 */
#pragma once

#include "lib/compiler.h"

struct mm;
struct task;

#include "arch/pasid.h" /* pasid_mode, the load */

void pasid_init(void);
/* Return to user of t; full_restore: its extended state was just restored
 * from memory (pasid=xstate loads the thread's copy then). */
void pasid_restore_for_user(struct task *t, bool full_restore);
/* System calls: bind (allocate, or the PASID already bound) and unbind. */
long pasid_bind(void);
long pasid_unbind(void);
/* The IA32_PASID value (or its shadow) on this CPU, for tests. */
long pasid_read_this_cpu_irqsafe(void);

/*
 * Boot self-test of the IA32_PASID path (kernel/pasid_selftest.c): on a
 * CPU with ENQCMD, values loaded through arch_pasid_switch_mm() must read back
 * from the MSR; without ENQCMD it is skipped, visibly.
 */
void pasid_selftest_boot(void);
void pasid_selftest_print(void);
