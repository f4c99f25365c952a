/*
 * cpu_fuzz classes at the edges of memory, random instructions, the
 * sequences only a dying child may run, and the class table with the
 * generator that draws from it.
 *
 * Boundaries: instruction fetch and data accesses straddling into an
 * unmapped page, the last user page (falling off the end of the lower
 * half, reading across it), non-canonical and kernel-half addresses through
 * every base register kind (RSP and RBP faults are #SS, others #GP or #PF),
 * execution of non-executable and kernel pages, stores to code, and
 * exceptions delivered with a misaligned or hostile RSP.
 *
 * Random: 1 to 40 bytes drawn so that no control transfer can occur (no
 * relative or indirect jump, call, return, loop or IRET byte at any offset,
 * no SYSCALL/SYSENTER/SYSRET pair, no XBEGIN): execution only falls
 * forward, so every sequence ends (a fault, or the padding, then the
 * epilogue), and nothing reaches code outside the body.
 */
#include "user/utest/cpufuzz.h"
#include "include/uapi/errno.h"

#define DONE	 (1ull << CF_DONE)
#define NONCANON 0x0000800000000000ull

static const uint64_t kernel_addrs[] = {
	0xffffffff80000000ull,			      /* kernel text */
	0xffffffff80100000ull, 0xffff800000000000ull, /* the direct map */
	0xffff800000100000ull, 0xfffffe0000000000ull, /* per-CPU areas, the entry area */
	0xfffffe0000001000ull, 0xffffc00000000000ull, /* vmalloc */
	0xfffffffffffff000ull,
};

static uint64_t kaddr(struct rng *r, struct seq *s)
{
	uint64_t v = CF_PICK(r, kernel_addrs) + 8 * cf_below(r, 64);

	cf_plant(s, v);
	return v;
}

/* Non-canonical, and still so 64 KiB either way. */
static uint64_t noncanon(struct rng *r)
{
	static const uint64_t v[] = { NONCANON + 0x10000, 0xffff7fffffff0000ull,
				      0x0000800000101000ull, 0x8000000000000000ull,
				      0x7ffffffffffff000ull };

	return cf_below(r, 2) ? CF_PICK(r, v)
			      : (((cf_rnd(r) | NONCANON) & ~(1ull << 63)) & ~0xffffull) | 0x10000;
}

enum {
	B_FETCH_FALL,
	B_FETCH_STRADDLE,
	B_LOAD_UP,
	B_LOAD_BELOW,
	B_LOAD_NONCANON,
	B_LOAD_KERNEL,
	B_STACK_NONCANON,
	B_STACK_KERNEL,
	B_STACK_HOLE,
	B_ODD_RSP,
	B_AC_MISALIGNED,
	B_EXEC_NX,
	B_EXEC_KERNEL,
	B_EXEC_NONCANON,
	B_WRITE_CODE,
	B_NULL,
	B_LAST_FALL,
	B_LAST_READ,
	NR_B
};

static const char *const b_names[NR_B] = {
	"fetch falls into a hole",
	"fetch straddles into a hole",
	"access straddles up",
	"access straddles below",
	"access non-canonical",
	"access kernel half",
	"stack non-canonical",
	"stack in the kernel half",
	"stack in a hole",
	"exception with odd RSP",
	"AC and a misaligned access",
	"execute NX page",
	"execute kernel half",
	"execute non-canonical",
	"store to code",
	"null access",
	"fall off the last user page",
	"read across the top",
};

/* A load or store through RDI: mov (%rdi),%rax or mov %rax,(%rdi). */
static bool access_rdi(struct rng *r, struct seq *s)
{
	bool store = cf_below(r, 2);

	cf_mark(s);
	if (store)
		CF_EMIT(s, "\x48\x89\x07");
	else
		CF_EMIT(s, "\x48\x8b\x07");
	return store;
}

