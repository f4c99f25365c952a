/*
 * Interrupt and exception entry/exit.
 *
 * Glossary
 *   vector stub   per-vector code that pushes a dummy error code where the
 *                 CPU pushes none, then the vector number
 *   trap frame    struct trap_frame (arch/trap.h), built here
 *   paranoid      NMI, #DF, #MC and #DB from the kernel run on IST stacks
 *                 and may interrupt the kernel anywhere, including between
 *                 SWAPGS and the first use of GS (a #DB deferred by MOV SS
 *                 lands on the first instruction of syscall_entry). They
 *                 never guess which GS base is live (user code can
 *                 WRGSBASE any canonical value, kernel-half included):
 *                 they load this CPU's known base, derived from the IST
 *                 stack they run on, and put the interrupted one back
 *   user #DB      a #DB from user mode (EFLAGS.TF, INT1/ICEBP) arrives on
 *                 its IST stack but is an ordinary user exception: it
 *                 takes the user path and moves to the task's stack
 *
 * Invariants
 *   - In the kernel, GS base points at this CPU's struct percpu; in user
 *     mode the user's value is live and ours sits in KERNEL_GS_BASE.
 *   - From user mode the frame ends on the task's kernel stack (TSS.RSP0)
 *     and interrupts are off until trap_dispatch decides otherwise.
 *   - Direction flag clear before any C code (SysV ABI).
 *   - RFLAGS.AC clear before any C code, where the CPU has SMAP: the CPU
 *     keeps the interrupted context's AC when it delivers an exception
 *     or interrupt, and user code sets AC at will (POPF), which would
 *     switch SMAP off for the whole handler (regression
 *     smap_holds_in_traps_with_user_ac). SYSCALL clears it (SFMASK).
 *   - No IRETQ or SYSRET to user mode with a non-canonical RIP: it would
 *     fault in ring 0 with the user's stack (SYSRET), or with the user's
 *     CR3 and GS (IRETQ). A frame can hold 0x800000000000 after the last
 *     instruction of the lower half (a SYSCALL there, or an interrupt
 *     taken before the fetch faults); the process gets the #GP of that
 *     fetch instead (syscall_dispatch, trap_dispatch_user, and below for
 *     the paranoid entries).
 *
 * This file is in .entry.text: with PTI the same pages are mapped in the
 * user root, so nothing here may touch kernel data before CR3 is switched
 * except the per-CPU entry page (reached through GS).
 */
#include "arch/x86/asm_offsets.h"

#define SEL_UCODE_RPL3 0x23
#define SEL_UDATA_RPL3 0x1b

	.section .entry.text, "ax"
	.code64

/* Clear RFLAGS.AC (see the invariants). CLAC is #UD on a CPU without
 * SMAP, hence the kernel's flag: kernel data, so only where the kernel root
 * is loaded. The interrupted AC comes back with the frame's RFLAGS. */
.macro CLAC_IF_SMAP
	testb $1, smap_enabled(%rip)
	jz 9f
	clac
9:
.endm

/* Save the general registers in trap_frame order (rax highest). The
 * SYSCALL entry pushes only the first eight (PUSH_SCRATCH_REGS) and leaves
 * the slots of the last seven unwritten: RCX and R11, which SYSCALL
 * replaced with RIP and RFLAGS, and the C ABI's callee-saved registers but
 * RBP (which the entry zeroes). */
.macro PUSH_SCRATCH_REGS
	pushq %rax
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %rbp
.endm

.macro PUSH_REGS
	PUSH_SCRATCH_REGS
	pushq %rcx
	pushq %r11
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro POP_SCRATCH_REGS
	popq %rbp
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rax
.endm

.macro POP_REGS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %r11
	popq %rcx
	POP_SCRATCH_REGS
.endm

/* Vector stubs, 16 bytes apart so that the IDT can compute addresses. */
.macro VECTOR n
	.balign 16
	.if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	/* The CPU pushed an error code. */
	pushq $\n
	.else
	pushq $0
	pushq $\n
	.endif
	.if (\n == 1) || (\n == 2) || (\n == 8) || (\n == 18)
	jmp paranoid_entry
	.else
	jmp trap_entry
	.endif
