/*
 * switch_to(prev, next): save prev's callee-saved registers on its stack,
 * switch stacks, restore next's, return in next's context. Returns prev
 * (RAX) so that the code next resumes in can finish the switch.
 *
 * Offsets: TASK_KSP (struct task.ksp) is checked in sched/switch.c,
 * ENTRY_OPS_* in arch/x86/asm_offsets.h.
 */
#include "arch/x86/asm_offsets.h"
#define TASK_KSP 0

	.text
	.globl switch_to
switch_to:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, TASK_KSP(%rdi)
	movq TASK_KSP(%rsi), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	movq %rdi, %rax
	ret

/*
 * First instructions of every new task: its initial stack (task_create)
 * "returns" here from switch_to with R12 = entry, R13 = argument. The
 * scheduler's two hooks are reached through arch/entry.h's entry_ops.
 */
	.globl task_trampoline
task_trampoline:
	movq %rax, %rdi
	call *entry_ops+ENTRY_OPS_FINISH_SWITCH(%rip)
	sti
	movq %r13, %rdi
	xorl %ebp, %ebp
	call *%r12
	call *entry_ops+ENTRY_OPS_EXIT_KERNEL_TASK(%rip)
	ud2
