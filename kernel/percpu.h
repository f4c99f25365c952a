/*
 * Per-CPU data: one struct per CPU, reached through the GS base.
 *
 * Layout rule (DESIGN.md "Per-CPU data"): fields are grouped by who writes
 * them.
 *   - page 0, "entry page": read and written by this CPU's entry and exit
 *     code. With PTI it is the only per-CPU page mapped in the user root, so
 *     it holds what the entry trampoline needs before CR3 is switched (TSS,
 *     scratch slots, the kernel CR3 to load) and nothing else.
 *   - "shared" line(s): written by the owner, read by other CPUs (lazy flag,
 *     KERNEL/USER/IDLE state, current mm). Each sits on its own cache line so
 *     a remote reader never shares a line with a hot private write.
 *   - "remote" line(s): written by other CPUs (IPI queue heads).
 *   - private fields: only this CPU reads or writes them.
 *
 * The per-CPU areas live in the entry-area region (mm/layout.h) at a fixed
 * stride so that GS-relative offsets are the same on every CPU and page 0
 * can be mapped into the PTI user root at the same address.
 *
 * Offsets used by assembly are checked with _Static_assert at the bottom of
 * arch/x86/percpu_offsets.h.
 */
#pragma once

#include "kernel/compiler.h"
#include "kernel/percpu_struct.h"

/* GCC's named address space: a pointer into GS, so this_cpu()->x is one
 * %gs-relative access. */
#define PERCPU_GS ((struct percpu __seg_gs *)0)

static __always_inline struct percpu *this_cpu(void)
{
	return PERCPU_GS->entry.self;
}

static __always_inline uint32_t this_cpu_id(void)
{
	return PERCPU_GS->entry.cpu_id;
}

#define this_cpu_read(field)	 (PERCPU_GS->field)
#define this_cpu_write(field, v) (PERCPU_GS->field = (v))
#define this_cpu_inc(field)	 (PERCPU_GS->field++)
#define this_cpu_add(field, v)	 (PERCPU_GS->field += (v))

/* Boot CPU: GS -> static struct, then -> its real area (after paging). */
void percpu_early_init(void);
void percpu_bsp_switch(void);
/* Allocate and map the area of a CPU (BSP or AP being started). */
struct percpu *percpu_area_create(uint32_t cpu);
/* Load GS base for the calling CPU (AP start-up). */
void percpu_enter(struct percpu *pc);
