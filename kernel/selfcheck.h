#pragma once

#include "kernel/compiler.h"

/* Invariant checks run at every boot (DESIGN.md, issue "robustness"):
 * W^X in the kernel half, the frame allocator's buddy invariants. Returns
 * the number of violations (each is printed). */
int selfcheck_kernel_wx(void);
int selfcheck_run_boot(void);
