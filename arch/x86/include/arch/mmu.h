/*
 * The MMU (interface): the only doors to the TLB. Every CR3 write, INVLPG
 * and INVPCID in the kernel goes through these wrappers, so that the
 * counters and the TLB-coherence checker (mm/tlbcheck.c, tlbcheck=on) see
 * each one; the checker's hooks are declared here, implemented by mm/.
 * Also what mm/ may ask of the MMU: its features and the two CR4 modes
 * it switches (global pages, PCIDs).
 *
 * CR3 layout with CR4.PCIDE=1 (SDM Vol. 3A 4.10.4.1): bits 11:0 = PCID,
 * bit 63 = "no flush" (keep this PCID's cached translations). Callers pass
 * the logical value; with pcid=model or off the hardware gets the root only
 * (mm/pcid.c: cr3_hw_value) and the checker still sees the logical value.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/percpu.h"
#include "arch/x86/cpufeature.h"

#define CR3_NOFLUSH   (1ull << 63)
#define CR3_PCID_MASK 0xfffull
#define CR3_ADDR_MASK 0x000ffffffffff000ull

#define INVPCID_ADDR	   0 /* one address in one PCID */
#define INVPCID_SINGLE	   1 /* all of one PCID (except globals) */
#define INVPCID_ALL_GLOBAL 2 /* everything, including globals */
#define INVPCID_ALL	   3 /* everything except globals */

/* What the hardware is told (arch/x86/tlb.c; mm/pcid.c decides): CR3 carries
 * the PCID only with pcid_hw; INVPCID is executed only with invpcid_hw. */
extern bool pcid_hw;
extern bool invpcid_hw;

/* The coherence checker's view of these instructions. The checker
 * (mm/tlbcheck.c) fills the hooks and kernel_main registers them with
 * arch_mmu_check_init() before the command line can turn the checker on;
 * the arch calls through its copy, mmu_check. tlbcheck_enabled is the
 * switch tlbcheck= (declared in mm/tlbcheck.c): with it off (the default)
 * each hook is one predictable branch. */
extern bool tlbcheck_enabled;

struct mmu_check_ops {
	void (*cr3_write)(uint64_t cr3);
	void (*invlpg)(uint64_t va);
	void (*invpcid)(unsigned type, uint64_t pcid, uint64_t va);
	void (*flush_all)(void);
};
extern struct mmu_check_ops mmu_check;
void arch_mmu_check_init(const struct mmu_check_ops *ops);

static __always_inline void tlbcheck_cr3_write(uint64_t cr3)
{
	if (unlikely(tlbcheck_enabled))
		mmu_check.cr3_write(cr3);
}

static __always_inline void tlbcheck_invlpg(uint64_t va)
{
	if (unlikely(tlbcheck_enabled))
		mmu_check.invlpg(va);
}

static __always_inline void tlbcheck_invpcid(unsigned type, uint64_t pcid, uint64_t va)
{
	if (unlikely(tlbcheck_enabled))
		mmu_check.invpcid(type, pcid, va);
}

static __always_inline void tlbcheck_flush_all(void)
{
	if (unlikely(tlbcheck_enabled))
		mmu_check.flush_all();
}

static __always_inline void arch_write_cr3(uint64_t logical)
{
	uint64_t hw = pcid_hw ? logical : logical & CR3_ADDR_MASK;

	this_cpu_inc(counters[CNT_CR3_WRITE]);
	if (logical & CR3_NOFLUSH)
		this_cpu_inc(counters[CNT_CR3_WRITE_NOFLUSH]);
	tlbcheck_cr3_write(logical);
	__asm__ __volatile__("mov %0, %%cr3" ::"r"(hw) : "memory");
}

/* The same write with the hardware value already computed (hw ==
 * cr3_hw_value(logical)), the checker known to be off and the logical
 * value known to carry CR3_NOFLUSH (a PCID slot's cached kernel CR3):
 * mm/switch_mm.h's inline switch. Uncounted: the caller counts it
 * (mm_switch_fast, which counter_read() adds to cr3_write and
 * cr3_write_noflush, as arch_write_cr3() would count it). */
static __always_inline void arch_write_cr3_hw_noflush(uint64_t hw)
{
	__asm__ __volatile__("mov %0, %%cr3" ::"r"(hw) : "memory");
}

static __always_inline void arch_invlpg(uint64_t va)
{
	this_cpu_inc(counters[CNT_INVLPG]);
	tlbcheck_invlpg(va);
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

/* INVPCID where the CPU has it; emulated otherwise (pcid=model/off: the
 * hardware holds only the current context, see arch/x86/tlb.c). */
void arch_invpcid(unsigned type, uint64_t pcid, uint64_t va);

/* Flush everything including global entries by toggling CR4.PGE (SDM Vol. 3A
 * 4.10.4.1: a write to CR4 that changes PGE invalidates all TLB entries). */
void arch_flush_all_global(void);

/* Turn global pages (CR4.PGE) on or off, flushing everything (the same
 * SDM rule); returns whether they were on. For tests that need global
 * entries where the kernel runs without them (pti=on). */
bool arch_global_pages(bool on);

/* Features mm/ asks about (CPUID, arch/x86/cpufeature.h); inline, since
 * some are asked per page. */
static inline bool arch_mmu_has_nx(void)
{
	return cpu_has(FEAT_NX);
}

static inline bool arch_mmu_has_1g_pages(void)
{
	return cpu_has(FEAT_PDPE1GB);
}

static inline bool arch_mmu_has_pcid(void)
{
	return cpu_has(FEAT_PCID);
}

static inline bool arch_mmu_has_invpcid(void)
{
	return cpu_has(FEAT_INVPCID);
}

/* CR3 as loaded now (the boot CR3 before mm/ takes over). */
uint64_t arch_read_cr3(void);
/* CR4.PGE on or off: global translations, or none (a change flushes
 * everything, SDM Vol. 3A 4.10.4.1); on this CPU, and remembered for each
 * CPU set up later (arch_global_pages_on, read by cpu_setup_ap). */
void arch_set_global_pages(bool on);
extern bool arch_global_pages_on;
/* CR4.PCIDE on; only while CR3[11:0] is 0 (SDM Vol. 3A 4.10.1). */
void arch_enable_pcid(void);
