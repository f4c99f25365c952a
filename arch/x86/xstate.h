/*
 * Extended processor state (x87, SSE, AVX, AVX-512, ...): per-task buffers,
 * saved at context switch, restored on the way back to user mode.
 * See arch/x86/xstate.c for the protocol and the layout.
 */
#pragma once

#include "lib/compiler.h"

struct task;

void xstate_init_bsp(void);
void xstate_init_cpu(void);
/* Give a user task its buffer, in the initial state. */
int xstate_task_alloc(struct task *t);
void xstate_task_free(struct task *t);
/* Context switch away from a user task: save its live registers. */
void xstate_switch_out(struct task *t);
/* Return to user: make the registers hold t's state. True if they were
 * loaded from memory (false: they already held it). */
bool xstate_restore_for_user(struct task *t);
void xstate_print(void);
uint32_t xstate_buffer_size(void);

#include "include/uapi/xstate.h"
long xstate_perm(uint64_t cmd, uint64_t features);

struct trap_frame;
/* #NM or #UD from user mode: true if it was a first use of AMX that is now
 * handled (retry the instruction); else *why may explain it for the kill
 * report. */
bool xstate_user_fault(struct trap_frame *tf, const char **why);
