/*
 * membarrier: private expedited, with and without core serialization
 * (DESIGN.md "Membarrier"; seed 003). Command values are Linux's, so user
 * code written for it runs unchanged.
 *
 * Private expedited: when membarrier() returns, every thread of the
 * caller's mm that was running has executed a full memory barrier, so the
 * caller may pair its own fence with plain compiler barriers in the other
 * threads (a store-buffer litmus test in user/utest/t_membarrier.c).
 *
 * Protocol
 *   caller: smp_mb(); for every other CPU in mm->cpumask: IPI it (and
 *           wait) if its published loaded_mm is ours and it is not lazy;
 *           smp_mb().
 *   handler: smp_mb().
 *   Scanning mm->cpumask instead of every online CPU misses nobody: a CPU
 *   sets its bit (LOCK OR) before it stores loaded_mm (load_mm_in_tx in
 *   mm/tlb.c), and only that CPU clears it, in flush_ipi with interrupts
 *   off, when loaded_mm is not mm. So loaded_mm == mm implies the bit; a
 *   CPU whose bit we read as clear loads mm after our scan and is covered
 *   by the next paragraph.
 *   A CPU that starts running a thread of mm after our scan executes a
 *   full barrier before that thread's next user instruction: the CR3 write
 *   of load_mm when it arrives from another mm (MOV to CR3 is serializing,
 *   SDM Vol. 3A 10.3), or the smp_mb() in lazy_catch_up when it leaves lazy
 *   mode; a CPU switching between two threads of mm already had loaded_mm
 *   == mm when we scanned, so it was interrupted.
 *
 * Sync core: additionally, every thread of mm executes a serializing
 *   instruction before its next user instruction (so that it sees code
 *   another thread modified). Which instruction, on each path:
 *     - interrupted in user mode by our IPI: the IRET that returns to it
 *       (IRET is serializing, SDM Vol. 3A 10.3);
 *     - anything that returns with SYSRET (not serializing), or a lazy
 *       catch-up without a CR3 write: nothing serializes by itself. So
 *       the caller bumps mm->sync_core_gen, then marks every thread of
 *       the process TF_SYNC_CORE (under p->lock), then sends the IPIs;
 *       a thread's return to user that finds the mark (one test, with
 *       the other exit work: kernel/entry_exit.h) clears it, then reads
 *       the generation and, if its task->sync_core_gen is older, runs
 *       arch_sync_core() (SERIALIZE where present, else CPUID). The IPI
 *       path takes that route too (one extra serialization, never one
 *       too few).
 *   Why no thread is missed: the mark is set after the bump, and the
 *   return clears it before it reads the generation (release set,
 *   acquire clear), so a return that clears our mark reads our bump, and
 *   a return that ran before our mark leaves it for the next return. A
 *   thread that does not return to user between our mark and our scan is
 *   either running mm then (interrupted: IRET) or starts after the scan
 *   and returns with the mark set. A thread created after the marking
 *   enters user mode first by IRET (kernel/proc.c). Only a sync-core
 *   membarrier marks threads, so a process that registered but never
 *   asks pays nothing on its returns to user.
 */
#include "kernel/membarrier.h"
#include "kernel/counters.h"
#include "include/uapi/errno.h"
#include "kernel/percpu_area.h"
#include "lib/preempt.h"
#include "kernel/smp.h"
#include "mm/mm.h"
#include "sched/task.h"
#include "kernel/proc.h"
#include "arch/cpu.h"

static void handler(void *arg)
{
	(void)arg;
	smp_mb(); /* the barrier the caller asked for on this CPU; pairs with
		   * the caller's smp_mb() before and after its scan */
}

/* Does cpu run mm now (not lazily)? */
static bool runs(uint32_t cpu, const struct mm *mm)
{
	const struct percpu *pc = percpu_of(cpu);

	return READ_ONCE(pc->shared.loaded_mm) == mm && !READ_ONCE(pc->shared.is_lazy);
}

/* IPI every other CPU that runs mm; returns how many. Only CPUs in mm->cpumask can: a CPU
 * sets its bit there before it loads the mm (mm/tlb.c, the same superset
 * the shootdowns rely on). Most calls find nobody, and then return before
 * building a mask (a 1024-CPU mask is 16 words to clear). */
