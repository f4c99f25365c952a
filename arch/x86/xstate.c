/*
 * Extended state: the layout, per-task buffers, eager save at switch,
 * restore at the return to user, and AMX as a dynamic feature
 * (DESIGN.md "Extended state"; seeds 000 and 002).
 *
 * Glossary
 *   xcr0       user components the CPU runs with (SDM Vol. 1 13.3)
 *   xss        supervisor components (IA32_XSS; XSAVES/XRSTORS only)
 *   xfeatures  per task: the components its buffer holds, the RFBM of every
 *              save and restore of it (the compacted layout follows from it)
 *   dynamic    AMX tile data (component 18): in no buffer until the process
 *              has permission and the thread first uses it
 *   tag        per CPU: a number naming the last restore into its
 *              registers; per task: the tag of the restore that loaded its
 *              state (0: none). Each restore takes a new tag, unique in
 *              the machine: CPU c's tags are c modulo NR_CPUS and grow by
 *              NR_CPUS (2^54 restores per CPU before they wrap).
 *
 * Modes, best first (xsave= forces a lower one): XSAVES (compacted, with
 * supervisor state), XSAVEC (compacted; restored by XRSTOR), XSAVEOPT and
 * XSAVE (standard layout: every buffer as big as all of XCR0), FXSAVE (x87
 * and SSE only; CR4.OSXSAVE stays clear, so user code sees no AVX). AMX needs
 * a compacted mode: otherwise every buffer would carry 8 KiB of tiles.
 *
 * Protocol
 *   "C's registers hold T's state" means: T's tag is C's (xstate_regs_hold,
 *     arch/fpu.h: one compare). Neither can be stale: T restored on C,
 *     then run and saved on another CPU, came back with that CPU's newer
 *     tag; C's registers, after another task's restore, have a newer tag
 *     too; a new task (at a dead task's address, task structs come from a
 *     slab) starts with tag 0, which no CPU has. (Until 2026-12-03: an
 *     owner pointer per CPU and a CPU number per task, two compares, and
 *     the pointer could be stale: regression fpu_owner_stale_cpu.)
 *   switch out of a user task T on CPU C: if C's registers hold T's state,
 *     save them into T's buffer. The registers keep T's state; the tags
 *     stay (XSAVEOPT/XSAVES skip what the CPU knows is unmodified).
 *     A save on any other CPU would write that CPU's older registers over
 *     T's newer buffer (regression fpu_owner_stale_cpu).
 *   return to user of T on C: if C's registers hold T's state: skip. Otherwise make C's XFD and
 *     XCR0 what T needs (each written only if it differs from C's cached
 *     value), restore T's buffer, and give C and T a new tag.
 *   The kernel never uses these registers (-mgeneral-regs-only): kernel
 *   threads and kernel-side IPC in between cost nothing.
 *   Invariant: when T is not running, T's buffer holds its latest state;
 *   XCR0 and XFD on C are always what the task of C's last restore needs.
 *
 * AMX, with XFD (CPUID.(0xD,1).EAX[4]): XCR0 holds AMX for everyone and
 *   IA32_XFD arms tile data for every task without tile space. The first
 *   use raises #NM with IA32_XFD_ERR naming component 18: with permission
 *   the task's buffer grows and XFD is disarmed for it; without, the
 *   process is killed with a report saying exactly that.
 * AMX without XFD (Bochs): tasks without tile space run with AMX cleared in
 *   XCR0 (tile instructions raise #UD); tasks of a permitted process run
 *   with it set. The caller's buffer grows at permission time, a thread
 *   created later gets tile space at creation, and the other threads of
 *   the process at their first tile instruction: its #UD is recognised by
 *   the opcode (amx_opcode_at), the buffer grows and the instruction runs
 *   again (counter amx_first_use_ud), as XFD's first-use #NM does. (Until
 *   2026-12-03 they also grew at every return to user once permitted: a
 *   test on every exit that only this emulated case paid.)
 */
