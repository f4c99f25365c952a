/*
 * Context switch, the arch half (interface): sched/switch.c does the
 * generic steps (address space, bookkeeping) and calls these for what lives
 * in x86 registers.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/task.h"

struct task;

void arch_switch_init(void);

/* The user state held in registers at a switch from prev to next (either
 * NULL for a kernel thread): prev's extended state and FS/GS bases are
 * saved, next's bases loaded (its extended state waits for the return to
 * user); the entry code's kernel stack becomes next_kstack_top. Interrupts
 * off. */
void arch_switch_user_state(struct arch_task *prev, struct arch_task *next,
			    uint64_t next_kstack_top);

/* Registers and stack (arch/x86/switch_to.S): saves prev's callee-saved
 * registers on its stack and its stack pointer in the first word of *prev
 * (struct task's ksp: sched/switch.c asserts the offset), loads next's,
 * and returns prev in next's context. */
struct task *switch_to(struct task *prev, struct task *next);
