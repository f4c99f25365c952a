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
/* The deadline timeout_ns from now, for a timed wait: time_ns() plus
 * timeout_ns, saturated at UINT64_MAX (never), where the sum would wrap
 * into the past and end the wait at once (regression
 * huge_timeouts_wait_their_time). */
static inline uint64_t deadline_after_ns(uint64_t timeout_ns)
{
	uint64_t d;

	return __builtin_add_overflow(time_ns(), timeout_ns, &d) ? UINT64_MAX : d;
}
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t ns_to_tsc(uint64_t ns);
void time_set_tsc_khz(uint64_t khz, const char *source);
/* The lockup clock every bounded wait reads: how long (ms, 0 = no limit)
 * a spin on a lock that does not change hands, a cross-CPU call owed, or
 * interrupts off may last (boot switch lockup_ms, declared with the
 * detector in kernel/lockup.c). lockup_expired(start): true once
 * lockup_ms have passed since the TSC value start (false when the limit
 * is off or a panic is already under way). */
extern int lockup_ms;
bool lockup_expired(uint64_t start);
/* lockup_ms in TSC cycles (3 GHz assumed until calibrated). */
uint64_t lockup_limit_tsc(void);

/* Busy-waits (usable before interrupts and timers work). */
void udelay(uint64_t us);
/* A test hook's one-shot window: spins *us microseconds, the hook
 * disarmed first (*us = 0), so that it holds one pass only. Out of line:
 * the callers test *us in line and call only when it is armed. */
void udelay_once(uint32_t *us);