#include "arch/fpu.h"
#include "arch/x86/xstate_layout.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/trap.h"
#include "lib/cmdline.h"
#include "include/uapi/counter_ids.h"
#include "include/uapi/errno.h"
#include "arch/pasid.h"
#include "arch/mem.h"
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/string.h"
#include "lib/panic.h"
#include "lib/trace.h"
#include "arch/uaccess.h"

#define MSR_IA32_XSS	 0xda0
#define MSR_IA32_XFD	 0x1c4
#define MSR_IA32_XFD_ERR 0x1c5
#define TILEDATA	 XFEAT_BIT(XFEAT_TILEDATA)
#define XCOMP_BV_COMPACT (1ull << 63)
#define HDR_XSTATE_BV	 512 /* offsets in the XSAVE header */
#define HDR_XCOMP_BV	 520

enum xmode { XMODE_FXSAVE, XMODE_XSAVE, XMODE_XSAVEOPT, XMODE_XSAVEC, XMODE_XSAVES };
static const char *const xmode_names[] = { "fxsave", "xsave", "xsaveopt", "xsavec", "xsaves" };

static int xsave_switch; /* 0 auto, then xsaves .. fxsave */
KSWITCH_ENUM(xsave_switch, "xsave", "save instruction (forces a lower one than the best)", "auto",
	     "xsaves", "xsavec", "xsaveopt", "xsave", "fxsave");

static struct {
	enum xmode mode;
	struct xstate_cpuid cpuid;
	uint64_t xcr0_all;  /* XCR0 with everything the kernel uses (AMX included if amx) */
	uint64_t xcr0_base; /* XCR0 of a task without tile space */
	uint64_t xss;	    /* IA32_XSS */
	uint64_t base_feat; /* xfeatures of a task without tile space */
	uint64_t full_feat; /* ... with it */
	uint32_t base_size; /* buffer bytes */
	uint32_t full_size;
	bool amx;			   /* AMX offered (CPU has it, compacted mode) */
	bool xfd;			   /* and armed by XFD */
	struct xstate_layout layout;	   /* for full_feat, printed at boot */
	uint32_t checked_std, checked_cmp; /* what CPUID said for it */
} xs = { .mode = XMODE_FXSAVE, .base_size = 512, .full_size = 512 };

static void *base_cache; /* arch_mem.cache_create's handle */
static bool base_cache_used;

static bool compacted(void)
{
	return xs.mode >= XMODE_XSAVEC;
}

uint32_t xstate_buffer_size(void)
{
	return xs.base_size;
}

static void real_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *ctx)
{
	(void)ctx;
	struct cpuid_regs c = cpuid_count(leaf, sub);

	r[0] = c.eax;
	r[1] = c.ebx;
	r[2] = c.ecx;
	r[3] = c.edx;
}

static enum xmode best_mode(const struct xstate_cpuid *c)
{
	if (!c->xsave)
		return XMODE_FXSAVE;
	if (c->insns & XSTATE_HAS_XSAVES)
		return XMODE_XSAVES;
	if (c->insns & XSTATE_HAS_XSAVEC)
		return XMODE_XSAVEC;
	return (c->insns & XSTATE_HAS_XSAVEOPT) ? XMODE_XSAVEOPT : XMODE_XSAVE;
}

static enum xmode pick_mode(const struct xstate_cpuid *c)
{
	enum xmode best = best_mode(c);

	if (!xsave_switch)
		return best;
	enum xmode want = (enum xmode)(XMODE_XSAVES - (xsave_switch - 1));

	if (want > best) {
		pr_warn("xstate: xsave=%s but the CPU's best is %s; using %s", xmode_names[want],
			xmode_names[best], xmode_names[best]);
		return best;
	}
	return want;
}

