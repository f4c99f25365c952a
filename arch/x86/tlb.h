/*
 * The only doors to the TLB: every CR3 write, INVLPG and INVPCID in the
 * kernel goes through these wrappers, so that the counters and the
 * TLB-coherence checker (mm/tlbcheck.c, tlbcheck=on) see each one.
 *
 * CR3 layout with CR4.PCIDE=1 (SDM Vol. 3A 4.10.4.1): bits 11:0 = PCID,
 * bit 63 = "no flush" (keep this PCID's cached translations).
 */
#pragma once

#include "kernel/compiler.h"
#include "kernel/percpu.h"

#define CR3_NOFLUSH   (1ull << 63)
#define CR3_PCID_MASK 0xfffull
#define CR3_ADDR_MASK 0x000ffffffffff000ull

#define INVPCID_ADDR	   0 /* one address in one PCID */
#define INVPCID_SINGLE	   1 /* all of one PCID (except globals) */
#define INVPCID_ALL_GLOBAL 2 /* everything, including globals */
#define INVPCID_ALL	   3 /* everything except globals */

static __always_inline void arch_write_cr3(uint64_t v)
{
	this_cpu_inc(counters[CNT_CR3_WRITE]);
	if (v & CR3_NOFLUSH)
		this_cpu_inc(counters[CNT_CR3_WRITE_NOFLUSH]);
	__asm__ __volatile__("mov %0, %%cr3" ::"r"(v) : "memory");
}

static __always_inline void arch_invlpg(uint64_t va)
{
	this_cpu_inc(counters[CNT_INVLPG]);
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

static __always_inline void arch_invpcid(unsigned type, uint64_t pcid, uint64_t va)
{
	struct {
		uint64_t pcid, va;
	} desc = { pcid, va };

	this_cpu_inc(counters[CNT_INVPCID]);
	__asm__ __volatile__("invpcid %0, %1" ::"m"(desc), "r"((uint64_t)type) : "memory");
}

/* Flush everything including global entries by toggling CR4.PGE (SDM Vol. 3A
 * 4.10.4.1: a write to CR4 that changes PGE invalidates all TLB entries). */
void arch_flush_all_global(void);