.endm

	.balign 16
	.globl vector_stubs
vector_stubs:
	.altmacro
	.set i, 0
	.rept 256
	VECTOR %i
	.set i, i + 1
	.endr
	.noaltmacro

/*
 * Ordinary entry: from user mode (swap GS, PTI CR3 switch, move to the task
 * stack) or from kernel mode (nothing to switch).
 */
	.globl trap_entry
trap_entry:
	testb $3, 24(%rsp)		/* CS of the interrupted context */
	jz .Lfrom_kernel
	swapgs
	/* Publish KERNEL before the CR3 write (mm/kflush.c). */
	movl $0, %gs:PCPU_CONTEXT
	/* PTI: switch to the kernel root and leave the entry stack. */
	cmpq $0, %gs:PCPU_PTI_ON
	je .Lfrom_user_nopti
	pushq %rax
	movq %gs:PCPU_KERNEL_CR3, %rax
	movq %rax, %cr3			/* serializing (SDM Vol. 3A 10.3): the
					   kflush entry fence relies on it (mm/kflush.c) */
	popq %rax
	jmp .Lto_task_stack
.Lfrom_user_nopti:
	/* Without PTI the CPU already switched to TSS.RSP0, the task stack,
	 * except for a vector with an IST stack: #DB from user mode. */
	cmpq $VEC_DB_NR, (%rsp)
	jne .Lon_task_stack
.Lto_task_stack:
	/* Copy vector, error and the 5-word hardware frame to the task stack. */
	pushq %rsi
	movq %rsp, %rsi
	movq %gs:PCPU_KSTACK_TOP, %rsp
	pushq 56(%rsi)			/* ss */
	pushq 48(%rsi)			/* rsp */
	pushq 40(%rsi)			/* rflags */
	pushq 32(%rsi)			/* cs */
	pushq 24(%rsi)			/* rip */
	pushq 16(%rsi)			/* error */
	pushq 8(%rsi)			/* vector */
	movq (%rsi), %rsi
.Lon_task_stack:
	CLAC_IF_SMAP
	PUSH_REGS
	cld
	xorl %ebp, %ebp			/* end of the frame-pointer chain */
	movq %rsp, %rdi
	call trap_dispatch_user
	jmp return_to_user

.Lfrom_kernel:
	CLAC_IF_SMAP
	PUSH_REGS
	cld
	movq %rsp, %rdi
	/* Link the frame chain through the interrupted RIP/RBP for backtraces. */
	pushq 17*8(%rsp)		/* interrupted rip */
	pushq %rbp
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	POP_REGS
	addq $16, %rsp			/* vector, error */
	iretq

/*
 * Return to user mode from a trap frame at the top of the kernel stack
 * (RSP points at it). Interrupts are off; all C work (reschedule, extended
 * state, PASID resync) was done by the caller.
 */
	.globl return_to_user
return_to_user:
	POP_REGS
	addq $16, %rsp			/* vector, error */
	cmpq $0, %gs:PCPU_PTI_ON
	je 1f
	/* PTI: move the hardware frame to the entry stack, switch to the user
	 * root (after which only the entry area is mapped), then IRET. */
	pushq %rsi
	pushq %rdi
	movq %rsp, %rsi
	movq %gs:PCPU_SELF, %rdi
	leaq PCPU_ENTRY_STACK_TOP(%rdi), %rsp
	pushq 48(%rsi)			/* ss */
	pushq 40(%rsi)			/* rsp */
	pushq 32(%rsi)			/* rflags */
	pushq 24(%rsi)			/* cs */
	pushq 16(%rsi)			/* rip */
	movq (%rsi), %rdi
	movq 8(%rsi), %rsi
	call pti_switch_to_user_cr3	/* clobbers nothing but flags */
1:	swapgs
	iretq

