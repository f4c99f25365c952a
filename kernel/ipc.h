/*
 * Synchronous IPC over endpoints (kernel/ipc.c).
 */
#pragma once

#include "lib/compiler.h"

struct task;
struct proc;

#define IPC_MSG_WORDS 4

struct ipc_msg {
	uint64_t w[IPC_MSG_WORDS];
};

/* Handles: small integers in the calling process's table. */
int ipc_ep_create(uint64_t key); /* a new endpoint under a user-chosen key */
int ipc_ep_open(uint64_t key);	 /* another handle to an existing key */
int ipc_ep_close(int handle);
/* Send msg and wait for the reply (written back into msg). Returns the
 * receiver's thread id (> 0) or -errno. */
long ipc_call(int handle, struct ipc_msg *msg);
/* Reply to the last caller (if any), then wait for the next message. Returns
 * the caller's thread id, msg holding its message. */
long ipc_reply_recv(int handle, struct ipc_msg *msg, bool reply);
/* Reply to the current caller without waiting for the next one. */
long ipc_reply(int handle, const struct ipc_msg *msg);

/* Process and thread teardown. */
void ipc_close_all(struct proc *p);
void ipc_thread_exit(struct task *t);
void ipc_init(void);
/* Live endpoints, or (refs) the references on them: handles plus
 * operations in flight (test hook SYST_IPC_OBJECTS, leak checks). */
uint64_t ipc_objects(bool refs);
