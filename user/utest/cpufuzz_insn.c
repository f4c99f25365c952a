/*
 * cpu_fuzz classes of single instructions that user mode may not execute,
 * or may execute only with a defined result: software interrupts, trapping
 * and invalid one-byte instructions, port I/O, privileged instructions,
 * control and debug registers, descriptor tables, selector probes, segment
 * loads and far transfers. The documented outcome of each is in the table
 * at the top of t_cpufuzz.c; the expectations here are its details.
 *
 * Selectors (kernel GDT, arch/x86/desc.c, 8 entries): 0x08 kernel code,
 * 0x10 kernel data, 0x18 user data, 0x20 user code (64-bit), 0x28 and 0x30
 * the 64-bit TSS, 0x38 empty; no LDT, no call gates. A #GP caused by a
 * selector reports it with its RPL bits cleared (SDM Vol. 3A 6.13).
 */
#include "user/utest/cpufuzz.h"

#define NOT_CANONICAL 0x0000800000000000ull

static const uint16_t selectors[] = {
	0x00, 0x01, 0x03, 0x04, 0x07, 0x08, 0x0b, 0x10, 0x13, 0x18, 0x19, 0x1b, 0x1c,
	0x20, 0x21, 0x23, 0x27, 0x28, 0x2b, 0x30, 0x33, 0x38, 0x3b, 0x40, 0x43, 0xfff8,
};

static uint16_t any_selector(struct rng *r)
{
	return cf_below(r, 4) ? CF_PICK(r, selectors) : (uint16_t)cf_rnd(r);
}

static uint64_t sel_err(uint16_t sel)
{
	return sel & 0xfffc;
}

/* ---- int $n: only #BP's gate is open to user mode ---- */

void cf_gen_int_n(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const uint8_t prefixes[] = { 0x66, 0x48, 0xf3, 0x2e, 0x41 };
	int n = (int)cf_below(r, 256);

	(void)e;
	s->what = "int $n";
	s->arg[0] = (uint64_t)n;
	cf_mark(s);
	if (cf_below(r, 8) == 0) {
		/* LOCK is not allowed on INT: #UD before the gate is read. */
		CF_EMIT(s, "\xf0\xcd");
		cf_e8(s, (uint8_t)n);
		s->allow = cf_vec(V_UD);
		s->err = 0;
		return;
	}
	if (cf_below(r, 4) == 0)
		cf_e8(s, CF_PICK(r, prefixes));
	cf_e8(s, 0xcd);
	cf_e8(s, (uint8_t)n);
	if (n == V_BP) {
		s->allow = cf_vec(V_BP); /* a trap: RIP after the instruction */
		s->err = 0;
		s->rip = s->len;
	} else {
		s->allow = cf_vec(V_GP); /* the gate's DPL is 0: #GP(n * 8 + 2) */
		s->err = (uint64_t)n * 8 + 2;
	}
}

/* ---- trapping, invalid and flag-changing one-liners ---- */

enum {
	TI_PLAIN,
	TI_INTO_OF,
	TI_INTO_NO_OF,
	TI_POPF_IF,
	TI_POPF_IOPL,
	TI_POPF_ACDFNT,
	TI_POPF_SYS,
	TI_PUSHF,
};

struct trap_insn {
	const char *name;
	const char *bytes;
	int n;
	uint64_t allow;
	bool trap; /* RIP after the instruction */
	int kind;
	uint64_t rflags; /* added to the starting flags */
};

/* QEMU TCG executes AAM and AAD in 64-bit mode instead of #UD. */
#define TI_QEMU_RUNS 100
#define TI_NOT_QEMU  101

#define UD   (1ull << V_UD)
#define GP   (1ull << V_GP)
#define DONE (1ull << CF_DONE)
#define TI(name, b, allow, trap, kind, fl)                         \
	{                                                          \
		name, b, (int)sizeof(b) - 1, allow, trap, kind, fl \
	}

