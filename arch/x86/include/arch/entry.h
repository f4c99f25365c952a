/*
 * Where the arch hands over to the generic kernel (interface), and back:
 * the functions x86's start-up code calls above arch/, declared here so
 * that the arch sees what it relies on.
 */
#pragma once

#include "lib/compiler.h"

/* An application processor is running with its arch state set up (GDT,
 * IDT, APIC, extended state): the generic per-CPU bring-up (mm, sched,
 * timer, trace) runs and the CPU enters the idle loop (kernel/main.c).
 * Calls arch_ap_online() once the CPU counts as online. */
void kernel_ap_main(uint32_t cpu) __noreturn;
/* Tell the boot CPU that this AP is up (arch/x86/smpboot.c). */
void arch_ap_online(uint32_t cpu);
