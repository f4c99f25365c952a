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

long syscall_test(uint64_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t res);

struct trap_frame;
/* A fatal user fault of the current thread: divert it as SYST_FAULT_CATCH
 * asked (arch/entry.h entry_ops.fault_catch has the contract). */
bool syscall_test_fault_catch(struct trap_frame *tf, uint64_t cr2);
/* SYST_SYSRET_FLAGS, the one hook that changes its own call's return. */
long syscall_test_sysret_flags(struct trap_frame *tf, uint64_t bits, uint64_t which);
