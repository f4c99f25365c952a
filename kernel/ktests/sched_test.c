/*
 * Scheduler tests: context switches preserve registers, priorities order
 * the run queue, remote wake-ups interrupt the target CPU.
 */
#include "kernel/ktest.h"
#include "lib/spinlock.h"
#include "lib/percpu.h"
#include "lib/time.h"
#include "sched/task.h"
#include "arch/cpu.h"

long ktest_yield_with_pattern(uint64_t pattern);

struct pattern_arg {
	uint64_t seed;
	uint32_t bad;
	uint32_t done;
	volatile uint32_t *go;
};

static void pattern_thread(void *p)
{
	struct pattern_arg *a = p;

	while (!*a->go) /* start together, so that the yields alternate */
		sched_yield();
	for (int i = 0; i < 500; i++) {
		if (ktest_yield_with_pattern(a->seed * 0x9e3779b97f4a7c15ull + (uint64_t)i))
			a->bad++;
	}
	/* Release: the counts are final before done (pairs with the acquire
	 * load in the test). */
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
}

static void pin(struct task *t, uint32_t cpu)
{
	cpumask_clear_all(&t->affinity);
	cpumask_set(&t->affinity, cpu);
}

static void wait_done(uint32_t *flag)
{
	/* Acquire: pairs with the worker's release store of done. */
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		sched_sleep_ns(1000000);
}

KTEST(sched_switch_preserves_registers)
{
	volatile uint32_t go = 0;
	struct pattern_arg a[3] = { { .seed = 1, .go = &go },
				    { .seed = 2, .go = &go },
				    { .seed = 3, .go = &go } };
	uint32_t cpu = nr_cpus_online > 1 ? 1 : 0;

	for (int i = 0; i < 3; i++) {
		struct task *w = task_create("regs", pattern_thread, &a[i], PRIO_NORMAL);

		pin(w, cpu);
		task_start(w, cpu);
	}
	uint64_t sw0 = percpu_of(cpu)->counters[CNT_CTX_SWITCH];

	go = 1;
	for (int i = 0; i < 3; i++) {
		wait_done(&a[i].done);
		KT_EXPECT_EQ(t, a[i].bad, 0u);
	}
	/* Three threads yielding on one CPU: at least one switch per yield. */
	KT_EXPECT(t, percpu_of(cpu)->counters[CNT_CTX_SWITCH] - sw0 >= 1500);
}

struct order {
	struct spinlock lock;
	int seq[6];
	int n;
	uint32_t done;
};

struct order_arg {
	struct order *o;
	int id;
};

static void order_thread(void *p)
{
	struct order_arg *a = p;

	spin_lock(&a->o->lock);
	a->o->seq[a->o->n++] = a->id;
	if (a->o->n == 6)
		__atomic_store_n(&a->o->done, 1, __ATOMIC_RELEASE); /* pairs with wait_done */
	spin_unlock(&a->o->lock);
}

/* Six tasks queued on a busy CPU at once: they run in priority order, and
 * in queue order within a priority. */
KTEST(sched_priorities_order_the_queue)
{
	static struct order o;
	static struct order_arg args[6];
	static const int prio[6] = { PRIO_LOW, PRIO_NORMAL, PRIO_HIGH,
				     PRIO_LOW, PRIO_HIGH,   PRIO_NORMAL };
	static const int want[6] = { 2, 4, 1, 5, 0, 3 };
	struct task *tasks[6], *me = current_task();
	struct cpumask saved = me->affinity;

	/* Stay on one CPU for the whole test. */
	KT_ASSERT(t, ktest_move_to_cpu(this_cpu_id()) == 0);
	uint32_t cpu = this_cpu_id();

	spin_init(&o.lock, "order");
	o.n = 0;
	o.done = 0;
	/* Hold the CPU (preemption off) while all six become runnable here. */
	uint64_t f = irq_save();

	for (int i = 0; i < 6; i++) {
		args[i] = (struct order_arg){ &o, i };
		tasks[i] = task_create("order", order_thread, &args[i], prio[i]);
		pin(tasks[i], cpu);
		task_start(tasks[i], cpu);
	}
	irq_restore(f);
	wait_done(&o.done);
	sched_set_affinity(me, &saved);
	for (int i = 0; i < 6; i++)
		KT_EXPECT_EQ(t, o.seq[i], want[i]);
}

struct sleeper {
	uint64_t woke_ns;
	uint32_t cpu;
	uint32_t done;
};

static void sleeper_thread(void *p)
{
	struct sleeper *s = p;

	sched_sleep_ns(20000000);
	s->woke_ns = time_ns();
	s->cpu = this_cpu_id();
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE); /* pairs with wait_done */
}

KTEST(sched_sleep_and_remote_wake)
{
	struct sleeper s = { 0 };
	uint32_t cpu = nr_cpus_online - 1;
	uint64_t t0 = time_ns();
	struct task *th = task_create("sleeper", sleeper_thread, &s, PRIO_NORMAL);

	pin(th, cpu);
	task_start(th, this_cpu_id()); /* started from here, runs there */
	wait_done(&s.done);
	KT_EXPECT(t, s.woke_ns - t0 >= 20000000);
	KT_EXPECT_EQ(t, s.cpu, cpu);
}
