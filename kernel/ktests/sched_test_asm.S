/*
 * Test helper: long ktest_yield_with_pattern(uint64_t pattern)
 * Loads every callee-saved register with a value derived from pattern,
 * yields the CPU, and checks that each came back unchanged. Returns 0 if
 * all survived, else a bit per clobbered register.
 */
	.text
	.globl ktest_yield_with_pattern
ktest_yield_with_pattern:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* keep the pattern */
	subq $8, %rsp			/* align the stack for the call */
	movq %rdi, %rbx
	movq %rdi, %r12
	notq %r12
	movq %rdi, %r13
	rolq $13, %r13
	movq %rdi, %r14
	rolq $29, %r14
	movq %rdi, %r15
	rolq $47, %r15
	call sched_yield
	movq 8(%rsp), %rdi
	xorl %eax, %eax
	cmpq %rdi, %rbx
	je 1f
	orl $1, %eax
1:	notq %rdi
	cmpq %rdi, %r12
	je 2f
	orl $2, %eax
2:	notq %rdi
	rolq $13, %rdi
	cmpq %rdi, %r13
	je 3f
	orl $4, %eax
3:	rolq $16, %rdi
	cmpq %rdi, %r14
	je 4f
	orl $8, %eax
4:	rolq $18, %rdi
	cmpq %rdi, %r15
	je 5f
	orl $16, %eax
5:	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
