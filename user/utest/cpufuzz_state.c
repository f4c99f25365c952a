/*
 * cpu_fuzz classes that carry hostile state into the kernel: system calls
 * entered with odd EFLAGS (TF, AC, DF, NT, RF, IOPL asked for), a bad RSP
 * and kernel addresses in RCX and R11; MOV SS followed by a trapping or
 * faulting instruction (the deferred #DB); FS and GS bases set to kernel,
 * boundary and non-canonical values around system calls, faults and
 * interrupts; extended state from corrupt XSAVE images and vector
 * instructions the task may not use. Documented outcomes: the table at the
 * top of t_cpufuzz.c.
 *
 * What SYSCALL/SYSRET do to the flags (SDM Vol. 2B): SYSCALL saves RFLAGS
 * in R11 and clears the SFMASK bits (the kernel masks IF, DF, TF, AC, NT:
 * arch/x86/cpu_setup.c); SYSRET loads RFLAGS from R11 & 0x3C7FD7 | 2, so
 * the user's flags come back exactly, RF excepted.
 */
#include "user/utest/cpufuzz.h"
#include "include/uapi/errno.h"

#define DONE	 (1ull << CF_DONE)
#define DB	 (1ull << V_DB)
#define NONCANON 0x0000800000000000ull

/* Kernel-half values a sequence may carry (the kernel must never trust or
 * return them): the bottom of the kernel half, kernel text, the direct
 * map, a per-CPU area, the top page, vmalloc space. */
static const uint64_t kernel_values[] = {
	0xffff800000000000ull, 0xffffffff80000000ull, 0xffffffff80100000ull, 0xffff888000000000ull,
	0xfffffe0000240000ull, 0xfffffffffffff000ull, 0xffffc90000000000ull, 0xffffffffff600000ull,
};

static uint64_t kernel_value(struct rng *r, struct seq *s)
{
	uint64_t v = CF_PICK(r, kernel_values) + (cf_below(r, 4) ? 0 : (cf_below(r, 512) << 3));

	cf_plant(s, v);
	return v;
}

static uint64_t noncanonical(struct rng *r)
{
	static const uint64_t v[] = { NONCANON, 0xffff7fffffffffffull, 0x8000000000000000ull,
				      0x7fffffffffffffffull, 0x0001000000000000ull };

	return cf_below(r, 2) ? CF_PICK(r, v) : (cf_rnd(r) | NONCANON) & ~(1ull << 63);
}

/* User-settable flags for the loader's IRETQ (CPL 3 cannot change IF,
 * IOPL, VM, VIF, VIP). */
#define USER_FLAGS (0x8d5ull | RF_TF | RF_DF | RF_NT | RF_RF | RF_AC | RF_ID)

uint64_t cf_effective_flags(const struct seq *s)
{
	return (s->rflags & USER_FLAGS) | RF_IF | RF_ONE;
}

/* ---- system calls with hostile state ---- */

enum {
	SC_GETPID,
	SC_GETTID,
	SC_SMAP_PROBE,
	SC_KINFO,
	SC_COUNTER_NAME,
	SC_CLOCK,
	SC_YIELD,
	SC_SLEEP,
	SC_UNKNOWN,
	SC_KINFO_BADPTR,
	SC_THREAD_BADENTRY,
	SC_FUTEX_WAKE,
	SC_FUTEX_AGAIN,
	SC_MAP_UNMAP,
	SC_IPC_BADHANDLE,
	SC_MEMBARRIER_QUERY,
	NR_SC
};

static const char *const sc_names[NR_SC] = {
	"syscall getpid",
	"syscall gettid",
	"syscall smap probe",
	"syscall kinfo",
	"syscall counter_name",
	"syscall clock",
	"syscall yield",
	"syscall sleep",
	"syscall unknown nr",
	"syscall kinfo bad pointer",
	"syscall thread_create bad entry",
	"syscall futex_wake",
	"syscall futex_wait mismatch",
	"syscall map+unmap",
	"syscall ipc bad handle",
	"syscall membarrier query",
};