/* Buffer sizes for the chosen features, from the layout code. */
static void size_buffers(void)
{
	const char *why;

	if (xs.mode == XMODE_FXSAVE) {
		xs.base_size = xs.full_size = 512;
		return;
	}
	if (xstate_layout_compute(&xs.cpuid, xs.xcr0_all, xs.xss, &xs.layout, &why))
		panic("xstate: XCR0 %#lx XSS %#lx: %s", xs.xcr0_all, xs.xss, why);
	if (!compacted()) {
		xs.base_size = xs.full_size = xs.layout.std_size;
		return;
	}
	xs.full_size = xs.layout.cmp_size;
	/* Tile data is the highest component: a buffer without it is the
	 * full layout cut where tile data begins. */
	xs.base_size = xs.amx ? xs.layout.cmp_offset[XFEAT_TILEDATA] : xs.full_size;
}

/*
 * The computed layout must be what the CPU itself reports for the same
 * XCR0 and IA32_XSS (CPUID.(0xD,0).EBX and (0xD,1).EBX depend on them): a
 * buffer smaller than the CPU's idea would be overrun by every save.
 */
static void check_against_cpu(void)
{
	if (xs.mode == XMODE_FXSAVE)
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv(0, xs.xcr0_all);
	if (xs.cpuid.insns & XSTATE_HAS_XSAVES)
		wrmsr(MSR_IA32_XSS, xs.xss);
	uint32_t std = cpuid_count(0xd, 0).ebx;
	uint32_t cmp = cpuid_count(0xd, 1).ebx;

	if (std != xs.layout.std_size)
		panic("xstate: computed a %u-byte standard layout for XCR0 %#lx, CPUID says %u",
		      xs.layout.std_size, xs.xcr0_all, std);
	if ((xs.cpuid.insns & (XSTATE_HAS_XSAVEC | XSTATE_HAS_XSAVES)) && cmp != xs.layout.cmp_size)
		panic("xstate: computed a %u-byte compacted layout for XCR0 %#lx | XSS %#lx, "
		      "CPUID says %u",
		      xs.layout.cmp_size, xs.xcr0_all, xs.xss, cmp);
	xs.checked_std = std;
	xs.checked_cmp = (xs.cpuid.insns & (XSTATE_HAS_XSAVEC | XSTATE_HAS_XSAVES)) ? cmp : 0;
}

void xstate_init_bsp(void)
{
	xstate_cpuid_read(&xs.cpuid, real_cpuid, NULL);
	xs.mode = pick_mode(&xs.cpuid);
	xstate_saves_with_xsaves = xs.mode == XMODE_XSAVES;
	if (xs.mode != XMODE_FXSAVE) {
		xs.xcr0_all = xstate_choose_xcr0(&xs.cpuid);
		xs.xss = xs.mode == XMODE_XSAVES
				 ? xstate_choose_xss(&xs.cpuid, pasid_mode == PASID_XSTATE)
				 : 0;
		xs.amx = (xs.xcr0_all & XFEAT_AMX) == XFEAT_AMX && compacted();
		if (!xs.amx)
			xs.xcr0_all &= ~XFEAT_AMX;
		xs.xfd = xs.amx && (xs.cpuid.insns & XSTATE_HAS_XFD) &&
			 xs.cpuid.comp[XFEAT_TILEDATA].xfd;
		/* With XFD tile configuration stays in every buffer (XFD cannot
		 * arm it); without, a task without tile space has no AMX. */
		xs.xcr0_base = xs.xfd ? xs.xcr0_all : xs.xcr0_all & ~XFEAT_AMX;
		xs.full_feat = xs.xcr0_all | xs.xss;
		xs.base_feat = xs.full_feat & ~(xs.xfd ? TILEDATA : XFEAT_AMX);
	}
	xstate_has_xfd = xs.xfd;
	size_buffers();
	check_against_cpu();
	base_cache_used = xs.base_size <= 2048;
	if (base_cache_used)
		base_cache = arch_mem.cache_create("xstate", xs.base_size, 64);
	base_cache_used = base_cache != NULL;
	xstate_init_cpu();
}

