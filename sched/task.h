/*
 * Tasks (threads) and the scheduler interface.
 *
 * A task is a kernel stack plus saved state. User threads belong to a
 * process (kernel/proc.h) and run in its address space (mm); kernel threads
 * have mm == NULL and borrow whatever mm the CPU has loaded (loaded_mm,
 * lazy TLB, mm/tlb.c).
 *
 * States:
 *   TASK_RUNNING   on a CPU (cpu's rq->curr)
 *   TASK_RUNNABLE  on exactly one run queue
 *   TASK_BLOCKED   on a wait list (futex, join, IPC, sleep); on no run queue
 *   TASK_DEAD      exited; its stack is freed by the reaper
 *   TASK_NEW       created, not yet started: on no queue, and no wake-up
 *                  but task_start() moves it (a kill that marks it before
 *                  the start is seen when it first returns to user)
 *
 * Ownership: a task's state and rq membership change only under the lock
 * of the run queue of task->cpu (sched/sched.c); wake-up is the one
 * operation other CPUs perform on it.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/list.h"
#include "lib/cpumask.h"
#include "lib/percpu.h"
#include "arch/trap.h"
#include "arch/arch_task.h"
#include "arch/entry.h" /* struct task_ident */
#include "sched/task_ipc.h"

struct mm;
struct proc;
struct endpoint;
struct spinlock;

enum task_state {
	TASK_RUNNING,
	TASK_RUNNABLE,
	TASK_BLOCKED,
	TASK_DEAD,
	TASK_NEW,
};

/* Priorities: lower number runs first; round robin within a level. */
enum {
	PRIO_KERNEL = 0, /* kernel service threads */
	PRIO_HIGH = 1,
	PRIO_NORMAL = 2,
	PRIO_LOW = 3,
	NR_PRIOS = 4,
};

/* task->flags */
#define TF_KTHREAD	(1u << 0)
#define TF_KILLED	(1u << 1) /* exit at the next return to user */
#define TF_PASID_RESYNC (1u << 2) /* reload PASID before returning to user */
#define TF_XSTATE_LIVE	(1u << 3) /* user extended state is in the registers */
#define TF_AMX_ALLOWED	(1u << 4)
#define TF_MIGRATE	(1u << 5) /* leave this CPU once switched out */
#define TF_SYNC_CORE	(1u << 6) /* serialize before user mode (kernel/membarrier.c) */
#define TF_SWITCH_DELAY (1u << 7) /* SYST_SWITCH_OUT_DELAY: the next switch-out waits */
/* What finish_switch() acts on after it let prev go (one test there). */
#define TF_SWITCH_WORK	(TF_MIGRATE | TF_SWITCH_DELAY)
/* What the return to user must act on (kernel/entry_exit.h tests them in
 * one instruction, with need_resched, before its slow path). */
#define TF_EXIT_WORK	(TF_KILLED | TF_PASID_RESYNC | TF_SYNC_CORE)

#define KSTACK_SIZE (16 * 1024)

struct task {
	/* Saved by switch_to (arch/x86/switch_to.S): callee-saved registers are on
	 * the kernel stack; ksp is where they are. Offsets checked there. */
	uint64_t ksp;
	uint64_t kstack_top;
	void *kstack;

	struct mm *mm;	   /* NULL for kernel threads */
	struct proc *proc; /* NULL for kernel threads */
	uint32_t tid;
	int32_t cpu;	 /* CPU whose run queue owns the task */
	uint32_t on_cpu; /* running, or still switching out somewhere */
	enum task_state state;
	uint32_t flags;
	int prio;
	uint32_t slice_ticks; /* ticks left in the time slice */
	bool preempted;	      /* queued at the head, keeps its slice (rq->lock) */
	struct cpumask affinity;
	struct list_node rq_link;   /* run queue or wait list */
	struct list_node proc_link; /* proc->threads */
	struct list_node all_link;  /* every task, for reports */
	char name[24];

	/* User register state lives in the trap frame at the top of the
	 * kernel stack while in the kernel. */
	struct trap_frame *uframe;

	/* Blocking. */
	uint64_t wake_at_ns; /* sleeping: absolute time, 0 = none */
	void *wchan;	     /* blocked: where (a return address) */
	struct list_node timer_link;
	int wake_reason; /* why the task was woken (WAKE_*) */
	uint64_t futex_key_mm, futex_key_addr;
	struct list_node rq_link_futex; /* futex bucket (kernel/futex.c) */