/* Sets the call's registers and the result it must return (arg[1]). */
static void sc_setup(const struct cf_env *e, struct rng *r, struct seq *s, int k)
{
	uint64_t *g = s->reg;

	g[RDI] = g[RSI] = g[RDX] = g[R10] = g[R8] = g[R9] = 0;
	switch (k) {
	case SC_GETPID:
		g[RAX] = SYS_GETPID;
		s->arg[1] = e->pid;
		break;
	case SC_GETTID:
		g[RAX] = SYS_GETTID;
		s->arg[1] = e->tid;
		break;
	case SC_SMAP_PROBE:
		/* The kernel reads a user word without opening SMAP: with SMAP
		 * on, whatever AC the user set, it must be stopped. */
		g[RAX] = SYS_TEST;
		g[RDI] = SYST_SMAP_PROBE;
		g[RSI] = e->stack_page + 0x40;
		g[RDX] = 0; /* mode: now */
		s->arg[1] = e->smap ? (uint64_t)-EFAULT : 0;
		s->rflags |= cf_below(r, 4) ? RF_AC : 0;
		break;
	case SC_KINFO:
		g[RAX] = SYS_KINFO;
		g[RDI] = KINFO_PLATFORM;
		g[RSI] = (uint64_t)(uintptr_t)e->buf;
		g[RDX] = 64;
		s->arg[1] = strlen(e->platform);
		break;
	case SC_COUNTER_NAME:
		g[RAX] = SYS_COUNTER_NAME;
		g[RDI] = 0;
		g[RSI] = (uint64_t)(uintptr_t)e->buf;
		g[RDX] = 64;
		s->arg[1] = strlen(e->counter0);
		break;
	case SC_CLOCK:
		g[RAX] = SYS_CLOCK;
		break;
	case SC_YIELD:
		g[RAX] = SYS_YIELD;
		s->arg[1] = 0;
		break;
	case SC_SLEEP:
		g[RAX] = SYS_SLEEP;
		g[RDI] = cf_below(r, 20000);
		s->arg[1] = 0;
		break;
	case SC_UNKNOWN:
		g[RAX] =
			cf_below(r, 2) ? NR_SYSCALLS + cf_below(r, 1000) : cf_rnd(r) | (1ull << 40);
		s->arg[1] = (uint64_t)-ENOSYS;
		break;
	case SC_KINFO_BADPTR:
		g[RAX] = SYS_KINFO;
		g[RDI] = KINFO_PLATFORM;
		g[RSI] = cf_below(r, 2) ? kernel_value(r, s) : noncanonical(r);
		g[RDX] = 64;
		s->arg[1] = (uint64_t)-EFAULT;
		break;
	case SC_THREAD_BADENTRY:
		g[RAX] = SYS_THREAD_CREATE;
		g[RDI] = cf_below(r, 2) ? kernel_value(r, s) : noncanonical(r);
		g[RSI] = e->stack_page + 4096;
		s->arg[1] = (uint64_t)-EINVAL;
		break;
	case SC_FUTEX_WAKE:
		g[RAX] = SYS_FUTEX_WAKE;
		g[RDI] = e->stack_page + 0x40;
		g[RSI] = 1;
		s->arg[1] = 0;
		break;
	case SC_FUTEX_AGAIN:
		/* The word is 0 (the stack page is cleared for system calls). */
		g[RAX] = SYS_FUTEX_WAIT;
		g[RDI] = e->stack_page + 0x40;
		g[RSI] = 1 + cf_below(r, 1000);
		g[RDX] = 1000000;
		s->arg[1] = (uint64_t)-EAGAIN;
		break;
	case SC_MAP_UNMAP:
		g[RAX] = SYS_MAP;
		g[RDI] = e->scratch;
		g[RSI] = 4096;
		g[RDX] = UPROT_READ | UPROT_WRITE;
		g[R10] = UMAP_FIXED | (cf_below(r, 2) ? UMAP_POPULATE : 0);
		s->arg[1] = 0; /* the unmap's result */
		break;
	case SC_IPC_BADHANDLE:
		g[RAX] = SYS_IPC_CALL;
		/* No handle of ours: above the 31 bits a handle has, or
		 * negative (include/uapi/handle.h). */
		g[RDI] = cf_below(r, 2) ? (1ull << 31) + cf_below(r, 1000)
					: (uint64_t)-1 - cf_below(r, 8);
		s->arg[1] = (uint64_t)-EBADF;
		break;
	case SC_MEMBARRIER_QUERY:
		g[RAX] = SYS_MEMBARRIER;
		break;
	}
}