void cf_gen_boundary(const struct cf_env *e, struct rng *r, struct seq *s)
{
	int k = (int)cf_below(r, NR_B);
	uint64_t stk = e->stack_page;

	if (s->tail_ok && cf_below(r, 2))
		k = cf_below(r, 2) ? B_FETCH_FALL : B_FETCH_STRADDLE;
	else if (k == B_FETCH_FALL || k == B_FETCH_STRADDLE)
		k = B_LOAD_UP;
	if ((k == B_LAST_FALL || k == B_LAST_READ) && !e->last_page)
		k = B_LOAD_NONCANON;
	s->what = b_names[k];
	s->arg[0] = (uint64_t)k;
	s->err = 0;
	switch (k) {
	case B_FETCH_FALL:
	case B_FETCH_STRADDLE: {
		/* The body ends at the page's last byte; the next page is a
		 * hole. A fetch fault: RIP is the instruction's start (for a
		 * fall-through, the hole's first byte), CR2 the hole. */
		int nops = 1 + (int)cf_below(r, 8), cut = 1 + (int)cf_below(r, 9);

		for (int i = 0; i < nops; i++)
			cf_e8(s, 0x90);
		s->tail = 1;
		if (k == B_FETCH_STRADDLE) {
			cf_mark(s);
			/* the first cut bytes of movabs $imm, %rax (10 bytes) */
			uint8_t movabs[10] = { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 };

			for (int i = 0; i < cut; i++)
				cf_e8(s, movabs[i]);
		} else {
			s->rip = s->len; /* the hole itself */
		}
		s->at = s->page + 4096 - s->len;
		s->allow = cf_vec(V_PF);
		s->err = 0x14; /* user, instruction fetch, not present */
		s->cr2 = s->page + 4096;
		return;
	}
	case B_LOAD_UP: {
		int k2 = 1 + (int)cf_below(r, 7);

		s->reg[RDI] = stk + 4096 - (uint64_t)k2;
		bool st = access_rdi(r, s);

		s->allow = cf_vec(V_PF);
		s->err = st ? 6 : 4;
		s->arg[2] = 1; /* CR2 within the access */
		return;
	}
	case B_LOAD_BELOW:
		s->reg[RDI] = stk - 1 - cf_below(r, 8);
		s->err = access_rdi(r, s) ? 6 : 4;
		s->allow = cf_vec(V_PF);
		s->cr2 = s->reg[RDI];
		return;
	case B_LOAD_NONCANON:
		s->reg[RDI] = noncanon(r);
		access_rdi(r, s);
		s->allow = cf_vec(V_GP);
		return;
	case B_LOAD_KERNEL:
		/* Supervisor pages: present (protection) without PTI, absent
		 * from the user root with it. */
		s->reg[RDI] = kaddr(r, s);
		s->err = CF_ANY;
		s->arg[2] = 2 | (uint64_t)access_rdi(r, s) << 8;
		s->allow = cf_vec(V_PF);
		s->cr2 = s->reg[RDI];
		return;
	case B_STACK_NONCANON:
	case B_STACK_KERNEL:
	case B_STACK_HOLE: {
		uint64_t v = k == B_STACK_NONCANON ? noncanon(r)
			     : k == B_STACK_KERNEL ? kaddr(r, s) + 4096
						   : stk - 4096 + 8 * cf_below(r, 512);
		int how = (int)cf_below(r, 3);

		if (how == 2)
			cf_movabs(s, RBP, v);
		else
			cf_movabs(s, RSP, v);
		cf_mark(s);
		if (how == 0)
			CF_EMIT(s, "\x50"); /* push %rax */
		else if (how == 1)
			CF_EMIT(s, "\x48\x8b\x04\x24"); /* mov (%rsp), %rax */
		else
			CF_EMIT(s, "\x48\x8b\x45\x00"); /* mov 0(%rbp), %rax */
		if (k == B_STACK_NONCANON) {
			/* SS-based: #SS(0); QEMU TCG raises #GP(0) for every
			 * non-canonical access. */
			s->allow = cf_vec(V_SS) | (e->qemu ? cf_vec(V_GP) : 0);
		} else {
			s->allow = cf_vec(V_PF);
			s->err = CF_ANY;
			s->cr2 = how == 0 ? v - 8 : v;
			cf_plant(s, v - 8);
		}
		return;
	}
	case B_ODD_RSP: {
		static const uint64_t offs[] = { 1, 3, 7, 0xff9, 0x1001, 0x801 };
		int w = (int)cf_below(r, 5);
		uint64_t v = w == 0   ? stk + CF_PICK(r, offs)
			     : w == 1 ? kaddr(r, s) + 5
			     : w == 2 ? noncanon(r) + 3
			     : w == 3 ? 0x00007fffffffffffull
				      : cf_below(r, 16);

		cf_plant(s, v);
		cf_movabs(s, RSP, v);
		cf_mark(s);
		if (cf_below(r, 2)) {
			CF_EMIT(s, "\x0f\x0b");
			s->allow = cf_vec(V_UD);
		} else {
			CF_EMIT(s, "\xcc");
			s->allow = cf_vec(V_BP);
			s->rip = s->len;
		}
		s->arg[1] = v; /* the frame's RSP, exactly */
		return;
	}
	case B_AC_MISALIGNED:
		/* CR0.AM is clear: AC in user mode never raises #AC. The
		 * two stack words it reads across are set here: left over,
		 * they held earlier sequences' kernel-looking plants shifted
		 * by earlier runs of this store, and a byte mix of them read
		 * as "a kernel address in a register" (the 10^6 row, seq
		 * 75903 of seed 5966317966233268004: 0xffffffccce09ce09). */
		s->stk[s->nstk++] = 0x5a5a5a5a5a5a5a5aull;
		s->stk[s->nstk++] = 0x5a5a5a5a5a5a5a5aull;
		s->rflags |= RF_AC;
		CF_EMIT(s,
			"\x48\x8b\x44\x24\x01\x48\x89\x44\x24\x03"); /* mov 1(%rsp),%rax; mov %rax,3(%rsp) */
		s->allow = DONE;
		return;
	case B_EXEC_NX:
	case B_EXEC_KERNEL:
	case B_EXEC_NONCANON:
		s->reg[RBX] = k == B_EXEC_NX	   ? stk + 8 * cf_below(r, 512)
			      : k == B_EXEC_KERNEL ? kaddr(r, s)
						   : noncanon(r);
		cf_mark(s);
		CF_EMIT(s, "\xff\xe3"); /* jmp *%rbx */
		s->rip_abs = s->reg[RBX];
		if (k == B_EXEC_NONCANON) {
			s->allow = cf_vec(V_GP); /* on the jump, or at the target */
		} else {
			s->allow = cf_vec(V_PF);
			s->rip = CF_RIP_NONE; /* the fetch at the target */
			s->cr2 = s->reg[RBX];
			s->err = k == B_EXEC_NX ? 0x15 : CF_ANY;
		}
		return;
	case B_WRITE_CODE:
		cf_mark(s);
		CF_EMIT(s, "\x48\x89\x05\x00\x00\x00\x00"); /* mov %rax, 0(%rip) */
		s->allow = cf_vec(V_PF);
		s->err = 7;
		s->arg[2] = 3; /* CR2 = the next instruction */
		return;
	case B_NULL:
		s->reg[RDI] = cf_below(r, 4096) & ~7ull;
		s->err = access_rdi(r, s) ? 6 : 4;
		s->allow = cf_vec(V_PF);
		s->cr2 = s->reg[RDI];
		return;
	case B_LAST_FALL: {
		/* IRETQ to a few NOPs before 0x800000000000. Falling off the
		 * lower half is #GP(0) (reported at the last instruction or at
		 * the non-canonical RIP itself; an emulator may report #PF).
		 * With TF the step after the first NOP traps first: at the
		 * last byte that is a #DB with RIP 0x800000000000, which the
		 * kernel must report and never IRET to. */
		uint64_t target = CF_USER_TOP - 1 - cf_below(r, 16);
		bool tf = cf_below(r, 2);

		s->stk[s->nstk++] = target;
		s->stk[s->nstk++] = CF_UCS;
		s->stk[s->nstk++] = RF_IF | RF_ONE | (tf ? RF_TF : 0);
		s->stk[s->nstk++] = stk + 0x800;
		s->stk[s->nstk++] = CF_UDS;
		CF_EMIT(s, "\x48\xcf");
		s->rip = CF_RIP_NONE;
		if (tf) {
			s->allow = cf_vec(V_DB);
			s->rip_abs = target + 1;
		} else {
			s->allow = cf_vec(V_GP) | cf_vec(V_PF);
			s->err = CF_ANY;
			s->rip = CF_RIP_ANY;
			s->arg[2] = 4; /* RIP at the top */
		}
		return;
	}
	case B_LAST_READ: {
		uint64_t a = CF_USER_TOP - 8 + cf_below(r, 8);

		s->reg[RDI] = a;
		cf_mark(s);
		CF_EMIT(s, "\x48\x8b\x07");
		/* Inside the page: it reads NOPs; across the top: #GP(0). */
		s->allow = a == CF_USER_TOP - 8 ? DONE : cf_vec(V_GP);
		return;
	}
	}
}