static const struct trap_insn trap_insns[] = {
	TI("int3", "\xcc", 1ull << V_BP, true, TI_PLAIN, 0),
	TI("icebp", "\xf1", 1ull << V_DB, true, TI_PLAIN, 0),
	TI("icebp tf", "\xf1", 1ull << V_DB, true, TI_PLAIN, RF_TF),
	TI("int3 tf", "\xcc", 1ull << V_BP, true, TI_PLAIN, RF_TF),
	/* INTO: #UD in 64-bit mode (SDM Vol. 2A). QEMU TCG runs it as the
	 * legacy INTO: INT 4 when OF is set (gate DPL 0: #GP(0x22)), nothing
	 * when it is clear. Both are defined ends. */
	TI("into of=1", "\xce", UD | GP, false, TI_INTO_OF, RF_OF),
	TI("into of=0", "\xce", UD | DONE, false, TI_INTO_NO_OF, 0),
	TI("ud2", "\x0f\x0b", UD, false, TI_PLAIN, 0),
	TI("ud1", "\x0f\xb9\xc0", UD, false, TI_PLAIN, 0),
	TI("ud0", "\x0f\xff\xc0", UD, false, TI_PLAIN, 0),
	TI("hlt", "\xf4", GP, false, TI_PLAIN, 0),
	TI("cli", "\xfa", GP, false, TI_PLAIN, 0),
	TI("sti", "\xfb", GP, false, TI_PLAIN, 0),
	TI("cli iopl=3 asked", "\xfa", GP, false, TI_PLAIN, RF_IOPL),
	TI("pop %ss", "\x17", UD, false, TI_PLAIN, 0),
	TI("pop %ds", "\x1f", UD, false, TI_PLAIN, 0),
	TI("pop %es", "\x07", UD, false, TI_PLAIN, 0),
	TI("push %cs", "\x0e", UD, false, TI_PLAIN, 0),
	TI("push %ss", "\x16", UD, false, TI_PLAIN, 0),
	TI("push %ds", "\x1e", UD, false, TI_PLAIN, 0),
	TI("daa", "\x27", UD, false, TI_PLAIN, 0),
	TI("aas", "\x3f", UD, false, TI_PLAIN, 0),
	TI("aam", "\xd4\x0a", UD, false, TI_QEMU_RUNS, 0),
	TI("aad", "\xd5\x0a", UD, false, TI_QEMU_RUNS, 0),
	TI("pusha", "\x60", UD, false, TI_PLAIN, 0),
	TI("popa", "\x61", UD, false, TI_PLAIN, 0),
	TI("lcall ptr16:32", "\x9a\x00\x00\x00\x00\x23\x00", UD, false, TI_PLAIN, 0),
	TI("ljmp ptr16:32", "\xea\x00\x00\x00\x00\x23\x00", UD, false, TI_PLAIN, 0),
	TI("lock nop", "\xf0\x90", UD, false, TI_PLAIN, 0),
	/* MOV to CS, or to the segment registers 6 and 7 that do not exist,
	 * is #UD (SDM Vol. 2B MOV). QEMU TCG loads CS like a data segment (a
	 * null selector puts user code in ring 0) and treats 6 and 7 as LDTR
	 * and TR (a null selector left TR null: QEMU aborted "invalid tss" at
	 * the next exception), so these are not run there. */
	TI("mov cs", "\x8e\xc8", UD, false, TI_NOT_QEMU, 0),
	TI("mov sreg6", "\x8e\xf0", UD, false, TI_NOT_QEMU, 0),
	TI("mov sreg7", "\x8e\xf8", UD, false, TI_NOT_QEMU, 0),
	TI("lock ud2", "\xf0\x0f\x0b", UD, false, TI_PLAIN, 0),
	/* POPF in user mode: IF, IOPL, VM, VIF, VIP do not change, RF is
	 * cleared, no fault (SDM Vol. 2B POPF). */
	TI("popf if=0", "\x6a\x02\x9d", DONE, false, TI_POPF_IF, 0),
	TI("popf iopl=3", "\x68\x02\x32\x00\x00\x9d", DONE, false, TI_POPF_IOPL, 0),
	TI("popf ac|df|nt|id", "\x68\x02\x46\x24\x00\x9d", DONE, false, TI_POPF_ACDFNT, 0),
	TI("popf rf|vm|vif|vip", "\x68\x02\x02\x1b\x00\x9d", DONE, false, TI_POPF_SYS, 0),
	TI("pushf", "\x9c\x58", DONE, false, TI_PUSHF, RF_AC | RF_NT | RF_DF),
};

void cf_gen_trap_insn(const struct cf_env *e, struct rng *r, struct seq *s)
{
	const struct trap_insn *t = &CF_PICK(r, trap_insns);

	if (t->kind == TI_NOT_QEMU && e->qemu)
		t = &trap_insns[0];
	s->what = t->name;
	s->arg[0] = (uint64_t)t->kind;
	s->rflags |= t->rflags;
	cf_mark(s);
	cf_eb(s, t->bytes, t->n);
	s->allow = t->allow;
	if (t->kind == TI_QEMU_RUNS && e->qemu)
		s->allow |= DONE;
	s->err = t->kind == TI_INTO_OF ? CF_ANY : 0;
	if (t->trap)
		s->rip = s->len;
	if (t->kind == TI_POPF_IF || t->kind == TI_POPF_IOPL || t->kind == TI_POPF_ACDFNT ||
	    t->kind == TI_POPF_SYS)
		s->rip = CF_RIP_ANY;
}