void cf_gen_syscall(const struct cf_env *e, struct rng *r, struct seq *s)
{
	int k = (int)cf_below(r, NR_SC);
	static const uint64_t odd_rsp[] = { 0, 1, 0x7fffffffffffull, 0x1000 };

	if (k == SC_SLEEP && cf_below(r, 8))
		k = SC_GETPID; /* a sleep lasts a timer tick: keep them few */

	s->what = sc_names[k];
	s->arg[0] = (uint64_t)k;
	/* Flags the kernel must neither keep nor lose. */
	s->rflags |= cf_rnd(r) & (RF_AC | RF_DF | RF_NT | RF_RF | RF_ID | 0x8d5);
	if (cf_below(r, 4) == 0)
		s->rflags |= RF_IOPL; /* asked for; the loader's IRETQ ignores it */
	bool tf = k != SC_MAP_UNMAP && cf_below(r, 8) == 0;

	if (tf)
		s->rflags |= RF_TF;
	/* RCX and R11 are the CPU's to overwrite; put kernel addresses there
	 * and in other registers the kernel must give back untouched. */
	s->reg[RCX] = kernel_value(r, s);
	s->reg[R11] = cf_below(r, 2) ? kernel_value(r, s) : noncanonical(r);
	s->reg[RBX] = kernel_value(r, s);
	s->reg[R12] = noncanonical(r);
	s->reg[R13] = kernel_value(r, s);
	s->xmm_pattern = cf_rnd(r) | 1;
	sc_setup(e, r, s, k);
	s->allow = tf ? DB : DONE;
	if (!tf && cf_below(r, 4) == 0) {
		/* A bad RSP: SYSRET does not use it; it must come back as is. */
		uint64_t v = cf_below(r, 3) == 0   ? kernel_value(r, s)
			     : cf_below(r, 2) == 0 ? noncanonical(r)
						   : CF_PICK(r, odd_rsp) + cf_below(r, 8);

		cf_movabs(s, RSP, v);
		s->arg[3] = v;
		s->arg[2] = 1; /* RSP replaced */
	} else {
		s->arg[3] = s->reg[RSP];
		s->arg[2] = 0;
	}
	cf_mark(s);
	CF_EMIT(s, "\x0f\x05");
	if (k == SC_MAP_UNMAP) {
		cf_e8(s, 0xb8); /* mov $SYS_UNMAP, %eax */
		cf_e32(s, SYS_UNMAP);
		CF_EMIT(s, "\x0f\x05");
	}
	/* Where the (last) SYSCALL returns. */
	s->arg[2] |= (uint64_t)s->len << 8;
	CF_EMIT(s, "\x90\x90");
	if (tf) {
		/* QEMU delivers the step after SYSRET; Bochs also steps into
		 * the kernel's first instruction (cleared there, counted in
		 * debug_kernel_step). Either way the user's #DB comes after
		 * the SYSCALL returns, before or after the next instruction. */
		s->rip = s->len - 2;
		s->rip2 = s->len - 1;
		s->err = 0;
	}
}

const char *cf_check_syscall(const struct cf_env *e, const struct seq *s,
			     const struct cf_outcome *o)
{
	int k = (int)s->arg[0];
	uint64_t ret_at = s->at + (s->arg[2] >> 8), fl = cf_effective_flags(s);
	uint64_t rax = o->regs[RAX];

	if (o->regs[RCX] != ret_at)
		return "RCX is not the return address";
	if ((o->regs[R11] & ~RF_RF) != (fl & ~RF_RF))
		return "R11 is not the RFLAGS of the SYSCALL";
	if (!o->faulted && o->rflags != ((fl & ~RF_RF) & 0x3c7fd7ull))
		return "RFLAGS after SYSRET";
	if (!o->faulted && o->regs[RSP] != s->arg[3])
		return "RSP not as it was";
	for (int i = 0; i < 16; i++) {
		if (i == RAX || i == RCX || i == R11 || i == RSP)
			continue;
		if (o->regs[i] != s->reg[i])
			return "a register changed across the system call";
	}
	switch (k) {
	case SC_CLOCK:
		return (int64_t)rax > 0 ? NULL : "clock";
	case SC_MEMBARRIER_QUERY:
		return (int64_t)rax >= 0 && rax < 0x10000 ? NULL : "membarrier query";
	case SC_KINFO:
		if (rax != s->arg[1] || strcmp((const char *)e->buf, e->platform))
			return "kinfo(KINFO_PLATFORM) output (DF set in user mode?)";
		return NULL;
	case SC_COUNTER_NAME:
		if (rax != s->arg[1] || strcmp((const char *)e->buf, e->counter0))
			return "counter_name output (DF set in user mode?)";
		return NULL;
	default:
		return rax == s->arg[1] ? NULL : "the system call's result";
	}
}

/* ---- MOV SS, then an instruction that enters the kernel ---- */

enum { MS_SYSCALL, MS_INT3, MS_INTN, MS_ICEBP, MS_UD2, MS_HLT, MS_LOAD, MS_MOVSS, MS_RDMSR, NR_MS };

