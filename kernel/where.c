/*
 * Where is everyone (see where.h).
 *
 * Each timer tick stores, in its CPU's per-CPU area, the interrupted RIP,
 * whether it was user mode or the idle task, the running tid and the TSC.
 * The report reads every CPU's sample without interrupting anyone: a
 * statistical "what is each CPU doing" that costs a few stores per tick
 * and works even when the CPUs it describes are wedged (their sample is
 * then old, and its age says so: no tick means interrupts off).
 *
 * Idle watchdog: CPU 0's tick notices when no tick anywhere has found a
 * busy CPU for idle_report_s seconds (boot switch) while user processes
 * exist, and lists every task once (with where each blocked task blocked):
 * a machine that waits for nothing forever has lost a wake-up. It stays
 * quiet until some CPU is busy again. Busy ticks refresh one shared
 * timestamp, but only when it is more than BUSY_REFRESH_MS old: one
 * cache-line write every 100 ms for the whole machine, not one per busy
 * tick per CPU (28,800 a second on 288 busy CPUs).
 *
 * The samples are plain stores read racily by the reporter; a torn sample
 * (RIP from one tick, tid from the next) is possible and harmless in a
 * diagnostic. Each field is a single aligned word, read once.
 */
#include "kernel/where.h"
#include "kernel/percpu_area.h"
#include "lib/printk.h"
#include "lib/ksyms.h"
#include "lib/time.h"
#include "kernel/proc.h"
#include "lib/spinlock.h"
#include "lib/list.h"
#include "kernel/smp.h"
#include "kernel/timer.h"
#include "lib/cmdline.h"
#include "sched/task.h"
#include "arch/trap.h"
#include "arch/x86/cpu.h"

/* CPUs listed one per line; the rest are only counted (serial output is
 * slow, and on a 288-CPU machine most lines would say the same). */
#define WHERE_LIST_MAX	  32
/* Threads of the process listed (a fuzz round has 18, a stress test 500). */
#define WHERE_THREADS_MAX 64
/* Tasks listed by the idle report. */
#define WHERE_TASKS_MAX	  256
/* Staleness of last_busy_tsc tolerated; far below idle_report_s >= 1 s. */
#define BUSY_REFRESH_MS	  100

/* All CPUs idle this long, with processes alive: report once. */
static int idle_report_s = 30;
KSWITCH_INT(idle_report_s, "idle_report_s",
	    "seconds with every CPU idle and processes alive before every task is listed (0 = off)",
	    0, 3600);

static uint64_t last_busy_tsc; /* a recent tick that found its CPU busy */
static bool idle_reported;     /* CPU 0 only */

void where_sample(const struct trap_frame *tf)
{
	struct percpu *me = this_cpu();
	struct task *cur = this_cpu_read(current);
	bool idle = cur == this_cpu_read(idle);

	WRITE_ONCE(me->tick_rip, tf->rip);
	WRITE_ONCE(me->tick_tid, idle ? 0 : cur->tid);
	WRITE_ONCE(me->tick_user, trap_from_user(tf));
	WRITE_ONCE(me->tick_tsc, rdtsc());
	/* Signed: another CPU's TSC may have stored a slightly later value. */
	if (!idle && (int64_t)(me->tick_tsc - READ_ONCE(last_busy_tsc)) >
			     (int64_t)(tsc_khz * BUSY_REFRESH_MS))
		WRITE_ONCE(last_busy_tsc, me->tick_tsc);
}

static const char *const state_name[] = {
	[TASK_RUNNING] = "running", [TASK_RUNNABLE] = "runnable", [TASK_BLOCKED] = "blocked",
	[TASK_DEAD] = "dead",	    [TASK_NEW] = "new",
};

