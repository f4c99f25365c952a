/*
 * SYS_TEST: hooks that only tests use (kernel/syscall_test.c). Each op
 * reads kernel state a user-level test checks, or changes it in a way a
 * test needs; none can harm the kernel.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/entry.h"

#include "include/uapi/test.h"

long syscall_test(uint64_t op, uint64_t a, uint64_t b, uint64_t c);

struct trap_frame;
/* syscall_test_fault_catch: arch/entry.h (the user fault path calls it). */
