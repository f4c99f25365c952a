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
 *   load:   switch_mm() calls pasid_switch_mm(next): compare pasid_msr with
 *           next's value, write only on change. So does the return to user
 *           of a thread marked TF_PASID_RESYNC.
 *   change: bind/unbind stores mm->pasid, then a full barrier, then reads
 *           mm->cpumask and IPIs those CPUs (waiting). The handler touches
 *           no extended state: it marks the running thread, if it belongs to
 *           mm, to resync before its next return to user.
 *   Race with a CPU switching to mm: it sets its mask bit (LOCK OR, a full
 *           barrier) before switch_mm reads mm->pasid; we store mm->pasid
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
 * Allocator: 20-bit PASIDs 1..2^20-1 in a bitmap, next-fit.
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
#include "sched/task.h"
#include "arch/cpu.h"
#include "arch/pasid.h"
#include "lib/trace.h"

int pasid_mode;
KSWITCH_ENUM(pasid_mode, "pasid", "where the PASID lives: the mm (msr) or each thread's xstate",
	     "msr", "xstate");

#define NR_PASIDS (1u << PASID_BITS)

/* How many PASIDs (1..pasids) binds may take: an IOMMU may offer fewer
 * than the 20 bits, and a small value makes exhaustion testable. */
static int pasids = NR_PASIDS - 1;
KSWITCH_INT(pasids, "pasids", "PASIDs binds may take (1..2^20-1)", 1, NR_PASIDS - 1);

static bool have_msr; /* ENQCMD: the MSR exists */
/* Serializes changes (bind/unbind of any mm; they are rare). Taken with
 * interrupts on and held across the IPIs: no one takes it with interrupts
 * off, so a CPU we wait for never spins on it. Outermost lock. */
static struct spinlock change_lock = SPINLOCK_INIT("pasid_change");
static struct spinlock alloc_lock = SPINLOCK_INIT("pasid_alloc");
static uint64_t used[NR_PASIDS / 64]; /* bit 0 (PASID 0) stays set: never handed out */
static uint32_t next_hint = 1;

void pasid_init(void)
{
	have_msr = arch_pasid_msr_present();
	used[0] = 1;
	pr_info("pasid: %s; IA32_PASID %s",
		pasid_mode == PASID_MSR ? "per mm (msr)" : "per thread (xstate)",
		have_msr ? "written" : "shadowed per CPU (no ENQCMD)");
	pasid_selftest_boot();
}

static uint32_t pasid_alloc(void)
{
	uint32_t got = 0;
	uint64_t f = spin_lock_irqsave(&alloc_lock);

	for (uint32_t n = 0; n < NR_PASIDS && !got; n++) {
		uint32_t p = (next_hint + n) % NR_PASIDS;

		if (p && p <= (uint32_t)pasids && !(used[p / 64] & (1ull << (p % 64)))) {
			used[p / 64] |= 1ull << (p % 64);
			got = p;
			next_hint = p + 1;
		}
	}
	spin_unlock_irqrestore(&alloc_lock, f);
	return got;
}

static void pasid_free(uint32_t p)
{
	if (!p)
		return;
	uint64_t f = spin_lock_irqsave(&alloc_lock);

	used[p / 64] &= ~(1ull << (p % 64));
	spin_unlock_irqrestore(&alloc_lock, f);
}

static uint64_t msr_value(uint32_t pasid)
{
	return pasid ? (PASID_VALID | pasid) : 0;
}

/* Make this CPU's IA32_PASID (or shadow) hold v; with force, write even if
 * it already does (what XRSTORS does). Interrupts off. */
/* Out of line: the callers' common path (nothing to write) stays free of
 * the call and the registers it needs (measured: 6 instructions a switch). */
static __noinline void load_pasid(uint64_t v)
{
	if (have_msr)
		arch_pasid_msr_write(v);
	this_cpu_write(pasid_msr, v);
	this_cpu_inc(counters[CNT_PASID_WRITE]);
}

static inline void write_pasid(uint64_t v, bool force)
{
	if (!force && this_cpu_read(pasid_msr) == v) {
		this_cpu_inc(counters[CNT_PASID_WRITE_AVOIDED]);
		return;
	}
	load_pasid(v);
}

void pasid_switch_mm(const struct mm *next)
{
	if (pasid_mode != PASID_MSR)
		return;
	write_pasid(msr_value(READ_ONCE(next->pasid)), false);
}

static __noinline void resync(struct task *t)
{
	__atomic_fetch_and(&t->flags, ~TF_PASID_RESYNC, __ATOMIC_RELAXED);
	this_cpu_inc(counters[CNT_PASID_RESYNC]);
	if (pasid_mode == PASID_MSR)
		write_pasid(msr_value(READ_ONCE(t->mm->pasid)), false);
	else
		write_pasid(msr_value(READ_ONCE(t->pasid)), true);
	trace(TR_PASID_RESYNC, (uint32_t)this_cpu_read(pasid_msr), t->tid);
}

void pasid_restore_for_user(struct task *t, bool full_restore)
{
	if (__atomic_load_n(&t->flags, __ATOMIC_RELAXED) & TF_PASID_RESYNC)
		resync(t);
	else if (pasid_mode == PASID_XSTATE && full_restore)
		write_pasid(msr_value(READ_ONCE(t->pasid)), true); /* XRSTORS loads it */
}

static void resync_ipi(void *arg)
{
	const struct mm *mm = arg;
	struct task *cur = current_task();

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
	/* This CPU: we are the calling thread; resync on our way out. */
	__atomic_fetch_or(&current_task()->flags, TF_PASID_RESYNC, __ATOMIC_RELAXED);
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

void pasid_mm_exit(struct mm *mm)
{
	/* No thread left, nothing loaded: the value may go back. CPUs whose
	 * pasid_msr still holds it only compare against it. */
	pasid_free(mm->pasid);
	mm->pasid = 0;
}

long pasid_read_this_cpu_irqsafe(void)
{
	uint64_t f = irq_save();
	long v = have_msr ? (long)arch_pasid_msr_read() : (long)this_cpu_read(pasid_msr);

	irq_restore(f);
	return v;
}