const char *cf_check_boundary(const struct cf_env *e, const struct seq *s,
			      const struct cf_outcome *o)
{
	(void)e;
	if (!o->faulted)
		return NULL;
	uint64_t cr2 = o->rec.cr2, rdi = s->reg[RDI];

	switch (s->arg[2] & 0xff) {
	case 1: /* straddling access: CR2 within it */
		if (cr2 < rdi || cr2 > rdi + 7)
			return "CR2 of a straddling access";
		break;
	case 2: { /* kernel half: user (and write) bits right */
		uint64_t want = 4 | ((s->arg[2] >> 8) & 1 ? 2 : 0);

		if ((o->rec.error & ~1ull) != want)
			return "#PF error code of a kernel-half access";
		break;
	}
	case 3:
		if (cr2 != s->at + (uint64_t)s->rip + 7)
			return "CR2 of a store to code";
		break;
	case 4:
		if (o->rec.rip < CF_USER_TOP - 16 || o->rec.rip > CF_USER_TOP)
			return "RIP of a fall off the top";
		break;
	}
	if (s->arg[0] == B_ODD_RSP && o->rec.rsp != s->arg[1])
		return "the frame's RSP is not the user's";
	return NULL;
}

/* ---- random instructions ---- */

static bool byte_banned(uint8_t b)
{
	return (b >= 0x70 && b <= 0x7f) || b == 0xc2 || b == 0xc3 || b == 0xca || b == 0xcb ||
	       b == 0xcf || (b >= 0xe0 && b <= 0xe3) || b == 0xe8 || b == 0xe9 || b == 0xeb ||
	       b == 0xff;
}

