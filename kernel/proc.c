/*
 * Processes and user threads (see proc.h).
 *
 * A user thread starts as a kernel task whose first function builds its
 * user register frame at the top of its kernel stack and leaves through
 * the common return-to-user path (arch/x86/entry.S). Arguments: the spawn
 * argument string is copied to the top of the new stack; RDI points at it
 * and RSI holds its length.
 */
#include "kernel/proc.h"
#include "kernel/elf.h"
#include "include/uapi/errno.h"
#include "kernel/multiboot2.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/string.h"
#include "kernel/percpu_area.h"
#include "lib/preempt.h"
#include "kernel/ipc.h"
#include "kernel/irq_obj.h"
#include "kernel/ioport.h"
#include "kernel/entry_work.h"
#include "kernel/smp.h"
#include "sched/task.h"
#include "mm/mm.h"
#include "mm/tlb.h"
#include "mm/kheap.h"
#include "mm/kpaging.h"
#include "arch/trap.h"
#include "arch/x86/cpu.h"
#include "arch/mmu.h"
#include "arch/fpu.h"

#define RFLAGS_USER (RFLAGS_IF | 0x2)

static struct spinlock procs_lock = SPINLOCK_INIT("procs");
static struct list_node procs = LIST_INIT(procs);
static uint32_t next_pid = 1;
static struct kmem_cache proc_cache;

void proc_init(void)
{
	kmem_cache_init(&proc_cache, "proc", sizeof(struct proc), 64);
}

uint32_t proc_count(void)
{
	uint32_t n = 0;
	struct list_node *pos;

	spin_lock(&procs_lock);
	list_for_each (pos, &procs)
		n++;
	spin_unlock(&procs_lock);
	return n;
}

static const struct boot_module *find_module(const char *name)
{
	for (uint32_t i = 0; i < boot_info_parsed.nr_modules; i++) {
		if (!strcmp(boot_info_parsed.modules[i].name, name))
			return &boot_info_parsed.modules[i];
	}
	return NULL;
}

/* First code of every user thread: leave for user mode. */
static void user_thread_start(void *arg)
{
	(void)arg;
	irq_disable();
	struct trap_frame *tf = current_task()->uframe;

	prepare_return_to_user(tf);
	enter_user(tf);
}

struct task *proc_thread_create(struct proc *p, uint64_t entry, uint64_t stack, uint64_t arg)
{
	struct task *t = task_create(p->name, user_thread_start, NULL, PRIO_NORMAL);

	if (!t)
		return NULL;
	t->arch.tiles_permitted = &p->amx_permitted;
	if (xstate_task_alloc(&t->arch)) {
		t->state = TASK_DEAD;
		task_reap_now(t);
		return NULL;
	}
	struct trap_frame *tf = t->uframe;

	memset(tf, 0, sizeof(*tf));
	tf->rip = entry;
	tf->rsp = stack;
	tf->rdi = arg;
	tf->cs = SEL_UCODE | 3;
	tf->ss = SEL_UDATA | 3;
	tf->rflags = RFLAGS_USER;
	tf->vector = ~0ull;
	t->flags &= ~TF_KTHREAD;
	t->proc = p;
	t->mm = p->mm;
	spin_lock(&p->lock);
	if (p->exiting) {
		spin_unlock(&p->lock);
		t->state = TASK_DEAD;
		task_reap_now(t);
		return NULL;
	}
	list_add_tail(&p->threads, &t->proc_link);
	p->nr_threads++;
	t->pasid = p->mm->pasid; /* under p->lock: see kernel/pasid.c */
	task_get(t);		 /* the process's reference, dropped when joined or at exit */
	spin_unlock(&p->lock);
	return t;
}

static void proc_free(struct proc *p)
{
	spin_lock(&procs_lock);
	list_del(&p->link);
	spin_unlock(&procs_lock);
	kmem_cache_free(&proc_cache, p);
}

/* The handles a spawn list names, taken out of the parent (moved or
 * copied, handle.h's rules). On error the ones taken go back. */
struct spawn_taken {
	struct kobj *obj[SPAWN_MAX_HANDLES];
	uint32_t rights[SPAWN_MAX_HANDLES];
};

