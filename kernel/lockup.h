/*
 * Lockup detector: a CPU spinning on one lock, or running with interrupts
 * off, for longer than lockup_ms (boot switch, 0 = off) is reported with
 * which CPU holds what, and the machine panics with every CPU's backtrace.
 */
#pragma once

#include "kernel/compiler.h"

struct spinlock;

extern int lockup_ms;

void lockup_check_spin(const struct spinlock *l);
/* Called from each CPU's timer tick: refresh this CPU's heartbeat and check
 * the others'. */
void lockup_tick(void);
/* A CPU coming online starts its heartbeat (it may not have ticked yet). */
void lockup_touch(void);