static bool pair_banned(const struct cf_env *e, uint8_t a, uint8_t b)
{
	if (a == 0x0f)
		return b == 0x05 || b == 0x07 || b == 0x34 || b == 0x35 || (b >= 0x80 && b <= 0x8f);
	(void)e;
	return a == 0xc7 && b == 0xf8; /* XBEGIN */
}

/* Byte patterns QEMU TCG mishandles to the point of crashing or corrupting
 * its own state (the fuzzer found each; none is a kernel matter). Banned
 * anywhere in random code under QEMU, operands included.
 *
 * VEX prefixes (c4, c5): QEMU's decoder passes encodings a CPU rejects
 * with #UD on to translators that assume they were validated, and those
 * abort. The 10^6 row found five: VEX PINSR* with VEX.L set (gen_pinsr),
 * VROUNDSS/SD with L set ("c5 9d 3a 0a", gen_VROUNDSS "Assertion
 * `!s->vex_l' failed", seeds 4015813958 and 2875496777), an 0f 38 escape
 * after a 2-byte prefix ("c5 4c 38 0c", gen_binary_int_sse's MMX check,
 * seed 2179689669), and VAESKEYGENASSIST, VINSERTPS and VAESIMC. Banning
 * them one at a time left a CI run failing on the next (its seed not
 * reported), and a hunt found a sixth: "c4 a2 64 0c", map 2 with the
 * wrong prefix, gen_binary_int_sse again (seed 1792422592: regression row
 * qemu-cpu-fuzz-vex-abort). So random code under QEMU holds no VEX prefix
 * at all. What is
 * lost is QEMU's own decoding; the kernel's side is covered by the xstate
 * class (AVX state dirtied by explicit instructions) here and by random
 * VEX code under Bochs (bochs-cpu-fuzz), whose decoder does not abort.
 *
 * MOV to/from a segment register: QEMU indexes its segment array with the
 * register number extended by REX.R (even by a REX that legacy prefixes
 * separate from the opcode, which the CPU ignores), and accepts 1 (CS), 6
 * and 7: its own CPU state is corrupted (a triple fault followed). Bochs
 * raises #UD for REX.R. The seg_load class covers these instructions.
 *
 * INS and OUTS (6c-6f): for their #GP (no I/O permission) QEMU keeps the
 * lazily computed flags of the last flag-setting instruction under a stale
 * operation, so the flags it pushes are garbage: a general soak boot
 * (seed 3853098087, 2026-12-06) pushed RFLAGS 0x50267 for "sbb $0x67,%al;
 * rep outsb", 0x67 being the SBB's operand. Worse, the garbage can stay:
 * when the vCPU leaves its execution loop, QEMU folds the computed flags
 * into its EFLAGS (target/i386/tcg/tcg-cpu.c, x86_cpu_exec_exit), and on
 * the way back in clears only DF and the six arithmetic flags
 * (x86_cpu_exec_enter), so any other bit of the garbage is set for the
 * rest of the boot: in that boot reserved bit 5, in every RFLAGS CPU 5
 * pushed, loaded into R11 or read with PUSHF from then on (every later
 * sequence of its worker failed). A garbage VM, IOPL or NT bit would stick
 * the same way (the general soak's rare double faults had RFLAGS with
 * VM, NT and IOPL 3 in kernel mode; not shown to be this). INS/OUTS is
 * not the only trigger (t_cpufuzz.c's check of the record's RFLAGS names
 * another, with VM in the garbage), so this makes the fold rarer, not
 * impossible. The port_io class runs these instructions first thing
 * after an IRETQ, whose flags QEMU computes exactly. */
