/*
 * Context switch, inline (protocol: sched/switch.c). Both switches of the
 * scheduler (sched_switch_locked, and the IPC direct switch
 * sched_switch_to_blocked) compile these into themselves: a switch is on
 * the IPC round trip twice, and the calls cost more than the checks.
 */
#pragma once

#include "sched/rq.h"
#include "mm/tlb.h"
#include "mm/switch_mm.h"
#include "mm/mm.h"
#include "mm/kflush.h"
#include "lib/percpu.h"
#include "include/uapi/counter_ids.h"
#include "lib/time.h"
#include "lib/panic.h"
#include "lib/trace.h"
#include "arch/switch.h"
#include "arch/cpu.h"

_Static_assert(offsetof(struct task, ksp) == 0, "arch/switch.h switch_to: ksp first");

/* Let prev go: another CPU may run it from here on, and it may exit there. */
static __always_inline void finish_switch_release(struct rq *rq, struct task *prev)
{
	/* Release: prev's saved registers and stack writes are visible to the
	 * CPU that runs it next (pairs with the acquire in context_switch). */
	__atomic_store_n(&prev->on_cpu, 0, __ATOMIC_RELEASE);
	spin_unlock_raw(&rq->lock);
}

/* The code next resumes in, on its stack: drop the run-queue lock taken by
 * whoever switched away from prev (sched_finish_switch out of line, for
 * the first run of a task: arch/x86/switch_to.S). */
static __always_inline void finish_switch(struct task *prev)
{
	/* Volatile: we may have resumed on another CPU than the one we
	 * switched away on, and GCC reuses a per-CPU (__seg_gs) value read
	 * before switch_to() across the call, and across a "memory" clobber
	 * too: inlined into kernel/ipc.c's fused path it kept this_rq() from
	 * before the switch, and a task migrated by the direct switch then
	 * released the run-queue lock of the CPU it had left (found by
	 * ipc_switch_vs_migrating_wake: a 'runqueue' lockup at -smp 2). */
	struct rq *rq = READ_ONCE(this_cpu_read(rq));
	/* Read while prev is still ours (on_cpu set, its rq lock held): once
	 * on_cpu is 0 another CPU may run prev, which may exit and be reaped
	 * and its memory given to a new task before we look again. A state
	 * read after the release could then find that new task dead and reap
	 * it a second time (the reaper's put then met a freed task: "task ...:
	 * reference count 1802201963 before a get or put", seen once in
	 * qemu-kill-torture; regression finish_switch_vs_exit_elsewhere, which
	 * widens the window with SYST_SWITCH_OUT_DELAY). */
	bool dead = prev->state == TASK_DEAD;

	/* The work bits are set by prev itself or under this rq lock, which
	 * we hold since the switch began: a plain read sees them (a TESTB to
	 * memory; READ_ONCE's volatile load cost a MOV more). Other CPUs set
	 * other bits meanwhile (atomic RMWs), which this test ignores. */
	if (unlikely(prev->flags & TF_SWITCH_WORK))
		finish_switch_work(rq, prev); /* releases prev too */
	else
		finish_switch_release(rq, prev);
	if (unlikely(dead))
		task_reap_later(prev);
}

/*
 * Three facts a caller may know (constants where it is inlined):
 *   next_off_cpu    next->on_cpu was seen 0 under the rq lock (a BLOCKED
 *                   task owned by this rq): nothing to wait for below;
 *   from_syscall    we are a system call that entered from user mode and
 *                   holds no spin_lock() (kernel/ipc.c's fused path: raw
 *                   locks only, taken after its own irq_disable()): the
 *                   preemption count is 0, the entry context is
 *                   CTX_KERNEL and interrupts are off, so none of the
 *                   three is checked;
 *   user_pair       prev and next are both user threads (an IPC direct
 *                   switch: only a process's handles reach an endpoint),
 *                   so both have an mm, user state and a kernel stack.
 */
static __always_inline void context_switch(struct rq *rq, struct task *prev, struct task *next,
					   bool next_off_cpu, bool from_syscall, bool user_pair)
{
	(void)rq;
	if (!from_syscall)
		assert_irqs_off(); /* the rq lock's holders run with them off */
	/* The count is per CPU: a task that switched away with it non-zero
	 * (blocking while holding a spinlock) would hand it to the next task
	 * and resume elsewhere without it. */
	if (!from_syscall && unlikely(this_cpu_read(preempt_count)))
		context_switch_preempt_panic(prev);
	/* Woken from idle by an interrupt that reschedules: catch up on
	 * deferred kernel flushes before next's stack is touched. */
	if (!from_syscall && unlikely(this_cpu_read(entry.context) != CTX_KERNEL))
		kflush_enter_kernel(true);
	/* next may still be switching out on another CPU: wait until its
	 * registers are saved, its user FS and GS bases among them, which
	 * arch_switch_user_*() below loads. Acquire: pairs with the release
	 * store in finish_switch() on that CPU. (next_off_cpu: the caller's
	 * read under the rq lock, which that store precedes, saw 0.) Today
	 * every pick takes the old CPU's rq lock, held until that store, so
	 * this never spins; it stands before the loads so that a lock-free
	 * pick could not make them read stale bases (found in review). */
	while (!next_off_cpu && __atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax();
	if (user_pair || next->mm)
		switch_mm(next->mm);
	else
		enter_lazy_tlb();
	if (user_pair)
		arch_switch_user_pair(&prev->arch, &next->arch, next->kstack_top);
	else
		arch_switch_user_state(prev->mm ? &prev->arch : NULL, next->mm ? &next->arch : NULL,
				       next->kstack_top);
	this_cpu_write(current, next);
	this_cpu_write(shared.curr, next);
	this_cpu_inc(counters[CNT_CTX_SWITCH]);
	trace(TR_CTX_SWITCH, prev->tid, next->tid);
	next->switches++;
	uint64_t now = rdtsc();

	prev->runtime_tsc += now - prev->last_run_tsc;
	next->last_run_tsc = now;
	next->on_cpu = 1;
	next->wchan = NULL;
	prev = switch_to(prev, next);
	finish_switch(prev);
}
