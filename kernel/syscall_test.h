/*
 * SYS_TEST: hooks that only tests use (kernel/syscall_test.c). Each op
 * reads kernel state a user-level test checks, or changes it in a way a
 * test needs; none can harm the kernel. Those that reach beyond the
 * calling process need a handle to the hardware resource (res, R8).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/entry.h"

#include "include/uapi/test.h"

struct trap_frame;

/* tf: the calling system call's frame (SYST_SYSRET_FLAGS changes its return). */
long syscall_test(struct trap_frame *tf, uint64_t op, uint64_t a, uint64_t b, uint64_t c,
		  uint64_t res);
/* A fatal user fault of the current thread: divert it as SYST_FAULT_CATCH
 * asked (arch/entry.h entry_ops.fault_catch has the contract). */
bool syscall_test_fault_catch(struct trap_frame *tf, uint64_t cr2);
