/*
 * Copies to and from user memory (interface; arch/x86/uaccess.c and
 * usercopy.S). The range is checked against user space first, then copied
 * with SMAP opened only for the copy; a bad pointer returns -EFAULT and
 * never faults the kernel (the copy routines have exception-table
 * entries). The services' other accessors, built on these, are
 * kernel/uaccess.h.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"

extern uint8_t smap_enabled; /* arch/x86/cpu_setup.c */

static inline bool user_range_valid(uint64_t addr, uint64_t len)
{
	return addr < USER_TOP && len <= USER_TOP - addr;
}

int copy_from_user(void *dst, uint64_t usrc, uint64_t n);
int copy_to_user(uint64_t udst, const void *src, uint64_t n);

/* arch/x86/usercopy.S */
long copy_user_raw(void *dst, const void *src, uint64_t n);
long get_user_u32_raw(uint32_t *out, const void *uaddr);
long clear_user_raw(void *dst, uint64_t n);
/* Test only: read a user word WITHOUT opening SMAP (0 or -EFAULT). */
long probe_user_no_stac(uint32_t *out, uint64_t uaddr);
