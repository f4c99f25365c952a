/*
 * Interrupt exit and user-mode trap entry. Until the scheduler and user mode
 * exist (sched/, kernel/proc.c) there is nothing to preempt and no user
 * mode to trap from.
 */
#include "arch/x86/trap.h"
#include "kernel/panic.h"

void irq_exit_work(struct trap_frame *tf)
{
	(void)tf;
}

void trap_dispatch_user(struct trap_frame *tf)
{
	panic_with_frame(tf, "trap from user mode before user mode exists");
}