void cf_gen_movss(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const char *const names[NR_MS] = {
		"mov ss; syscall", "mov ss; int3",   "mov ss; int $n",
		"mov ss; icebp",   "mov ss; ud2",    "mov ss; hlt",
		"mov ss; fault",   "mov ss; mov ss", "mov ss; rdmsr",
	};
	int f = (int)cf_below(r, NR_MS), n = 0;
	bool tf = cf_below(r, 4) != 0, gs = e->fsgsbase && cf_below(r, 3) == 0;
	uint64_t after = 0;

	s->what = names[f];
	s->arg[0] = (uint64_t)f;
	s->reg[RSI] = CF_UDS;
	s->stk[s->nstk++] = CF_UDS;
	s->reg[RAX] = SYS_GETPID;
	if (gs) {
		/* A hostile GS base live while the deferred #DB hits the
		 * kernel's entry (before its SWAPGS, for SYSCALL). */
		s->reg[RBX] = cf_below(r, 2) ? kernel_value(r, s) : 0x00007fffffffffffull;
		CF_EMIT(s, "\xf3\x48\x0f\xae\xdb"); /* wrgsbase %rbx */
		s->arg[1] = s->reg[RBX];
	}
	if (tf) /* pushfq; orq $TF,(%rsp); popfq: the step traps after MOV SS's shadow */
		CF_EMIT(s, "\x9c\x48\x81\x0c\x24\x00\x01\x00\x00\x9d");
	if (cf_below(r, 2))
		CF_EMIT(s, "\x8e\xd6"); /* mov %esi, %ss */
	else
		CF_EMIT(s, "\x8e\x14\x24"); /* mov (%rsp), %ss */
	cf_mark(s);
	int shadowed = s->len; /* the instruction in MOV SS's shadow */

	switch (f) {
	case MS_SYSCALL:
		CF_EMIT(s, "\x0f\x05");
		s->allow = DONE;
		s->arg[2] = e->pid;
		break;
	case MS_INT3:
		CF_EMIT(s, "\xcc");
		s->allow = cf_vec(V_BP);
		s->rip = s->len;
		s->err = 0;
		break;
	case MS_INTN:
		n = (int)cf_below(r, 256);
		n = n == V_BP ? 0x80 : n;
		cf_e8(s, 0xcd);
		cf_e8(s, (uint8_t)n);
		s->allow = cf_vec(V_GP);
		s->err = (uint64_t)n * 8 + 2;
		break;
	case MS_ICEBP:
		CF_EMIT(s, "\xf1");
		s->allow = DB;
		s->rip = s->len;
		s->err = 0;
		break;
	case MS_UD2:
		CF_EMIT(s, "\x0f\x0b");
		s->allow = cf_vec(V_UD);
		s->err = 0;
		break;
	case MS_HLT:
		CF_EMIT(s, "\xf4");
		s->allow = cf_vec(V_GP);
		s->err = 0;
		break;
	case MS_LOAD: {
		int w = (int)cf_below(r, 3);

		s->reg[RDI] = w == 0   ? noncanonical(r)
			      : w == 1 ? kernel_value(r, s)
				       : e->stack_page - 4096 + cf_below(r, 4096);
		CF_EMIT(s, "\x48\x8b\x17"); /* mov (%rdi), %rdx */
		s->allow = w == 0 ? cf_vec(V_GP) : cf_vec(V_PF);
		if (w == 0)
			s->err = 0;
		else
			s->cr2 = s->reg[RDI];
		break;
	}
	case MS_MOVSS:
		CF_EMIT(s, "\x8e\xd6");
		s->allow = DONE;
		break;
	case MS_RDMSR:
		s->reg[RCX] = 0xc0000101; /* GS_BASE */
		CF_EMIT(s, "\x0f\x32");
		s->allow = cf_vec(V_GP);
		s->err = 0;
		break;
	}
	after = s->len;
	CF_EMIT(s, "\x90\x90");
	if (tf) {
		/* The step is held past the shadowed instruction. If that one
		 * faults or traps, its exception is the user's result and the
		 * step, if delivered at all, lands on the kernel's handler
		 * (cleared there); if it completes, the user sees #DB after it
		 * (or, after a SYSCALL, possibly after the next NOP). */
		if (s->allow & DONE) {
			s->allow = DB;
			s->rip = (int)after;
			/* After a SYSCALL, or a second MOV SS (QEMU), possibly
			 * after the next NOP; or at the shadowed instruction
			 * when an NMI ended the shadow (below; 'mov ss; mov ss'
			 * under Bochs). */
			s->rip2 = (int)after + 1;
			s->rip_abs = s->at + (uint64_t)shadowed;
			s->err = 0;
		} else {
			s->allow |= DB;
			if (!(s->allow & (cf_vec(V_BP) | cf_vec(V_DB))))
				s->rip2 = (int)after; /* the #DB instead, after it */
			/* Or before it: an NMI taken in the shadow (the fuzzer
			 * sends them) ends it, and Bochs then delivers the
			 * pending step after the NMI's IRET, at the shadowed
			 * instruction (seen twice in 10^5 runs: 'mov ss; int3'
			 * and 'mov ss; icebp', #DB at the INT3/ICEBP). Bochs
			 * checks for events right after MOV SS and does not
			 * hold NMIs back there. */
			if (s->rip2 == CF_RIP_NONE && s->rip != shadowed)
				s->rip2 = shadowed;
		}
	}
	s->arg[3] = (uint64_t)tf;
}

/* ---- FS and GS bases ---- */

