/*
 * Trap frames and interrupt vectors (interface).
 *
 * Every interrupt and exception enters through arch/x86/entry.S, which
 * builds a struct trap_frame on the kernel stack and calls trap_dispatch().
 * Code above arch/ reads a frame through the accessors at the end of this
 * header (and the register fields a system call passes its arguments in).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/cpu.h"

struct trap_frame {
	/* Lowest, the slots the SYSCALL entry leaves unwritten: the C ABI's
	 * callee-saved registers but RBP (the C it calls preserves them, and
	 * its SYSRET exit finds them there: arch/x86/entry.S), then R11 and
	 * RCX, which SYSCALL overwrote with RFLAGS and RIP (saved below) and
	 * SYSRET loads from those two. A system call's frame leaves by SYSRET
	 * only, which loads CS and SS from IA32_STAR: no system call may
	 * change tf->cs or tf->ss, nor expect the slots below RBP to be read. */
	uint64_t r15, r14, r13, r12, rbx, r11, rcx;
	uint64_t rbp, r10, r9, r8, rdi, rsi, rdx, rax;
	uint64_t vector, error;
	/* Pushed by the CPU. */
	uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame layout used by entry.S");

/* Exceptions (SDM Vol. 3A 6.15). */
enum {
	VEC_DE = 0,
	VEC_DB = 1,
	VEC_NMI = 2,
	VEC_BP = 3,
	VEC_OF = 4,
	VEC_BR = 5,
	VEC_UD = 6,
	VEC_NM = 7,
	VEC_DF = 8,
	VEC_TS = 10,
	VEC_NP = 11,
	VEC_SS = 12,
	VEC_GP = 13,
	VEC_PF = 14,
	VEC_MF = 16,
	VEC_AC = 17,
	VEC_MC = 18,
	VEC_XM = 19,
	VEC_VE = 20,
	VEC_CP = 21,
};

/* Interrupt vectors owned by the kernel. Higher vector = higher priority
 * class in the LAPIC (SDM Vol. 3A 11.8.3). */
#define VEC_LEGACY_BASE 0x20 /* 8259 remapped here, then masked */
#define VEC_TIMER	0xec
#define VEC_IPI_RESCHED 0xed
#define VEC_IPI_CALL	0xee
#define VEC_IPI_TLB	0xef
#define VEC_APIC_ERROR	0xfe
#define VEC_SPURIOUS	0xff

/* IST slots (TSS.ist[n-1]); 0 means "no IST". */
#define IST_NMI 1
#define IST_DF	2
#define IST_MC	3
#define IST_DB	4

/* Page-fault error code bits (SDM Vol. 3A 4.7). */
#define PF_PRESENT (1u << 0)
#define PF_WRITE   (1u << 1)
#define PF_USER	   (1u << 2)
#define PF_RSVD	   (1u << 3)
#define PF_INSTR   (1u << 4)
#define PF_PK	   (1u << 5)
#define PF_SS	   (1u << 6)

typedef void (*irq_handler_t)(struct trap_frame *tf);

void idt_init(void);
void idt_load(void);
void irq_register(uint8_t vector, irq_handler_t fn);
void trap_dispatch(struct trap_frame *tf);
void trap_print_frame(const struct trap_frame *tf);
/* Backtrace from a trap frame (the interrupted code's frame chain). */
void backtrace_print_trap(const struct trap_frame *tf);
/* Both, for a panic report (lib/panic.h panic_ops). */
void trap_panic_print(const struct trap_frame *tf);
const char *trap_name(uint64_t vector);

static inline bool trap_from_user(const struct trap_frame *tf)
{
	return (tf->cs & 3) == 3;
}

/*
 * Exception fixups: an instruction that may fault by design (user copies,
 * rdmsr_safe) registers {faulting ip, continuation ip}; the trap handler
 * resumes at the continuation with RAX = -EFAULT.
 */
struct extable_entry {
	int64_t insn; /* absolute address */
	int64_t fixup;
};

#define EXTABLE_ENTRY(insn_label, fixup_label)      \
	".pushsection .extable, \"a\"\n"            \
	".balign 8\n"                               \
	".quad " #insn_label ", " #fixup_label "\n" \
	".popsection\n"

bool extable_fixup(struct trap_frame *tf);

/* Hooks the dispatcher calls (arch/x86/fault.c, sched/). */
bool arch_page_fault(struct trap_frame *tf);
void trap_dispatch_user(struct trap_frame *tf);
void trap_irq(struct trap_frame *tf);
/* The exception-table continuation for a faulting ip, or 0. */
uint64_t extable_find(uint64_t ip);

/* Were interrupts enabled in the interrupted context? */
static inline bool trap_irqs_were_enabled(const struct trap_frame *tf)
{
	return tf->rflags & RFLAGS_IF;
}
