/*
 * System calls from inside the kernel (kernel/syscall.c).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/trap.h"
#include "sched/task_ipc.h"

/* Run system call nr with the six argument registers, as if user space
 * had called it (test hooks only: kernel/syscall_test.c). -ENOSYS for an
 * unknown number. */
long syscall_invoke(uint64_t nr, const uint64_t args[6]);

/* IPC messages travel in RSI, RDX, R10 and R8 (include/uapi/syscalls.h);
 * the system calls and kernel/ipc.c's fast path move them with these. */
static __always_inline void syscall_msg_in(const struct trap_frame *tf, struct ipc_msg *m)
{
	m->w[0] = tf->rsi;
	m->w[1] = tf->rdx;
	m->w[2] = tf->r10;
	m->w[3] = tf->r8;
}

static __always_inline void syscall_msg_out(struct trap_frame *tf, const struct ipc_msg *m)
{
	tf->rsi = m->w[0];
	tf->rdx = m->w[1];
	tf->r10 = m->w[2];
	tf->r8 = m->w[3];
}