	/* IPC (kernel/ipc.c). */
	struct ipc_msg ipc_msg;
	long ipc_status;
	int ipc_state;
	struct task *ipc_reply_to;
	struct endpoint *ipc_ep;
	struct list_node ipc_link;
	struct ipc_xfer ipc_xfer_out; /* handles our pending message carries (ours) */
	struct ipc_xfer ipc_xfer_in;  /* handles delivered to us (kernel/ipc.c) */
	uint32_t ipc_xfer_state;      /* of ipc_xfer_in: XFER_EMPTY.. (atomic) */

	/* Join/exit (guarded by proc->lock). */
	int exit_code;
	struct task *joiner;
	bool exited;
	bool joined;
	int refcount;

	/* The x86 part: FS/GS bases, extended state (arch/arch_task.h). */
	struct arch_task arch;
	uint32_t pasid;		/* pasid=xstate: this thread's copy (kernel/pasid.c) */
	uint64_t sync_core_gen; /* kernel/membarrier.c: serialized up to */

	/* SYST_IPC_SWITCH_DELAY (next ipc_call only) and SYST_IPC_BLOCK_DELAY
	 * (next hand_over only); test_ipc_hooks non-zero: either is armed,
	 * one test for the IPC fast path (kernel/ipc.c fused_allowed). */
	union {
		struct {
			uint32_t test_ipc_delay_us;
			uint32_t test_ipc_block_delay_us;
		};
		uint64_t test_ipc_hooks;
	};
	uint32_t test_switch_delay_us; /* SYST_SWITCH_OUT_DELAY (with TF_SWITCH_DELAY) */
	uint32_t test_dup_delay_us;    /* SYST_DUP_DELAY (next handle_dup only) */
	/* SYST_REVOKE_DELAY (next memobj_revoke only): how long, after which step */
	uint32_t test_revoke_delay_us, test_revoke_delay_step;
	uint32_t test_wake_delay_us;  /* SYST_WAKE_DELAY (next cross-CPU wake only) */
	uint32_t test_lazy_drop_move; /* SYST_LAZY_DROP_MOVE: CPU + 1, 0 = off */
	/* SYST_FAULT_CATCH: where a fatal user fault of this thread is
	 * diverted to (rip 0: nowhere, the fault kills). Owner only. */
	uint64_t test_catch_rip, test_catch_rsp, test_catch_rec;
	/* SYST_SMAP_PROBE mode 1: the user address the next diverted fault
	 * reads without opening SMAP (0: none armed), and what that read gave
	 * (mode 2 returns it; 1: none ran yet). Owner only. */
	uint64_t test_trap_probe;
	long test_trap_probe_result;

	uint64_t switches; /* context switches into this task */
	/* Time on a CPU, in TSC ticks (tsc_to_ns() converts): a raw RDTSC
	 * per switch instead of a clock read. Written by the switching CPU
	 * with the run-queue lock held. */
	uint64_t runtime_tsc;
	uint64_t last_run_tsc;
};

/* WAKE_DIRECT: run by sched_switch_to_blocked(), whose caller was BLOCKED
 * (under the rq lock) before this task ran. */
enum { WAKE_NONE, WAKE_SIGNAL, WAKE_TIMEOUT, WAKE_KILLED, WAKE_DIRECT };

/* The running task on this CPU. */
static __always_inline struct task *current_task(void)
{
	return this_cpu_read(current);
}

void sched_init(void);
void sched_init_cpu(void);	       /* each CPU: its run queue and idle task */
void sched_start_cpu(void) __noreturn; /* enter the scheduler on this CPU */
/* The code the next task resumes in drops the run-queue lock taken by
 * whoever switched away from it (a new task's first run reaches it from
 * switch_to.S: arch/entry.h entry_ops.finish_switch). */
void sched_finish_switch(struct task *prev);
/* Every tick of this CPU, interrupts off (kernel/timer.c calls it). */
void sched_tick(void);
/* Interrupt exit: preempt if a reschedule is due and allowed (the arch's
 * trap dispatch: arch/entry.h entry_ops.irq_exit). */
void irq_exit_work(struct trap_frame *tf);
/* A kernel task returned from its entry function (switch_to.S: arch/entry.h
 * entry_ops.exit_kernel_task). */
void task_exit_kernel(void) __noreturn;
/* The running task, for a kernel-mode exception's report (arch/entry.h
 * entry_ops.current_ident). */
void task_current_ident(struct task_ident *out);

/* Create a task (not yet runnable). entry(arg) runs on its kernel stack;
 * user threads enter user mode from there. */
struct task *task_create(const char *name, void (*entry)(void *), void *arg, int prio);
void task_start(struct task *t, uint32_t cpu_hint);
/* A count this low, or the heap's poison (mm/kheap.c fills freed objects
 * with 0x6b), means a reference to a freed task: stop there, with the
 * culprit on the backtrace, not at the next allocation of the memory. */