static void spawn_untake(struct proc *parent, const struct spawn_handle *hs, uint32_t n,
			 struct spawn_taken *t)
{
	for (uint32_t i = 0; i < n; i++) {
		if (hs[i].rights & SPAWN_MOVE)
			handle_untake(parent, (uint32_t)hs[i].handle, t->obj[i], t->rights[i]);
		else
			handle_release(t->obj[i], t->rights[i]);
	}
}

static long spawn_take(struct proc *parent, const struct spawn_handle *hs, uint32_t n,
		       struct spawn_taken *t)
{
	for (uint32_t i = 0; i < n; i++) {
		long e = -EINVAL;

		if (!(hs[i].rights & ~(SPAWN_MOVE | R_ALL)) && hs[i].handle >= 0)
			e = handle_take(parent, (uint32_t)hs[i].handle, hs[i].rights & SPAWN_MOVE,
					hs[i].rights & R_ALL, &t->obj[i], &t->rights[i]);
		if (e) {
			spawn_untake(parent, hs, i, t);
			return e;
		}
	}
	return 0;
}

int proc_spawn(const char *name, const char *arg, uint64_t arg_len, struct proc *parent,
	       const struct spawn_handle *hs, uint32_t nr_handles)
{
	const struct boot_module *m = find_module(name);
	struct elf_image img;
	struct spawn_taken taken;

	if (!m)
		return -ENOENT;
	if (arg_len > 4096)
		return -E2BIG;
	if (nr_handles > SPAWN_MAX_HANDLES || (nr_handles && !parent))
		return -EINVAL;
	const void *data = phys_to_virt(m->start);
	const char *err = elf_validate(data, m->end - m->start, &img);

	if (err) {
		pr_warn("spawn %s: refused: %s", name, err);
		return -ENOEXEC;
	}
	long te = spawn_take(parent, hs, nr_handles, &taken);

	if (te)
		return (int)te;
	struct proc *p = kmem_cache_alloc(&proc_cache);

	if (!p) {
		spawn_untake(parent, hs, nr_handles, &taken);
		return -ENOMEM;
	}
	p->mm = mm_create();
	if (!p->mm) {
		kmem_cache_free(&proc_cache, p);
		spawn_untake(parent, hs, nr_handles, &taken);
		return -ENOMEM;
	}
	strlcpy(p->name, name, sizeof(p->name));
	spin_init(&p->lock, "proc");
	list_init(&p->threads);
	list_init(&p->zombies);
	p->parent = parent;
	p->refcount = 1;
	int e = elf_load(p->mm, data, &img);
	uint64_t stack = USER_STACK_TOP - USER_STACK_SIZE;

	if (!e)
		e = mm_map(p->mm, &stack, USER_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
	uint64_t argp = USER_STACK_TOP - ALIGN_UP(arg_len + 1, 16);

	if (!e)
		e = mm_populate_copy(p->mm, argp, arg, arg_len);
	if (!e) {
		char nul = 0;

		e = mm_populate_copy(p->mm, argp + arg_len, &nul, 1);
	}
	struct task *t = e ? NULL : proc_thread_create(p, img.entry, argp - 8, argp);

	if (!t) {
		mm_put(p->mm);
		kmem_cache_free(&proc_cache, p);
		spawn_untake(parent, hs, nr_handles, &taken);
		return e ? e : -ENOMEM;
	}
	/* The child's table is empty and nobody else can reach it yet: the
	 * i-th handle lands at slot i, generation 1 (SPAWN_HANDLE(i)). */
	for (uint32_t i = 0; i < nr_handles; i++)
		BUG_ON(handle_install_at(p, i, taken.obj[i], taken.rights[i]) != SPAWN_HANDLE(i));
	if (!parent) { /* init: the hardware resource (kernel/irq_obj.c) */
		hwres_grant(p);
		nr_handles = 1;
	}
	t->uframe->rsi = arg_len;
	t->uframe->rdx = nr_handles;
	spin_lock(&procs_lock);
	p->pid = next_pid++;
	list_add_tail(&procs, &p->link);
	spin_unlock(&procs_lock);
	if (parent) {
		t->affinity = current_task()->affinity;
		if (!sched_can_run_here(t))
			t->affinity = cpu_online_mask;
	}
	/* Read before the start: from there the child may run elsewhere,
	 * exit, and be freed by a sibling thread's wait_pid() (found in
	 * review; as sys_thread_create() reads the tid). */
	int pid = (int)p->pid;

	task_start(t, this_cpu_id());
	return pid;
}

static struct proc *find_proc(uint32_t pid)
{
	struct list_node *pos;

	list_for_each (pos, &procs) {
		struct proc *p = list_entry(pos, struct proc, link);

		if (p->pid == pid)
			return p;
	}
	return NULL;
}

int proc_wait(uint32_t pid, int *code)
{
	struct proc *me = proc_current();

	spin_lock(&procs_lock);
	struct proc *p = find_proc(pid);

	if (!p || p->parent != me) {
		spin_unlock(&procs_lock);
		return -ECHILD;
	}
	/* Claim the wait under procs_lock: the claimant frees p, so a second
	 * thread that found p must not touch it (two threads of one process
	 * waiting for the same child used to: the loser locked a freed proc;
	 * regression: concurrent_wait_same_child, found by syscall_fuzz). */
	if (p->reaper) {
		spin_unlock(&procs_lock);
		return -EBUSY;
	}
	p->reaper = current_task();
	spin_unlock(&procs_lock);
	spin_lock(&p->lock);
	while (!p->exited) {
		p->waiter = current_task();
		sched_block(&p->lock);
		spin_lock(&p->lock);
		p->waiter = NULL;
		if (current_task()->flags & TF_KILLED) {
			spin_unlock(&p->lock);
			spin_lock(&procs_lock);
			p->reaper = NULL;
			spin_unlock(&procs_lock);
			return -EINTR;
		}
	}
	*code = p->exit_code;
	spin_unlock(&p->lock);
	proc_free(p);
	return 0;
}

/* Mark every other thread of p to exit, and kick those that are running or
 * blocked so they notice. */
static void kill_thread_locked(struct proc *p, struct task *t)
{
	assert_held(&p->lock);
	__atomic_fetch_or(&t->flags, TF_KILLED, __ATOMIC_RELAXED);
	/* Blocked: wake it (its system call returns -EINTR). Running
	 * elsewhere: interrupt it, so it notices on its way to user. */
	if (!sched_wake(t, WAKE_KILLED) && t->state == TASK_RUNNING &&
	    t->cpu != (int32_t)this_cpu_id())
		smp_send_resched((uint32_t)t->cpu);
}

static void kill_threads(struct proc *p, struct task *except)
{
	struct list_node *pos;

	assert_held(&p->lock);
	list_for_each (pos, &p->threads) {
		struct task *t = list_entry(pos, struct task, proc_link);

		if (t != except)
			kill_thread_locked(p, t);
	}
}

int proc_kill_thread(uint32_t tid)
{
	struct proc *p = proc_current();
	struct task *t = task_by_tid(tid);
	int r = 0;

	if (!t)
		return -ESRCH;
	if (t->proc != p || t == current_task()) {
		r = t->proc != p ? -ESRCH : -EINVAL;
	} else {
		spin_lock(&p->lock);
		if (!t->exited) /* on p->threads until it exits */
			kill_thread_locked(p, t);
		spin_unlock(&p->lock);
	}
	task_put(t);
	return r;
}

/*
 * Who frees a finished process: its parent, through proc_wait(); or, if
 * the parent finished first (it orphaned us), whichever of the two
 * finishes last. Both decisions are made under procs_lock, reading and
 * writing the same two flags (finished, orphan), so exactly one side frees.
 */
static void proc_finish(struct proc *p)
{
	struct list_node *pos, *tmp;
	struct list_node dead = LIST_INIT(dead);

	handle_close_all(p);
	ioport_proc_exit(p);
	mm_put(p->mm);
	spin_lock(&p->lock);
	p->mm = NULL;
	/* Nobody can join any more: drop the references of unjoined threads,
	 * marked joined first. One may outlive p (another process holds a
	 * reference: an IPC server that owes it a reply), and p's memory may
	 * be the next process's, whose threads' join would take it for one of
	 * theirs (t->proc == p) and drop the reference dropped here a second
	 * time (regression join_refuses_a_thread_of_a_freed_process). */
	while ((pos = list_pop_head(&p->zombies))) {
		struct task *t = list_entry(pos, struct task, proc_link);

		t->joined = true;
		task_put(t);
	}
	spin_unlock(&p->lock);

	spin_lock(&procs_lock);
	p->finished = true;
	bool free_self = p->orphan;

	list_for_each_safe (pos, tmp, &procs) {
		struct proc *c = list_entry(pos, struct proc, link);

		if (c->parent != p)
			continue;
		c->parent = NULL;
		c->orphan = true;
		if (c->finished) {
			list_del(&c->link);
			list_add_tail(&dead, &c->link);
		}
	}
	if (free_self) {
		list_del(&p->link);
	} else {
		/* The waiter may free p as soon as it sees exited: this is our
		 * last access to p. */
		spin_lock(&p->lock);
		p->exited = true;
		if (p->waiter)
			sched_wake(p->waiter, WAKE_SIGNAL);
		spin_unlock(&p->lock);
	}
	spin_unlock(&procs_lock);
	while ((pos = list_pop_head(&dead)))
		kmem_cache_free(&proc_cache, list_entry(pos, struct proc, link));
	if (free_self)
		kmem_cache_free(&proc_cache, p);
}

/* Leave the process's address space for good (this CPU moves to the kernel
 * root), so that whoever frees the mm never finds it in our CR3. */
static void detach_mm(struct task *me)
{
	irq_disable();
	me->arch.fpu_tag = 0;		/* no CPU holds our state any more */
	this_cpu_write(cur_arch, NULL); /* no user task runs here any more */
	tlb_switch_to_kernel_mm();
	me->mm = NULL;
	irq_enable();
}

void thread_exit(int code)
{
	struct task *me = current_task();
	struct proc *p = me->proc;

	ipc_thread_exit(me);
	detach_mm(me);
	task_note_dying();
	spin_lock(&p->lock);
	me->exit_code = code;
	list_del(&me->proc_link);
	list_add_tail(&p->zombies, &me->proc_link); /* joinable until reaped */
	me->exited = true;
	bool last = --p->nr_threads == 0;

	if (last && !p->exiting)
		p->exit_code = code; /* the process ends with its last thread's code */

	if (me->joiner)
		sched_wake(me->joiner, WAKE_SIGNAL);
	spin_unlock(&p->lock);
	if (last)
		proc_finish(p);
	sched_exit_current();
}

void proc_exit(int code)
{
	struct task *me = current_task();
	struct proc *p = me->proc;

	spin_lock(&p->lock);
	if (!p->exiting) {
		p->exiting = true;
		p->exit_code = code;
	}
	kill_threads(p, me);
	spin_unlock(&p->lock);
	thread_exit(code);
}

int proc_kill(uint32_t pid, int code, struct proc *by)
{
	spin_lock(&procs_lock);
	struct proc *p = find_proc(pid);

	if (!p || p->exited) {
		spin_unlock(&procs_lock);
		return -ESRCH;
	}
	if (by && p != by && p->parent != by) {
		spin_unlock(&procs_lock);
		return -EPERM;
	}
	spin_lock(&p->lock);
	if (!p->exiting) {
		p->exiting = true;
		p->exit_code = code;
	}
	kill_threads(p, NULL);
	spin_unlock(&p->lock);
	spin_unlock(&procs_lock);
	return 0;
}

void proc_kill_fault(struct trap_frame *tf, const char *what)
{
	struct task *me = current_task();
	struct proc *p = me->proc;

	pr_warn("proc %u (%s) thread %u killed: %s at rip %#lx (vector %lu, error %#lx)", p->pid,
		p->name, me->tid, what, tf->rip, tf->vector, tf->error);
	irq_enable();
	proc_exit(EXIT_KILLED_BASE + (int)tf->vector);
}

int thread_join(uint32_t tid, int *code)
{
	struct task *me = current_task();
	struct proc *p = me->proc;
	struct task *t = task_by_tid(tid);

	if (!t)
		return -ESRCH;
	if (t->proc != p || t == me) {
		task_put(t);
		return -EINVAL;
	}
	spin_lock(&p->lock);
	if (t->joiner || t->joined) {
		spin_unlock(&p->lock);
		task_put(t);
		return -EINVAL;
	}
	t->joiner = me;
	while (!t->exited) {
		sched_block(&p->lock);
		spin_lock(&p->lock);
		if (me->flags & TF_KILLED) {
			t->joiner = NULL;
			spin_unlock(&p->lock);
			task_put(t);
			return -EINTR;
		}
	}
	*code = t->exit_code;
	t->joined = true;
	list_del(&t->proc_link); /* off the zombie list */
	spin_unlock(&p->lock);
	task_put(t); /* task_by_tid's */
	task_put(t); /* the process's */
	return 0;
}
