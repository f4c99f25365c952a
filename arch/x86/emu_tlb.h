/*
 * The patched Bochs's TLB model, seen from the guest (tools/bochs/README.md,
 * the emulator side is tools/bochs/0100-pcid-tlb.patch).
 *
 * Glossary
 *   STLB     the model's PCID-tagged second-level TLB: set-associative,
 *            LRU, 4 KiB / 2 MiB / 1 GiB arrays; Bochs's own TLBs sit
 *            inside it as a level 1
 *   PSC      the model's paging-structure caches, per PCID
 *   walk     a TLB miss that read the page tables (counted per CPU:
 *            data or instruction fetch, user or kernel half of the address)
 *
 * Interface: model-specific registers that only the patched Bochs has
 * (RDMSR of one costs one instruction there; everywhere else it raises #GP,
 * so emu_tlb_init() probes with rdmsr_safe and the rest is never called):
 *   0x42580000          ID, EMU_TLB_MAGIC
 *   0x42580001          geometry (read; a write reconfigures and empties
 *                       the model, 0 restores the emulator's default)
 *   0x42580002          CPUs in the emulator
 *   0x42581000 + 16*c + k   counter k of the emulator's CPU c (its APIC ID)
 * User space without RDMSR (Linux's reader, tools/linux_bench) uses I/O
 * ports 0xe0/0xe4 for the same counters.
 */
#pragma once

#include "lib/compiler.h"

#define EMU_TLB_MSR_ID	    0x42580000u
#define EMU_TLB_MSR_CONFIG  0x42580001u
#define EMU_TLB_MSR_NCPUS   0x42580002u
#define EMU_TLB_MSR_COUNTER 0x42581000u
#define EMU_TLB_MAGIC	    0x4258504349440001ull /* "BXPCID", version 1 */

/* Counters, as the emulator numbers them (pcid_tlb.h there). */
enum emu_tlb_counter {
	EMU_WALK_DATA_USER,
	EMU_WALK_DATA_KERNEL,
	EMU_WALK_INSN_USER,
	EMU_WALK_INSN_KERNEL,
	EMU_STLB_REFILL,   /* level-1 misses served by the STLB, no walk */
	EMU_STLB_EVICT,	   /* STLB entries evicted for capacity */
	EMU_PSC_HIT,	   /* walks that started below the root */
	EMU_WALK_LOADS,	   /* paging-structure entries read by walks */
	EMU_SPEC_WALK,	   /* speculative walks (at HLT) */
	EMU_SPEC_ACCESSED, /* accessed flags they set */
	EMU_TLB_NR_COUNTERS
};

/* Geometry (EMU_TLB_MSR_CONFIG): bits 23:0 STLB 4 KiB entries, 31:24
 * ways, 47:32 PSC entries, 55:48 PSC ways, 56 speculative walks. */
#define EMU_TLB_CONFIG(entries, ways, psc, psc_ways, spec)                      \
	((uint64_t)(entries) | (uint64_t)(ways) << 24 | (uint64_t)(psc) << 32 | \
	 (uint64_t)(psc_ways) << 48 | (uint64_t)(spec) << 56)
#define EMU_TLB_CONFIG_ENTRIES(c) ((uint32_t)(c)&0xffffff)
#define EMU_TLB_CONFIG_WAYS(c)	  ((uint32_t)((c) >> 24) & 0xff)

extern bool emu_tlb_present;

/* Probe once, on the boot CPU, and print what was found. */
void emu_tlb_init(void);

/* Counter k of the CPU whose APIC ID is apic_id (emu_tlb_present only). */
static inline uint64_t emu_tlb_read(uint32_t apic_id, enum emu_tlb_counter k)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr"
			     : "=a"(lo), "=d"(hi)
			     : "c"(EMU_TLB_MSR_COUNTER + 16 * apic_id + (uint32_t)k));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t emu_tlb_config(void);
/* Reconfigure (and empty) this CPU's model; false if refused. */
bool emu_tlb_set_config(uint64_t config);