const char *cf_check_trap_insn(const struct cf_env *e, const struct seq *s,
			       const struct cf_outcome *o)
{
	(void)e;
	uint64_t f = o->rflags;

	switch (s->arg[0]) {
	case TI_INTO_OF:
		if (o->faulted && o->rec.error != (o->vector == V_GP ? 0x22u : 0u))
			return "INTO's error code";
		return NULL;
	case TI_POPF_IF:
		return (f & RF_IF) ? NULL : "POPF cleared IF in user mode";
	case TI_POPF_IOPL:
		return (f & (RF_IOPL | RF_IF)) == RF_IF ? NULL : "POPF changed IOPL or IF";
	case TI_POPF_ACDFNT:
		if ((f & (RF_AC | RF_DF | RF_NT | RF_ID)) != (RF_AC | RF_DF | RF_NT | RF_ID))
			return "POPF did not set AC, DF, NT and ID";
		return (f & RF_IOPL) ? "IOPL set" : NULL;
	case TI_POPF_SYS:
		return (f & (RF_RF | RF_VM | RF_VIF | RF_VIP)) ? "POPF set RF, VM, VIF or VIP"
							       : NULL;
	case TI_PUSHF:
		/* The image PUSHF stored: the live flags, RF and VM clear. */
		if (o->regs[RAX] & (RF_RF | RF_VM | RF_IOPL | RF_TF))
			return "PUSHF image holds RF, VM, IOPL or TF";
		return (o->regs[RAX] & (RF_AC | RF_NT | RF_DF)) == (RF_AC | RF_NT | RF_DF)
			       ? NULL
			       : "PUSHF image lost AC, NT or DF";
	}
	return NULL;
}

/* ---- port I/O: no I/O bitmap, IOPL 0: always #GP(0) ---- */

void cf_gen_port_io(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const uint8_t ops[] = { 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed,
				       0xee, 0xef, 0x6c, 0x6d, 0x6e, 0x6f };
	/* The emulators' own exits (0xf4 QEMU's isa-debug-exit, 0x8900 Bochs's
	 * shutdown port), the PIC, PIT, RTC, PCI config, COM1, POST. */
	static const uint16_t ports[] = { 0xf4,	 0x8900, 0x8a00, 0x20,	0x21,  0x40,  0x43,
					  0x60,	 0x64,	 0x70,	 0x71,	0x80,  0x92,  0xa0,
					  0xcf8, 0xcfc,	 0x3f8,	 0x3fd, 0x402, 0x510, 0xb004 };
	uint8_t op = CF_PICK(r, ops);

	s->what = "port I/O";
	s->reg[RDX] = cf_below(r, 2) ? CF_PICK(r, ports) : cf_below(r, 0x10000);
	s->reg[RAX] = cf_rnd(r) & 0xffffffff;
	s->reg[RCX] = cf_below(r, 8);
	s->reg[RSI] = s->reg[RDI] = e->stack_page + 0x100;
	if (cf_below(r, 4) == 0)
		s->rflags |= RF_IOPL; /* asked for; IRET in user mode ignores it */
	cf_expect_fault(s, V_GP, 0);
	if (cf_below(r, 3) == 0)
		cf_e8(s, 0x66);
	if (op >= 0x6c && op <= 0x6f && cf_below(r, 2))
		cf_e8(s, 0xf3);
	cf_e8(s, op);
	if (op >= 0xe4 && op <= 0xe7)
		cf_e8(s, (uint8_t)s->reg[RDX]);
	s->arg[0] = s->reg[RDX];
}

/* ---- privileged and system instructions ---- */

enum { PS_NONE, PS_MSR, PS_ECX0, PS_ECX1, PS_ECX_BAD, PS_STACK, PS_CPUID, PS_LTR };

struct priv_insn {
	const char *name;
	const char *bytes;
	int n;
	uint64_t allow;
	int setup;
	int feature; /* 1 rdtscp, 2 rdpid, 3 fsgsbase: DONE with it, #UD without; 4: QEMU
		      * TCG lets user mode run it (no privilege check) */
};

#define PI(name, b, allow, setup)                            \
	{                                                    \
		name, b, (int)sizeof(b) - 1, allow, setup, 0 \
	}
#define PIF(name, b, setup, feat)                           \
	{                                                   \
		name, b, (int)sizeof(b) - 1, 0, setup, feat \
	}
#define PIQ(name, b, allow, setup)                           \
	{                                                    \
		name, b, (int)sizeof(b) - 1, allow, setup, 4 \
	}