static void print_task(struct task *t, void *arg)
{
	(void)arg;
	enum task_state st = READ_ONCE(t->state);
	uint64_t wchan = (uint64_t)READ_ONCE(t->wchan), off = 0;
	const char *sym = st == TASK_BLOCKED ? ksym_lookup(wchan, &off) : NULL;

	if (sym)
		pr_info("where:   tid %u (%s) %s on cpu %d, at %s+0x%lx", t->tid, t->name,
			state_name[st], READ_ONCE(t->cpu), sym, off);
	else
		pr_info("where:   tid %u (%s) %s on cpu %d", t->tid, t->name, state_name[st],
			READ_ONCE(t->cpu));
}

static void report_threads(struct proc *p)
{
	struct list_node *pos;
	uint32_t n = 0;
	uint64_t f = spin_lock_irqsave(&p->lock);

	pr_info("where: process %u (%s), %u threads%s", p->pid, p->name, p->nr_threads,
		p->nr_threads > WHERE_THREADS_MAX ? " (the first 64 listed)" : "");
	list_for_each (pos, &p->threads) {
		struct task *t = list_entry(pos, struct task, proc_link);

		if (n++ == WHERE_THREADS_MAX)
			break;
		print_task(t, NULL);
	}
	spin_unlock_irqrestore(&p->lock, f);
}

void where_report(struct proc *p)
{
	uint64_t now = rdtsc();
	uint32_t cpu, idle = 0, user = 0, kernel = 0, listed = 0, silent = 0;

	for_each_cpu_in (cpu, &cpu_online_mask) {
		struct percpu *pc = percpu_of(cpu);
		uint64_t at = READ_ONCE(pc->tick_tsc), rip = READ_ONCE(pc->tick_rip), off = 0;
		uint32_t tid = READ_ONCE(pc->tick_tid);
		uint64_t age_ms = at && now > at ? tsc_to_ns(now - at) / 1000000 : 0;
		bool in_user = READ_ONCE(pc->tick_user);

		/* Ten periods without a tick: interrupts have been off (or,
		 * under a hypervisor, the vCPU has not been run). */
		silent += age_ms > 10 * tick_period_ns() / 1000000;
		if (!tid) {
			idle++;
			continue;
		}
		if (in_user)
			user++;
		else
			kernel++;
		if (listed++ >= WHERE_LIST_MAX)
			continue;
		if (in_user) {
			pr_info("where: cpu %u tid %u in user mode at %p (%lu ms ago)", cpu, tid,
				(void *)rip, age_ms);
			continue;
		}
		const char *sym = ksym_lookup(rip, &off);

		pr_info("where: cpu %u tid %u at %s+0x%lx (%lu ms ago)", cpu, tid, sym ? sym : "?",
			off, age_ms);
	}
	pr_info("where: %u CPUs at their last tick: %u idle, %u user, %u kernel "
		"(%u not listed), %u without a tick for 10 periods",
		nr_cpus_online, idle, user, kernel,
		listed > WHERE_LIST_MAX ? listed - WHERE_LIST_MAX : 0, silent);
	if (p)
		report_threads(p);
}

void where_list_tasks(void)
{
	pr_info("where: every task:");
	task_for_each(print_task, NULL, WHERE_TASKS_MAX);
}

void where_idle_check(void)
{
	uint64_t busy = READ_ONCE(last_busy_tsc), now = rdtsc();

	if (!busy) { /* no tick has found a busy CPU yet: count from now */
		WRITE_ONCE(last_busy_tsc, now);
		return;
	}
	if (!idle_report_s || now < busy ||
	    now - busy < ns_to_tsc((uint64_t)idle_report_s * 1000000000)) {
		idle_reported = false;
		return;
	}
	if (idle_reported)
		return;
	/* procs_lock from the tick is safe here: CPU 0 was idle when it
	 * ticked (else last_busy_tsc would be under BUSY_REFRESH_MS old), so
	 * it does not hold the lock. */
	uint32_t procs = proc_count();

	if (!procs)
		return;
	idle_reported = true;
	pr_warn("where: every CPU idle for %d s with %u processes alive (a lost wake-up?); "
		"tasks:",
		idle_report_s, procs);
	task_for_each(print_task, NULL, WHERE_TASKS_MAX);
}
