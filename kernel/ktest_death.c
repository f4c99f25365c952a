/*
 * Death tests: each crashes the kernel on purpose, and tools/test.py checks
 * that the report says what happened and where. They run only when named
 * explicitly (ktest=death_pagefault), never under ktest=all.
 *
 * broken_on_purpose is the opposite check: an ordinary test that fails, to
 * prove the runner notices a failing test (tools/test.py expects failure).
 */
#include "kernel/ktest.h"
#include "lib/panic.h"
#include "arch/x86/cpu.h"
#include "arch/layout.h"
#include "mm/kheap.h"
#include "arch/x86/desc.h"
#include "arch/trap.h"
#include "kernel/nmi.h"
#include "kernel/smp.h"
#include "kernel/lockup.h"
#include "lib/preempt.h"
#include "lib/printk.h"

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

/* Overruns its own stack buffer up to the saved frame: the stack
 * protector's check at the return must stop the kernel. */
__noinline void death_stack_smash_target(volatile size_t n);
__noinline void death_stack_smash_target(volatile size_t n)
{
	char buf[16];
	char *volatile p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = 0x41;
	__asm__ __volatile__("" ::"r"(buf) : "memory");
}

KTEST(death_stack_smash)
{
	death_stack_smash_target(40);
	KT_EXPECT(t, !"the stack protector did not stop the kernel");
}

/* Recurses until it runs off the task's kernel stack into its guard page:
 * the report must say so (arch/x86/traps.c kstack_overflowed). */
__noinline uint64_t death_stack_overflow_target(uint64_t depth);
__noinline uint64_t death_stack_overflow_target(uint64_t depth)
{
	volatile uint64_t pad[32];

	pad[depth % 32] = depth;
	if (depth < (1ull << 40))
		pad[0] += death_stack_overflow_target(depth + 1);
	return pad[0] + pad[depth % 32];
}

KTEST(death_stack_overflow)
{
	death_stack_overflow_target(0);
	KT_EXPECT(t, !"the stack overflow did not stop the kernel");
}

/* A double fault whose report must show the stack it interrupted: a #GP
 * (a load from a non-canonical address) whose gate is not present on this
 * CPU raises #NP while being delivered, and two contributory exceptions
 * make a #DF (SDM Vol. 3A 6.15, Table 6-5). The #DF's saved RIP and
 * RFLAGS are undefined; the words on the stack it interrupted are the
 * record, here two planted above RSP. */
#define DEATH_DF_WORD0 0xdfdfdfdf00c0ffeeull
#define DEATH_DF_WORD1 0xdfdfdfdf11c0ffeeull

__noinline void death_double_fault_target(void);
__noinline void death_double_fault_target(void)
{
	irq_disable();
	idt_load_test_copy_without(VEC_GP);
	__asm__ __volatile__("pushq %0\n\t"
			     "pushq %1\n\t"
			     "movabsq $0x8000000000000000, %%rax\n\t"
			     "movq (%%rax), %%rax\n\t"
			     "addq $16, %%rsp" ::"r"(DEATH_DF_WORD1),
			     "r"(DEATH_DF_WORD0)
			     : "rax", "memory");
}

KTEST(death_double_fault)
{
	death_double_fault_target();
	KT_EXPECT(t, !"the double fault did not stop the kernel");
}

/* The kernel heap's own checks (mm/kheap.c), on a cache of their own so
 * that nothing else allocates from it meanwhile: a second free of an
 * object is reported at the free; a write into a freed object when the
 * object is next handed out (the free list is LIFO: the next allocation
 * from this cache is the object just freed). */
static struct kmem_cache death_kheap_cache;

KTEST(death_kheap_double_free)
{
	kmem_cache_init(&death_kheap_cache, "death-kheap", 64, 8);
	void *p = kmem_cache_alloc(&death_kheap_cache);

	KT_EXPECT(t, p);
	kmem_cache_free(&death_kheap_cache, p);
	kmem_cache_free(&death_kheap_cache, p);
	KT_EXPECT(t, !"the double free went unnoticed");
}

KTEST(death_kheap_write_after_free)
{
	kmem_cache_init(&death_kheap_cache, "death-kheap", 64, 8);
	volatile uint8_t *p = kmem_cache_alloc(&death_kheap_cache);

	KT_EXPECT(t, p);
	kmem_cache_free(&death_kheap_cache, (void *)p);
	p[43] = 0x17;
	void *q = kmem_cache_alloc(&death_kheap_cache);

	KT_EXPECT(t, q == (void *)p);
	KT_EXPECT(t, !"the write after free went unnoticed");
}

/* A free of an address that is an object boundary but past the last
 * object: in the slack at the end of the slab page, where a whole object
 * would not fit. It passed the old check (offset a multiple of the size)
 * and was then poisoned across the end of the page. */
