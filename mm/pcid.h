/*
 * PCID allocator and CR3 values (mm/pcid.c).
 *
 * Glossary (the three ID spaces, as in DESIGN.md "PCID allocator")
 *   slot   index into a CPU's array of nr_asids {ctx_id, tlb_gen} records
 *   kpcid  the kernel PCID of slot s: s + 1 (1 .. nr_asids)
 *   upcid  the user PCID of slot s (PTI only): kpcid | 0x800
 * PCID 0 is used only with pcid=off, and by the boot CR3.
 */
#pragma once

#include "lib/compiler.h"
#include "mm/tlb_policy.h"
#include "arch/layout.h"
#include "lib/percpu.h"

struct mm;

enum pcid_mode {
	PCID_AUTO,  /* on if the CPU has PCID, else model */
	PCID_ON,    /* hardware PCIDs */
	PCID_OFF,   /* no PCIDs: every CR3 write flushes */
	PCID_MODEL, /* the whole protocol on a CPU without PCID: the kernel computes
		     * PCIDs and no-flush bits, the coherence checker holds it to PCID
		     * semantics, the hardware CR3 write still flushes */
};

#define UPCID_BIT 0x800u
#define MAX_ASIDS 2047u /* kernel PCIDs 1..2047; user PCIDs are those | 0x800 */

extern int pcid_mode;
extern int nr_asids;
extern bool pcid_hw; /* CR4.PCIDE is set */

struct cpu_tlb {
	struct asid_slot *slots; /* nr_asids entries (1 with pcid=off) */
	uint32_t nr;
	uint32_t cur;  /* slot of the loaded mm */
	uint32_t prev; /* slot loaded before cur: checked first (two spaces
			* taking turns, as IPC does, find each other there) */
	uint32_t next_victim;
	/* (The user CR3 the exit may keep and the kernel-flush generation
	 * the loaded PCID reached are per CPU, user_cr3_keep and kgen_seen
	 * in lib/percpu.h, so that entry and exit read them without this
	 * struct.) */
};

static inline struct cpu_tlb *this_tlb(void)
{
	return (struct cpu_tlb *)this_cpu_read(tlb);
}

static inline uint16_t slot_kpcid(uint32_t slot)
{
	return pcid_mode == PCID_OFF ? 0 : (uint16_t)(slot + 1);
}

static inline uint16_t slot_upcid(uint32_t slot)
{
	return pcid_mode == PCID_OFF ? 0 : (uint16_t)((slot + 1) | UPCID_BIT);
}

const char *pcid_mode_name(void);
void pcid_init(void);	  /* boot CPU: decide the mode */
void pcid_init_cpu(void); /* every CPU: slots, CR4.PCIDE */

/* Logical CR3 values (PCID and no-flush bits included unless pcid=off). */
uint64_t cr3_kernel_value(const struct mm *mm, uint32_t slot, bool noflush);
uint64_t cr3_user_value(const struct mm *mm, uint32_t slot, bool noflush);
/* What the hardware register receives for a logical value. */
uint64_t cr3_hw_value(uint64_t logical);
/* Load mm's kernel root in slot on this CPU (flush: without the no-flush
 * bit) and set the PTI entry code's copy: the one place the kernel CR3 of
 * an address-space switch is built. */
void pcid_load_cr3(const struct mm *mm, uint32_t slot, bool flush);
