/*
 * Lockup detector: a CPU spinning on one lock that does not change hands,
 * waiting for another CPU to run its cross-CPU call, or running with
 * interrupts off, for longer than lockup_ms (boot switch, 0 = off) is
 * reported with which CPU holds or owes what, and the machine panics with
 * every CPU's backtrace.
 */
#pragma once

#include "lib/compiler.h"

struct spinlock;
struct trap_frame;

#include "lib/time.h" /* lockup_ms, lockup_expired */

void lockup_check_spin(const struct spinlock *l);
/* Called from each CPU's timer tick: refresh this CPU's heartbeat and check
 * the others'. */
void lockup_tick(void);
/* A CPU coming online starts its heartbeat (it may not have ticked yet). */
void lockup_touch(void);
/* From the NMI handler of a CPU the detector suspects: record what the NMI
 * interrupted (RFLAGS.IF, RIP) for the checking CPU. */
void lockup_nmi_probe(const struct trap_frame *tf);
/* The CPU looking at a suspect now, -1 if none (death tests). */
int32_t lockup_probe_owner(void);
