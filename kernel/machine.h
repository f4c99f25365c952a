/*
 * Ending the machine with a verdict.
 *
 * The runner (tools/runner.py) learns the verdict two ways: QEMU's
 * isa-debug-exit device turns a write to port 0xf4 into the process exit
 * code ((value << 1) | 1; success is 0x10 -> 33, failure 0x11 -> 35, never 0,
 * which QEMU also uses for a triple fault), and a sentinel line on the
 * console for Bochs and real hardware, which have no such device. Bochs is
 * then stopped through its shutdown port (0x8900).
 */
#pragma once

#include "lib/compiler.h"

#define EXIT_PASS 0x10
#define EXIT_FAIL 0x11

void machine_exit(bool pass) __noreturn;
/* machine_exit(false), for lib/panic.h's panic_ops. */
void machine_exit_failure(void) __noreturn;
/* Stop this CPU forever with interrupts off (NMIs still arrive). */
void cpu_halt_forever(void) __noreturn;
