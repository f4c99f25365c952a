#pragma once

#include "lib/compiler.h"

/* Invariant checks run at every boot (DESIGN.md, issue "robustness"):
 * W^X in the kernel half, the frame allocator's buddy invariants. Returns
 * the number of violations (each is printed). */
int selfcheck_kernel_wx(void);
struct mm;
/* An address space: every present leaf of its user half is user-accessible
 * (so SMEP and SMAP govern the kernel's access to it) and not both
 * writable and executable; with PTI its user root maps nothing of the
 * kernel but the entry area (pti_check_user_root). */
int selfcheck_idt_readonly(void);
int selfcheck_mm(const struct mm *mm);
int selfcheck_run_boot(void);
