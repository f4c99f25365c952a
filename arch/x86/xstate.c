/*
 * Extended state: per-task buffers, eager save at switch, restore at the
 * return to user.
 *
 * Glossary
 *   xcr0      user state components enabled (SDM Vol. 1 13.3)
 *   owner     per CPU: the task whose user state the registers hold
 *   fpu_cpu   per task: the CPU whose registers hold its state (-1: none)
 *
 * Protocol
 *   switch out of a user task T on CPU C: if C's owner is T, save the
 *     registers into T's buffer (XSAVEOPT skips unmodified components).
 *     The registers keep T's state and C's owner stays T.
 *   return to user of task T on CPU C: if C's owner is T and T's fpu_cpu
 *     is C, the registers already hold T's state: skip the restore.
 *     Otherwise restore from T's buffer, owner = T, fpu_cpu = C.
 *   The kernel never touches these registers (-mgeneral-regs-only), so a
 *   kernel thread or kernel-side IPC in between changes nothing; T running
 *   on another CPU in between changes fpu_cpu, which forces the restore.
 *
 * Invariant: when T is not running, T's buffer holds its latest state.
 */
#include "arch/x86/xstate.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/panic.h"
#include "mm/kheap.h"
#include "sched/task.h"

#define XFEATURE_X87	(1ull << 0)
#define XFEATURE_SSE	(1ull << 1)
#define XFEATURE_AVX	(1ull << 2)
#define XFEATURE_OPMASK (1ull << 5)
#define XFEATURE_ZMM_HI (1ull << 6)
#define XFEATURE_HI_ZMM (1ull << 7)

enum xmode { XMODE_FXSAVE, XMODE_XSAVE, XMODE_XSAVEOPT };
static const char *const xmode_names[] = { "fxsave", "xsave", "xsaveopt" };

static enum xmode mode;
static uint64_t xcr0;
static uint32_t buf_size = 512;
static struct kmem_cache xstate_cache;

uint32_t xstate_buffer_size(void)
{
	return buf_size;
}

void xstate_init_cpu(void)
{
	if (mode == XMODE_FXSAVE)
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv(0, xcr0);
}

void xstate_init_bsp(void)
{
	if (cpu_has(FEAT_XSAVE)) {
		struct cpuid_regs r = cpuid_count(0xd, 0);
		uint64_t supported = r.eax | ((uint64_t)r.edx << 32);

		xcr0 = XFEATURE_X87 | XFEATURE_SSE;
		if (cpu_has(FEAT_AVX))
			xcr0 |= XFEATURE_AVX;
		if (cpu_has(FEAT_AVX512F))
			xcr0 |= XFEATURE_OPMASK | XFEATURE_ZMM_HI | XFEATURE_HI_ZMM;
		xcr0 &= supported;
		mode = cpu_has(FEAT_XSAVEOPT) ? XMODE_XSAVEOPT : XMODE_XSAVE;
		xstate_init_cpu();
		buf_size = cpuid_count(0xd, 0).ebx; /* standard format for this XCR0 */
	}
	kmem_cache_init(&xstate_cache, "xstate", buf_size, 64);
}

void xstate_print(void)
{
	pr_info("xstate: %s, XCR0 %#lx, %u-byte buffers", xmode_names[mode], xcr0, buf_size);
}

int xstate_task_alloc(struct task *t)
{
	uint8_t *b = kmem_cache_alloc(&xstate_cache);

	if (!b)
		return -12;
	/* Initial state: FCW 0x37f (all x87 exceptions masked), MXCSR 0x1f80;
	 * XSTATE_BV = 0 puts every other component in its init state. */
	*(uint16_t *)(b + 0) = 0x37f;
	*(uint32_t *)(b + 24) = 0x1f80;
	t->xstate = b;
	t->xstate_size = buf_size;
	t->fpu_cpu = -1;
	return 0;
}

void xstate_task_free(struct task *t)
{
	if (!t->xstate)
		return;
	kmem_cache_free(&xstate_cache, t->xstate);
	t->xstate = NULL;
}

static void save(void *buf)
{
	uint32_t lo = (uint32_t)xcr0, hi = (uint32_t)(xcr0 >> 32);

	switch (mode) {
	case XMODE_XSAVEOPT:
		__asm__ __volatile__("xsaveopt64 (%0)" ::"r"(buf), "a"(lo), "d"(hi) : "memory");
		break;
	case XMODE_XSAVE:
		__asm__ __volatile__("xsave64 (%0)" ::"r"(buf), "a"(lo), "d"(hi) : "memory");
		break;
	case XMODE_FXSAVE:
		__asm__ __volatile__("fxsave64 (%0)" ::"r"(buf) : "memory");
		break;
	}
}

static void restore(const void *buf)
{
	uint32_t lo = (uint32_t)xcr0, hi = (uint32_t)(xcr0 >> 32);

	if (mode == XMODE_FXSAVE)
		__asm__ __volatile__("fxrstor64 (%0)" ::"r"(buf) : "memory");
	else
		__asm__ __volatile__("xrstor64 (%0)" ::"r"(buf), "a"(lo), "d"(hi) : "memory");
}

void xstate_switch_out(struct task *t)
{
	if (!t->xstate || this_cpu_read(fpu_owner) != t)
		return;
	save(t->xstate);
	this_cpu_inc(counters[CNT_XSAVE]);
}

bool xstate_restore_for_user(struct task *t)
{
	if (!t->xstate)
		return false;
	uint32_t cpu = this_cpu_id();

	if (this_cpu_read(fpu_owner) == t && t->fpu_cpu == (int32_t)cpu) {
		this_cpu_inc(counters[CNT_XRSTOR_SKIPPED]);
		return false;
	}
	restore(t->xstate);
	this_cpu_inc(counters[CNT_XRSTOR]);
	this_cpu_write(fpu_owner, t);
	t->fpu_cpu = (int32_t)cpu;
	return true;
}
