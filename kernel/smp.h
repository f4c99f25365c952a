/*
 * Cross-CPU function calls over IPIs.
 *
 *   smp_call(cpu, fn, arg, wait)         one CPU
 *   smp_call_mask(mask, fn, arg, wait)   a set of CPUs (the caller excluded)
 *   smp_call_others(fn, arg, wait)       every other online CPU
 *
 * fn runs on the target in interrupt context (interrupts off, on the target's
 * current stack): it must be short and must not sleep or make synchronous
 * calls itself. With wait, the caller returns after every fn has finished;
 * without, it returns once the requests are queued (a later call reusing
 * the same slot waits for the earlier one to finish first).
 *
 * A synchronous call needs interrupts enabled at the caller (two CPUs
 * calling each other with interrupts off would wait forever); this is
 * asserted.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/cpumask.h"
#include "arch/ipi.h" /* smp_send_resched */

typedef void (*smp_call_fn)(void *arg);

void smp_call_init(void);
void smp_call(uint32_t cpu, smp_call_fn fn, void *arg, bool wait);
void smp_call_mask(const struct cpumask *mask, smp_call_fn fn, void *arg, bool wait);
void smp_call_others(smp_call_fn fn, void *arg, bool wait);

/* Run fn(arg) on each CPU of mask in thread context (a kernel thread pinned
 * there, interrupts enabled, allowed to block); returns when all have
 * finished. For tests and work that may itself wait for other CPUs. */
void smp_run_on(const struct cpumask *mask, smp_call_fn fn, void *arg);