#define TASK_FREED_COUNT 0x6b6b6b6bu
void task_refcount_bad(const struct task *t, int before) __noreturn;
void task_free_last(struct task *t); /* the last reference went */

static __always_inline void task_refcount_check(const struct task *t, int before)
{
	/* One compare: a count of 0 or less wraps to a huge unsigned value,
	 * and no task has 0x6b6b6b6a references. */
	if (unlikely((uint32_t)before - 1 >= TASK_FREED_COUNT - 1))
		task_refcount_bad(t, before);
}

static __always_inline void task_get(struct task *t)
{
	task_refcount_check(t, __atomic_fetch_add(&t->refcount, 1, __ATOMIC_RELAXED));
}

static __always_inline void task_put(struct task *t)
{
	/* Acquire-release on the count: the last holder sees every other
	 * holder's use before it frees the task. Pairs with itself: the same
	 * decrement in every other holder's task_put(). */
	int before = __atomic_fetch_sub(&t->refcount, 1, __ATOMIC_ACQ_REL);

	task_refcount_check(t, before);
	if (unlikely(before == 1))
		task_free_last(t);
}

void schedule(void);
/* An involuntary switch (a reschedule is due): the current task keeps its
 * place at the head of its queue, and its slice, unless the slice ran out. */
void preempt_schedule(void);
void sched_yield(void);
/* Block the current task: the caller set up how it will be woken (wait
 * list, timer) while holding the lock that the waker takes. Killable: with
 * a kill pending (TF_KILLED, checked under the rq lock the killer takes)
 * it returns at once, held dropped, wake_reason WAKE_KILLED; callers
 * re-check their condition after every return. */
void sched_block(struct spinlock *held);
/* The same, but a kill does not end the wait: for kernel-internal waits
 * whose state lives on the waiter's stack (smp_run_on). */
void sched_block_uninterruptible(struct spinlock *held);
/* The same with a wake-up at deadline_ns (absolute, time_ns()) if nobody
 * wakes the task first; task->wake_reason tells which happened. */
void sched_block_timeout(struct spinlock *held, uint64_t deadline_ns);
/* Wake a blocked task; returns false if it was not blocked. */
bool sched_wake(struct task *t, int reason);
/* Make a NEW task runnable (task_start's second half). */
void sched_start(struct task *t);
void sched_sleep_ns(uint64_t ns);
void sched_exit_current(void) __noreturn;
int sched_set_affinity(struct task *t, const struct cpumask *mask);
/* Direct switch for IPC: block current and run next here, bypassing the
 * run queues (next was blocked and popped by us under held, and is allowed
 * on this CPU). Falls back to sched_wake(next) + sched_block(held) when a
 * kill woke next meanwhile or is pending for us. Killable like sched_block. */
void sched_switch_to_blocked(struct task *next, struct spinlock *held);
/* May t run on this CPU? Its affinity alone says: the CPU running the
 * caller is online (a CPU is marked online before its idle loop runs any
 * task, kernel/main.c, and none goes offline). Inline: the IPC direct
 * switch asks on every hand-over. */
static inline bool sched_can_run_here(const struct task *t)
{
	return cpumask_test(&t->affinity, this_cpu_id());
}

/* Find a task (also one that exited but is still referenced); the caller
 * gets a reference. */
struct task *task_by_tid(uint32_t tid);
/* Copies (tid, name) of up to max live tasks with tid > after, in tid
 * order, into tids[] and names[][24]; returns how many. For reports that
 * print names without holding the task list's lock while printing. */
uint32_t task_names_after(uint32_t after, uint32_t *tids, char (*names)[24], uint32_t max);
/* Pin the reaper thread to cpu (-1: any CPU); tests use it to keep a CPU
 * idle while stacks are freed (kflush_idle_ipi_reads_flushed). */
int task_reaper_pin(int cpu);
/* Free a task that never ran. */
void task_reap_now(struct task *t);
/* The task is on its way out: counted by tasks_dying() until the reaper
 * has freed its stack. thread_exit() calls it before a joiner can see the
 * thread exited; task_exit_kernel() for kernel tasks. */
void task_note_dying(void);
/* Tasks noted dying whose stacks are not freed yet: 0 once every exit has
 * finished (the leak checks of the user tests wait for it). */
uint32_t tasks_dying(void);
/* Call fn on every task, at most max of them, in tid order, under the
 * task list's lock (fn must not sleep or take it): for reports. Returns
 * how many were visited. */
uint32_t task_for_each(void (*fn)(struct task *t, void *arg), void *arg, uint32_t max);
void sched_print_stats(void);
