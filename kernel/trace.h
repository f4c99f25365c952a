/*
 * Per-CPU trace rings: allocation and the SYS_TRACE commands
 * (kernel/trace.c); the writer, trace(), is lib/trace.h.
 */
#pragma once

#include "lib/trace.h"

/* Boot: the boot CPU's ring, and recording starts if trace=on. */
void trace_init(void);
/* Each CPU, at its start-up: its own ring (nothing with trace=off). */
void trace_init_cpu(void);
/* SYS_TRACE: cmd and arg as in include/uapi/trace_records.h. */
long trace_ctl(long cmd, long arg);
