/*
 * PASID: the process address space ID that ENQCMD sends to a shared device
 * (DESIGN.md "PASID"; seeds 000 and 002).
 *
 * Glossary
 *   mm->pasid      the address space's PASID, 0 = none. Belongs to the mm:
 *                  no per-thread copy, no per-thread reference count
 *                  (pasid=msr, the default).
 *   IA32_PASID     MSR 0xD93: bit 31 valid, bits 19:0 the PASID (SDM Vol. 4,
 *                  ENQCMD). On CPUs without ENQCMD (QEMU, Bochs) a per-CPU
 *                  shadow stands in for it, so that the protocol and its
 *                  invariant are exercised everywhere.
 *   pasid_msr      per CPU: the value the MSR (or shadow) holds now; written
 *                  only when the next value differs.
 *
 * Protocol (pasid=msr)
 *   load:   switch_mm() calls arch_pasid_switch_mm(next->pasid_msr)
 *           (arch/pasid.h; mm->pasid_msr is the MSR value of mm->pasid,
 *           stored with it): compare pasid_msr with it, write only on
 *           change. So does the return to user of a thread marked
 *           TF_PASID_RESYNC.
 *   change: bind/unbind stores mm->pasid, then a full barrier, then reads
 *           mm->cpumask and IPIs those CPUs (waiting). pasid=msr: a CPU
 *           that has mm loaded (lazy or not) writes the MSR in the
 *           handler, and the caller's CPU before its calls, so that a
 *           switch between two threads of mm loads nothing (switch_mm)
 *           and either runs with the new value. pasid=xstate: the handler
 *           touches no extended state; it marks the running thread, if it
 *           belongs to mm, to resync before its next return to user (a
 *           same-mm switch there reloads anyway: each thread's copy comes
 *           with its full restore).
 *   Race with a CPU switching to mm: it sets its mask bit (LOCK OR, a full
 *           barrier) before switch_mm reads mm->pasid_msr; we store it
 *           before our barrier and mask read. Either we IPI it or it reads
 *           the new value. A bit set earlier needs no barrier: we IPI it.
 *   Invariant: once bind/unbind returns, no thread of mm runs in user mode
 *           with the old value. (A thread that returned to user with the old
 *           value before the IPI arrived did so before the change returned;
 *           the IPI's own return to user resyncs it.)
 *
 * pasid=xstate models the design PASID has in Linux's XSAVES state: every
 * thread carries its own copy (task->pasid, component 10 of its extended
 * state), a change updates every thread's copy, and each full restore at
 * the return to user loads the copy unconditionally, as XRSTORS would.
 * Same IPIs; the counters show what the per-thread state costs.
 *
 * Floors: the numbers (allocator, the mm's end) are mm/pasid.c's; the
 * MSR, its per-CPU copy and the load are arch/pasid.h's, which switch_mm
 * (mm/tlb.c) feeds with the mm's value; this file is the policy: modes,
 * bind/unbind, and the IPIs and resyncs above.
 */
#include "kernel/pasid.h"
#include "kernel/proc.h"
#include "kernel/percpu_area.h"
#include "kernel/counters.h"
#include "lib/cmdline.h"
#include "include/uapi/errno.h"
#include "lib/printk.h"
#include "kernel/smp.h"
#include "lib/spinlock.h"
#include "lib/preempt.h"
#include "mm/mm.h"
#include "mm/pasid.h"
#include "sched/task.h"
#include "arch/cpu.h"
#include "arch/pasid.h"
#include "lib/trace.h"

/* The mode lives with the load (arch/pasid.h), the limit with the
 * numbers (mm/pasid.c); the switches are declared here, with the policy. */
KSWITCH_ENUM(pasid_mode, "pasid", "where the PASID lives: the mm (msr) or each thread's xstate",
	     "msr", "xstate");
KSWITCH_INT(pasids, "pasids", "PASIDs binds may take (1..2^20-1)", 1, (1u << PASID_BITS) - 1);

/* Serializes changes (bind/unbind of any mm; they are rare). Taken with
 * interrupts on and held across the IPIs: no one takes it with interrupts
 * off, so a CPU we wait for never spins on it. Outermost lock. */
static struct spinlock change_lock = SPINLOCK_INIT("pasid_change");

void pasid_init(void)
{
	bool have_msr = arch_pasid_init();

	pr_info("pasid: %s; IA32_PASID %s",
		pasid_mode == PASID_MSR ? "per mm (msr)" : "per thread (xstate)",
		have_msr ? "written" : "shadowed per CPU (no ENQCMD)");
	pasid_selftest_boot();
}

static __noinline void resync(struct task *t)
{
	__atomic_fetch_and(&t->flags, ~TF_PASID_RESYNC, __ATOMIC_RELAXED);
	this_cpu_inc(counters[CNT_PASID_RESYNC]);
	if (pasid_mode == PASID_MSR)
		arch_pasid_write(arch_pasid_value(READ_ONCE(t->mm->pasid)), false);
	else
		arch_pasid_write(arch_pasid_value(READ_ONCE(t->pasid)), true);
	trace(TR_PASID_RESYNC, (uint32_t)this_cpu_read(pasid_msr), t->tid);
}

