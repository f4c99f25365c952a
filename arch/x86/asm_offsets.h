/*
 * Offsets into struct percpu and struct trap_frame used by assembly, checked
 * against the C layouts at compile time by arch/x86/asm_offsets.c.
 */
#pragma once

#define PCPU_SELF	     0
#define PCPU_CPU_ID	     8
#define PCPU_SCRATCH_RSP     16
#define PCPU_KSTACK_TOP	     24
#define PCPU_KERNEL_CR3	     32
#define PCPU_USER_CR3	     40
#define PCPU_PTI_ON	     48
#define PCPU_FLUSH_COUNT     56
#define PCPU_FLUSH_ADDR	     64
#define PCPU_ENTRY_STACK_PTR 128
#define PCPU_USER_CR3_KEEP   136
#define PCPU_SYSRET_CR3_FAST 144
#define PCPU_PARANOID_CR3    152
#define PCPU_CONTEXT	     192
#define PCPU_ENTRY_STACK_TOP 0x13000 /* PERCPU_ENTRY_STACK + PERCPU_STACK_SIZE */

#define TF_SIZE	  176 /* sizeof(struct trap_frame) */
/* The slots the SYSRET exit loads (arch/x86/entry.S). */
#define TF_RBP	  56
#define TF_R10	  64
#define TF_R9	  72
#define TF_R8	  80
#define TF_RDI	  88
#define TF_RSI	  96
#define TF_RDX	  104
#define TF_RAX	  112
#define TF_RIP	  136
#define TF_RFLAGS 152
#define TF_RSP	  160

/* Paranoid entry: the per-CPU area containing the IST stack is aligned to
 * this (arch/percpu.h PERCPU_STRIDE), struct percpu at its start. */
#define PCPU_AREA_ALIGN		   0x40000
/* struct entry_ops (arch/entry.h): the hooks the assembly calls. */
#define ENTRY_OPS_DO_SYSCALL	   0
#define ENTRY_OPS_DO_SYSCALL_PTI   8
#define ENTRY_OPS_FINISH_SWITCH	   16
#define ENTRY_OPS_EXIT_KERNEL_TASK 24

#define CTX_USER_NR    1
#define VEC_DB_NR      1
#define VEC_GP_NR      13
#define MSR_GS_BASE_NR 0xc0000101
#define USER_TOP_NR    0x0000800000000000

#ifndef __ASSEMBLER__
#include <stddef.h>
#include "lib/percpu.h"
#include "arch/entry.h"
#include "arch/trap.h"
#include "arch/layout.h"
#include "arch/x86/cpu.h"

_Static_assert(PCPU_SELF == offsetof(struct percpu, entry.self), "asm offset");
_Static_assert(PCPU_CPU_ID == offsetof(struct percpu, entry.cpu_id), "asm offset");
_Static_assert(PCPU_SCRATCH_RSP == offsetof(struct percpu, entry.scratch_rsp), "asm offset");
_Static_assert(PCPU_KSTACK_TOP == offsetof(struct percpu, entry.kstack_top), "asm offset");
_Static_assert(PCPU_KERNEL_CR3 == offsetof(struct percpu, entry.kernel_cr3), "asm offset");
_Static_assert(PCPU_USER_CR3 == offsetof(struct percpu, entry.user_cr3), "asm offset");
_Static_assert(PCPU_PTI_ON == offsetof(struct percpu, entry.pti_on), "asm offset");
_Static_assert(PCPU_FLUSH_COUNT == offsetof(struct percpu, entry.flush_count), "asm offset");
_Static_assert(PCPU_FLUSH_ADDR == offsetof(struct percpu, entry.flush_addr), "asm offset");
_Static_assert(PCPU_ENTRY_STACK_PTR == offsetof(struct percpu, entry.entry_stack_ptr),
	       "asm offset");
_Static_assert(PCPU_USER_CR3_KEEP == offsetof(struct percpu, entry.user_cr3_keep), "asm offset");
_Static_assert(PCPU_SYSRET_CR3_FAST == offsetof(struct percpu, entry.sysret_cr3_fast),
	       "asm offset");
_Static_assert(PCPU_PARANOID_CR3 == offsetof(struct percpu, entry.paranoid_cr3), "asm offset");
_Static_assert(PCPU_CONTEXT == offsetof(struct percpu, entry.context), "asm offset");
_Static_assert(PCPU_ENTRY_STACK_TOP == PERCPU_ENTRY_STACK + PERCPU_STACK_SIZE, "asm offset");
_Static_assert(TF_SIZE == sizeof(struct trap_frame), "asm offset");
_Static_assert(TF_RBP == offsetof(struct trap_frame, rbp) &&
		       TF_R10 == offsetof(struct trap_frame, r10) &&
		       TF_R9 == offsetof(struct trap_frame, r9) &&
		       TF_R8 == offsetof(struct trap_frame, r8) &&
		       TF_RDI == offsetof(struct trap_frame, rdi) &&
		       TF_RSI == offsetof(struct trap_frame, rsi) &&
		       TF_RDX == offsetof(struct trap_frame, rdx) &&
		       TF_RAX == offsetof(struct trap_frame, rax) &&
		       TF_RIP == offsetof(struct trap_frame, rip) &&
		       TF_RFLAGS == offsetof(struct trap_frame, rflags) &&
		       TF_RSP == offsetof(struct trap_frame, rsp),
	       "asm offset");
_Static_assert(PCPU_AREA_ALIGN == PERCPU_STRIDE && PERCPU_AREA_END <= PERCPU_STRIDE,
	       "paranoid entry: IST stacks in a PERCPU_STRIDE-aligned area");
_Static_assert(ENTRY_OPS_DO_SYSCALL == offsetof(struct entry_ops, do_syscall), "asm offset");
_Static_assert(ENTRY_OPS_DO_SYSCALL_PTI == offsetof(struct entry_ops, do_syscall_pti),
	       "asm offset");
_Static_assert(ENTRY_OPS_FINISH_SWITCH == offsetof(struct entry_ops, finish_switch), "asm offset");
_Static_assert(ENTRY_OPS_EXIT_KERNEL_TASK == offsetof(struct entry_ops, exit_kernel_task),
	       "asm offset");
_Static_assert(CTX_USER_NR == CTX_USER, "asm context");
_Static_assert(VEC_DB_NR == VEC_DB, "asm vector");
_Static_assert(VEC_GP_NR == VEC_GP, "asm vector");
_Static_assert(USER_TOP_NR == USER_TOP, "asm USER_TOP");
_Static_assert(MSR_GS_BASE_NR == MSR_GS_BASE, "asm MSR");
#endif
