/*
 * Monotonic time from the TSC.
 *
 * The TSC frequency comes from CPUID 0x15/0x16 where the CPU reports it,
 * otherwise it is calibrated against the ACPI PM timer, the HPET or (last
 * resort) the PIT (arch/x86/tsc.c). Before calibration time_ns() returns 0.
 * Conversion is a 64x64->128 multiply and a shift: no division, safe in
 * any context.
 */
#pragma once

#include "lib/compiler.h"

extern uint64_t tsc_khz;
extern const char *tsc_source;

uint64_t time_ns(void);
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t ns_to_tsc(uint64_t ns);
void time_set_tsc_khz(uint64_t khz, const char *source);
/* Busy-waits (usable before interrupts and timers work). */
void udelay(uint64_t us);
