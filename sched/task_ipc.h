/*
 * The IPC state every thread carries in its struct task: the layout lives
 * here, below the scheduler, so that sched/task.h needs nothing from the
 * services; the protocol that reads and writes it is kernel/ipc.c's.
 */
#pragma once

#include "lib/compiler.h"

#define IPC_MSG_WORDS 4

struct ipc_msg {
	uint64_t w[IPC_MSG_WORDS];
};

struct kobj;
/* The handles a message carries between two tables (kernel/ipc.c). */
struct ipc_xfer {
	uint32_t mask; /* message words that carry a handle */
	uint32_t rights[IPC_MSG_WORDS];
	struct kobj *obj[IPC_MSG_WORDS];
};