enum { G_SYSCALL, G_YIELD, G_SLEEP, G_PF, G_INT3, G_ICEBP, G_UD2, G_SPIN, G_GSREAD, NR_G };
enum { FG_NOT_WRITTEN = 1, FG_READ = 2, FG_LENIENT = 4 }; /* arg[3] */

static uint64_t base_value(struct rng *r, struct seq *s)
{
	static const uint64_t user[] = { 0, 0x00007fffffffffffull, 0x00007ffffffff000ull, 1,
					 0x0000400000000000ull };

	switch (cf_below(r, 4)) {
	case 0:
	case 1:
		return kernel_value(r, s);
	case 2:
		return CF_PICK(r, user);
	default:
		return cf_below(r, 2) ? noncanonical(r) : cf_rnd(r) | 0xffff800000000000ull;
	}
}

void cf_gen_fsgs(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const char *const names[NR_G] = {
		"wr*base; syscall", "wr*base; yield", "wr*base; sleep",
		"wr*base; #PF",	    "wr*base; int3",  "wr*base; icebp",
		"wr*base; ud2",	    "wr*base; spin",  "wr*base; read at the base"
	};
	int f = (int)cf_below(r, NR_G), which = (int)cf_below(r, 3); /* fs, gs, both */

	if (f == G_SLEEP && cf_below(r, 8))
		f = G_YIELD; /* a sleep lasts a timer tick */
	uint64_t v = base_value(r, s);

	cf_plant(s, v);
	s->what = names[f];
	s->arg[0] = (uint64_t)f;
	s->arg[1] = v;
	s->arg[2] = (uint64_t)which;
	s->reg[RBX] = v;
	s->reg[RAX] = SYS_GETPID;
	s->reg[RDI] = s->reg[RSI] = 0;
	if (!e->fsgsbase) {
		cf_expect_fault(s, V_UD, 0);
		CF_EMIT(s, "\xf3\x48\x0f\xae\xdb");
		return;
	}
	/* WRFSBASE/WRGSBASE check canonicality against the CPU's largest
	 * linear-address width: 57 bits where 5-level paging exists, even
	 * with 4-level paging on (as KVM emulates it); Bochs checks 48 bits
	 * there, QEMU TCG does not check at all: for the values in between
	 * either ending is accepted. */
	bool canonical = (uint64_t)((int64_t)(v << 16) >> 16) == v;
	bool canonical57 = (uint64_t)((int64_t)(v << 7) >> 7) == v;
	bool lenient = !canonical && (e->qemu || (e->la57 && canonical57));

	cf_mark(s);
	if (which != 1)
		CF_EMIT(s, "\xf3\x48\x0f\xae\xd3"); /* wrfsbase %rbx */
	if (which != 0)
		CF_EMIT(s, "\xf3\x48\x0f\xae\xdb"); /* wrgsbase %rbx */
	if (!canonical && !lenient) {
		s->allow = cf_vec(V_GP); /* WR*BASE of a non-canonical value: #GP(0) */
		s->err = 0;
		s->arg[3] = FG_NOT_WRITTEN;
		return;
	}
	cf_mark(s);
	s->err = 0;
	switch (f) {
	case G_SYSCALL:
	case G_YIELD:
	case G_SLEEP:
		s->reg[RAX] = f == G_SYSCALL ? SYS_GETPID : f == G_YIELD ? SYS_YIELD : SYS_SLEEP;
		s->reg[RDI] = f == G_SLEEP ? 50000 : 0;
		CF_EMIT(s, "\x0f\x05");
		s->allow = DONE;
		break;
	case G_PF:
		s->reg[RDI] = e->stack_page - 8;
		CF_EMIT(s, "\x48\x8b\x17");
		s->allow = cf_vec(V_PF);
		s->cr2 = s->reg[RDI];
		s->err = 4;
		break;
	case G_INT3:
		CF_EMIT(s, "\xcc");
		s->allow = cf_vec(V_BP);
		s->rip = s->len;
		break;
	case G_ICEBP:
		CF_EMIT(s, "\xf1");
		s->allow = DB;
		s->rip = s->len;
		break;
	case G_UD2:
		CF_EMIT(s, "\x0f\x0b");
		s->allow = cf_vec(V_UD);
		break;
	case G_SPIN: /* long enough for a timer tick, or the NMIs another thread sends */
		cf_e8(s, 0xb9);
		cf_e32(s, 20000 + (uint32_t)cf_below(r, 20000));
		CF_EMIT(s, "\xff\xc9\x75\xfc"); /* 1: dec %ecx; jnz 1b */
		s->allow = DONE;
		break;
	case G_GSREAD:
		if (which == 0) {
			CF_EMIT(s, "\x64\x48\x8b\x14\x25\x00\x00\x00\x00"); /* mov %fs:0, %rdx */
		} else {
			CF_EMIT(s, "\x65\x48\x8b\x14\x25\x00\x00\x00\x00"); /* mov %gs:0, %rdx */
		}
		if (v >= e->stack_page && v <= e->stack_page + 4096 - 8)
			s->allow = DONE;
		else if (v >= 0xffff800000000000ull && v <= 0xfffffffffffffff8ull) {
			s->allow = cf_vec(V_PF); /* a supervisor or absent page */
			s->err = CF_ANY;
		} else {
			/* user addresses: absent (#PF), or crossing the top of the
			 * lower half (#GP) */
			s->allow = cf_vec(V_PF) | cf_vec(V_GP) | DONE;
			s->err = CF_ANY;
		}
		s->arg[3] = FG_READ;
		break;
	}
	CF_EMIT(s, "\x90");
	if (lenient) {
		/* QEMU: written, or (as the architecture says) #GP(0) on the
		 * first WR*BASE; anything the follower does at such a base
		 * (#GP for a non-canonical address) */
		s->allow |= cf_vec(V_GP);
		s->rip2 = 0;
		s->err = CF_ANY;
		s->arg[3] |= FG_LENIENT;
	}
}