/* pasid=msr: this CPU, which has mm loaded, loads mm's value now (the
 * change's IPI, or the changing CPU itself); counted and traced as a
 * resync. Interrupts off. */
static void resync_msr(const struct mm *mm)
{
	this_cpu_inc(counters[CNT_PASID_RESYNC]);
	arch_pasid_write(READ_ONCE(mm->pasid_msr), false);
	trace(TR_PASID_RESYNC, (uint32_t)this_cpu_read(pasid_msr), current_task()->tid);
}

void pasid_restore_for_user(struct task *t, bool full_restore)
{
	if (__atomic_load_n(&t->flags, __ATOMIC_RELAXED) & TF_PASID_RESYNC)
		resync(t);
	else if (pasid_mode == PASID_XSTATE && full_restore)
		arch_pasid_write(arch_pasid_value(READ_ONCE(t->pasid)),
				 true); /* XRSTORS loads it */
}

static void resync_ipi(void *arg)
{
	const struct mm *mm = arg;
	struct task *cur = current_task();

	if (pasid_mode == PASID_MSR) {
		/* The CPU's MSR is the mm's: load it for any thread of mm that
		 * runs here next, the current one or one a same-mm switch
		 * brings (regression pasid_change_reaches_threads_sharing_a_cpu). */
		if (this_cpu_read(shared.loaded_mm) == mm)
			resync_msr(mm);
		return;
	}
	/* No extended state touched here: only a mark for the way out. */
	if (cur->mm == mm)
		__atomic_fetch_or(&cur->flags, TF_PASID_RESYNC, __ATOMIC_RELAXED);
}

/* Store the new value: in the mm, and (pasid=xstate) in every thread's
 * copy. Under p->lock, so a thread created meanwhile copies the new value
 * (proc_thread_create copies mm->pasid under the same lock). */
static void store_pasid(struct proc *p, struct mm *mm, uint32_t pasid)
{
	struct list_node *pos;

	spin_lock(&p->lock);
	WRITE_ONCE(mm->pasid, pasid);
	WRITE_ONCE(mm->pasid_msr, arch_pasid_value(pasid)); /* what switch_mm loads */
	if (pasid_mode == PASID_XSTATE) {
		list_for_each (pos, &p->threads)
			WRITE_ONCE(list_entry(pos, struct task, proc_link)->pasid, pasid);
	}
	spin_unlock(&p->lock);
}

/* Change mm's PASID while its threads may run (the protocol above). */
static void pasid_change(struct proc *p, struct mm *mm, uint32_t pasid)
{
	struct cpumask targets;
	uint32_t cpu, me, n = 0;

	store_pasid(p, mm, pasid);
	smp_mb(); /* store mm->pasid before reading the mask; pairs with the
		   * LOCK OR of the mask bit in load_mm (mm/tlb.c) */
	preempt_disable();
	me = this_cpu_id();
	cpumask_clear_all(&targets);
	for_each_cpu_in (cpu, &mm->cpumask) {
		if (cpu != me) {
			cpumask_set(&targets, cpu);
			n++;
		}
	}
	/* This CPU: we are the calling thread. pasid=msr: the CPU's MSR,
	 * now (a same-mm switch before our return to user loads nothing);
	 * pasid=xstate: our copy, on our way out. */
	if (pasid_mode == PASID_MSR) {
		uint64_t f = irq_save();

		resync_msr(mm);
		irq_restore(f);
	} else {
		__atomic_fetch_or(&current_task()->flags, TF_PASID_RESYNC, __ATOMIC_RELAXED);
	}
	preempt_enable();
	if (n) {
		this_cpu_add(counters[CNT_PASID_RESYNC_IPI], n);
		smp_call_mask(&targets, resync_ipi, mm, true);
	}
}

long pasid_bind(void)
{
	struct mm *mm = current_task()->mm;
	long r;

	spin_lock(&change_lock);
	if (mm->pasid) {
		r = mm->pasid; /* already bound: the same PASID */
	} else {
		uint32_t pasid = pasid_alloc();

		r = pasid ? (long)pasid : -ENOSPC;
		if (pasid)
			pasid_change(proc_current(), mm, pasid);
	}
	spin_unlock(&change_lock);
	return r;
}

long pasid_unbind(void)
{
	struct mm *mm = current_task()->mm;
	long r = 0;

	spin_lock(&change_lock);
	uint32_t old = mm->pasid;

	if (!old) {
		r = -ENOENT;
	} else {
		pasid_change(proc_current(), mm, 0);
		pasid_free(old); /* no thread of mm can use it any more */
	}
	spin_unlock(&change_lock);
	return r;
}

long pasid_read_this_cpu_irqsafe(void)
{
	uint64_t f = irq_save();
	long v = (long)arch_pasid_read();

	irq_restore(f);
	return v;
}
