/*
 * The TSS I/O permission bitmap (interface; arch/x86/desc.c). SDM Vol. 1
 * 19.5.2: with CPL > IOPL, IN/OUT/INS/OUTS to port p are allowed only if
 * the bitmap at TSS.iomap_base has bit p clear for every byte accessed;
 * bits beyond the TSS limit count as set, and a base at or beyond the
 * limit means no bitmap at all (every port #GPs).
 *
 * Each CPU's TSS holds one bitmap (in its entry page, percpu.h), loaded
 * with the running process's under its key (io_key, lib/percpu.h): by
 * switch_mm when the next mm's key differs (mm/tlb.c mm_load_io_bitmap),
 * and by kernel/ioport.c, which builds the bitmaps and has the protocol,
 * when it changes one. The base is moved beyond the limit when a process
 * without ports runs, so its contents need not be cleared.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/percpu.h"

/* Make this CPU's TSS hold the bitmap key names: copy bits
 * (IO_BITMAP_BYTES, a set bit denies the port) into it and point the TSS
 * at it, or, with key 0 or no bits, deny every port again; io_key = key.
 * Interrupts off. */
void arch_io_bitmap_switch(uint64_t key, const uint8_t *bits);