static bool qemu_aborts(uint8_t b)
{
	return b == 0xc4 || b == 0xc5 || b == 0x8e || b == 0x8c || (b >= 0x6c && b <= 0x6f);
}

static uint8_t random_byte(const struct cf_env *e, struct rng *r, struct seq *s)
{
	/* Prefixes, escapes and common opcodes more often than chance. */
	static const uint8_t hot[] = { 0x0f, 0x48, 0x66, 0xf3, 0xf2, 0xf0, 0x64, 0x65, 0x2e,
				       0x26, 0x36, 0x3e, 0x40, 0x41, 0x4c, 0xc4, 0xc5, 0x62,
				       0x8b, 0x89, 0x8e, 0x8c, 0x01, 0x00, 0xae, 0xc7, 0x9d,
				       0x9c, 0xcd, 0xcc, 0xf1, 0xce, 0xa5, 0xab, 0xd9, 0xdd };

	for (;;) {
		uint8_t b = cf_below(r, 3) ? (uint8_t)cf_rnd(r) : CF_PICK(r, hot);

		if (byte_banned(b))
			continue;
		if (s->len && pair_banned(e, s->body[s->len - 1], b))
			continue;
		if (e->qemu && qemu_aborts(b))
			continue;
		return b;
	}
}

/* Register values for random code: poison, small numbers, pointers into
 * its own stack page and code, the hole, kernel and non-canonical values. */
static uint64_t random_reg(const struct cf_env *e, struct rng *r, struct seq *s)
{
	switch (cf_below(r, 8)) {
	case 0:
		return cf_below(r, 256);
	case 1:
	case 2:
		return e->stack_page + 8 * cf_below(r, 512);
	case 3:
		return s->page + cf_below(r, 4096);
	case 4:
		return kaddr(r, s);
	case 5:
		return noncanon(r);
	case 6:
		return e->stack_page - 4096 + cf_below(r, 4096);
	default:
		return s->reg[0] ^ cf_rnd(r); /* poison-like */
	}
}

