/*
 * System calls from inside the kernel (kernel/syscall.c).
 */
#pragma once

#include "lib/compiler.h"

/* Run system call nr with the six argument registers, as if user space
 * had called it (test hooks only: kernel/syscall_test.c). -ENOSYS for an
 * unknown number. */
long syscall_invoke(uint64_t nr, const uint64_t args[6]);
