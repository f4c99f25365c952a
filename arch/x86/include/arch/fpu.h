/*
 * Extended processor state (interface): x87, SSE, AVX, AVX-512, AMX,
 * per-task buffers (in struct arch_task), saved at context switch,
 * restored on the way back to user mode. Protocol and layout:
 * arch/x86/xstate.c.
 */
#pragma once

#include "lib/compiler.h"

#include "arch/arch_task.h"
#include "lib/percpu.h"
#include "arch/static_branch.h"

void xstate_init_bsp(void);
void xstate_init_cpu(void);
/* Give a user task its buffer, in the initial state. */
int xstate_task_alloc(struct arch_task *t);
void xstate_task_free(struct arch_task *t);
/* The save instruction is XSAVES (set once at boot, arch/x86/xstate.c). */
extern bool xstate_saves_with_xsaves;
/* Save t's registers into its buffer with whichever instruction the boot
 * chose (counted as xsave). */
void xstate_save_slow(struct arch_task *t);

/* Do this CPU's registers hold t's user state? One compare of restore
 * tags (arch/x86/xstate.c, protocol). Interrupts off. */
static __always_inline bool xstate_regs_hold_tag(const struct arch_task *t, uint64_t cur)
{
	return t->fpu_tag == cur; /* cur: this CPU's tag */
}

static __always_inline bool xstate_regs_hold(const struct arch_task *t)
{
	return xstate_regs_hold_tag(t, this_cpu_read(fpu_tag));
}

/* t's state is now in this CPU's registers: a fresh tag for both
 * (unique: this CPU's tags are its id modulo NR_CPUS, and grow). cur is
 * this CPU's tag, read since interrupts went off. */
static __always_inline void xstate_regs_now_hold_after(struct arch_task *t, uint64_t cur)
{
	uint64_t tag = cur + NR_CPUS;

	this_cpu_write(fpu_tag, tag);
	t->fpu_tag = tag;
}

static __always_inline void xstate_regs_now_hold(struct arch_task *t)
{
	xstate_regs_now_hold_after(t, this_cpu_read(fpu_tag));
}

/* XSAVES of t's components into its buffer (uncounted: callers count). */
static __always_inline void xstate_xsaves(struct arch_task *t)
{
	__asm__ __volatile__("xsaves64 (%0)" ::"r"(t->xstate), "a"(t->xfeatures_lo),
			     "d"(t->xfeatures_hi)
			     : "memory");
}

/* XRSTORS of t's components from its buffer (uncounted: callers count). */
static __always_inline void xstate_xrstors(const struct arch_task *t)
{
	__asm__ __volatile__("xrstors64 (%0)" ::"r"(t->xstate), "a"(t->xfeatures_lo),
			     "d"(t->xfeatures_hi)
			     : "memory");
}

/* Context switch away from a user task: save its live registers (the
 * protocol's "switch out", arch/x86/xstate.c). Inline, XSAVES in place:
 * it runs on every switch from a user task. */
static __always_inline void xstate_switch_out(struct arch_task *t)
{
	/* Unlikely: a user task switched away from has come from user mode,
	 * with its state loaded. The save laid out in line (out of line, its
	 * JMP back cost an instruction a switch). */
	if (unlikely(!xstate_regs_hold(t))) /* a task without a buffer has tag 0 */
		return;
	if (likely(static_branch(&xstate_saves_with_xsaves))) {
		xstate_xsaves(t);
		this_cpu_inc(counters[CNT_XSAVE]);
		return;
	}
	xstate_save_slow(t);
}
/* Return to user: make the registers hold t's state. True if they were
 * loaded from memory (false: they already held it). */
bool xstate_restore_for_user_slow(struct arch_task *t);
/* The CPU has IA32_XFD (and AMX) and the kernel uses it. Set once at boot. */
extern bool xstate_has_xfd;

/*
 * Make t's user state live for the return to user; true if it was
 * restored from its buffer. Inline for the two common exits, each doing
 * what the slow path would, counted as there:
 *   - t's state is still in this CPU's registers: nothing to restore;
 *   - it is not (another task ran here), the save instruction is XSAVES,
 *     and XFD or XCR0 are already as t needs them (xctl_tiles, kept by
 *     load_controls()): XRSTORS, and t owns the registers.
 * Anything else (FXSAVE or XSAVE modes, controls to change) is the slow
 * path's.
 */
static __always_inline bool xstate_restore_for_user(struct arch_task *t)
{
	const uint64_t tiledata = 1ull << 18; /* XFEAT_TILEDATA */
	uint64_t cur = this_cpu_read(fpu_tag);

	if (likely(xstate_regs_hold_tag(t, cur))) {
		this_cpu_inc(counters[CNT_XRSTOR_SKIPPED]);
		return false;
	}
	/* t has a buffer: a user task gets it before it first runs
	 * (kernel/proc.c) and loses it only once dead. One compare for both
	 * conditions: xctl_tiles is ~0 unless the save instruction is XSAVES
	 * (arch/x86/xstate.c load_controls). */
	if (unlikely(this_cpu_read(xctl_tiles) != (t->xfeatures & tiledata)))
		return xstate_restore_for_user_slow(t);
	xstate_xrstors(t);
	/* Counted once: counter_read() adds it to xrstor and, where the
	 * kernel uses XFD, to xfd_msr_write_avoided (as load_controls()). */
	this_cpu_inc(counters[CNT_XRSTOR_INLINE]);
	xstate_regs_now_hold_after(t, cur); /* the XRSTORS changed no tag */
	return true;
}
void xstate_print(void);
uint32_t xstate_buffer_size(void);

#include "include/uapi/xstate.h"
long xstate_perm(struct arch_task *t, uint64_t cmd, uint64_t features);

struct trap_frame;
/* #NM or #UD from user mode: true if it was a first use of AMX that is now
 * handled (retry the instruction); else *why may explain it for the kill
 * report. */
bool xstate_user_fault(struct arch_task *t, struct trap_frame *tf, const char **why);
