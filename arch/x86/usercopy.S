/*
 * Copies between kernel and user memory.
 *
 * The kernel runs with SMAP on where the CPU has it: a kernel access to a
 * user page faults unless RFLAGS.AC is set, so these routines bracket the
 * copy with STAC/CLAC (SDM Vol. 3A 4.6.1). A fault inside the copy (bad or
 * unmapped user pointer, after demand paging had its chance) is fixed up
 * through the exception table: RAX = -EFAULT and execution continues at the
 * fixup label, which still clears AC.
 *
 * The caller (kernel/uaccess.c) has checked that the range lies in user
 * space; these routines only survive the faults.
 */
#include "arch/x86/asm_offsets.h"

.macro SMAP_OPEN
	testb $1, smap_enabled(%rip)
	jz 9f
	stac
9:
.endm

.macro SMAP_CLOSE
	testb $1, smap_enabled(%rip)
	jz 9f
	clac
9:
.endm

	.text
/* long copy_user_raw(void *dst, const void *src, size_t n) */
	.globl copy_user_raw
copy_user_raw:
	SMAP_OPEN
	movq %rdx, %rcx
1:	rep movsb
	xorl %eax, %eax
2:	SMAP_CLOSE
	ret
3:	jmp 2b
	.pushsection .extable, "a"
	.balign 8
	.quad 1b, 3b
	.popsection

/* long get_user_u32_raw(uint32_t *out, const uint32_t *uaddr) */
	.globl get_user_u32_raw
get_user_u32_raw:
	SMAP_OPEN
1:	movl (%rsi), %ecx
	movl %ecx, (%rdi)
	xorl %eax, %eax
2:	SMAP_CLOSE
	ret
3:	jmp 2b
	.pushsection .extable, "a"
	.balign 8
	.quad 1b, 3b
	.popsection

/* long probe_user_no_stac(uint32_t *out, const uint32_t *uaddr): the same
 * load as get_user_u32_raw but without STAC, so that a test can show SMAP
 * stopping it (SYST_SMAP_PROBE). The fault is fixed up like any other. */
	.globl probe_user_no_stac
probe_user_no_stac:
	xorl %eax, %eax
1:	movl (%rsi), %ecx
	movl %ecx, (%rdi)
2:	ret
	.pushsection .extable, "a"
	.balign 8
	.quad 1b, 2b
	.popsection

/* long clear_user_raw(void *dst, size_t n) */
	.globl clear_user_raw
clear_user_raw:
	SMAP_OPEN
	movq %rsi, %rcx
	xorl %eax, %eax
1:	rep stosb
2:	SMAP_CLOSE
	ret
3:	jmp 2b
	.pushsection .extable, "a"
	.balign 8
	.quad 1b, 3b
	.popsection