static const struct priv_insn priv_insns[] = {
	PI("rdmsr", "\x0f\x32", GP, PS_MSR),
	PI("wrmsr", "\x0f\x30", GP, PS_MSR),
	PI("rdpmc", "\x0f\x33", GP, PS_ECX0),
	PI("clts", "\x0f\x06", GP, PS_NONE),
	PIQ("invd", "\x0f\x08", GP, PS_NONE),
	PIQ("wbinvd", "\x0f\x09", GP, PS_NONE),
	PIQ("wbnoinvd", "\xf3\x0f\x09", GP, PS_NONE),
	PI("invlpg", "\x0f\x01\x38", GP, PS_STACK),
	PI("lmsw", "\x0f\x01\xf0", GP, PS_NONE),
	PI("swapgs", "\x0f\x01\xf8", GP, PS_NONE),
	PI("sysretq", "\x48\x0f\x07", GP, PS_NONE),
	PI("sysretl", "\x0f\x07", GP, PS_NONE),
	/* SYSENTER/SYSEXIT: #GP(0) on Intel (SYSENTER_CS is 0; CPL 3), #UD in
	 * 64-bit mode on AMD (QEMU TCG's vendor). */
	PI("sysexit", "\x0f\x35", GP | UD, PS_NONE),
	PI("sysenter", "\x0f\x34", GP | UD, PS_NONE),
	PI("xsetbv", "\x0f\x01\xd1", GP, PS_ECX0),
	PIQ("xsaves", "\x48\x0f\xc7\x2c\x24", GP | UD, PS_STACK),
	PIQ("xrstors", "\x48\x0f\xc7\x1c\x24", GP | UD, PS_STACK),
	PI("invpcid", "\x66\x0f\x38\x82\x04\x24", GP | UD, PS_STACK),
	PI("stac", "\x0f\x01\xcb", UD, PS_NONE),
	PI("clac", "\x0f\x01\xca", UD, PS_NONE),
	PI("monitor", "\x0f\x01\xc8", UD | GP, PS_STACK),
	PI("mwait", "\x0f\x01\xc9", UD | GP, PS_ECX0),
	PI("vmcall", "\x0f\x01\xc1", UD | GP, PS_NONE),
	PI("vmmcall", "\x0f\x01\xd9", UD | GP, PS_NONE),
	PI("vmxoff", "\x0f\x01\xc4", UD | GP, PS_NONE),
	PI("lgdt", "\x0f\x01\x14\x24", GP, PS_STACK),
	PI("lidt", "\x0f\x01\x1c\x24", GP, PS_STACK),
	PI("lldt", "\x0f\x00\xd0", GP, PS_LTR),
	PI("ltr", "\x0f\x00\xd8", GP, PS_LTR),
	PI("hreset", "\xf3\x0f\x3a\xf0\xc0\x00", GP | UD, PS_NONE),
	PI("encls", "\x0f\x01\xcf", UD | GP, PS_NONE),
	PI("enclu", "\x0f\x01\xd7", UD | GP, PS_NONE),
	PI("pconfig", "\x0f\x01\xc5", UD | GP, PS_NONE),
	PI("getsec", "\x0f\x37", UD | GP, PS_NONE),
	PI("rsm", "\x0f\xaa", UD, PS_NONE),
	PI("rdtsc", "\x0f\x31", DONE, PS_NONE),
	PI("cpuid", "\x0f\xa2", DONE, PS_CPUID),
	PI("xgetbv 0", "\x0f\x01\xd0", DONE, PS_ECX0),
	PI("xgetbv 1", "\x0f\x01\xd0", DONE | GP, PS_ECX1),
	PI("xgetbv bad", "\x0f\x01\xd0", GP, PS_ECX_BAD),
	/* 32-bit forms: a random 64-bit RAX looks like a kernel address
	 * once in 2^17 and failed the register check (seed
	 * 9054685606094686446, seq 95640: rax 0xffff8d8e2c536258). */
	PI("rdrand", "\x0f\xc7\xf0", DONE | UD, PS_NONE),
	PI("rdseed", "\x0f\xc7\xf8", DONE | UD, PS_NONE),
	PI("rdpkru", "\x0f\x01\xee", DONE | UD, PS_ECX0),
	PI("wrpkru", "\x0f\x01\xef", DONE | UD | GP, PS_ECX0),
	/* User interrupts: not enabled (CR4.UINTR clear): #UD; where the CPU
	 * lacks them the encodings may decode as something harmless. */
	PI("clui", "\xf3\x0f\x01\xee", UD | DONE, PS_NONE),
	PI("stui", "\xf3\x0f\x01\xef", UD | DONE, PS_NONE),
	PI("testui", "\xf3\x0f\x01\xed", UD | DONE, PS_NONE),
	PI("uiret", "\xf3\x0f\x01\xec", UD | DONE | GP, PS_NONE),
	PI("senduipi", "\xf3\x0f\xc7\xf0", UD | DONE, PS_NONE),
	PI("serialize", "\x0f\x01\xe8", DONE | UD, PS_NONE),
	PI("endbr64", "\xf3\x0f\x1e\xfa", DONE, PS_NONE),
	PI("rdsspq", "\xf3\x48\x0f\x1e\xc8", DONE, PS_NONE),
	PI("incsspq", "\xf3\x48\x0f\xae\xe8", DONE | UD, PS_NONE),
	PI("umonitor", "\xf3\x0f\xae\xf0", DONE | UD | GP, PS_STACK),
	PI("umwait", "\xf2\x0f\xae\xf0", DONE | UD, PS_ECX0),
	PI("tpause", "\x66\x0f\xae\xf0", DONE | UD, PS_ECX0),
	PI("ptwrite", "\xf3\x48\x0f\xae\xe0", DONE | UD, PS_NONE),
	PI("xtest", "\x0f\x01\xd6", DONE | UD, PS_NONE),
	PI("xend", "\x0f\x01\xd5", UD | GP, PS_NONE),
	PI("clflush", "\x0f\xae\x3c\x24", DONE, PS_STACK),
	PI("clflushopt", "\x66\x0f\xae\x3c\x24", DONE | UD, PS_STACK),
	/* a sequence's fence: it orders nothing of ours (no pair) */
	PI("mfence", "\x0f\xae\xf0", DONE, PS_NONE),
	PI("pause", "\xf3\x90", DONE, PS_NONE),
	PIF("rdtscp", "\x0f\x01\xf9", PS_NONE, 1),
	PIF("rdpid", "\xf3\x0f\xc7\xf8", PS_NONE, 2),
	PIF("rdfsbase", "\xf3\x48\x0f\xae\xc0", PS_NONE, 3),
	PIF("rdgsbase", "\xf3\x48\x0f\xae\xc8", PS_NONE, 3),
};

