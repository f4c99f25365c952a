/*
 * switch_to(prev, next): save prev's callee-saved registers on its stack,
 * switch stacks, restore next's, return in next's context. Returns prev
 * (RAX) so that the code next resumes in can finish the switch.
 *
 * Offsets: TASK_KSP (struct task.ksp) is checked in sched/switch.c.
 */
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
 * "returns" here from switch_to with R12 = entry, R13 = argument.
 */
	.globl task_trampoline
task_trampoline:
	movq %rax, %rdi
	call sched_finish_switch
	sti
	movq %r13, %rdi
	xorl %ebp, %ebp
	call *%r12
	call task_exit_kernel
	ud2
