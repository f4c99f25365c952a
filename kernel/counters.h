/*
 * Per-CPU event counters.
 *
 * Every mechanism counts what it does here, so that a test can prove a fast
 * path ran and a benchmark can report events per operation. Each CPU owns
 * its array (plain increments, no atomics); readers sum over CPUs and accept
 * that a concurrently running CPU's count may be a few events stale.
 *
 * The list (include/uapi/counters.h) is an X-macro so that names (for user
 * space and reports) and indices cannot drift apart.
 */
#pragma once

#include "kernel/compiler.h"

#include "include/uapi/counters.h"

enum counter_id {
#define COUNTER_ENUM(id, name) CNT_##id,
	COUNTER_LIST(COUNTER_ENUM)
#undef COUNTER_ENUM
		NR_COUNTERS
};

extern const char *const counter_names[NR_COUNTERS];

/* Sum of one counter over all online CPUs. */
uint64_t counter_sum(enum counter_id id);
void counters_print(void);