void xstate_init_cpu(void)
{
	/* No task's xfeatures match ~0: only XSAVES exits inline. */
	this_cpu_write(xctl_tiles, xs.mode == XMODE_XSAVES ? 0 : ~0ull);
	/* This CPU's first tag: its id modulo NR_CPUS, and not 0 (the tag of
	 * a task no restore has loaded). Only once: a tag that went back
	 * could name an older restore that a task still holds. */
	if (!this_cpu_read(fpu_tag))
		this_cpu_write(fpu_tag, (uint64_t)this_cpu_id() + NR_CPUS);
	if (xs.mode == XMODE_FXSAVE)
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv(0, xs.xcr0_base);
	this_cpu_write(xcr0_cached, xs.xcr0_base);
	if (xs.mode == XMODE_XSAVES)
		wrmsr(MSR_IA32_XSS, xs.xss);
	if (xs.xfd) {
		wrmsr(MSR_IA32_XFD, TILEDATA);
		this_cpu_write(xfd_cached, TILEDATA);
	}
}

void xstate_print(void)
{
	pr_info("xstate: %s, XCR0 %#lx (tasks without tiles %#lx), IA32_XSS %#lx; buffers %u bytes, "
		"%u with tiles; AMX %s",
		xmode_names[xs.mode], xs.xcr0_all, xs.xcr0_base, xs.xss, xs.base_size, xs.full_size,
		!xs.amx	 ? "off"
		: xs.xfd ? "on request (XFD)"
			 : "on request (XCR0 per task)");
	if (xs.mode == XMODE_FXSAVE)
		return;
	for (unsigned i = 0; i < XSTATE_MAX; i++) {
		if (!((xs.full_feat | 3) & XFEAT_BIT(i)))
			continue;
		const char *name = xstate_comp_name(i);

		pr_info("xstate:   %2u %-10s %5u bytes at %5u%s", i, name ? name : "?",
			xs.layout.size[i],
			compacted() ? xs.layout.cmp_offset[i] : xs.layout.std_offset[i],
			xs.cpuid.comp[i].align64 && compacted() ? " (64-byte aligned)" : "");
	}
	pr_info("xstate: %s layout in use; computed sizes checked against CPUID for XCR0 %#lx "
		"XSS %#lx: standard %u, compacted %u (0: no compacted format)",
		compacted() ? "compacted" : "standard", xs.xcr0_all, xs.xss, xs.checked_std,
		xs.checked_cmp);
}

/* ---- buffers ---- */

/* A buffer in the initial state for features f. */
static void *buf_new(uint64_t f)
{
	uint32_t size =
		(f == xs.base_feat || xs.mode == XMODE_FXSAVE) ? xs.base_size : xs.full_size;
	uint8_t *b = (base_cache_used && size == xs.base_size) ? arch_mem.cache_alloc(base_cache)
							       : arch_mem.alloc(size);

	if (!b)
		return NULL;
	memset(b, 0, size);
	/* FCW 0x37f (x87 exceptions masked), MXCSR 0x1f80; XSTATE_BV = 0 puts
	 * every other component in its initial state (SDM Vol. 1 13.8). */
	*(uint16_t *)(b + 0) = 0x37f;
	*(uint32_t *)(b + 24) = 0x1f80;
	if (compacted())
		*(uint64_t *)(b + HDR_XCOMP_BV) = XCOMP_BV_COMPACT | f;
	return b;
}

static void buf_free(void *b)
{
	arch_mem.free(b); /* slab or pages: kfree knows */
}

static bool wants_tiles(const struct arch_task *t)
{
	return xs.amx && t->tiles_permitted && READ_ONCE(*t->tiles_permitted);
}

int xstate_task_alloc(struct arch_task *t)
{
	/* Without XFD there is no first-use fault to grow at: a thread of a
	 * permitted process gets its tile space now. */
	uint64_t f = (wants_tiles(t) && !xs.xfd) ? xs.full_feat : xs.base_feat;

	t->xstate = buf_new(f);
	if (!t->xstate)
		return -ENOMEM;
	t->xfeatures = f;
	t->xstate_size = f == xs.full_feat ? xs.full_size : xs.base_size;
	t->fpu_tag = 0;
	return 0;
}

