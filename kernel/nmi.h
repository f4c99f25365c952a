#pragma once

#include "kernel/compiler.h"

struct trap_frame;

/* NMI entry point (from trap_dispatch). */
void nmi_handle(struct trap_frame *tf);
/* Panic path: NMI every other online CPU, one at a time when backtraces
 * are wanted, so that each prints its own report and halts. */
void nmi_stop_other_cpus(bool backtraces);
