/*
 * Vector and tile registers held across one system call (or a busy loop
 * long enough to be preempted), for user/utest/t_xstate.c. No C code runs
 * between loading the registers and storing them back, so any difference
 * is the kernel's doing.
 *
 * long vec_hold_<kind>(const void *in, void *out, long nr, long a0, long a1, long a2)
 *   loads the registers from in, then: nr >= 0: syscall nr(a0, a1, a2);
 *   nr < 0: spins a0 iterations. Stores the registers to out; returns RAX.
 *   SysV: rdi in, rsi out, rdx nr, rcx a0, r8 a1, r9 a2.
 */
#include "include/uapi/syscalls.h"

	.text

/* The call: nr in %rdx, arguments in %rcx, %r8, %r9; in/out saved in
 * %r12/%r13 (callee-saved, pushed by the caller of this macro). */
.macro HOLD_CALL
	mov	%rdx, %rax
	test	%rax, %rax
	js	1f
	mov	%rcx, %rdi
	mov	%r8, %rsi
	mov	%r9, %rdx
	xor	%r10d, %r10d
	syscall			/* clobbers RCX, R11 only */
	jmp	2f
1:	dec	%rcx
	jnz	1b
	xor	%eax, %eax
2:
.endm

.macro PROLOGUE
	push	%r12
	push	%r13
	mov	%rdi, %r12
	mov	%rsi, %r13
.endm

.macro EPILOGUE
	pop	%r13
	pop	%r12
	ret
.endm

	.globl vec_hold_sse
vec_hold_sse:
	PROLOGUE
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	\r*16(%r12), %xmm\r
	.endr
	HOLD_CALL
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	%xmm\r, \r*16(%r13)
	.endr
	EPILOGUE

	.globl vec_hold_avx
vec_hold_avx:
	PROLOGUE
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	\r*32(%r12), %ymm\r
	.endr
	HOLD_CALL
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	%ymm\r, \r*32(%r13)
	.endr
	vzeroupper
	EPILOGUE

/* 32 ZMM registers (2048 bytes), then the 8 mask registers (64 bytes). */
	.globl vec_hold_avx512
vec_hold_avx512:
	PROLOGUE
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 \r*64(%r12), %zmm\r
	.endr
	.irp k, 0,1,2,3,4,5,6,7
	kmovq	2048+\k*8(%r12), %k\k
	.endr
	HOLD_CALL
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 %zmm\r, \r*64(%r13)
	.endr
	.irp k, 0,1,2,3,4,5,6,7
	kmovq	%k\k, 2048+\k*8(%r13)
	.endr
	vzeroupper
	EPILOGUE

/*
 * Tiles: in = a 64-byte tile configuration, then 8 tiles of 1 KiB (16 rows
 * of 64 bytes); out = 8 KiB. Loads the configuration and the tiles, holds,
 * stores the tiles, releases them.
 */
	.globl vec_hold_amx
vec_hold_amx:
	PROLOGUE
	push	%rbx
	ldtilecfg (%r12)
	lea	64(%r12), %rbx
	mov	$64, %r11
	tileloadd 0*1024(%rbx,%r11,1), %tmm0
	tileloadd 1*1024(%rbx,%r11,1), %tmm1
	tileloadd 2*1024(%rbx,%r11,1), %tmm2
	tileloadd 3*1024(%rbx,%r11,1), %tmm3
	tileloadd 4*1024(%rbx,%r11,1), %tmm4
	tileloadd 5*1024(%rbx,%r11,1), %tmm5
	tileloadd 6*1024(%rbx,%r11,1), %tmm6
	tileloadd 7*1024(%rbx,%r11,1), %tmm7
	HOLD_CALL
	mov	$64, %r11
	tilestored %tmm0, 0*1024(%r13,%r11,1)
	tilestored %tmm1, 1*1024(%r13,%r11,1)
	tilestored %tmm2, 2*1024(%r13,%r11,1)
	tilestored %tmm3, 3*1024(%r13,%r11,1)
	tilestored %tmm4, 4*1024(%r13,%r11,1)
	tilestored %tmm5, 5*1024(%r13,%r11,1)
	tilestored %tmm6, 6*1024(%r13,%r11,1)
	tilestored %tmm7, 7*1024(%r13,%r11,1)
	tilerelease
	pop	%rbx
	EPILOGUE

/* Touches tile state once (for the tests that must fault without
 * permission): configure, zero a tile, release. */
	.globl amx_touch
amx_touch:
	ldtilecfg (%rdi)
	tilezero %tmm0
	tilerelease
	ret

	.section .note.GNU-stack,"",@progbits
