/*
 * Entering and leaving one cpu_fuzz sequence (user/utest/t_cpufuzz.c).
 *
 * int cf_enter(struct cf_ctx *c)
 *   Loads XMM0-15 and every general register from c, then IRETQs to the
 *   sequence (c->frame: RIP, CS, RFLAGS, RSP, SS): the only way to start
 *   with any RSP and any user-settable flag, TF included, exactly at the
 *   sequence's first instruction. Returns 0 when the sequence reached its
 *   epilogue, 1 when the kernel diverted a fault to cf_catch.
 *
 * The epilogue is written into each code page by the generator (it needs
 * the context's absolute address, since no register is free): it stores
 * every register into c->out, moves to c's small stack, stores RFLAGS and
 * jumps to cf_exit_common with RAX = c.
 *
 * cf_catch: the kernel's SYST_FAULT_CATCH target. RDI = &c->rec, RSP =
 *   c's handler stack, RFLAGS = IF, every other register as the sequence
 *   left it: stored into c->seen, so that the test can hold them against
 *   the kernel's record.
 *
 * Both ends read the FS and GS bases the sequence left (when FSGSBASE
 * exists), zero them, save XMM0-15, and reset the x87 and MXCSR state
 * (XRSTOR and random code can leave exceptions unmasked or pending) before
 * C code runs again.
 */
#include "user/utest/cpufuzz_ctx.h"

	.text
	.globl cf_enter
cf_enter:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, CF_HOST_RSP(%rdi)
	movdqu	CF_XMM_IN + 0 * 16(%rdi), %xmm0
	movdqu	CF_XMM_IN + 1 * 16(%rdi), %xmm1
	movdqu	CF_XMM_IN + 2 * 16(%rdi), %xmm2
	movdqu	CF_XMM_IN + 3 * 16(%rdi), %xmm3
	movdqu	CF_XMM_IN + 4 * 16(%rdi), %xmm4
	movdqu	CF_XMM_IN + 5 * 16(%rdi), %xmm5
	movdqu	CF_XMM_IN + 6 * 16(%rdi), %xmm6
	movdqu	CF_XMM_IN + 7 * 16(%rdi), %xmm7
	movdqu	CF_XMM_IN + 8 * 16(%rdi), %xmm8
	movdqu	CF_XMM_IN + 9 * 16(%rdi), %xmm9
	movdqu	CF_XMM_IN + 10 * 16(%rdi), %xmm10
	movdqu	CF_XMM_IN + 11 * 16(%rdi), %xmm11
	movdqu	CF_XMM_IN + 12 * 16(%rdi), %xmm12
	movdqu	CF_XMM_IN + 13 * 16(%rdi), %xmm13
	movdqu	CF_XMM_IN + 14 * 16(%rdi), %xmm14
	movdqu	CF_XMM_IN + 15 * 16(%rdi), %xmm15
	leaq	CF_LOAD(%rdi), %rsp
	popq	%rax
	popq	%rbx
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	popq	%rbp
	popq	%r8
	popq	%r9
	popq	%r10
	popq	%r11
	popq	%r12
	popq	%r13
	popq	%r14
	popq	%r15
	iretq				/* RSP = c->frame */

/* From a sequence's epilogue: RAX = c, RSP = c's exit stack. */
	.globl cf_exit_common
cf_exit_common:
	pushq	$2			/* TF, DF, AC, NT clear (IF stays) */
	popfq
	xorl	%ecx, %ecx
	jmp	cf_exit_tail

/* The kernel diverted a fault here: RDI = &c->rec. */
	.globl cf_catch
cf_catch:
	movq	%rax, CF_SEEN + 0 * 8 - CF_REC(%rdi)
	movq	%rbx, CF_SEEN + 1 * 8 - CF_REC(%rdi)
	movq	%rcx, CF_SEEN + 2 * 8 - CF_REC(%rdi)
	movq	%rdx, CF_SEEN + 3 * 8 - CF_REC(%rdi)
	movq	%rsi, CF_SEEN + 4 * 8 - CF_REC(%rdi)
	movq	%rdi, CF_SEEN + 5 * 8 - CF_REC(%rdi)
	movq	%rbp, CF_SEEN + 6 * 8 - CF_REC(%rdi)
	movq	%r8, CF_SEEN + 7 * 8 - CF_REC(%rdi)
	movq	%r9, CF_SEEN + 8 * 8 - CF_REC(%rdi)
	movq	%r10, CF_SEEN + 9 * 8 - CF_REC(%rdi)
	movq	%r11, CF_SEEN + 10 * 8 - CF_REC(%rdi)
	movq	%r12, CF_SEEN + 11 * 8 - CF_REC(%rdi)
	movq	%r13, CF_SEEN + 12 * 8 - CF_REC(%rdi)
	movq	%r14, CF_SEEN + 13 * 8 - CF_REC(%rdi)
	movq	%r15, CF_SEEN + 14 * 8 - CF_REC(%rdi)
	movq	%rsp, CF_SEEN + 15 * 8 - CF_REC(%rdi)
	pushfq
	popq	CF_SEEN_RFLAGS - CF_REC(%rdi)
	leaq	-CF_REC(%rdi), %rax
	leaq	CF_STACK_TOP(%rax), %rsp
	movl	$1, %ecx

/* RAX = c, ECX = what cf_enter returns. */
cf_exit_tail:
	cmpq	$0, CF_FSGS(%rax)
	je	1f
	rdfsbase %rdx
	movq	%rdx, CF_OUT_FS(%rax)
	rdgsbase %rdx
	movq	%rdx, CF_OUT_GS(%rax)
	xorl	%edx, %edx
	wrfsbase %rdx
	wrgsbase %rdx
1:	movdqu	%xmm0, CF_XMM_OUT + 0 * 16(%rax)
	movdqu	%xmm1, CF_XMM_OUT + 1 * 16(%rax)
	movdqu	%xmm2, CF_XMM_OUT + 2 * 16(%rax)
	movdqu	%xmm3, CF_XMM_OUT + 3 * 16(%rax)
	movdqu	%xmm4, CF_XMM_OUT + 4 * 16(%rax)
	movdqu	%xmm5, CF_XMM_OUT + 5 * 16(%rax)
	movdqu	%xmm6, CF_XMM_OUT + 6 * 16(%rax)
	movdqu	%xmm7, CF_XMM_OUT + 7 * 16(%rax)
	movdqu	%xmm8, CF_XMM_OUT + 8 * 16(%rax)
	movdqu	%xmm9, CF_XMM_OUT + 9 * 16(%rax)
	movdqu	%xmm10, CF_XMM_OUT + 10 * 16(%rax)
	movdqu	%xmm11, CF_XMM_OUT + 11 * 16(%rax)
	movdqu	%xmm12, CF_XMM_OUT + 12 * 16(%rax)
	movdqu	%xmm13, CF_XMM_OUT + 13 * 16(%rax)
	movdqu	%xmm14, CF_XMM_OUT + 14 * 16(%rax)
	movdqu	%xmm15, CF_XMM_OUT + 15 * 16(%rax)
	fninit
	ldmxcsr	CF_MXCSR(%rax)
	movq	CF_HOST_RSP(%rax), %rsp
	movl	%ecx, %eax
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

/* Where the far JMP and CALL sequences land (a 32-bit offset reaches only
 * the program's text): on to the sequence's epilogue, whose address the
 * sequence put in RBX. */
	.globl cf_far_land
cf_far_land:
	jmp	*%rbx

	.section .note.GNU-stack, "", @progbits
