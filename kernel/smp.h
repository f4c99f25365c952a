/*
 * Cross-CPU work: the interrupt-context calls are the arch's (arch/ipi.h:
 * smp_call, smp_call_mask, smp_call_others); work that may block runs in
 * thread context here (kernel/smp.c).
 */
#pragma once

#include "lib/compiler.h"
#include "lib/cpumask.h"
#include "arch/ipi.h"

/* Run fn(arg) on each CPU of mask in thread context (a kernel thread pinned
 * there, interrupts enabled, allowed to block); returns when all have
 * finished. For tests and work that may itself wait for other CPUs. */
void smp_run_on(const struct cpumask *mask, smp_call_fn fn, void *arg);
