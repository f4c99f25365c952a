/*
 * Where the arch hands over to the generic kernel (interface), and back:
 * every function x86's start-up, trap, system-call and switch code calls
 * above arch/ is declared here, and only here, so that the arch sees what
 * it relies on and its callees cannot drift from it. arch/x86 includes no
 * header of kernel/, mm/ or sched/ for these.
 */
#pragma once

#include "lib/compiler.h"

/* An application processor runs the generic per-CPU bring-up the kernel
 * hands to smp_boot_aps() (kernel/main.c kernel_ap_main: mm, sched, timer,
 * trace, then the idle loop), which calls this once the CPU counts as
 * online: tell the boot CPU that this AP is up (arch/x86/smpboot.c). */
void arch_ap_online(uint32_t cpu);

struct trap_frame;
struct mm;
struct task;

/* ---- Trap and system-call paths (arch/x86/entry.S, traps.c, fault.c) ---- */

/* First thing after entering from user mode by a trap or interrupt
 * (interrupts off; kernel/entry_work.c: user_enter_kernel, out of line). */
void user_enter_kernel_trap(void);
/* First thing in an interrupt that found the CPU idle (context not KERNEL;
 * interrupts off): publish KERNEL and catch up on deferred kernel flushes
 * before the handler runs (kernel/entry_work.c). */
void irq_enter_from_idle(void);
/* Last thing before returning to user mode (interrupts off): reschedule,
 * exit if killed, extended state, PASID, PTI. May enable interrupts on
 * the way, returns with them off (kernel/entry_work.c). */
void prepare_return_to_user(struct trap_frame *tf);
/* syscall entry (kernel/syscall.c): true if SYSRET may be used. */
bool syscall_dispatch(struct trap_frame *tf);
/* Interrupt exit: preempt if a reschedule is due and allowed
 * (sched/sched.c). */
void irq_exit_work(struct trap_frame *tf);
/* An NMI: stop requests, the lock-up probe, test NMIs (kernel/nmi.c). */
void nmi_handle(struct trap_frame *tf);
/* Resolve a user page fault in mm; false if the access is not allowed
 * (mm/vm.c). */
bool mm_handle_fault(struct mm *mm, uint64_t addr, bool write, bool exec);
/* A user thread took an exception it cannot survive (kernel/proc.c). */
void proc_kill_fault(struct trap_frame *tf, const char *what) __noreturn;
/* A fatal user fault of the current thread (tf from user mode, cr2 the #PF
 * address or 0): divert it as SYST_FAULT_CATCH asked; false if not armed,
 * busy, or the record cannot be written, and then the fault kills
 * (kernel/syscall_test.c). */
bool syscall_test_fault_catch(struct trap_frame *tf, uint64_t cr2);

/* The running task, for a kernel-mode exception's report (sched/task.c). */
struct task_ident {
	uint32_t tid;
	const char *name;
	uint64_t kstack_lo, kstack_hi; /* its kernel stack, [lo, hi); 0 if none */
};
void task_current_ident(struct task_ident *out);

/* ---- Context switch (arch/x86/switch_to.S) ---- */

/* On the next task's stack, after the register switch (sched/switch.c). */
void sched_finish_switch(struct task *prev);
/* A kernel task returned from its entry function (sched/task.c). */
void task_exit_kernel(void) __noreturn;
