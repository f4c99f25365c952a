/*
 * Per-CPU trace rings (protocol in kernel/trace.c; event types in
 * include/uapi/trace_records.h).
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

static __always_inline bool trace_active(void)
{
	return unlikely(READ_ONCE(trace_recording));
}

static __always_inline void trace(enum trace_type type, uint32_t a, uint64_t b)
{
	if (trace_active())
		trace_log(type, a, b);
}

/* Boot: the boot CPU's ring, and recording starts if trace=on. */
void trace_init(void);
/* Each CPU, at its start-up: its own ring (nothing with trace=off). */
void trace_init_cpu(void);
/* SYS_TRACE: cmd and arg as in include/uapi/trace_records.h. */
long trace_ctl(long cmd, long arg);