void cf_gen_random(const struct cf_env *e, struct rng *r, struct seq *s)
{
	int n = 1 + (int)cf_below(r, 40);

	s->what = "random";
	for (int i = 0; i < 16; i++) {
		if (i != RSP && cf_below(r, 2))
			s->reg[i] = random_reg(e, r, s);
	}
	s->rflags |= cf_rnd(r) & (RF_AC | RF_DF | 0x8d5);
	if (cf_below(r, 10) == 0)
		s->rflags |= RF_TF;
	if (cf_below(r, 10) == 0)
		s->rflags |= RF_NT;
	for (int i = 0; i < n; i++)
		cf_e8(s, random_byte(e, r, s));
	/* Anything but #AC (CR0.AM is clear), #NM (CR0.TS/EM clear, no XFD
	 * armed), #BR, #OF (no BOUND, INTO in 64-bit mode is #UD or INT 4),
	 * #CP (no CET enabled), or a vector no exception can raise. */
	s->allow = DONE | cf_vec(V_DE) | cf_vec(V_DB) | cf_vec(V_BP) | cf_vec(V_UD) | cf_vec(V_SS) |
		   cf_vec(V_GP) | cf_vec(V_PF) | cf_vec(V_MF) | cf_vec(V_XM);
	s->rip = CF_RIP_BODY;
}

/* ---- only for a child that dies ---- */

enum { K_SYSCALL_TOP, K_THREAD_FALLOFF, K_THREAD_HOLE, NR_K };

static void cf_generate_kill_only(const struct cf_env *e, struct rng *r, struct seq *s)
{
	int k = (int)cf_below(r, NR_K);

	s->cls = CL_KILL_ONLY;
	s->kill_only = 1;
	s->arg[0] = (uint64_t)k;
	s->err = 0;
	s->rip = CF_RIP_NONE;
	switch (k) {
	case K_SYSCALL_TOP:
		/* A SYSCALL in the last two bytes returns to 0x800000000000:
		 * the kernel kills with #GP instead (kernel/syscall.c). */
		s->what = "syscall in the last two bytes";
		s->stk[s->nstk++] = CF_USER_TOP - 2;
		s->stk[s->nstk++] = CF_UCS;
		s->stk[s->nstk++] = RF_IF | RF_ONE;
		s->stk[s->nstk++] = e->stack_page + 0x800;
		s->stk[s->nstk++] = CF_UDS;
		s->reg[RAX] = SYS_GETPID;
		CF_EMIT(s, "\x48\xcf");
		s->allow = cf_vec(V_GP);
		s->rip_abs = CF_USER_TOP;
		s->arg[1] = 1; /* the last page ends in 0f 05 */
		return;
	case K_THREAD_FALLOFF:
	case K_THREAD_HOLE:
		/* A thread that starts at the end of user space (NOPs, then
		 * 0x800000000000) or in a hole: the new thread's fault kills
		 * the process; the creating thread's call succeeds. */
		s->what = k == K_THREAD_FALLOFF ? "thread starts at the top"
						: "thread starts in a hole";
		s->reg[RAX] = SYS_THREAD_CREATE;
		s->reg[RDI] = k == K_THREAD_FALLOFF ? CF_USER_TOP - 16 + cf_below(r, 16)
						    : e->stack_page - 4096 + 16 * cf_below(r, 256);
		s->reg[RSI] = e->stack_page + 4096;
		s->reg[RDX] = 0;
		CF_EMIT(s, "\x0f\x05");
		s->allow = k == K_THREAD_FALLOFF ? cf_vec(V_GP) | cf_vec(V_PF) : cf_vec(V_PF);
		s->err = CF_ANY;
		s->rip = CF_RIP_ANY;
		s->arg[1] = 0;
		s->arg[2] = s->reg[RDI];
		return;
	}
}