/* The SYSRET exit's registers from the frame at RSP: RCX = RIP and R11 =
 * RFLAGS, as a system call left them. Loaded, not popped: RSP leaves the
 * frame by a load too, so nothing needs it to walk the frame; the frame's
 * RCX and R11 slots were never written. With PTI the user's RSP goes to
 * the scratch slot first (CR3 is switched with RSP as the only free
 * register). */
.macro SYSRET_LOAD_REGS pti
	.if \pti
	movq TF_RSP(%rsp), %rcx
	movq %rcx, %gs:PCPU_SCRATCH_RSP
	.endif
	movq TF_RBP(%rsp), %rbp
	movq TF_R10(%rsp), %r10
	movq TF_R9(%rsp), %r9
	movq TF_R8(%rsp), %r8
	movq TF_RDI(%rsp), %rdi
	movq TF_RSI(%rsp), %rsi
	movq TF_RDX(%rsp), %rdx
	movq TF_RAX(%rsp), %rax
	movq TF_RIP(%rsp), %rcx
	movq TF_RFLAGS(%rsp), %r11
.endm

/* Two entries, one per PTI setting, so that neither tests it: the boot
 * points IA32_LSTAR at the one it runs with (arch_syscall_entry_select). */
.macro SYSCALL_ENTRY name, pti
	.globl \name
\name:
	swapgs
	movl $0, %gs:PCPU_CONTEXT	/* KERNEL, before the CR3 write (mm/kflush.c) */
	movq %rsp, %gs:PCPU_SCRATCH_RSP
	.if \pti
	movq %gs:PCPU_KERNEL_CR3, %rsp	/* RSP is our only free register */
	movq %rsp, %cr3			/* serializing: see mm/kflush.c */
	.endif
	movq %gs:PCPU_KSTACK_TOP, %rsp
	pushq $SEL_UDATA_RPL3
	pushq %gs:PCPU_SCRATCH_RSP
	pushq %r11
	pushq $SEL_UCODE_RPL3
	pushq %rcx
	pushq $0			/* error */
	pushq $-1			/* vector: system call */
	/* RBX and R12-R15 stay in their registers: the C below preserves
	 * them, and only the IRET exit reads the frame's copies. RCX and R11
	 * hold RIP and RFLAGS, saved above, which the exit loads them from. */
	PUSH_SCRATCH_REGS
	subq $56, %rsp
	/* No CLD: SYSCALL cleared DF (SFMASK, arch/x86/cpu_setup.c). */
	xorl %ebp, %ebp
	movq %rsp, %rdi
	.if \pti
	call *entry_ops+ENTRY_OPS_DO_SYSCALL_PTI(%rip) /* kernel/syscall.c (arch/entry.h) */
	.else
	call *entry_ops+ENTRY_OPS_DO_SYSCALL(%rip)
	.endif
	/* SYSRET, always: the frame's CS and SS are the ones pushed above
	 * (arch/trap.h), and the C checked that RIP is canonical. The C did
	 * the task's exit work; PTI's user CR3 is ours. Its fast value is
	 * entry.user_cr3_keep, 0 when the exit must compute one (a stale
	 * user PCID, precise flushes queued: pti_prepare_exit_slow(), as the
	 * IRET exit's pti_prepare_exit() would; arch/percpu.h). Interrupts
	 * are off, so it is tested once: nothing else on this CPU writes it
	 * until user mode. */
	.if \pti
	cmpq $0, %gs:PCPU_USER_CR3_KEEP
	je .Lsysret_slow\@
	.endif
	/* No fence needed: an initiator that still reads KERNEL just sends
	 * an IPI we did not need (mm/kflush.c). */
	movl $CTX_USER_NR, %gs:PCPU_CONTEXT
	SYSRET_LOAD_REGS \pti
	.if \pti
	/* RSP is our only free register (as on entry); nothing touches the
	 * stack until it is the user's again (interrupts are off; NMI, #MC
	 * and #DB run on IST stacks). A no-flush CR3 write, counted for
	 * cr3_write, cr3_write_noflush and pti_cr3 (kernel/counters.c). */
	incq %gs:PCPU_SYSRET_CR3_FAST
	movq %gs:PCPU_USER_CR3_KEEP, %rsp
	movq %rsp, %cr3
	movq %gs:PCPU_SCRATCH_RSP, %rsp
	.else
	movq TF_RSP(%rsp), %rsp		/* the user's RSP, from the frame */
	.endif
	swapgs
	sysretq
	.if \pti
	/* The slow exit: the C computes entry.user_cr3 and the INVLPG queue
	 * (mm/pti.c; callee-saved registers preserved, RSP aligned as for the
	 * call above). With the queue empty, a plain load of that CR3 (a
	 * flushing one, or a no-flush one the C counted); otherwise
	 * pti_switch_to_user_cr3 loads it and runs the queue, on the entry
	 * stack (after the CR3 switch only the entry area is mapped). */