const char *cf_check_movss(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o)
{
	if (s->arg[1] && o->gs != s->arg[1])
		return "GS base not preserved";
	if (!o->faulted && s->arg[0] == MS_SYSCALL && o->regs[RAX] != e->pid)
		return "getpid after MOV SS";
	return NULL;
}

const char *cf_check_fsgs(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o)
{
	uint64_t v = s->arg[1];
	int which = (int)s->arg[2];

	if (!e->fsgsbase || (s->arg[3] & FG_NOT_WRITTEN) ||
	    ((s->arg[3] & FG_LENIENT) && o->faulted && o->rec.rip == s->at))
		return o->fs || o->gs ? "a base changed by a failed WR*BASE" : NULL;
	if (which != 1 && o->fs != v)
		return "FS base not preserved";
	if (which != 0 && o->gs != v)
		return "GS base not preserved";
	if (which == 0 && o->gs)
		return "GS base changed";
	if (which == 1 && o->fs)
		return "FS base changed";
	if ((s->arg[3] & FG_READ) && o->faulted && o->vector == V_PF &&
	    (o->rec.cr2 < v || o->rec.cr2 > v + 7))
		return "CR2 of a read at the segment base";
	if (!o->faulted && (s->arg[0] == G_SYSCALL) && o->regs[RAX] != e->pid)
		return "getpid with a hostile base";
	return NULL;
}

/* ---- extended state ---- */

enum {
	X_XSETBV,
	X_XGETBV,
	X_XRSTOR_VALID,
	X_XRSTOR_BAD_BV,
	X_XRSTOR_RSVD,
	X_XRSTOR_COMPACT,
	X_XRSTOR_MXCSR,
	X_XRSTOR_MISALIGNED,
	X_XRSTOR_UNMAPPED,
	X_XRSTOR_NONCANON,
	X_XRSTOR_KERNEL,
	X_FXRSTOR,
	X_LDMXCSR,
	X_XSAVE_MISALIGNED,
	X_XSAVE_RO,
	X_AVX512,
	X_AMX,
	X_AVX,
	NR_X
};

static const char *const x_names[NR_X] = {
	"xsetbv",
	"xgetbv",
	"xrstor valid",
	"xrstor bad xstate_bv",
	"xrstor reserved header",
	"xrstor compacted",
	"xrstor bad mxcsr",
	"xrstor misaligned",
	"xrstor unmapped",
	"xrstor non-canonical",
	"xrstor kernel address",
	"fxrstor",
	"ldmxcsr",
	"xsave misaligned",
	"xsave to code",
	"avx-512",
	"amx",
	"avx",
};

/* The image goes to the start of the stack page (4 KiB aligned); the
 * sequence's RSP is near its end. stk[] cannot hold it: the runner copies
 * e->xsave_image there and applies arg[1] (offset) / arg[2] (value) as one
 * 8-byte patch when arg[3] says so. */