static uint32_t ipi_runners(struct mm *mm)
{
	struct cpumask targets;
	uint32_t cpu, first = NR_CPUS, me, n = 0;

	preempt_disable();
	me = this_cpu_id();
	for_each_cpu_in (cpu, &mm->cpumask) {
		if (cpu != me && runs(cpu, mm)) {
			first = cpu;
			break;
		}
	}
	if (first == NR_CPUS) {
		preempt_enable();
		return 0;
	}
	cpumask_clear_all(&targets);
	for_each_cpu_in (cpu, &mm->cpumask) {
		if (cpu < first || cpu == me || !runs(cpu, mm))
			continue;
		cpumask_set(&targets, cpu);
		n++;
	}
	preempt_enable();
	this_cpu_add(counters[CNT_MEMBARRIER_IPI], n);
	smp_call_mask(&targets, handler, NULL, true);
	return n;
}

/* Mark every live thread of p for a serialization at its next return to
 * user (TF_SYNC_CORE). Under p->lock: the thread list's. Release: pairs
 * with the acquire clear in membarrier_return_to_user(). */
static void mark_threads(struct proc *p)
{
	struct list_node *pos;

	spin_lock(&p->lock);
	list_for_each (pos, &p->threads)
		__atomic_fetch_or(&list_entry(pos, struct task, proc_link)->flags, TF_SYNC_CORE,
				  __ATOMIC_RELEASE);
	spin_unlock(&p->lock);
}

long membarrier_cmd(uint64_t cmd, uint64_t flags)
{
	struct mm *mm = current_task()->mm;
	uint32_t reg = __atomic_load_n(&mm->membarrier_flags, __ATOMIC_RELAXED);

	if (flags)
		return -EINVAL;
	switch (cmd) {
	case MEMBARRIER_CMD_QUERY:
		return MEMBARRIER_SUPPORTED;
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
		__atomic_fetch_or(&mm->membarrier_flags, MEMBARRIER_REG_EXPEDITED,
				  __ATOMIC_RELAXED);
		return 0;
	case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
		__atomic_fetch_or(&mm->membarrier_flags, MEMBARRIER_REG_SYNC_CORE,
				  __ATOMIC_RELAXED);
		return 0;
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
		if (!(reg & MEMBARRIER_REG_EXPEDITED))
			return -EPERM;
		smp_mb(); /* our earlier accesses before the scan; pairs with the
			   * handler's smp_mb() and the switch paths (header) */
		ipi_runners(mm);
		smp_mb(); /* the scan's IPIs completed before our later accesses;
			   * pairs with handler()'s smp_mb() on each CPU we
			   * interrupted and the switch paths' full barrier on
			   * the others (header) */
		return 0;
	case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
		if (!(reg & MEMBARRIER_REG_SYNC_CORE))
			return -EPERM;
		/* Bump first, then mark (the header says why in this order).
		 * LOCK XADD is a full barrier (our accesses before the scan).
		 * Pairs with the acquire load in membarrier_return_to_user()
		 * and with handler()'s smp_mb(). */
		__atomic_add_fetch(&mm->sync_core_gen, 1, __ATOMIC_SEQ_CST);
		mark_threads(proc_current());
		smp_mb(); /* the marks before the scan's loads; pairs with the
			   * full barrier of the switch paths (header) */
		ipi_runners(mm);
		smp_mb(); /* the IPIs completed before our later accesses;
			   * pairs with handler()'s smp_mb(), as above */
		return 0;
	default:
		return -EINVAL;
	}
}

void membarrier_return_to_user(struct task *t)
{
	struct mm *mm = t->mm;

	if (!(__atomic_load_n(&t->flags, __ATOMIC_RELAXED) & TF_SYNC_CORE))
		return;
	/* Clear before reading the generation (the header says why).
	 * Acquire: pairs with the release in mark_threads(). */
	__atomic_fetch_and(&t->flags, ~TF_SYNC_CORE, __ATOMIC_ACQUIRE);
	/* Acquire: pairs with the bump in membarrier_cmd(). */
	uint64_t gen = __atomic_load_n(&mm->sync_core_gen, __ATOMIC_ACQUIRE);

	if (t->sync_core_gen == gen)
		return;
	arch_sync_core();
	this_cpu_inc(counters[CNT_SYNC_CORE]);
	t->sync_core_gen = gen;
}

long membarrier_sync_core_gen(void)
{
	return (long)current_task()->sync_core_gen;
}
