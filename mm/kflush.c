/*
 * Kernel TLB flush for vmalloc-class mappings.
 *
 * This first version flushes locally and interrupts every other online CPU
 * to flush too, synchronously (kflush=ipi in the TLB capability's terms);
 * kernel mappings are global when PTI is off, so INVLPG is used, which
 * also removes global entries (SDM Vol. 3A 4.10.4.1).
 */
#include "mm/kflush.h"
#include "mm/layout.h"
#include "kernel/smp.h"
#include "kernel/percpu.h"
#include "arch/x86/tlb.h"
#include "arch/x86/cpu.h"
#include "kernel/panic.h"

struct range {
	uint64_t start, end;
};

static void flush_local(void *arg)
{
	const struct range *r = arg;

	for (uint64_t va = r->start; va < r->end; va += PAGE_SIZE)
		arch_invlpg(va);
}

void kflush_kernel_range(uint64_t start, uint64_t end)
{
	struct range r = { start, end };

	flush_local(&r);
	if (nr_cpus_online > 1 && irqs_enabled())
		smp_call_others(flush_local, &r, true);
	else if (nr_cpus_online > 1)
		panic("kflush: kernel unmap with interrupts off on an SMP machine");
}
