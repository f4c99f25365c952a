#pragma once

/* The loop an otherwise idle CPU runs: pending thread-context work, then
 * HLT with interrupts enabled until the next interrupt. */
void cpu_idle_loop(void) __attribute__((noreturn));
