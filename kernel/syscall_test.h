/*
 * SYS_TEST: hooks that only tests use (kernel/syscall_test.c). Each op
 * reads kernel state a user-level test checks, or changes it in a way a
 * test needs; none can harm the kernel.
 */
#pragma once

#include "kernel/compiler.h"

#define SYST_FRAMES_FREE   1 /* -> free frames */
#define SYST_HEAP_BYTES	   2 /* -> kernel heap bytes in use */
#define SYST_VMALLOC_PAGES 3 /* -> vmalloc pages in use */
#define SYST_PROCS	   4 /* -> live processes */
#define SYST_TASK_CPU	   5 /* (tid) -> CPU the task last ran on */
#define SYST_SLAB_PAGES	   6 /* -> frames held by kernel heap slabs */
#define SYST_KPT_PAGES	   7 /* -> kernel page-table frames (never freed) */
#define SYST_SMAP_PROBE \
	8	       /* (uaddr) read it without opening SMAP:
				* -EFAULT if SMAP stopped the kernel, else 0 */
#define SYST_CPU_HAS 9 /* (feature name ptr, len) -> 1 if the CPU has it */

long syscall_test(uint64_t op, uint64_t a, uint64_t b, uint64_t c);
