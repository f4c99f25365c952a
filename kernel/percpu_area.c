/*
 * Per-CPU areas (see percpu.h for the layout rules).
 *
 * The boot CPU starts on a static struct (boot_percpu) so that GS-relative
 * accesses work from the first instruction of kernel_main. Once paging and
 * frames are up, every CPU gets its real area in the entry region:
 *   [0, sizeof(struct percpu))  the struct; page 0 is the entry page
 *   guard pages and the entry, NMI, #DF, #MC and #DB stacks above it
 * Only pages that exist are backed: the guards stay unmapped, so running
 * off a stack faults (onto the #DF IST stack) instead of corrupting data.
 */
#include "kernel/percpu_area.h"
#include "arch/layout.h"
#include "lib/string.h"
#include "lib/panic.h"
#include "mm/frame.h"
#include "mm/kpaging.h"
#include "arch/pgtable.h"
#include "mm/numa.h"
#include "mm/pti.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"

_Static_assert(PERCPU_AREA_BASE == ENTRY_AREA_BASE + PERCPU_AREA_OFFSET &&
		       PERCPU_AREA_BASE % PERCPU_STRIDE == 0,
	       "arch/percpu.h and arch/layout.h agree on the per-CPU areas");

static struct percpu boot_percpu;

static void set_gs_base(struct percpu *pc)
{
	wrmsr(MSR_GS_BASE, (uint64_t)pc);
}

void percpu_early_init(void)
{
	boot_percpu.entry.self = &boot_percpu;
	boot_percpu.entry.cpu_id = 0;
	set_gs_base(&boot_percpu);
	percpu_ptrs[0] = &boot_percpu;
}

static void back_pages(uint64_t va, uint64_t size, int node)
{
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		paddr_t pa = frame_alloc_node(0, FA_ZERO, node);

		if (!pa)
			panic("percpu: out of memory");
		kmap_page(va + off, pa, PTE_W | (cpu_has(FEAT_NX) ? PTE_NX : 0), true);
	}
}

struct percpu *percpu_area_create(uint32_t cpu)
{
	uint64_t base = PERCPU_AREA_BASE + (uint64_t)cpu * PERCPU_STRIDE;
	int node = numa_cpu_node(cpu);

	back_pages(base, ALIGN_UP(sizeof(struct percpu), PAGE_SIZE), node);
	for (size_t i = 0; i < PERCPU_NR_STACKS; i++)
		back_pages(base + percpu_stacks[i].off, PERCPU_STACK_SIZE, node);

	struct percpu *pc = (struct percpu *)base;

	pc->entry.self = pc;
	pc->entry.cpu_id = cpu;
	pc->entry.entry_stack_ptr = base + PERCPU_ENTRY_STACK + PERCPU_STACK_SIZE;
	pti_map_cpu_area(base);
	percpu_ptrs[cpu] = pc;
	return pc;
}

void percpu_bsp_switch(void)
{
	struct percpu *pc = percpu_area_create(0);

	/* Carry over what the boot CPU accumulated on the static struct. */
	memcpy(pc->counters, boot_percpu.counters, sizeof(pc->counters));
	pc->entry.apic_id = boot_percpu.entry.apic_id;
	set_gs_base(pc);
}
