/*
 * Per-CPU trace rings: the writer (protocol in lib/trace.c; event types
 * in include/uapi/trace_records.h; the rings and SYS_TRACE in
 * kernel/trace.c).
 *
 * A hook is one line at the site it describes:
 *
 *     trace(TR_CTX_SWITCH, prev->tid, next->tid);
 *
 * With trace=off (the default) trace_recording never becomes true, so the
 * hook costs one load and one never-taken branch.
 */
#pragma once

#include "lib/compiler.h"
#include "include/uapi/trace_records.h"

/* True while recording: trace=on and not stopped. Written only by the
 * SYS_TRACE commands and at boot (kernel/trace.c). */
extern bool trace_recording;

void trace_log(enum trace_type type, uint32_t a, uint64_t b);

/* A plain read, which the compiler tests in memory (CMPB: a context switch
 * has two of these hooks; READ_ONCE's volatile load costs a MOVZBL more).
 * It is read once per hook, and a call to trace_log() after it keeps the
 * compiler from moving it later (kernel/trace.c's release store pairs with
 * it as with any load: TSO). */
static __always_inline bool trace_active(void)
{
	return unlikely(trace_recording);
}

static __always_inline void trace(enum trace_type type, uint32_t a, uint64_t b)
{
	if (trace_active())
		trace_log(type, a, b);
}

/* A ring and its records (the reader is kernel/trace.c). */
struct trace_rec {
	uint64_t tsc;
	uint64_t b;
	uint32_t a;
	uint16_t type;
	uint16_t pad;
	uint64_t seq; /* index + 1 when complete, 0 while being written */
};
_Static_assert(sizeof(struct trace_rec) == 32, "a record is 32 bytes");

struct trace_ring {
	uint64_t head;	/* next index; written by the owner only (XADD) */
	uint64_t start; /* first index of the session; written by control */
	uint64_t mask;	/* size - 1 */
	struct trace_rec *recs;
};