void xstate_task_free(struct arch_task *t)
{
	buf_free(t->xstate);
	t->xstate = NULL;
	t->fpu_tag = 0; /* no buffer: never held (arch/fpu.h relies on it) */
}

/* ---- the instructions ---- */

static void save(struct arch_task *t)
{
	uint32_t lo = (uint32_t)t->xfeatures, hi = (uint32_t)(t->xfeatures >> 32);
	void *buf = t->xstate;

	switch (xs.mode) {
	case XMODE_XSAVES:
		xstate_xsaves(t);
		break;
	case XMODE_XSAVEC:
		__asm__ __volatile__("xsavec64 (%0)" ::"r"(buf), "a"(lo), "d"(hi) : "memory");
		break;
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
	this_cpu_inc(counters[CNT_XSAVE]);
}

static void restore(const struct arch_task *t)
{
	uint32_t lo = (uint32_t)t->xfeatures, hi = (uint32_t)(t->xfeatures >> 32);
	const void *buf = t->xstate;

	if (xs.mode == XMODE_XSAVES)
		xstate_xrstors(t);
	else if (xs.mode == XMODE_FXSAVE)
		__asm__ __volatile__("fxrstor64 (%0)" ::"r"(buf) : "memory");
	else /* XRSTOR reads either layout (XCOMP_BV bit 63) */
		__asm__ __volatile__("xrstor64 (%0)" ::"r"(buf), "a"(lo), "d"(hi) : "memory");
	this_cpu_inc(counters[CNT_XRSTOR]);
}

/* XCR0 and XFD as t needs them, each written only on change. */
static void load_controls(const struct arch_task *t)
{
	bool tiles = t->xfeatures & TILEDATA;

	if (xs.xfd) {
		uint64_t want = tiles ? 0 : TILEDATA;

		if (this_cpu_read(xfd_cached) != want) {
			wrmsr(MSR_IA32_XFD, want);
			this_cpu_write(xfd_cached, want);
			this_cpu_inc(counters[CNT_XFD_WRITE]);
		} else {
			this_cpu_inc(counters[CNT_XFD_WRITE_AVOIDED]);
		}
	} else if (xs.amx) {
		uint64_t want = tiles ? xs.xcr0_all : xs.xcr0_base;

		if (this_cpu_read(xcr0_cached) != want) {
			xsetbv(0, want);
			this_cpu_write(xcr0_cached, want);
			this_cpu_inc(counters[CNT_XCR0_WRITE]);
		}
	}
	/* What xstate_restore_for_user()'s inline case compares. */
	this_cpu_write(xctl_tiles, xs.mode != XMODE_XSAVES ? ~0ull : tiles ? TILEDATA : 0);
}

/* ---- the protocol ---- */

bool xstate_saves_with_xsaves;

void xstate_save_slow(struct arch_task *t)
{
	save(t);
}

/* Give t tile space (interrupts off, t current). Its live state, if any,
 * is saved first; the new buffer is the old one plus initial tiles. */
static int grow(struct arch_task *t)
{
	uint8_t *nb = buf_new(xs.full_feat);

	if (!nb)
		return -ENOMEM;
	if (xstate_regs_hold(t))
		save(t);
	/* Same layout below tile configuration/data: copy, then mark the new
	 * components present in the compacted header, in their initial state. */
	memcpy(nb, t->xstate, xs.base_size);
	*(uint64_t *)(nb + HDR_XCOMP_BV) = XCOMP_BV_COMPACT | xs.full_feat;
	buf_free(t->xstate);
	t->xstate = nb;
	t->xfeatures = xs.full_feat;
	t->xstate_size = xs.full_size;
	t->fpu_tag = 0; /* the return to user restores it */
	return 0;
}

_Static_assert(XFEAT_TILEDATA == 18, "arch/fpu.h names the bit");
bool xstate_has_xfd;

bool xstate_restore_for_user_slow(struct arch_task *t)
{
	if (xstate_regs_hold(t)) {
		this_cpu_inc(counters[CNT_XRSTOR_SKIPPED]);
		return false;
	}
	if (!t->xstate)
		return false;
	load_controls(t);
	restore(t);
	xstate_regs_now_hold(t);
	return true;
}

/* ---- AMX permission and first use ---- */

long xstate_perm(struct arch_task *t, uint64_t cmd, uint64_t features)
{
	switch (cmd) {
	case XSTATE_PERM_SUPPORTED:
		return xs.amx ? (long)XFEAT_AMX : 0;
	case XSTATE_PERM_GET:
		return wants_tiles(t) ? (long)XFEAT_AMX : 0;
	case XSTATE_PERM_REQUEST:
		if (features & ~XFEAT_AMX || !features)
			return -EINVAL;
		if (!xs.amx)
			return -EOPNOTSUPP;
		if (!t->tiles_permitted)
			return -EINVAL;
		WRITE_ONCE(*t->tiles_permitted, true);
		if (!xs.xfd) {
			uint64_t f = irq_save();
			int r = (t->xfeatures & TILEDATA) ? 0 : grow(t);

			irq_restore(f);
			return r;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

/* Is the instruction at rip one of AMX's (VEX.0F38 49, 4B, 5C, 5E, 6C,
 * after at most four legacy prefixes)? Without XFD an AMX instruction of a
 * task whose XCR0 lacks tile state is an ordinary #UD, and only the opcode
 * tells it from any other (regression ud_blamed_on_amx). */
static bool amx_opcode_at(uint64_t rip)
{
	uint8_t b[8] = { 0 };
	int i = 0, n = 0;

	/* Interrupts are off (the trap's dispatch has not turned them on), so
	 * no page fault may be resolved here: that takes mm->lock, whose
	 * holder may wait for this CPU to answer a flush IPI (found in
	 * review: a #UD at a page's end read the untouched next page).
	 * Byte by byte, faults not resolved (pagefault_disabled), up to the
	 * first byte not mapped: the CPU fetched the instruction's bytes up
	 * to its opcode, so an AMX opcode is among those read (regression
	 * ud_at_page_end_resolves_no_fault). */
	this_cpu_inc(pagefault_disabled);
	while (n < 8 && !copy_from_user(&b[n], rip + (uint64_t)n, 1))
		n++;
	PERCPU_GS->pagefault_disabled--;
	while (i < 4 &&
	       (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
		b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
		i++;
	if (i + 3 >= n || b[i] != 0xc4 || (b[i + 1] & 0x1f) != 2)
		return false;
	uint8_t op = b[i + 3];

	return op == 0x49 || op == 0x4b || op == 0x5c || op == 0x5e || op == 0x6c;
}

bool xstate_user_fault(struct arch_task *t, struct trap_frame *tf, const char **why)
{
	*why = NULL;
	if (!xs.amx || !t->xstate)
		return false;
	if (tf->vector == VEC_NM && xs.xfd) {
		uint64_t err = rdmsr(MSR_IA32_XFD_ERR);

		if (!(err & TILEDATA))
			return false;
		wrmsr(MSR_IA32_XFD_ERR, 0); /* consumed (SDM Vol. 1 13.14) */
		this_cpu_inc(counters[CNT_XFD_FAULT]);
		trace(TR_XFD_FAULT, (uint32_t)err, t->tid);
		if (!wants_tiles(t)) {
			*why = "AMX tile data used without permission (#NM, IA32_XFD_ERR 0x40000)";
			return false;
		}
		return grow(t) == 0; /* the instruction runs again, with tiles */
	}
	if (tf->vector == VEC_UD && !xs.xfd && !(t->xfeatures & TILEDATA) &&
	    amx_opcode_at(tf->rip)) {
		if (!wants_tiles(t)) {
			*why = "invalid opcode (AMX is off in XCR0 for a process without "
			       "permission)";
			return false;
		}
		this_cpu_inc(counters[CNT_AMX_FIRST_USE_UD]);
		return grow(t) == 0; /* the instruction runs again, with tiles */
	}
	return false;
}
