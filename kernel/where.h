/*
 * Where is everyone: a report for stalls that are not lockups (progress
 * stops, yet no lock is held too long and every CPU takes interrupts).
 */
#pragma once

#include "lib/compiler.h"

struct trap_frame;
struct proc;

/* From each CPU's timer tick: remember where the tick interrupted it. */
void where_sample(const struct trap_frame *tf);
/* Print every online CPU's last sample (idle, user, or a kernel symbol and
 * the task running), then the threads of p (NULL: none) with their state
 * and, when blocked, where they blocked. */
void where_report(struct proc *p);
/* Every task (up to 256) with its state and, when blocked, where. */
void where_list_tasks(void);
/* From CPU 0's timer tick: every task, once, when no CPU has been busy
 * for idle_report_s seconds (boot switch, default 30) while processes
 * exist. */
void where_idle_check(void);
