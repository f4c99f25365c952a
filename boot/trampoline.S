/*
 * AP start-up trampoline: real mode -> protected mode -> long mode.
 *
 * The BSP copies this blob to a free page below 1 MiB (TRAMP_BASE, the
 * SIPI vector is its page number), fills the parameter block at its end,
 * and sends INIT-SIPI-SIPI. The AP starts in real mode at CS:IP =
 * (TRAMP_BASE >> 4):0 with everything else undefined.
 *
 * The code is position independent: every absolute address it needs (GDT
 * base, far-jump targets) is computed by the BSP and stored in the
 * parameter block. Page tables: the BSP builds a small root (below 1 MiB,
 * next to this page) that identity-maps the first 2 MiB and shares the
 * kernel half; the AP switches to the real kernel root once it runs in the
 * higher half.
 *
 * Parameter block layout (struct tramp_params in arch/x86/smpboot.c; the
 * offsets are checked there):
 *   0  gdt_ptr (limit:2, base:4)   8  pm_entry (off:4, sel:2)
 *  16  lm_entry (off:4, sel:2)    24  cr3 (trampoline root, < 4 GiB)
 *  32  cr4                        40  efer
 *  48  stack (virtual)            56  percpu (virtual)
 *  64  reserved                   72  entry64 (ap_start64 below)
 *  80  reserved                   88  gdt[4]: null, code32, data, code64
 */
#define P_GDT_PTR   0
#define P_PM_ENTRY  8
#define P_LM_ENTRY  16
#define P_CR3       24
#define P_CR4       32
#define P_EFER      40
#define P_STACK     48
#define P_PERCPU    56
#define P_ENTRY64   72
#define P_GDT       88

	.section .rodata
	.globl trampoline_start, trampoline_end, trampoline_params
	.balign 16
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	/* EBX = linear base of this blob; general registers survive the mode
	 * switches, so the 32- and 64-bit code below use it too. */
	movzwl %ax, %ebx
	shll $4, %ebx
	/* Offsets below are relative to the blob (DS base = blob base). */
	lgdtl trampoline_params - trampoline_start + P_GDT_PTR
	movl %cr0, %eax
	orl $1, %eax			/* PE */
	movl %eax, %cr0
	ljmpl *(trampoline_params - trampoline_start + P_PM_ENTRY)

	.code32
	.globl trampoline_pm
trampoline_pm:
	movl $0x10, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	leal 0x1000(%ebx), %esp		/* top of the trampoline page */
	leal (trampoline_params - trampoline_start)(%ebx), %esi

	movl P_CR4(%esi), %eax
	movl %eax, %cr4
	movl P_CR3(%esi), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER */
	movl P_EFER(%esi), %eax
	movl P_EFER + 4(%esi), %edx
	wrmsr
	movl $0x80010033, %eax		/* PG, WP, NE, ET, MP, PE */
	movl %eax, %cr0
	ljmpl *P_LM_ENTRY(%esi)

	.code64
	.globl trampoline_lm
trampoline_lm:
	/* Still on the identity-mapped page: RSI is valid (zero-extended). */
	movl %esi, %esi
	movq P_STACK(%rsi), %rsp
	movq P_PERCPU(%rsi), %rdi
	jmp *P_ENTRY64(%rsi)		/* into the higher half */

	.balign 8
trampoline_params:
	.skip P_GDT + 4 * 8
trampoline_end:

/*
 * Higher-half continuation: RDI = per-CPU area, RSP = this CPU's idle
 * stack, still on the trampoline root. ap_main() loads GS and then the
 * kernel root through arch_write_cr3() (the one door to CR3).
 */
	.text
	.globl ap_start64
ap_start64:
	xorl %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b