KTEST(death_kheap_free_in_slab_slack)
{
	kmem_cache_init(&death_kheap_cache, "death-kheap", 1000, 8);
	char *p = kmem_cache_alloc(&death_kheap_cache);

	KT_EXPECT(t, p);
	uintptr_t slab = ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
	uintptr_t slack = slab + death_kheap_cache.first_off +
			  (uintptr_t)death_kheap_cache.per_slab * death_kheap_cache.obj_size;

	KT_EXPECT(t, slack < slab + PAGE_SIZE);
	kmem_cache_free(&death_kheap_cache, (void *)slack);
	KT_EXPECT(t, !"the free of a slack address went unnoticed");
}

/* Undefined behaviour the debug kernel (make ubsan) must report with its
 * file and line; the report fails the boot. (The normal kernel computes
 * whatever the CPU gives.) */
__noinline int death_ubsan_target(volatile int shift);
__noinline int death_ubsan_target(volatile int shift)
{
	volatile int one = 1;

	return one << shift;
}

KTEST(death_ubsan_shift)
{
	KT_EXPECT(t, death_ubsan_target(40) != 12345);
}

/* Regression death test ubsan-unreachable (found in review): in the
 * UBSan kernel the handler of __builtin_unreachable() returned, and ran
 * on into whatever followed the call. It panics now. (Only in the UBSan
 * kernel: elsewhere this is undefined behaviour with no handler.) */
__noinline int death_ubsan_unreachable_target(int x);
__noinline int death_ubsan_unreachable_target(int x)
{
	if (x == 7)
		__builtin_unreachable();
	return x;
}

KTEST(death_ubsan_unreachable)
{
	volatile int seven = 7;

	KT_EXPECT(t, death_ubsan_unreachable_target(seven) != 7);
}

/* Regression death test bad-frame-chain (found in review): a trap whose
 * RBP is a plausible frame pointer (kernel half, aligned) that is not
 * mapped. The report read it, faulted, and the nested panic halted the
 * CPU: no end of the report, no verdict. Now the chain stops at a frame
 * that is not mapped (panic_ops.readable). */
__noinline void death_bad_frame_chain_target(void);
__noinline void death_bad_frame_chain_target(void)
{
	__asm__ __volatile__("movq %0, %%rbp\n\tud2" ::"r"((uint64_t)UNMAPPED_KERNEL_ADDR)
			     : "memory");
}

KTEST(death_bad_frame_chain)
{
	BUG_ON(ktest_move_to_cpu(0));
	death_bad_frame_chain_target();
	KT_EXPECT(t, !"the #UD did not stop the kernel");
}

/* Regression death test stop-unanswered (found in review): CPU 1 holds
 * NMIs blocked (inside an NMI handler) for 3 s while CPU 0 panics. The
 * "did not answer the stop NMI" line was printed while the console was
 * still handed to CPU 1, and dropped. */
KTEST(death_stop_unanswered)
{
	BUG_ON(ktest_move_to_cpu(0));
	KT_EXPECT_EQ(t, nmi_send_test_hold(1, 3000), 0);
	panic("death_stop_unanswered: cpu 1 holds NMIs blocked");
}

static volatile int nmi_pester_go;

__noinline void death_nmi_pester(void *arg);
__noinline void death_nmi_pester(void *arg)
{
	(void)arg;
	nmi_pester_go = 1;
	for (;;)
		nmi_send_test(0); /* as SYST_SEND_NMI or a lock-up probe would */
}

/* Regression death test nmi-to-panicker (found in review): an NMI that
 * reached the panicking CPU after it asked the others to stop stopped it
 * too, before the end of its report: no verdict. */
KTEST(death_nmi_to_panicker)
{
	(void)t;
	BUG_ON(ktest_move_to_cpu(0));
	smp_call(3, death_nmi_pester, NULL, false);
	while (!nmi_pester_go)
		cpu_relax();
	panic("death_nmi_to_panicker: cpu 3 sends NMIs to cpu 0");
}

/* kernel/smp_test.c's: spins for ever (in a cross-CPU call, interrupts
 * off). */
void death_irqs_off_spinner(void *arg);

/* Regression death test lockup-probe-owner-wedges (found in review): CPU
 * 2 holds NMIs (and its ticks) off for 1.5 s, so that a CPU claims the
 * probe of it; then that owner spins with interrupts off. Only the owner
 * steps its probe, at its ticks, and the others stayed out while it owned
 * it: the lock-up went unreported (29 s, about 100 times the limit). Now
 * another CPU takes the probe over and blames the owner. Run with
 * lockup_ms=300. */
KTEST(death_probe_owner_wedges)
{
	int32_t owner;

	(void)t;
	BUG_ON(ktest_move_to_cpu(0));
	preempt_disable();
	BUG_ON(nmi_send_test_hold(2, 1500));
	while ((owner = lockup_probe_owner()) < 0)
		cpu_relax();
	kprintf("death_probe_owner_wedges: the probe's owner, cpu %d, now spins with interrupts "
		"off\n",
		owner);
	if (owner == 0) {
		irq_disable(); /* as the cross-call below runs it */
		death_irqs_off_spinner(NULL);
	}
	smp_call((uint32_t)owner, death_irqs_off_spinner, NULL, false);
	for (;;)
		cpu_relax(); /* interrupts on: our tick runs */
}