void cf_gen_priv(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const uint32_t msrs[] = { 0x10,	     0x1b,	 0x1a0,	     0x6e0,
					 0xd93,	     0xc0000080, 0xc0000081, 0xc0000082,
					 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102 };
	static const uint32_t leaves[] = { 0, 1, 7, 0xb, 0xd, 0x14, 0x1f, 0x80000001, 0x80000008 };
	const struct priv_insn *p = &CF_PICK(r, priv_insns);

	s->what = p->name;
	s->allow = p->allow;
	if (p->feature == 4) {
		if (e->qemu)
			s->allow |= DONE;
	} else if (p->feature) {
		bool has = p->feature == 1 ? e->rdtscp : p->feature == 2 ? e->rdpid : e->fsgsbase;

		s->allow = has ? DONE : UD;
	}
	s->err = 0;
	switch (p->setup) {
	case PS_MSR:
		s->reg[RCX] = CF_PICK(r, msrs);
		s->reg[RAX] = s->reg[RDX] = 0;
		break;
	case PS_ECX0:
		s->reg[RCX] = 0;
		s->reg[RAX] = s->reg[RDX] = 0;
		break;
	case PS_ECX1:
		s->reg[RCX] = 1;
		break;
	case PS_ECX_BAD:
		s->reg[RCX] = 2 + cf_below(r, 0xfffffff0);
		break;
	case PS_STACK:
		s->reg[RAX] = s->reg[RSP];
		break;
	case PS_CPUID:
		s->reg[RAX] = cf_below(r, 4) ? CF_PICK(r, leaves) : cf_rnd(r) & 0xffffffff;
		s->reg[RCX] = cf_below(r, 4);
		break;
	case PS_LTR:
		s->reg[RAX] = CF_PICK(r, selectors);
		break;
	}
	cf_mark(s);
	cf_eb(s, p->bytes, p->n);
}

/* ---- control and debug registers: #GP(0) in user mode; a register that
 * does not exist may be #UD first (decode before privilege) ---- */

void cf_gen_crdr(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const uint8_t ops[] = { 0x20, 0x22, 0x21, 0x23 }; /* mov from/to cr, dr */
	uint8_t op = CF_PICK(r, ops);
	int n = (int)cf_below(r, 16), rm = (int)cf_below(r, 16);
	bool cr = op == 0x20 || op == 0x22;

	(void)e;
	s->what = cr ? "mov cr" : "mov dr";
	s->arg[0] = (uint64_t)n;
	cf_expect_fault(s, V_GP, 0);
	if (cr ? !(n == 0 || n == 2 || n == 3 || n == 4 || n == 8) : n >= 4)
		s->allow |= UD; /* CR1, CR5-7, CR9-15, DR8-15; DR4/5 alias or #UD */
	if (cr && n == 0 && cf_below(r, 8) == 0) {
		/* LOCK MOV CR0: AMD's CR8 encoding, #UD elsewhere. */
		CF_EMIT(s, "\xf0\x0f\x20\xc0");
		s->allow |= UD;
		return;
	}
	if (n >= 8 || rm >= 8 || cf_below(r, 2))
		cf_e8(s, (uint8_t)(0x48 | (n >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0)));
	cf_e8(s, 0x0f);
	cf_e8(s, op);
	cf_e8(s, (uint8_t)(0xc0 | (n & 7) << 3 | (rm & 7)));
}

