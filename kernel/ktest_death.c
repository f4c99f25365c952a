/*
 * Death tests: each crashes the kernel on purpose, and tools/test.py checks
 * that the report says what happened and where. They run only when named
 * explicitly (ktest=death_pagefault), never under ktest=all.
 *
 * broken_on_purpose is the opposite check: an ordinary test that fails, to
 * prove the runner notices a failing test (tools/test.py expects failure).
 */
#include "kernel/ktest.h"
#include "kernel/panic.h"
#include "arch/x86/cpu.h"
#include "mm/layout.h"

/* An address in the vmalloc area that is never mapped. */
#define UNMAPPED_KERNEL_ADDR (VMALLOC_BASE + VMALLOC_SIZE - 0x1000)

__noinline void death_pagefault_target(volatile uint64_t *p);
__noinline void death_pagefault_target(volatile uint64_t *p)
{
	*p = 0xdead;
}

KTEST(death_pagefault)
{
	death_pagefault_target((volatile uint64_t *)UNMAPPED_KERNEL_ADDR);
	KT_EXPECT(t, !"the page fault did not stop the kernel");
}

__noinline void death_bug_target(int x);
__noinline void death_bug_target(int x)
{
	BUG_ON(x == 42);
}

KTEST(death_bug)
{
	death_bug_target(42);
	KT_EXPECT(t, !"BUG_ON did not stop the kernel");
}

KTEST(death_hang)
{
	(void)t;
	irq_disable();
	for (;;)
		halt();
}

KTEST(death_broken_on_purpose)
{
	KT_EXPECT_EQ(t, 1 + 1, 3);
}
