/*
 * Per-CPU periodic tick from the local APIC timer (TSC-deadline or
 * one-shot mode, re-armed each tick). hz= sets the rate. The tick drives
 * preemption, sleeping tasks' wake-ups and the lockup detector.
 */
#pragma once

#include "lib/compiler.h"

extern int tick_hz;

void timer_init(void);	   /* boot CPU: register the vector */
void timer_cpu_init(void); /* every CPU: program and start its tick */
uint64_t tick_period_ns(void);