/* ---- descriptor tables: UMIP makes the stores #GP(0); the loads always ---- */

void cf_gen_desc(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const struct {
		const char *name, *b;
		int n;
		bool store;
	} ops[] = {
		{ "sgdt", "\x0f\x01\x04\x24", 4, true },  { "sidt", "\x0f\x01\x0c\x24", 4, true },
		{ "sldt", "\x0f\x00\xc0", 3, true },	  { "str", "\x0f\x00\xc8", 3, true },
		{ "smsw", "\x0f\x01\xe0", 3, true },	  { "sldt m", "\x0f\x00\x04\x24", 4, true },
		{ "str m", "\x0f\x00\x0c\x24", 4, true }, { "smsw m", "\x0f\x01\x24\x24", 4, true },
		{ "lgdt", "\x0f\x01\x14\x24", 4, false }, { "lidt", "\x0f\x01\x1c\x24", 4, false },
		{ "lldt", "\x0f\x00\xd0", 3, false },	  { "ltr", "\x0f\x00\xd8", 3, false },
	};
	int i = (int)cf_below(r, sizeof(ops) / sizeof(ops[0]));

	s->what = ops[i].name;
	s->reg[RAX] = cf_below(r, 2) ? 0x28 : 0;
	cf_expect_fault(s, V_GP, 0);
	if (ops[i].store && !e->umip)
		s->allow = DONE; /* umip=off: the bases are readable, by that switch's design */
	cf_eb(s, ops[i].b, ops[i].n);
}

/* ---- LAR, LSL, VERR, VERW: never fault on a register operand; ZF says
 * whether the selector names a descriptor visible at CPL 3 ---- */

enum { LL_LAR, LL_LSL, LL_VERR, LL_VERW };

void cf_gen_larlsl(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const char *const names[] = { "lar", "lsl", "verr", "verw" };
	int op = (int)cf_below(r, 4);
	uint16_t sel = any_selector(r);

	(void)e;
	s->what = names[op];
	s->arg[0] = (uint64_t)op;
	s->arg[1] = sel;
	s->allow = DONE;
	s->reg[RAX] = 0x5a5a5a5a5a5a1111ull;
	if (cf_below(r, 2))
		s->rflags |= RF_ZF; /* must be cleared when the selector is not visible */
	cf_e8(s, 0xb9);		    /* mov $sel, %ecx */
	cf_e32(s, sel);
	switch (op) {
	case LL_LAR:
		CF_EMIT(s, "\x48\x0f\x02\xc1");
		break;
	case LL_LSL:
		CF_EMIT(s, "\x48\x0f\x03\xc1");
		break;
	case LL_VERR:
		CF_EMIT(s, "\x0f\x00\xe1");
		break;
	default:
		CF_EMIT(s, "\x0f\x00\xe9");
		break;
	}
	CF_EMIT(s, "\x9c\x5a"); /* pushf; pop %rdx: the flags right after it */
}

const char *cf_check_larlsl(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o)
{
	(void)e;
	int op = (int)s->arg[0];
	uint16_t sel = (uint16_t)s->arg[1];
	int idx = sel >> 3;
	bool gdt = !(sel & 4), zf = o->regs[RDX] & RF_ZF;
	/* Visible at CPL 3: the user data (3) and code (4) descriptors, any
	 * RPL; VERW needs writable data; everything else has DPL 0, is a
	 * system descriptor of DPL 0, empty, or outside the GDT. */
	bool ok = gdt && (idx == 3 || (idx == 4 && op != LL_VERW));

	if (zf != ok)
		return ok ? "ZF clear for a user descriptor" : "ZF set for a kernel descriptor";
	if (!ok && (op == LL_LAR || op == LL_LSL) && o->regs[RAX] != s->reg[RAX])
		return "LAR/LSL wrote their destination with ZF clear";
	if (ok && op == LL_LSL && o->regs[RAX] != 0xffffffffull)
		return "LSL limit of a user segment is not 4 GiB - 1";
	if (ok && op == LL_LAR) {
		/* Type/DPL/P in 8..15, AVL/L/D/G in 20..23; 16..19 are
		 * undefined (Bochs returns the limit's top bits there); the
		 * accessed bit may have been set by a load. */
		uint64_t want = idx == 3 ? 0x00c0f200 : 0x00a0fa00;

		if ((o->regs[RAX] & ~0xf0100ull) != want)
			return "LAR access rights of a user segment";
	}
	return NULL;
}

