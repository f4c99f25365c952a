#pragma once

/* Determine the TSC frequency: CPUID 0x15 (crystal ratio), 0x16 (base
 * frequency), else calibrate against the ACPI PM timer, the HPET, or the
 * PIT, in that order of preference. Sets lib/time.c's clock. */
void tsc_init(void);