/* ---- the classes ---- */

const struct cf_class cf_classes[NR_CLASSES] = {
	[CL_INT_N] = { "int_n", 60, cf_gen_int_n, NULL },
	[CL_TRAP_INSN] = { "trap_insn", 60, cf_gen_trap_insn, cf_check_trap_insn },
	[CL_PORT_IO] = { "port_io", 30, cf_gen_port_io, NULL },
	[CL_PRIV] = { "privileged", 70, cf_gen_priv, NULL },
	[CL_CRDR] = { "cr_dr", 30, cf_gen_crdr, NULL },
	[CL_DESC] = { "desc_tables", 30, cf_gen_desc, NULL },
	[CL_LARLSL] = { "lar_lsl", 30, cf_gen_larlsl, cf_check_larlsl },
	[CL_SEGLOAD] = { "seg_load", 40, cf_gen_segload, NULL },
	[CL_FAR] = { "far", 50, cf_gen_far, cf_check_far },
	[CL_SYSCALL] = { "syscall_flags", 150, cf_gen_syscall, cf_check_syscall },
	[CL_MOVSS] = { "mov_ss", 60, cf_gen_movss, cf_check_movss },
	[CL_FSGS] = { "fs_gs_base", 60, cf_gen_fsgs, cf_check_fsgs },
	[CL_XSTATE] = { "xstate", 50, cf_gen_xstate, cf_check_xstate },
	[CL_BOUNDARY] = { "boundary", 80, cf_gen_boundary, cf_check_boundary },
	[CL_RANDOM] = { "random", 200, cf_gen_random, NULL },
	[CL_KILL_ONLY] = { "kill_only", 0, NULL, NULL },
};

int cf_only_class = -1;

static uint64_t poison(int reg)
{
	return 0x5a5a5a5a5a5a0000ull | (uint64_t)reg << 8 | 0x5a;
}

/* Sequence i's defaults: its slot, poison in every register, RSP in the
 * stack page, IF set, nothing expected yet. */
static void seq_defaults(const struct cf_env *e, uint64_t i, struct seq *s)
{
	uint64_t slot = i % CF_BATCH, in_page = slot % CF_SLOTS_PER_PAGE;

	memset(s, 0, sizeof(*s));
	for (int k = 0; k < 16; k++)
		s->reg[k] = poison(k);
	s->reg[RSP] = e->stack_page + 0xa00;
	s->rflags = RF_IF | RF_ONE;
	s->err = CF_ANY;
	s->rip = CF_RIP_ANY;
	s->rip2 = CF_RIP_NONE;
	s->cr2 = CF_ANY;
	s->page = e->region + 2 * (slot / CF_SLOTS_PER_PAGE) * 4096;
	s->at = s->page + CF_EPILOGUE + in_page * CF_SLOT;
	s->tail_ok = in_page == CF_SLOTS_PER_PAGE - 1;
}

void cf_generate(const struct cf_env *e, uint64_t seed, uint64_t i, struct seq *s)
{
	struct rng r = { cf_splitmix(seed ^ cf_splitmix(i + 1)) | 1 };
	unsigned total = 0, pick;
	int c = 0;

	seq_defaults(e, i, s);
	for (int k = 0; k < NR_CLASSES; k++)
		total += cf_classes[k].weight;
	pick = (unsigned)cf_below(&r, total);
	while (pick >= cf_classes[c].weight) {
		pick -= cf_classes[c].weight;
		c++;
	}
	if (s->tail_ok && cf_below(&r, 2))
		c = CL_BOUNDARY;
	if (cf_only_class >= 0)
		c = cf_only_class;
	s->cls = (uint8_t)c;
	cf_classes[c].gen(e, &r, s);
}

void cf_generate_kill(const struct cf_env *e, uint64_t seed, uint64_t i, struct seq *s)
{
	struct rng r = { cf_splitmix(seed ^ cf_splitmix(i + 1) ^ 0x6b) | 1 };

	seq_defaults(e, i, s);
	cf_generate_kill_only(e, &r, s);
}