/* ---- segment register loads: only null (not SS), user data and readable
 * user code (not SS) load; everything else is #GP(selector) ---- */

enum { SR_DS, SR_ES, SR_FS, SR_GS, SR_SS };

static uint64_t seg_load_result(int sr, uint16_t sel, uint64_t *err)
{
	int idx = sel >> 3;
	bool ti = sel & 4;

	*err = sel_err(sel);
	if (sr == SR_SS) {
		if (sel == CF_UDS)
			return DONE;
		if (!ti && idx == 0)
			*err = 0;
		return GP;
	}
	if (!ti && (idx == 0 || idx == 3 || idx == 4))
		return DONE;
	return GP;
}

void cf_gen_segload(const struct cf_env *e, struct rng *r, struct seq *s)
{
	static const char *const movs[] = { "\x8e\xd8", "\x8e\xc0", "\x8e\xe0", "\x8e\xe8",
					    "\x8e\xd0" };
	static const char *const names[] = { "mov ds", "mov es", "mov fs", "mov gs", "mov ss" };
	uint16_t sel = cf_below(r, 3) ? any_selector(r) : CF_UDS;
	int form = (int)cf_below(r, 4), sr = (int)cf_below(r, 5);

	(void)e;
	s->reg[RAX] = sel;
	if (form == 1 && (sr == SR_FS || sr == SR_GS)) {
		s->what = sr == SR_FS ? "pop fs" : "pop gs";
		s->stk[s->nstk++] = sel;
		cf_mark(s);
		CF_EMIT(s, "\x0f");
		cf_e8(s, sr == SR_FS ? 0xa1 : 0xa9);
	} else if (form == 2 && (sr == SR_SS || sr == SR_FS || sr == SR_GS)) {
		/* lss/lfs/lgs m16:32 (no REX.W: AMD has no m16:64 form) */
		s->what = sr == SR_SS ? "lss" : sr == SR_FS ? "lfs" : "lgs";
		s->stk[s->nstk++] = 0x12345678ull | (uint64_t)sel << 32;
		cf_mark(s);
		CF_EMIT(s, "\x0f");
		cf_e8(s, sr == SR_SS ? 0xb2 : sr == SR_FS ? 0xb4 : 0xb5);
		CF_EMIT(s, "\x04\x24");
	} else {
		s->what = names[sr];
		cf_mark(s);
		cf_eb(s, movs[sr], 2);
	}
	CF_EMIT(s, "\x90"); /* after MOV SS: the instruction in its shadow */
	s->allow = seg_load_result(sr, sel, &s->err);
	s->arg[0] = sel;
}

/* ---- far transfers: JMP and CALL through m16:32 to a landing pad in the
 * program's text, LRETQ and IRETQ with every kind of selector ---- */

void cf_far_land(void); /* cpufuzz_run.S: jmp *%rbx */

static uint64_t far_jmp_result(uint16_t sel, uint64_t *err)
{
	int idx = sel >> 3;

	*err = sel_err(sel);
	if (!(sel & 4) && idx == 4)
		return DONE; /* user code, any RPL: RPL <= CPL is enough for JMP/CALL */
	return GP;
}

/* RET/IRET to CPL 3: CS must have RPL 3 (RPL < CPL is #GP) and be the
 * user code descriptor (DPL must equal RPL). */
static uint64_t ret_cs_result(uint16_t sel, uint64_t *err)
{
	*err = sel_err(sel);
	return sel == CF_UCS ? DONE : GP;
}

enum { FAR_JMP, FAR_CALL, FAR_LRET, FAR_IRET };

static void gen_far_jmp(const struct cf_env *e, struct rng *r, struct seq *s, int kind)
{
	uint16_t sel = cf_below(r, 2) ? CF_UCS : any_selector(r);

	/* QEMU TCG aborts ("invalid tss") on a far JMP/CALL to a TSS in long
	 * mode instead of #GP(selector): not there. */
	if (e->qemu && (sel >> 3) == 5 && !(sel & 4))
		sel = CF_UCS;

	s->what = kind == FAR_JMP ? "ljmp m16:32" : "lcall m16:32";
	s->reg[RBX] = s->page; /* the landing pad jumps to the epilogue */
	s->stk[s->nstk++] = (uint64_t)(uintptr_t)cf_far_land | (uint64_t)sel << 32;
	s->allow = far_jmp_result(sel, &s->err);
	/* QEMU TCG pushes a CALL m16:32's return address through a 32-bit
	 * stack pointer: a #PF at the truncated address. */
	if (kind == FAR_CALL && e->qemu && (s->allow & DONE)) {
		s->allow |= cf_vec(V_PF);
		s->err = CF_ANY;
	}
	cf_mark(s);
	cf_e8(s, 0xff);
	cf_e8(s, kind == FAR_JMP ? 0x2c : 0x1c);
	cf_e8(s, 0x24);
	if (s->allow & DONE)
		s->rip = CF_RIP_ANY;
	s->arg[1] = sel;
}

