/*
 * Access to user memory from system calls. Every pointer a user passes in
 * goes through these: the range is checked against user space first, then
 * copied with SMAP opened only for the copy; a bad pointer returns -EFAULT
 * and never faults the kernel. The checked copies and the raw routines
 * are the arch's (arch/uaccess.h), which its own users (extended state)
 * call too.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/uaccess.h"

/* Reads a 32-bit word; with nofault, never resolves a page fault (for use
 * under spinlocks that the fault path would need), returning -EFAULT. */
int get_user_u32(uint32_t *out, uint64_t uaddr, bool nofault);
/* Copies a NUL-terminated string of at most max-1 bytes; -ENAMETOOLONG
 * if longer, -EFAULT on a bad pointer. */
int strncpy_from_user(char *dst, uint64_t usrc, uint64_t max);
