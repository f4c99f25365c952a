/*
 * Process entry: the kernel starts the first thread with RDI = argument
 * string, RSI = its length, RSP just below the string (kernel/proc.c).
 */
	.section .text.start, "ax"
	.globl _start
_start:
	xorl %ebp, %ebp
	andq $-16, %rsp
	call main
	movl %eax, %edi
	call exit
	ud2
