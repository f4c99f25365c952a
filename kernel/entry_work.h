/*
 * Work at the kernel/user boundary (kernel/entry_work.c).
 */
#pragma once

#include "lib/compiler.h"
#include "mm/pti.h"
#include "mm/kflush.h"

struct trap_frame;

/* First thing after entering from user mode (interrupts off). The entry
 * code already stored CTX_KERNEL, before its CR3 write (PTI); that write
 * serializes, so only without PTI do we fence (mm/kflush.c). */
static __always_inline void user_enter_kernel(void)
{
	pti_note_entry();
	kflush_enter_kernel(!pti_enabled);
}
/* First thing in an interrupt that found the CPU idle (context not KERNEL;
 * interrupts off): publish KERNEL and catch up on deferred kernel flushes
 * before the handler runs. */
void irq_enter_from_idle(void);
/* Last thing before returning to user mode (interrupts off): reschedule,
 * exit if killed, extended state, PASID, PTI. May enable interrupts on
 * the way, returns with them off. */
void prepare_return_to_user(struct trap_frame *tf);
/* Leave for user mode with the registers in tf (arch/x86/entry.S). */
void enter_user(struct trap_frame *tf) __noreturn;
/* syscall entry (kernel/syscall.c): true if SYSRET may be used. */
bool syscall_dispatch(struct trap_frame *tf);
const char *platform_name(void);