.Lsysret_slow\@:
	call pti_prepare_exit_slow
	movl $CTX_USER_NR, %gs:PCPU_CONTEXT
	SYSRET_LOAD_REGS \pti
	cmpq $0, %gs:PCPU_FLUSH_COUNT
	jne .Lsysret_flush\@
	movq %gs:PCPU_USER_CR3, %rsp
	movq %rsp, %cr3
	movq %gs:PCPU_SCRATCH_RSP, %rsp
	swapgs
	sysretq
.Lsysret_flush\@:
	movq %gs:PCPU_ENTRY_STACK_PTR, %rsp
	call pti_switch_to_user_cr3
	movq %gs:PCPU_SCRATCH_RSP, %rsp
	swapgs
	sysretq
	.endif
.endm

/*
 * SYSCALL entry. The CPU saved RIP in RCX and RFLAGS in R11, masked
 * RFLAGS with SFMASK (interrupts off) and left RSP as the user's. We build
 * the same trap frame as an interrupt would (vector ~0 marks a system
 * call), but for the slots of RBX and R12-R15, RCX and R11: C preserves
 * the first five, so the SYSRET exit finds the user's values in them, and
 * SYSRET loads the last two from the frame's RIP and RFLAGS. Nothing reads
 * a system call's copies of them (arch/trap.h).
 */
	SYSCALL_ENTRY syscall_entry, 0
	SYSCALL_ENTRY syscall_entry_pti, 1

/* Enter user mode for the first time: RDI = trap frame on this task's
 * kernel stack (kernel/proc.c filled it in). */
	.globl enter_user
enter_user:
	movq %rdi, %rsp
	jmp return_to_user

/*
 * Paranoid entry (NMI, #DF, #MC, and #DB from the kernel): may arrive with
 * either GS base and either CR3. The interrupted GS base is kept in r12 and
 * the CR3 to restore in r13 (0 if none), both callee-saved in C.
 */
/* The interrupted CR3 (r13, 0: unchanged) and GS base (r12) back. */
.macro PARANOID_RESTORE
	testq %r13, %r13
	jz 1f
	movq %r13, %cr3
1:	movl $MSR_GS_BASE_NR, %ecx
	movl %r12d, %eax
	movq %r12, %rdx
	shrq $32, %rdx
	wrmsr
.endm

paranoid_entry:
	/* #DB from user mode: the ordinary user path (see the glossary). */
	cmpq $VEC_DB_NR, (%rsp)
	jne 1f
	testb $3, 24(%rsp)		/* CS of the interrupted context */
	jnz trap_entry
1:	PUSH_REGS
	cld
	/* GS: this CPU's struct percpu starts at the PCPU_AREA_ALIGN-aligned
	 * address below the IST stack we are on (lib/percpu.h).
	 * WRMSR touches only GS_BASE: in user mode KERNEL_GS_BASE keeps
	 * ours, and the SWAPGS on the way out of a system call still finds
	 * the right pair. */
	movl $MSR_GS_BASE_NR, %ecx
	rdmsr
	movl %eax, %r12d
	shlq $32, %rdx
	orq %rdx, %r12			/* r12: the interrupted GS base */
	movq %rsp, %rax
	andq $~(PCPU_AREA_ALIGN - 1), %rax
	movq %rax, %rdx
	shrq $32, %rdx
	wrmsr
	/* CR3: with PTI we may be on the user root (bit 12 set). */
	xorl %r13d, %r13d
	cmpq $0, %gs:PCPU_PTI_ON
	je 2f
	movq %cr3, %rax
	btq $12, %rax
	jnc 2f
	movq %rax, %r13
	movq %gs:PCPU_KERNEL_CR3, %rax
	movq %rax, %cr3
	/* Counted (this write and PARANOID_RESTORE's; kernel/counters.c;
	 * regression paranoid_entries_count_their_cr3). */
	incq %gs:PCPU_PARANOID_CR3
