/*
 * Synchronous IPC over endpoints (kernel/ipc.c).
 */
#pragma once

#include "lib/compiler.h"

struct task;
struct proc;

#include "sched/task_ipc.h"

/* A new endpoint; returns a handle with every endpoint right. */
long ipc_ep_create(void);
/* Send msg and wait for the reply (written back into msg). desc: the
 * handles the message carries (include/uapi/handle.h; 0 for none).
 * Returns the receiver's thread id (> 0, with IPC_RESULT_HANDLES bits if
 * the reply carried handles) or -errno. For both calls msg may be the
 * calling task's own ipc_msg (the system calls pass it, so the message is
 * not copied twice): nobody else writes a task's ipc_msg before the task
 * is queued on an endpoint or waits for a reply, and by then msg has been
 * read; what is written there is the message the call returns (a late
 * reply to a killed caller lands there too, but a killed thread never
 * returns to user mode). */
long ipc_call(uint64_t handle, struct ipc_msg *msg, uint64_t desc);
/* Reply to the last caller (if any; desc: the reply's handles), then wait
 * for the next message. Returns the caller's thread id, msg holding its
 * message. */
long ipc_reply_recv(uint64_t handle, struct ipc_msg *msg, bool reply, uint64_t desc);
/* Reply to the current caller without waiting for the next one. */
long ipc_reply(uint64_t handle, const struct ipc_msg *msg, uint64_t desc);

/*
 * The system calls SYS_IPC_CALL and SYS_IPC_REPLY_RECV (kernel/syscall.c's
 * table): the fused fast path when its preconditions hold (kernel/ipc.c,
 * "Fused fast path"), ipc_call() and ipc_reply_recv() otherwise. Message
 * words and result in tf.
 */
struct trap_frame;
long ipc_sys_call(struct trap_frame *tf);
long ipc_sys_reply_recv(struct trap_frame *tf);
/* Switch the fused path on or off at run time (SYST_IPCFAST); returns the
 * previous setting. Calls already past the test finish as they started. */
int ipc_set_fastpath(bool on);

/* Process and thread teardown. */
void ipc_thread_exit(struct task *t);
void ipc_init(void);
