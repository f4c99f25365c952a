/*
 * Inter-processor interrupts (interface) that code above arch/ sends
 * directly. x86-64 implementation: arch/x86/apic.c. The cross-CPU
 * function calls built on IPIs are a service, kernel/smp.h.
 */
#pragma once

#include "lib/compiler.h"

/* Reschedule IPI: wake the target so it looks at its run queue (counted as
 * ipi_sent and ipi_sent_resched; its handler is kernel/smp_call.c's). */
void smp_send_resched(uint32_t cpu);
