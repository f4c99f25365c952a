/*
 * The IA32_PASID MSR and its load (interface): bit 31 valid, bits 19:0 the
 * PASID (SDM Vol. 4, MSR 0xd93; it exists where the CPU has ENQCMD).
 *
 * Each CPU keeps the value it last loaded in pasid_msr (lib/percpu.h): the
 * MSR's copy, or its only home where there is no ENQCMD (both emulators).
 * A load writes only on change unless forced (what XRSTORS does). Who
 * feeds it: switch_mm (mm/tlb.c) the loaded mm's PASID with pasid=msr; the
 * return to user (kernel/pasid.c) a thread's resync or its own copy with
 * pasid=xstate. The policy, bind/unbind and the resync IPIs, is
 * kernel/pasid.c's; the PASID numbers are mm/pasid.c's.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/percpu.h"
#include "arch/static_branch.h"
#include "include/uapi/counter_ids.h"

#define PASID_VALID (1u << 31)
#define PASID_BITS  20

/* Where the PASID lives (boot switch pasid=, kernel/pasid.c): the mm,
 * loaded by switch_mm (msr), or each thread's extended state (xstate). */
enum { PASID_MSR, PASID_XSTATE };
extern int pasid_mode;
/* pasid_mode == PASID_XSTATE, as the hot paths' static branch
 * (arch/static_branch.h): set by arch_pasid_init(), before the patch. */
extern bool pasid_per_thread;

/* From now on loads write the MSR if the CPU has it (CPUID.(EAX=7,ECX=0):
 * ECX[29], ENQCMD); returns whether. */
bool arch_pasid_init(void);
/* Make this CPU hold v, MSR and copy. Interrupts off. Out of line: the
 * callers' common path (nothing to write) stays free of the call and the
 * registers it needs (measured: 6 instructions a switch). */
void arch_pasid_load(uint64_t v);
/* What this CPU holds: the MSR if there is one, else the copy. */
uint64_t arch_pasid_read(void);

/* The MSR's value for a PASID (0: none). */
static inline uint64_t arch_pasid_value(uint32_t pasid)
{
	return pasid ? (PASID_VALID | pasid) : 0;
}

/* Make this CPU hold v; with force, write even if it already does (what
 * XRSTORS does). Interrupts off. */
static __always_inline void arch_pasid_write(uint64_t v, bool force)
{
	/* Likely: nothing to write is every switch between two spaces without
	 * a PASID, laid out in line (out of line, its JMP back cost one
	 * instruction a switch). */
	if (likely(!force && this_cpu_read(pasid_msr) == v)) {
		this_cpu_inc(counters[CNT_PASID_WRITE_AVOIDED]);
		return;
	}
	arch_pasid_load(v);
}

/* switch_mm (mm/switch_mm.h): load the next mm's PASID, given as its MSR
 * value (arch_pasid_value(), which the mm keeps beside the number), writing
 * only on change (pasid=msr; with pasid=xstate the return to user loads
 * it). */
static __always_inline void arch_pasid_switch_mm(uint64_t v)
{
	if (unlikely(static_branch(&pasid_per_thread)))
		return;
	arch_pasid_write(v, false);
}
