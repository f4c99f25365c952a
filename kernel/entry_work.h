/*
 * Work at the kernel/user boundary (kernel/entry_work.c).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/entry.h"

struct trap_frame;

/* user_enter_kernel, irq_enter_from_idle, prepare_return_to_user and
 * syscall_dispatch: arch/entry.h (the arch's entry code calls them). */
/* Leave for user mode with the registers in tf (arch/x86/entry.S). */
void enter_user(struct trap_frame *tf) __noreturn;
