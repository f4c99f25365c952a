/*
 * TLB shootdown, first version: a change bumps mm->tlb_gen, flushes this
 * CPU if it has the mm loaded, and synchronously interrupts every other CPU
 * in mm->cpumask, which flushes if it has the mm loaded and otherwise
 * leaves the mask (the mask is cleared lazily, never on a context switch).
 * The generation-tracked, PCID-aware protocol replaces this file.
 *
 * Lazy TLB: kernel threads keep the previous mm loaded. Rule for freeing
 * an mm that lazy CPUs still hold: mm_drop_lazy_users() interrupts them and
 * they switch to the kernel root before the tables are freed.
 */
#include "mm/tlb.h"
#include "mm/mm.h"
#include "mm/kpaging.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/panic.h"
#include "sched/task.h"
#include "arch/x86/tlb.h"
#include "arch/x86/cpu.h"
#include "kernel/preempt.h"

struct flush_req {
	struct mm *mm;
	uint64_t start, end, stride;
};

static void flush_local(const struct flush_req *r)
{
	uint64_t pages = (r->end - r->start) / r->stride;

	if (pages > 32) {
		this_cpu_inc(counters[CNT_TLB_FLUSH_FULL]);
		this_cpu_inc(counters[CNT_TLB_FULL_CEILING]);
		arch_write_cr3(read_cr3());
		return;
	}
	this_cpu_inc(counters[CNT_TLB_FLUSH_PAGES]);
	for (uint64_t va = r->start; va < r->end; va += r->stride) {
		arch_invlpg(va);
		this_cpu_inc(counters[CNT_TLB_PAGES_FLUSHED]);
	}
}

static void flush_ipi(void *arg)
{
	const struct flush_req *r = arg;

	this_cpu_inc(counters[CNT_IPI_RECV_TLB]);
	if (this_cpu_read(shared.loaded_mm) == r->mm)
		flush_local(r);
	else
		cpumask_clear(&r->mm->cpumask, this_cpu_id());
}

void mm_flush_range(struct mm *mm, uint64_t start, uint64_t end, uint64_t stride, bool freed_tables)
{
	struct flush_req r = { mm, start, end, stride ? stride : PAGE_SIZE };

	(void)freed_tables;
	__atomic_fetch_add(&mm->tlb_gen, 1, __ATOMIC_SEQ_CST); /* orders the PTE writes
								  * before the IPIs */
	preempt_disable();
	if (this_cpu_read(shared.loaded_mm) == mm)
		flush_local(&r);
	struct cpumask others = mm->cpumask;

	cpumask_clear(&others, this_cpu_id());
	if (cpumask_weight(&others)) {
		this_cpu_inc(counters[CNT_TLB_SHOOTDOWN]);
		this_cpu_add(counters[CNT_IPI_SENT_TLB], cpumask_weight(&others));
		smp_call_mask(&others, flush_ipi, &r, true);
	}
	preempt_enable();
}

void switch_mm(struct mm *prev, struct mm *next, struct task *tsk)
{
	uint32_t cpu = this_cpu_id();

	(void)prev;
	(void)tsk;
	if (!cpumask_test(&next->cpumask, cpu))
		cpumask_set(&next->cpumask, cpu);
	if (this_cpu_read(shared.loaded_mm) != next) {
		arch_write_cr3(next->root);
		this_cpu_write(shared.loaded_mm, next);
	}
}

void enter_lazy_tlb(struct mm *mm)
{
	(void)mm;
}

static void drop_lazy(void *arg)
{
	struct mm *mm = arg;

	if (this_cpu_read(shared.loaded_mm) != mm)
		return;
	struct task *t = current_task();

	BUG_ON(t->mm == mm);
	arch_write_cr3(kernel_root);
	this_cpu_write(shared.loaded_mm, &kernel_mm);
	t->active_mm = &kernel_mm;
}

void mm_drop_lazy_users(struct mm *mm)
{
	drop_lazy(mm);
	smp_call_mask(&mm->cpumask, drop_lazy, mm, true);
}

void tlb_init(void)
{
}

void tlb_init_cpu(void)
{
	this_cpu_write(shared.loaded_mm, &kernel_mm);
}
