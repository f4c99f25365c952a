/*
 * Task creation, exit and reaping.
 *
 * A new task's kernel stack is laid out so that the first switch_to() into
 * it "returns" to task_trampoline (arch/x86/switch_to.S), which finishes the
 * switch and calls entry(arg) with interrupts on:
 *
 *   kstack_top -> [ struct trap_frame ]  (user threads fill it in)
 *                 [ task_trampoline   ]  return address for switch_to
 *                 [ rbp rbx r12 r13 r14 r15 ]  r12 = entry, r13 = arg
 *   ksp ---------^
 *
 * A dead task cannot free the stack it is running on: the CPU that
 * switches away from it hands it to the reaper thread, which frees the
 * stack and the extended-state buffer, then drops the task's reference.
 */
#include "sched/rq.h"
#include "sched/idle.h"
#include "lib/percpu.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "lib/fmt.h"
#include "lib/spinlock.h"
#include "lib/preempt.h"
#include "mm/kheap.h"
#include "mm/vmalloc.h"
#include "mm/kflush_ring.h"
#include "mm/mm.h"
#include "mm/numa.h"
#include "arch/fpu.h"
#include "arch/cpu.h"

extern const char task_trampoline[];

static struct kmem_cache task_cache;
static struct spinlock tasks_lock = SPINLOCK_INIT("tasks");
static struct list_node all_tasks = LIST_INIT(all_tasks);
static uint32_t next_tid = 1;

static uint32_t nr_dying; /* task_note_dying() .. stack freed */
static struct spinlock reap_lock = SPINLOCK_INIT("reaper");
static struct list_node reap_list = LIST_INIT(reap_list);
static struct task *reaper;

void snprintf_task_name(struct task *t, const char *fmt, uint32_t n)
{
	snprintf(t->name, sizeof(t->name), fmt, n);
}

struct task *task_create(const char *name, void (*entry)(void *), void *arg, int prio)
{
	struct task *t = kmem_cache_alloc(&task_cache);

	if (!t)
		return NULL;
	t->kstack = kstack_alloc(KSTACK_SIZE, numa_cpu_node(this_cpu_id()));
	if (!t->kstack) {
		kmem_cache_free(&task_cache, t);
		return NULL;
	}
	t->kstack_top = (uint64_t)t->kstack + KSTACK_SIZE;
	t->uframe = (struct trap_frame *)(t->kstack_top - sizeof(struct trap_frame));
	uint64_t *sp = (uint64_t *)t->uframe;

	*--sp = (uint64_t)task_trampoline;
	*--sp = 0;		 /* rbp */
	*--sp = 0;		 /* rbx */
	*--sp = (uint64_t)entry; /* r12 */
	*--sp = (uint64_t)arg;	 /* r13 */
	*--sp = 0;		 /* r14 */
	*--sp = 0;		 /* r15 */
	t->ksp = (uint64_t)sp;
	strlcpy(t->name, name, sizeof(t->name));
	t->prio = prio;
	t->state = TASK_NEW;
	t->cpu = (int32_t)this_cpu_id();
	t->refcount = 1;
	t->flags = TF_KTHREAD;
	t->affinity = cpu_online_mask;
	list_init(&t->rq_link);
	list_init(&t->timer_link);
	list_init(&t->proc_link);
	list_init(&t->rq_link_futex);
	list_init(&t->ipc_link);
	uint64_t f = spin_lock_irqsave(&tasks_lock);

	t->tid = next_tid++;
	t->arch.tid = t->tid;
	list_add_tail(&all_tasks, &t->all_link);
	spin_unlock_irqrestore(&tasks_lock, f);
	return t;
}

void task_start(struct task *t, uint32_t cpu_hint)
{
	/* t is NEW: on no queue, and nothing but us moves it out of NEW, so
	 * its cpu can be set without a lock (sched_start() then takes it). */
	BUG_ON(READ_ONCE(t->state) != TASK_NEW);
	if (cpu_hint < nr_cpus && cpumask_test(&t->affinity, cpu_hint))
		t->cpu = (int32_t)cpu_hint;
	sched_start(t);
}

__noinline __noreturn void task_refcount_bad(const struct task *t, int before)
{
	panic("task %p: reference count %d before a get or put (the task was freed)", t, before);
}

/* task_get and task_put are inline (sched/task.h); this is the free. */
__noinline void task_free_last(struct task *t)
{
	uint64_t f = spin_lock_irqsave(&tasks_lock);

	list_del(&t->all_link);
	spin_unlock_irqrestore(&tasks_lock, f);
	kmem_cache_free(&task_cache, t);
}

/* A task whose count already reached zero is being freed: task_put() has
 * decided, and only waits for tasks_lock to unlink it. */
