/*
 * Arch primitives (interface): what code above arch/ may use of the CPU
 * directly. The interrupt flag, pause and halt, the time-stamp counter and
 * the memory barriers; nothing that changes translations (arch/mmu.h) or
 * other registers. x86-64 implementation.
 */
#pragma once

#include "lib/compiler.h"

#define RFLAGS_IF   (1ul << 9)
#define RFLAGS_AC   (1ul << 18)
#define RFLAGS_DF   (1ul << 10)
#define RFLAGS_TF   (1ul << 8)
#define RFLAGS_IOPL (3ul << 12)
#define RFLAGS_NT   (1ul << 14)
#define RFLAGS_VM   (1ul << 17)

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static inline void halt(void)
{
	__asm__ __volatile__("hlt" ::: "memory");
}

static inline uint64_t read_rflags(void)
{
	uint64_t f;

	__asm__ __volatile__("pushfq; popq %0" : "=r"(f)::"memory");
	return f;
}

static inline void irq_disable(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

/* "sti; hlt" in one shadow: an interrupt arriving between the two still
 * wakes the hlt (SDM Vol. 2B STI: interrupts are recognised after the next
 * instruction). */
static inline void irq_enable_and_halt(void)
{
	__asm__ __volatile__("sti; hlt" ::: "memory");
}

static inline bool irqs_enabled(void)
{
	return read_rflags() & RFLAGS_IF;
}

static inline uint64_t irq_save(void)
{
	uint64_t f = read_rflags();

	irq_disable();
	return f;
}

static inline void irq_restore(uint64_t flags)
{
	if (flags & RFLAGS_IF)
		irq_enable();
}

/* The halves as 64-bit outputs: RDTSC clears bits 63:32 of RAX and RDX
 * (SDM Vol. 2B RDTSC), which GCC cannot know of 32-bit ones, and it then
 * zero-extended EAX with a MOV more (a context switch reads the TSC). */
static inline uint64_t rdtsc(void)
{
	uint64_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (hi << 32) | lo;
}

/* RDTSC that does not move earlier than preceding loads (SDM Vol. 2B RDTSC:
 * LFENCE before it waits for prior instructions to complete locally). No
 * pair: it orders only this CPU's own instruction stream. */
static inline uint64_t rdtsc_ordered(void)
{
	__asm__ __volatile__("lfence" ::: "memory");
	return rdtsc();
}

/* Full memory barrier (SDM Vol. 3A 9.2.2: MFENCE orders all prior loads and
 * stores before all later ones). No pair here: each caller's comment names
 * the barrier it pairs with. */
static inline void mb(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}

/* Store->load ordering on WB memory, cheaper than MFENCE on most parts; a
 * LOCKed instruction is a full barrier (SDM Vol. 3A 9.2.3.9). */
static inline void smp_mb(void)
{
	__asm__ __volatile__("lock; addl $0, -4(%%rsp)" ::: "memory", "cc");
}

/* Serialize this CPU's instruction stream (membarrier's sync-core): the
 * SERIALIZE instruction where present, else CPUID (SDM Vol. 3A 10.3).
 * arch/x86/cpu_setup.c. */
void arch_sync_core(void);
