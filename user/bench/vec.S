/*
 * vec_dirty(level, seed): load every vector register with values derived
 * from seed, so that the kernel must save and restore all of them.
 * level 1: YMM0-15 (AVX); level 2: ZMM0-31 and k0-7 (AVX-512).
 * Leaves them dirty on purpose (no VZEROUPPER).
 */
	.text
	.globl vec_dirty
vec_dirty:
	push	%rbp
	mov	%rsp, %rbp
	and	$-64, %rsp
	sub	$64, %rsp
	.irp i, 0,1,2,3,4,5,6,7
	mov	%rsi, \i*8(%rsp)
	add	$0x3779b97f, %rsi
	.endr
	cmp	$2, %edi
	je	2f
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu	(%rsp), %ymm\r
	.endr
	leave
	ret
2:
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 (%rsp), %zmm\r
	.endr
	.irp k, 0,1,2,3,4,5,6,7
	kmovq	\k*8(%rsp), %k\k
	.endr
	leave
	ret
	.section .note.GNU-stack,"",@progbits