void cf_gen_xstate(const struct cf_env *e, struct rng *r, struct seq *s)
{
	int k = (int)cf_below(r, NR_X);
	uint64_t buf = e->stack_page;

	s->what = x_names[k];
	s->arg[0] = (uint64_t)k;
	s->reg[RSP] = e->stack_page + 0xf00;
	s->reg[RBX] = buf;
	s->reg[RAX] = cf_below(r, 2) ? 0xffffffff : e->xcr0 & 0xffffffff;
	s->reg[RDX] = cf_below(r, 2) ? 0xffffffff : e->xcr0 >> 32;
	s->reg[RCX] = 0;
	s->err = 0;
	s->arg[3] = k >= X_XRSTOR_VALID && k <= X_XRSTOR_KERNEL; /* image copied */
	s->arg[1] = ~0ull;
	cf_mark(s);
	switch (k) {
	case X_XSETBV:
		s->reg[RAX] = e->xcr0 & 0xffffffff;
		CF_EMIT(s, "\x0f\x01\xd1");
		s->allow = cf_vec(V_GP);
		break;
	case X_XGETBV:
		CF_EMIT(s, "\x0f\x01\xd0");
		s->allow = DONE;
		break;
	case X_XRSTOR_BAD_BV: {
		uint64_t outside = ~e->xcr0 & ~(1ull << 63);
		int bit = 0;

		for (int tries = 0; tries < 64; tries++) {
			bit = (int)cf_below(r, 63);
			if (outside >> bit & 1)
				break;
		}
		s->arg[1] = 512; /* XSTATE_BV */
		s->arg[2] = (1ull << bit) | 3;
		goto xrstor;
	}
	case X_XRSTOR_RSVD:
		/* The standard form checks header bytes 23:8 (XCOMP_BV) only;
		 * bytes 63:24 are the compacted form's to check (SDM Vol. 1
		 * 13.8.1): there either ending is allowed. */
		s->arg[1] = cf_below(r, 2) ? 520 : 528 + 8 * cf_below(r, 5);
		s->arg[2] = cf_rnd(r) & ~(1ull << 63);
		s->arg[2] |= s->arg[2] ? 0 : 4;
		CF_EMIT(s, "\x0f\xae\x2b");
		s->allow = cf_vec(V_GP) | (s->arg[1] == 520 ? 0 : DONE);
		return;
	case X_XRSTOR_COMPACT:
		s->arg[1] = 520;
		s->arg[2] = (1ull << 63) | (cf_below(r, 2) ? 3 : e->xcr0);
		CF_EMIT(s, "\x0f\xae\x2b");
		/* Valid in compacted form only with XSAVEC, and only if the
		 * image matches that layout (it does for x87/SSE alone). */
		s->allow = cf_vec(V_GP) | (e->xsavec ? DONE : 0);
		s->err = 0;
		return;
	case X_XRSTOR_MXCSR:
		s->arg[1] = 24; /* MXCSR and MXCSR_MASK */
		s->arg[2] = 0x1f80 | (1ull << (16 + cf_below(r, 16))) | 0x0000ffff00000000ull;
		s->reg[RAX] = 0xffffffff;
		goto xrstor;
	case X_XRSTOR_MISALIGNED:
		s->reg[RBX] = buf + 8 * (1 + cf_below(r, 7));
		goto xrstor;
	case X_XRSTOR_UNMAPPED:
		s->reg[RBX] = buf + 4096 - 64 * (1 + cf_below(r, 8));
		CF_EMIT(s, "\x0f\xae\x2b");
		s->allow = cf_vec(V_PF); /* CR2 in the hole after the page */
		s->err = 4;
		return;
	case X_XRSTOR_NONCANON:
		/* all of the area non-canonical (which part an XRSTOR reads
		 * first is the CPU's choice) */
		s->reg[RBX] = cf_below(r, 2) ? NONCANON + (cf_below(r, 1 << 20) << 16)
					     : (1ull << 63) | (cf_rnd(r) & 0x00007fffffff0000ull);
		goto xrstor;
	case X_XRSTOR_KERNEL:
		s->reg[RBX] = kernel_value(r, s) & ~63ull;
		cf_plant(s, s->reg[RBX]);
		CF_EMIT(s, "\x0f\xae\x2b");
		s->allow = cf_vec(V_PF);
		s->err = CF_ANY;
		s->cr2 = CF_ANY;
		return;
	case X_XRSTOR_VALID:
		/* Some XMM values, then possibly a context switch in between:
		 * what comes back must be what XRSTOR loaded. */
		s->arg[1] = 160 + 16 * cf_below(r, 16);
		s->arg[2] = cf_rnd(r);
		CF_EMIT(s, "\x0f\xae\x2b"); /* xrstor (%rbx) */
		if (cf_below(r, 2)) {
			cf_e8(s, 0xb8);
			cf_e32(s, SYS_YIELD);
			CF_EMIT(s, "\x0f\x05");
		}
		s->allow = DONE;
		return;
	case X_FXRSTOR:
		s->arg[3] = 1;
		if (cf_below(r, 2)) {
			s->arg[1] = 24;
			s->arg[2] = 0x1f80 | (1ull << (16 + cf_below(r, 16)));
			s->allow = cf_vec(V_GP) | (e->qemu ? DONE : 0); /* QEMU: no check */
		} else {
			s->allow = DONE;
		}
		if (cf_below(r, 4) == 0) {
			s->reg[RBX] = buf + 8;
			s->allow = cf_vec(V_GP); /* not 16-byte aligned */
		}
		CF_EMIT(s, "\x0f\xae\x0b"); /* fxrstor (%rbx) */
		return;
	case X_LDMXCSR:
		s->stk[s->nstk++] = cf_below(r, 2) ? 0x1f80 | cf_below(r, 64)
						   : 0x1f80 | (1ull << (16 + cf_below(r, 16)));
		s->allow = s->stk[0] >> 16 ? cf_vec(V_GP) | (e->qemu ? DONE : 0) : DONE;
		CF_EMIT(s, "\x0f\xae\x14\x24"); /* ldmxcsr (%rsp) */
		if (cf_below(r, 2)) {
			/* and the kernel saves and restores what was loaded */
			cf_e8(s, 0xb8);
			cf_e32(s, SYS_YIELD);
			CF_EMIT(s, "\x0f\x05");
		}
		return;
	case X_XSAVE_MISALIGNED:
		s->reg[RBX] = buf + 8 * (1 + cf_below(r, 7));
		CF_EMIT(s, "\x0f\xae\x23"); /* xsave (%rbx) */
		s->allow = cf_vec(V_GP);
		return;
	case X_XSAVE_RO:
		s->reg[RBX] = s->page + 1024;
		CF_EMIT(s, "\x0f\xae\x23");
		s->allow = cf_vec(V_PF);
		s->err = 7; /* user write to a present read-only page */
		return;
	case X_AVX512:
		if (cf_below(r, 2))
			CF_EMIT(s, "\x62\xf1\xfd\x48\xef\xc0"); /* vpxorq %zmm0,%zmm0,%zmm0 */
		else
			CF_EMIT(s, "\x62\xf1\xfe\x48\x6f\x0b"); /* vmovdqu64 (%rbx),%zmm1 */
		s->allow = e->avx512 ? DONE : cf_vec(V_UD);
		return;
	case X_AMX:
		/* No permission asked (xstate_perm): tile state is off in XCR0
		 * for this task (#UD), or armed in XFD (#NM, then a kill). */
		if (cf_below(r, 2))
			CF_EMIT(s, "\xc4\xe2\x78\x49\xc0"); /* tilerelease */
		else
			CF_EMIT(s, "\xc4\xe2\x78\x49\x03"); /* ldtilecfg (%rbx) */
		s->allow = cf_vec(V_UD) | cf_vec(V_NM);
		return;
	case X_AVX:
		if (cf_below(r, 2))
			CF_EMIT(s, "\xc5\xfc\x77"); /* vzeroall */
		else
			CF_EMIT(s, "\xc5\xf8\x77"); /* vzeroupper */
		s->allow = e->avx ? DONE : cf_vec(V_UD);
		return;
	}
	return;
xrstor:
	CF_EMIT(s, "\x0f\xae\x2b"); /* xrstor (%rbx) */
	s->allow = cf_vec(V_GP);
	/* MXCSR is loaded (and checked) only when RFBM has SSE or AVX; QEMU
	 * TCG never checks MXCSR's reserved bits (LDMXCSR, FXRSTOR, XRSTOR). */
	if (k == X_XRSTOR_MXCSR && e->qemu)
		s->allow |= DONE;
	if (k == X_XRSTOR_MXCSR && !((s->reg[RDX] << 32 | s->reg[RAX]) & 6))
		s->allow |= DONE;
}

