/*
 * Processes: an address space, threads, handles, and an exit status.
 *
 * Lifetime: a process is alive while it has threads. The last thread to
 * exit releases the mm and the handles and wakes the waiter; the struct
 * stays until the parent collects the status with proc_wait() (or at once
 * if nobody can wait for it).
 *
 * Locking: proc->lock guards threads, nr_threads, handles, the exit state
 * and waiter. Lock order: proc->lock before mm->lock and run-queue locks.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/entry.h"
#include "lib/list.h"
#include "lib/spinlock.h"
#include "kernel/handle.h"
#include "sched/task.h"

struct mm;
struct task;
struct trap_frame;
struct iomap;

#define PROC_NAME_LEN 32

/* Exit status of a process killed by a CPU exception: 128 + vector. */
#define EXIT_KILLED_BASE 128

struct proc {
	uint32_t pid;
	char name[PROC_NAME_LEN];
	struct mm *mm;
	struct spinlock lock;
	struct list_node threads; /* live threads */
	struct list_node zombies; /* exited threads nobody joined yet */
	uint32_t nr_threads;
	bool exiting;
	bool exited;   /* no threads left (proc->lock) */
	bool finished; /* teardown done (procs_lock) */
	bool orphan;   /* parent gone: nobody will wait (procs_lock) */
	int exit_code;
	struct proc *parent;
	struct task *waiter;
	struct task *reaper; /* the thread in wait() for us; one at a time (procs_lock) */
	struct list_node link;
	struct hslot handles[PROC_MAX_HANDLES]; /* kernel/handle.c: lock-free reads */
	int refcount;
	bool amx_permitted;  /* arch/x86/xstate.c: may use tile data */
	struct iomap *iomap; /* kernel/ioport.c: enabled port ranges, or NULL */
};

void proc_init(void);
/* Start a process from the boot module called name. Returns pid or -errno. */
int proc_spawn(const char *name, const char *arg, uint64_t arg_len, struct proc *parent,
	       const struct spawn_handle *hs, uint32_t nr_handles);
/* Wait for a child; returns its exit code through *code. 0 or -errno. */
int proc_wait(uint32_t pid, int *code);
/* A new thread in p entering user mode at entry with rsp = stack, rdi = arg. */
struct task *proc_thread_create(struct proc *p, uint64_t entry, uint64_t stack, uint64_t arg);
/* The calling thread leaves; the process ends with its last thread. */
void thread_exit(int code) __noreturn;
/* End the whole process of the calling thread. */
void proc_exit(int code) __noreturn;
/* Kill process pid; by (NULL: the kernel) may kill only itself and its
 * children (-EPERM otherwise). */
int proc_kill(uint32_t pid, int code, struct proc *by);
/* Kill one other thread of the calling process; the process lives on
 * (test hook SYST_KILL_THREAD). -ESRCH if tid is not one of ours. */
int proc_kill_thread(uint32_t tid);
/* A user thread took an exception it cannot survive (arch/entry.h
 * entry_ops.kill_fault). */
void proc_kill_fault(struct trap_frame *tf, const char *what) __noreturn;
int thread_join(uint32_t tid, int *code);
/* The calling thread's process (NULL in a kernel thread). */
static inline struct proc *proc_current(void)
{
	return current_task()->proc;
}
uint32_t proc_count(void);