static bool task_get_unless_zero(struct task *t)
{
	/* Relaxed: we hold tasks_lock, so t's memory stays until we drop it. */
	int c = __atomic_load_n(&t->refcount, __ATOMIC_RELAXED);

	/* Relaxed on success too: like task_get(), taking a reference orders
	 * nothing; the final task_put() is the acquire-release. */
	while (c > 0) {
		if (__atomic_compare_exchange_n(&t->refcount, &c, c + 1, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

struct task *task_by_tid(uint32_t tid)
{
	struct task *found = NULL;
	struct list_node *pos;
	uint64_t f = spin_lock_irqsave(&tasks_lock);

	list_for_each (pos, &all_tasks) {
		struct task *t = list_entry(pos, struct task, all_link);

		if (t->tid == tid) {
			found = task_get_unless_zero(t) ? t : NULL;
			break;
		}
	}
	spin_unlock_irqrestore(&tasks_lock, f);
	return found;
}

uint32_t task_names_after(uint32_t after, uint32_t *tids, char (*names)[24], uint32_t max)
{
	struct list_node *pos;
	uint32_t n = 0;
	uint64_t f = spin_lock_irqsave(&tasks_lock);

	/* all_tasks is in tid order: tids are handed out and tasks appended
	 * under tasks_lock. */
	list_for_each (pos, &all_tasks) {
		struct task *t = list_entry(pos, struct task, all_link);

		if (t->tid <= after)
			continue;
		if (n == max)
			break;
		tids[n] = t->tid;
		strlcpy(names[n], t->name, 24);
		n++;
	}
	spin_unlock_irqrestore(&tasks_lock, f);
	return n;
}

uint32_t task_for_each(void (*fn)(struct task *t, void *arg), void *arg, uint32_t max)
{
	struct list_node *pos;
	uint32_t n = 0;
	uint64_t f = spin_lock_irqsave(&tasks_lock);

	list_for_each (pos, &all_tasks) {
		if (n == max)
			break;
		fn(list_entry(pos, struct task, all_link), arg);
		n++;
	}
	spin_unlock_irqrestore(&tasks_lock, f);
	return n;
}

void task_note_dying(void)
{
	/* Relaxed: a count read by tests, which poll it. */
	__atomic_fetch_add(&nr_dying, 1, __ATOMIC_RELAXED);
}

uint32_t tasks_dying(void)
{
	return __atomic_load_n(&nr_dying, __ATOMIC_RELAXED);
}

/* Free what a dead task cannot free itself: its extended state now; its
 * stack is returned, for the caller to free (alone or in a batch). */
static void *release_state_take_stack(struct task *t)
{
	void *stack = t->kstack;

	t->kstack = NULL;
	xstate_task_free(&t->arch);
	return stack;
}

/* Runs on the CPU that switched away from the dead task, rq lock dropped. */
void task_reap_later(struct task *t)
{
	spin_lock(&reap_lock);
	list_add_tail(&reap_list, &t->rq_link);
	spin_unlock(&reap_lock);
	if (reaper)
		sched_wake(reaper, WAKE_SIGNAL);
}

static void reaper_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct task *batch[KFLUSH_RING];
		void *stacks[KFLUSH_RING];
		struct list_node *n;
		uint32_t nb = 0;

		/* Up to KFLUSH_RING dead tasks at a time: their stacks go with
		 * one kernel flush (kstack_free_many). */
		spin_lock(&reap_lock);
		while (nb < KFLUSH_RING && (n = list_pop_head(&reap_list)))
			batch[nb++] = list_entry(n, struct task, rq_link);
		if (!nb) {
			sched_block(&reap_lock);
			continue;
		}
		spin_unlock(&reap_lock);
		for (uint32_t i = 0; i < nb; i++)
			stacks[i] = release_state_take_stack(batch[i]);
		kstack_free_many(stacks, nb);
		for (uint32_t i = 0; i < nb; i++) {
			/* Relaxed: see task_note_dying(). */
			__atomic_fetch_sub(&nr_dying, 1, __ATOMIC_RELAXED);
			task_put(batch[i]);
		}
	}
}

int task_reaper_pin(int cpu)
{
	struct cpumask m;

	if (cpu < 0)
		return sched_set_affinity(reaper, &cpu_online_mask);
	if ((uint32_t)cpu >= nr_cpus)
		return -22; /* -EINVAL */
	cpumask_clear_all(&m);
	cpumask_set(&m, (uint32_t)cpu);
	return sched_set_affinity(reaper, &m);
}

void task_reap_now(struct task *t)
{
	kstack_free(release_state_take_stack(t)); /* never ran, never noted dying */
	task_put(t);
}

void task_exit_kernel(void)
{
	task_note_dying();
	sched_exit_current();
}

void sched_exit_current(void)
{
	struct task *me = current_task();

	irq_disable();
	struct rq *rq = this_rq();

	spin_lock_raw(&rq->lock);
	me->state = TASK_DEAD;
	/* Never returns: the next task's sched_finish_switch() reaps us. */
	sched_switch_locked(rq);
	panic("dead task %s was scheduled again", me->name);
}

void sched_init(void)
{
	kmem_cache_init(&task_cache, "task", sizeof(struct task), 64);
	sched_init_cpu();
	reaper = task_create("reaper", reaper_main, NULL, PRIO_KERNEL);
	BUG_ON(!reaper);
	task_start(reaper, 0);
}

void task_current_ident(struct task_ident *out)
{
	const struct task *t = current_task();

	/* Before sched_init there is no task: a fault then (a firmware
	 * parser's) read through NULL here, faulted again, and the CPU reset
	 * with no report (found in review, row acpi-root-bad-pointers). */
	if (!t) {
		*out = (struct task_ident){ 0, "(boot, no task yet)", 0, 0 };
		return;
	}
	out->tid = t->tid;
	out->name = t->name;
	out->kstack_lo = (uint64_t)t->kstack;
	out->kstack_hi = t->kstack_top;
}
