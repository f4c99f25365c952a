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
 * user_enter_kernel_trap. */
static __always_inline void user_enter_kernel_as(bool pti, bool may_check, bool syscall)
{
	pti_note_entry_as(pti, may_check, syscall);
	kflush_enter_from_user(!pti);
}
static __always_inline void user_enter_kernel(void)
{
	user_enter_kernel_as(static_branch(&pti_enabled), true, false);
}
/* The arch's entry code calls these through arch/entry.h's entry_ops
 * (user_enter, irq_enter_idle, return_to_user, do_syscall: the contracts
 * are there). */
void user_enter_kernel_trap(void);
void irq_enter_from_idle(void);
void prepare_return_to_user(struct trap_frame *tf);
/* One per PTI setting, as the entry code (arch/entry.h do_syscall); with
 * PTI, one more for tlbcheck=on (the checker models the entry's CR3
 * write), which kernel_main installs instead when the switch is on. */
void syscall_dispatch(struct trap_frame *tf);
void syscall_dispatch_pti(struct trap_frame *tf);
void syscall_dispatch_pti_tlbcheck(struct trap_frame *tf);
/* Leave for user mode with the registers in tf (arch/x86/entry.S). */
void enter_user(struct trap_frame *tf) __noreturn;
