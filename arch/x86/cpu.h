/*
 * Thin inline wrappers around x86 instructions and registers: port I/O,
 * MSRs, control registers, CPUID, interrupt flag, TSC. Only arch/ code and
 * the small arch_* seams include this; TLB-affecting instructions (CR3
 * writes, INVLPG, INVPCID) live in arch/mmu.h so the coherence checker
 * sees every one of them.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/cpu.h"

/* Model-specific registers (SDM Vol. 4). */
#define MSR_APIC_BASE	    0x0000001b
#define MSR_FEATURE_CONTROL 0x0000003a
#define MSR_TSC_ADJUST	    0x0000003b
#define MSR_SPEC_CTRL	    0x00000048
#define MSR_MTRRCAP	    0x000000fe
#define MSR_PAT		    0x00000277
#define MSR_MISC_ENABLE	    0x000001a0
#define MSR_TSC_DEADLINE    0x000006e0
#define MSR_PASID	    0x00000d93
#define MSR_XSS		    0x00000da0
#define MSR_XFD		    0x000001c4
#define MSR_XFD_ERR	    0x000001c5
#define MSR_X2APIC_BASE	    0x00000800
#define MSR_EFER	    0xc0000080
#define MSR_STAR	    0xc0000081
#define MSR_LSTAR	    0xc0000082
#define MSR_CSTAR	    0xc0000083
#define MSR_SFMASK	    0xc0000084
#define MSR_FS_BASE	    0xc0000100
#define MSR_GS_BASE	    0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102
#define MSR_TSC_AUX	    0xc0000103

#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

#define CR0_PE (1ul << 0)
#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR0_ET (1ul << 4)
#define CR0_NE (1ul << 5)
#define CR0_WP (1ul << 16)
#define CR0_AM (1ul << 18)
#define CR0_NW (1ul << 29)
#define CR0_CD (1ul << 30)
#define CR0_PG (1ul << 31)

#define CR4_VME	       (1ul << 0)
#define CR4_PVI	       (1ul << 1)
#define CR4_TSD	       (1ul << 2)
#define CR4_DE	       (1ul << 3)
#define CR4_PSE	       (1ul << 4)
#define CR4_PAE	       (1ul << 5)
#define CR4_MCE	       (1ul << 6)
#define CR4_PGE	       (1ul << 7)
#define CR4_PCE	       (1ul << 8)
#define CR4_OSFXSR     (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_UMIP       (1ul << 11)
#define CR4_LA57       (1ul << 12)
#define CR4_FSGSBASE   (1ul << 16)
#define CR4_PCIDE      (1ul << 17)
#define CR4_OSXSAVE    (1ul << 18)
#define CR4_SMEP       (1ul << 20)
#define CR4_SMAP       (1ul << 21)
#define CR4_PKE	       (1ul << 22)
#define CR4_CET	       (1ul << 23)

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ __volatile__("cpuid"
			     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
	return cpuid_count(leaf, 0);
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
}

/* rdmsr that returns false instead of faulting on an unimplemented MSR
 * (the #GP is fixed up through the exception table). */
bool rdmsr_safe(uint32_t msr, uint64_t *v);
bool wrmsr_safe(uint32_t msr, uint64_t v);

#define DEFINE_CR_ACCESSORS(n)                                               \
	static inline uint64_t read_cr##n(void)                              \
	{                                                                    \
		uint64_t v;                                                  \
		__asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));        \
		return v;                                                    \
	}                                                                    \
	static inline void write_cr##n(uint64_t v)                           \
	{                                                                    \
		__asm__ __volatile__("mov %0, %%cr" #n ::"r"(v) : "memory"); \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

/* CR3 is read here; it is written only through arch/mmu.h. */
static inline uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	return v;
}

/* DR6 (SDM Vol. 3B 18.2.3): BS (bit 14) says a #DB was a single step. */
#define DR6_BS	  (1ul << 14)
#define DR6_RESET 0xffff0ff0ul /* the value software leaves after a #DB */

static inline uint64_t read_dr6(void)
{
	uint64_t v;

	__asm__ __volatile__("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%dr6" ::"r"(v));
}

/* Canonical with 48-bit linear addresses (CR4.LA57 is never set here). */
static inline bool is_canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void xsetbv(uint32_t idx, uint64_t v)
{
	__asm__ __volatile__("xsetbv" ::"c"(idx), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
}

static inline uint64_t xgetbv(uint32_t idx)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((uint64_t)hi << 32) | lo;
}
