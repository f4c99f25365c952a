/*
 * Per-CPU event counters.
 *
 * Every mechanism counts what it does here, so that a test can prove a fast
 * path ran and a benchmark can report events per operation. Each CPU owns
 * its array (plain increments, no atomics); readers sum over CPUs and accept
 * that a concurrently running CPU's count may be a few events stale.
 *
 * The list (include/uapi/counter_ids.h) is an X-macro so that names (for user
 * space and reports) and indices cannot drift apart.
 */
#pragma once

#include "lib/compiler.h"

#include "include/uapi/counter_ids.h"

extern const char *const counter_names[NR_COUNTERS];

/* Sum of one counter over all online CPUs. */
uint64_t counter_sum(enum counter_id id);
/* One CPU's counter. The page_walks* counters are not kept by the kernel:
 * they are read from the emulator's TLB model where there is one
 * (arch/x86/emu_tlb.h), and are 0 elsewhere. */
uint64_t counter_read(uint32_t cpu, enum counter_id id);
void counters_print(void);
