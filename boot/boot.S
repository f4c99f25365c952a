/*
 * Multiboot2 header and the 32-bit entry from GRUB.
 *
 * GRUB (BIOS or UEFI, without the EFI boot-services tag) enters _start32 in
 * 32-bit protected mode, paging off, EAX = multiboot2 magic, EBX = physical
 * address of the boot information. Nothing else is promised: UEFI GRUB in
 * particular leaves EFER.NXE and assorted CR4 bits set, so every control
 * register we depend on is written with a full value, not modified.
 *
 * Here we:
 *   1. check the magic and that the CPU has long mode (else print a message
 *      on COM1 and halt),
 *   2. build early page tables: 0..4 GiB identity-mapped and also at the
 *      direct-map base, the kernel image window at -2 GiB -> 0..2 GiB, all
 *      with 2 MiB pages,
 *   3. enter long mode and jump to the higher half, where kernel_main
 *      replaces these tables with the real ones (mm/kpaging.c).
 *
 * This code runs at its physical address (section .boot, linked low).
 */
#include "arch/layout.h"

#define MB2_MAGIC        0xe85250d6
#define MB2_BOOT_MAGIC   0x36d76289
#define MB2_ARCH_I386    0
#define V2P(x)           ((x) - KERNEL_VMA)

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* Entry address tag: enter at _start32 (physical). */
	.balign 8
	.short 3, 0
	.long 12
	.long _start32

	/* Framebuffer tag (optional): 1024x768x32 if the firmware offers it. */
	.balign 8
	.short 5, 1
	.long 20
	.long 1024, 768, 32

	/* Module alignment tag: modules start on page boundaries. */
	.balign 8
	.short 6, 0
	.long 8

	/* End tag. */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	movl $boot32_stack_top, %esp
	movl %eax, boot_magic
	movl %ebx, boot_info

	cmpl $MB2_BOOT_MAGIC, %eax
	jne .Lbad_magic

	/* Long mode: CPUID.80000001h:EDX.LM[bit 29]. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb .Lno_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc .Lno_long_mode
	movl %edx, boot_ext_edx

	/* Zero the early page-table pages (GRUB zeroes .bss, but be sure). */
	movl $early_pml4, %edi
	movl $(early_pt_end - early_pml4) / 4, %ecx
	xorl %eax, %eax
	rep stosl

	/* Four page directories of 2 MiB pages cover 0..4 GiB. */
	movl $early_pd, %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax			/* present, writable, 2 MiB page */
	movl %eax, (%edi, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax			/* high half of the physical address */
	movl %eax, 4(%edi, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 1b

	/* PDPT for 0..4 GiB, shared by PML4[0] (identity) and PML4[256] (direct map). */
	movl $early_pdpt_low, %edi
	movl $early_pd + 0x003, 0(%edi)
	movl $early_pd + 0x1003, 8(%edi)
	movl $early_pd + 0x2003, 16(%edi)
	movl $early_pd + 0x3003, 24(%edi)

	/* PDPT for the top 2 GiB: -2 GiB -> physical 0..2 GiB. */
	movl $early_pdpt_high, %edi
	movl $early_pd + 0x003, 510 * 8(%edi)
	movl $early_pd + 0x1003, 511 * 8(%edi)

	movl $early_pml4, %edi
	movl $early_pdpt_low + 3, 0(%edi)
	movl $early_pdpt_low + 3, 256 * 8(%edi)
	movl $early_pdpt_high + 3, 511 * 8(%edi)

	/* CR4: PAE only. Clears whatever the firmware left (PCIDE, PGE, ...). */
	movl $0x20, %eax
	movl %eax, %cr4

	movl $early_pml4, %eax
	movl %eax, %cr3

	/* EFER: long mode on; NXE exactly as the CPU supports it. */
	movl $0xc0000080, %ecx
	rdmsr
	orl $(1 << 8), %eax		/* LME */
	andl $~(1 << 11), %eax		/* NXE off unless supported */
	testl $(1 << 20), boot_ext_edx
	jz 2f
	orl $(1 << 11), %eax
2:	wrmsr

	/* CR0: PG, WP, NE, ET, MP, PE; caches on (CD, NW clear); no TS/EM. */
	movl $0x80010033, %eax
	movl %eax, %cr0

	lgdt early_gdt_ptr
	ljmp $0x08, $start64_low

.Lbad_magic:
	movl $msg_bad_magic, %esi
	jmp .Lfail
.Lno_long_mode:
	movl $msg_no_lm, %esi
.Lfail:
	/* Best effort: print on COM1, then halt forever. */
	movb (%esi), %al
	testb %al, %al
	jz 4f
	movw $0x3f8, %dx
	outb %al, %dx
	incl %esi
	jmp .Lfail
4:	hlt
	jmp 4b

	.code64
start64_low:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $start64_high, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.balign 8
early_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff	/* 0x10: data, DPL 0 */
early_gdt_end:
early_gdt_ptr:
	.short early_gdt_end - early_gdt - 1
	.quad early_gdt

	.globl boot_magic, boot_info
boot_magic:	.long 0
boot_info:	.long 0
boot_ext_edx:	.long 0

msg_bad_magic:	.asciz "ukernel: not loaded by a multiboot2 loader\r\n"
msg_no_lm:	.asciz "ukernel: this CPU has no 64-bit long mode\r\n"

	.section .boot.bss, "aw", @nobits
	.balign 4096
	.globl early_pml4
early_pml4:	.skip 4096
early_pdpt_low:	.skip 4096
early_pdpt_high: .skip 4096
early_pd:	.skip 4 * 4096
early_pt_end:
	.skip 4096
boot32_stack_top:

	/* The higher-half continuation. */
	.section .text, "ax"
	.code64
	.globl start64_high
start64_high:
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_magic, %edi
	movl boot_info, %esi
	call kernel_main
1:	cli
	hlt
	jmp 1b

	.section .bss
	.balign 4096
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip 16384
boot_stack_top:
