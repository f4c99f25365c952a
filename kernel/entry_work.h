/*
 * Work at the kernel/user boundary (kernel/entry_work.c).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/entry.h"
#include "mm/pti.h"
#include "mm/kflush.h"

struct trap_frame;

/* First thing after entering from user mode (interrupts off). The entry
 * code already stored CTX_KERNEL, before its CR3 write (PTI); that write
 * serializes, so only without PTI do we fence (mm/kflush.c). Inline for
 * the system-call path; the arch's trap path calls it out of line,
 * user_enter_kernel_trap (arch/entry.h). */
static __always_inline void user_enter_kernel(void)
{
	pti_note_entry();
	kflush_enter_from_user(!pti_enabled);
}
/* irq_enter_from_idle, prepare_return_to_user and syscall_dispatch:
 * arch/entry.h (the arch's entry code calls them). */
/* Leave for user mode with the registers in tf (arch/x86/entry.S). */
void enter_user(struct trap_frame *tf) __noreturn;