2:	CLAC_IF_SMAP
	movq %rsp, %rdi
	pushq 17*8(%rsp)
	pushq %rbp
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	/* Back to user mode at RIP 0x800000000000 (an NMI or #MC that came
	 * after the last instruction of the lower half): IRETQ would check
	 * RIP and raise #GP here in ring 0, on this IST stack with the user's
	 * CR3 and GS, where the kernel's text is not mapped (regression
	 * iret_to_noncanonical_rip). Enter the #GP that the fetch there
	 * raises instead, as the CPU delivers it: vector, error 0 and the
	 * frame at TSS.RSP0 (the entry stack with PTI, the task stack
	 * without; neither in use, we came from user mode), the user's GS
	 * and CR3 back, then trap_entry. */
	testb $3, 18*8(%rsp)		/* the interrupted CS */
	jz 4f
	movabsq $USER_TOP_NR, %rax
	cmpq %rax, 17*8(%rsp)		/* the interrupted RIP */
	jae .Lparanoid_user_noncanonical
4:	PARANOID_RESTORE
	POP_REGS
	addq $16, %rsp
	iretq

.Lparanoid_user_noncanonical:
	movq %gs:PCPU_KSTACK_TOP, %rax
	cmpq $0, %gs:PCPU_PTI_ON
	je 5f
	movq %gs:PCPU_SELF, %rax
	addq $PCPU_ENTRY_STACK_TOP, %rax
5:	subq $7*8, %rax
	movq $VEC_GP_NR, (%rax)		/* vector */
	movq $0, 8(%rax)		/* error */
	movq 17*8(%rsp), %rcx
	movq %rcx, 16(%rax)		/* rip */
	movq 18*8(%rsp), %rcx
	movq %rcx, 24(%rax)		/* cs */
	movq 19*8(%rsp), %rcx
	movq %rcx, 32(%rax)		/* rflags */
	movq 20*8(%rsp), %rcx
	movq %rcx, 40(%rax)		/* rsp */
	movq 21*8(%rsp), %rcx
	movq %rcx, 48(%rax)		/* ss */
	movq %rax, 15*8(%rsp)		/* the new frame, where POP_REGS leaves RSP */
	PARANOID_RESTORE
	POP_REGS
	movq (%rsp), %rsp
	jmp trap_entry

/*
 * Load the user root for the return to user mode (PTI), then apply the
 * precise deferred user flushes (ptiflush=precise): INVLPG now acts on the
 * user PCID, which is what a kernel-mode INVLPG could not reach (SDM Vol. 3A
 * 4.10.4.1: INVLPG invalidates for the current PCID only). The C side
 * (mm/pti.c) computed user_cr3, including whether the no-flush bit is set.
 * Runs on the entry stack; preserves every register.
 */
	.globl pti_switch_to_user_cr3
pti_switch_to_user_cr3:
	pushq %rax
	pushq %rcx
	movq %gs:PCPU_USER_CR3, %rax
	movq %rax, %cr3
	movq %gs:PCPU_FLUSH_COUNT, %rcx
	testq %rcx, %rcx
	jz 2f
1:	movq %gs:PCPU_FLUSH_ADDR - 8(,%rcx,8), %rax
	invlpg (%rax)
	decq %rcx
	jnz 1b
	movq $0, %gs:PCPU_FLUSH_COUNT
2:	popq %rcx
	popq %rax
	ret
