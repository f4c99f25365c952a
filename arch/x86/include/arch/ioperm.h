/*
 * The TSS I/O permission bitmap (interface; arch/x86/desc.c). SDM Vol. 1
 * 19.5.2: with CPL > IOPL, IN/OUT/INS/OUTS to port p are allowed only if
 * the bitmap at TSS.iomap_base has bit p clear for every byte accessed;
 * bits beyond the TSS limit count as set, and a base at or beyond the
 * limit means no bitmap at all (every port #GPs).
 *
 * Each CPU's TSS holds one bitmap (in its entry page, percpu.h), loaded
 * with the running process's (kernel/ioport.c decides when); the base is
 * moved beyond the limit when a process without ports runs, so its
 * contents need not be cleared.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/percpu.h"

/* Copy bits (IO_BITMAP_BYTES, a set bit denies the port) into this CPU's
 * TSS and point the TSS at it. Interrupts off. */
void arch_io_bitmap_load(const uint8_t *bits);
/* Every port denied on this CPU again. Interrupts off. */
void arch_io_bitmap_off(void);
