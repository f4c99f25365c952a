/*
 * Where the arch hands over to the generic kernel (interface), and back:
 * everything x86's start-up, trap, system-call and switch code reaches
 * above arch/ is declared here, and only here, as a hook the kernel
 * registers (struct entry_ops below; the AP bring-up is a parameter of
 * smp_boot_aps), never a call by name: the arch sees what it relies on,
 * its callees cannot drift from it, and no arrow climbs. arch/x86
 * includes no header of kernel/, mm/ or sched/ for these.
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

/* The running task, for a kernel-mode exception's report. */
struct task_ident {
	uint32_t tid;
	const char *name;
	uint64_t kstack_lo, kstack_hi; /* its kernel stack, [lo, hi); 0 if none */
};

/*
 * Everything the arch's trap, system-call and switch code calls above it.
 * The kernel fills it first thing in kernel_main (before the IDT is
 * loaded), with arch_entry_init(), and once more after reading the command
 * line when a switch picks another system call (tlbcheck=on: still one
 * CPU, no user mode); the arch calls through its own copy,
 * entry_ops, each call one instruction as a direct call is. The
 * assembly calls the first four fields at fixed offsets
 * (arch/x86/asm_offsets.h ENTRY_OPS_*, checked there).
 */
struct entry_ops {
	/* ---- from assembly: entry.S, switch_to.S ---- */

	/* System call (kernel/syscall.c syscall_dispatch), one per PTI
	 * setting as the entry code is (syscall_entry, syscall_entry_pti).
	 * The exit is always SYSRET: a system call's frame keeps the CS and
	 * SS that the entry code wrote (arch/trap.h). */
	void (*do_syscall)(struct trap_frame *tf);
	void (*do_syscall_pti)(struct trap_frame *tf);
	/* On the next task's stack, after the register switch of a new
	 * task's first run (sched/switch.c sched_finish_switch). */
	void (*finish_switch)(struct task *prev);
	/* A kernel task returned from its entry function (sched/task.c
	 * task_exit_kernel); does not return. */
	void (*exit_kernel_task)(void);

	/* ---- from traps.c and fault.c ---- */

	/* First thing after entering from user mode by a trap or interrupt
	 * (interrupts off; kernel/entry_work.c user_enter_kernel_trap). */
	void (*user_enter)(void);
	/* First thing in an interrupt that found the CPU idle (context not
	 * KERNEL; interrupts off): publish KERNEL and catch up on deferred
	 * kernel flushes before the handler runs (kernel/entry_work.c
	 * irq_enter_from_idle). */
	void (*irq_enter_idle)(void);
	/* Last thing before returning to user mode (interrupts off):
	 * reschedule, exit if killed, extended state, PASID, PTI. May enable
	 * interrupts on the way, returns with them off (kernel/entry_work.c
	 * prepare_return_to_user). */
	void (*return_to_user)(struct trap_frame *tf);
	/* Interrupt exit: preempt if a reschedule is due and allowed
	 * (sched/sched.c irq_exit_work). */
	void (*irq_exit)(struct trap_frame *tf);
	/* An NMI: stop requests, the lock-up probe, test NMIs (kernel/nmi.c
	 * nmi_handle). */
	void (*do_nmi)(struct trap_frame *tf);
	/* Resolve a page fault on a user address in mm; false if the access
	 * is not allowed (mm/vm.c mm_handle_fault). */
	bool (*resolve_fault)(struct mm *mm, uint64_t addr, bool write, bool exec);
	/* A user thread took an exception it cannot survive (kernel/proc.c
	 * proc_kill_fault); does not return. */
	void (*kill_fault)(struct trap_frame *tf, const char *what);
	/* A fatal user fault of the current thread (tf from user mode, cr2
	 * the #PF address or 0): divert it as SYST_FAULT_CATCH asked; false
	 * if not armed, busy, or the record cannot be written, and then the
	 * fault kills (kernel/syscall_test.c syscall_test_fault_catch). */
	bool (*fault_catch)(struct trap_frame *tf, uint64_t cr2);
	/* The running task (sched/task.c task_current_ident). */
	void (*current_ident)(struct task_ident *out);
};

extern struct entry_ops entry_ops;
/* Copy ops into entry_ops; every field must be set. */
void arch_entry_init(const struct entry_ops *ops);