/* LRETQ / IRETQ to the instruction after it, with at most one thing wrong
 * in the frame (so that the fault is known exactly). */
static void gen_far_ret(const struct cf_env *e, struct rng *r, struct seq *s, int kind)
{
	int bad = (int)cf_below(r, kind == FAR_IRET ? 6 : 3);
	uint16_t cs = bad == 1 ? any_selector(r) : CF_UCS;
	uint16_t ss = bad == 3 ? any_selector(r) : CF_UDS;
	uint64_t rsp =
		bad == 4 ? 0x0000800000000000ull + cf_below(r, 1 << 20) * 8 : e->stack_page + 0x800;
	uint64_t fl = RF_IF | RF_ONE | (cf_rnd(r) & (RF_CF | RF_ZF | RF_DF | RF_AC | RF_ID));

	if (cf_below(r, 4) == 0)
		fl |= RF_IOPL | RF_VM | RF_VIF | RF_VIP; /* CPL 3 cannot change these */
	if (cf_below(r, 6) == 0)
		fl |= RF_TF;
	if (cf_below(r, 8) == 0)
		fl |= RF_NT;
	if (cf_below(r, 8) == 0)
		fl |= RF_RF;
	if (kind == FAR_IRET && bad == 5)
		s->rflags |= RF_NT; /* IRET with NT set in 64-bit mode: #GP(0) */
	s->what = kind == FAR_LRET ? "lretq" : "iretq";
	s->arg[1] = cs;
	s->arg[2] = fl;
	cf_mark(s);
	cf_e8(s, 0x48);
	cf_e8(s, kind == FAR_LRET ? 0xcb : 0xcf);
	int target = s->len;

	CF_EMIT(s, "\x90\x90");
	uint64_t rip =
		bad == 2 ? 0x0000800000000000ull + cf_below(r, 1 << 20) : s->at + (uint64_t)target;

	s->stk[s->nstk++] = rip;
	s->stk[s->nstk++] = cs;
	if (kind == FAR_IRET) {
		s->stk[s->nstk++] = fl;
		s->stk[s->nstk++] = rsp;
		s->stk[s->nstk++] = ss;
	}
	s->arg[3] = rsp;
	s->err = 0;
	if (kind == FAR_IRET && bad == 5) {
		s->allow = GP;
		return;
	}
	s->allow = ret_cs_result(cs, &s->err);
	if (!(s->allow & DONE))
		return;
	if (ss != CF_UDS) {
		/* SS must be writable data with DPL = RPL = 3; a null SS
		 * cannot return to CPL 3 in 64-bit mode: #GP(0). */
		s->allow = GP;
		s->err = !(ss & 4) && (ss >> 3) == 0 ? 0 : sel_err(ss);
		return;
	}
	if (bad == 2) {
		/* A non-canonical return address: #GP(0) on the return, or
		 * reported at the target itself. */
		s->allow = GP;
		s->err = 0;
		s->rip_abs = rip;
		return;
	}
	if (rsp >= 0x0000800000000000ull)
		s->allow |= GP; /* whether IRET checks the new RSP is not documented */
	if ((fl & RF_TF) && kind == FAR_IRET) {
		s->allow = cf_vec(V_DB) | (s->allow & GP); /* after the first NOP */
		s->rip = target + 1;
		return;
	}
	s->rip = CF_RIP_ANY;
}

void cf_gen_far(const struct cf_env *e, struct rng *r, struct seq *s)
{
	int kind = (int)cf_below(r, 4);

	s->arg[0] = (uint64_t)kind;
	if (kind == FAR_JMP || kind == FAR_CALL)
		gen_far_jmp(e, r, s, kind);
	else
		gen_far_ret(e, r, s, kind);
}

const char *cf_check_far(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o)
{
	(void)e;
	if (s->arg[0] != FAR_IRET || o->faulted)
		return NULL;
	/* User mode cannot change IOPL, IF, VM, VIF, VIP by IRET; RF is
	 * cleared once the first instruction completes. */
	uint64_t want =
		(s->arg[2] & (RF_CF | RF_ZF | RF_DF | RF_AC | RF_ID | RF_NT)) | RF_IF | RF_ONE;

	if (o->rflags != want)
		return "flags after IRETQ";
	if (o->regs[RSP] != s->arg[3])
		return "RSP after IRETQ";
	return NULL;
}
