/*
 * Inter-processor interrupts (interface): the reschedule IPI and the
 * cross-CPU function calls built on the call IPI, which mm/ (TLB shootdown,
 * kernel flush catch-up) and the services use. x86-64 implementation:
 * arch/x86/apic.c sends, arch/x86/smp_call.c has the call protocol.
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
 * asserted. Work that may block runs in thread context: smp_run_on,
 * kernel/smp.h.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/cpumask.h"

/* Reschedule IPI: wake the target so it looks at its run queue (counted as
 * ipi_sent and ipi_sent_resched; its handler is arch/x86/smp_call.c's). */
void smp_send_resched(uint32_t cpu);

typedef void (*smp_call_fn)(void *arg);

/* Register the IPI handlers. arg_check(arg) runs on the target before each
 * fn(arg) (the argument may lie in memory the target must have caught up
 * on: mm/kflush.c kflush_check_ipi_arg, which the kernel passes here). */
void smp_call_init(void (*arg_check)(const void *arg));
/* Called for each CPU before it comes online (before it can be a caller). */
void smp_call_cpu_init(uint32_t cpu);
void smp_call(uint32_t cpu, smp_call_fn fn, void *arg, bool wait);
void smp_call_mask(const struct cpumask *mask, smp_call_fn fn, void *arg, bool wait);
void smp_call_others(smp_call_fn fn, void *arg, bool wait);