const char *cf_check_xstate(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o)
{
	switch (s->arg[0]) {
	case X_XGETBV:
		if ((o->regs[RAX] & 0xffffffff) != (e->xcr0 & 0xffffffff) ||
		    (o->regs[RDX] & 0xffffffff) != e->xcr0 >> 32)
			return "XGETBV(0) is not this task's XCR0";
		return NULL;
	case X_XRSTOR_UNMAPPED:
		if (o->rec.cr2 < e->stack_page + 4096 || o->rec.cr2 >= e->stack_page + 8192)
			return "CR2 of an XRSTOR running into the hole";
		return NULL;
	case X_XSAVE_RO:
		if (o->rec.cr2 < s->page || o->rec.cr2 >= s->page + 4096)
			return "CR2 of an XSAVE to a read-only page";
		return NULL;
	case X_XRSTOR_VALID: {
		/* XMM0-15 are what XRSTOR loaded (across the context switch of
		 * the optional yield): the image's, its init state (zeros) if
		 * XSTATE_BV[1] is clear, or untouched if RFBM[1] is. */
		const uint8_t *img = (const uint8_t *)(uintptr_t)e->stack_page;
		uint64_t rfbm = (s->reg[RDX] << 32 | (s->reg[RAX] & 0xffffffff)) & e->xcr0;
		uint64_t bv = *(const uint64_t *)(img + 512);
		static const uint8_t zeros[256];
		const uint8_t *want = !(rfbm & 2) ? o->xmm_in : (bv & 2) ? img + 160 : zeros;

		if (!o->faulted && memcmp(o->xmm_out, want, 256))
			return "XMM registers after XRSTOR (and a context switch) are not what it loaded";
		return NULL;
	}
	}
	return NULL;
}
