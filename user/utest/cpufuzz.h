/*
 * cpu_fuzz, shared between its files: t_cpufuzz.c (the test: child
 * processes, worker threads, batches, the checks common to every sequence,
 * the children killed by a sequence, the leak check; the design and the
 * table of documented outcomes are there), cpufuzz_gen.c (the sequence
 * classes: what each emits and what it expects) and cpufuzz_run.S (entering
 * and leaving a sequence).
 */
#pragma once

#include "user/utest/utest.h"
#include "user/lib/syscall.h"
#include "include/uapi/test.h"
#include "user/utest/cpufuzz_ctx.h"

#define CF_USER_TOP	  0x0000800000000000ull
#define CF_KADDR_MIN	  0xffff800000000000ull
#define CF_LAST_PAGE	  0x00007ffffffff000ull
#define CF_REGION	  0x0000600000000000ull /* worker w's region: + w * CF_REGION_STEP */
#define CF_REGION_STEP	  (1ull << 33) /* > 2 GiB apart: RIP-relative code reaches its own */
#define CF_CODE_PAGES	  16	       /* at region + 2 * i pages; the odd pages are holes */
#define CF_STACK_PAGE	  40	       /* the sequences' stack page (holes around it) */
#define CF_BUF_PAGE	  48	       /* system-call output (e->buf) */
#define CF_PARK_PAGE	  50	       /* where the epilogue parks RAX (nothing else) */
#define CF_EPILOGUE	  192	       /* bytes at the start of each code page */
#define CF_SLOT		  128
#define CF_SLOTS_PER_PAGE ((4096 - CF_EPILOGUE) / CF_SLOT) /* 30; the last is the tail slot */
#define CF_BATCH	  (CF_CODE_PAGES * CF_SLOTS_PER_PAGE)
#define CF_BODY_MAX	  96
#define CF_PAD		  15 /* NOPs after a body: an instruction cut short ends in them */
#define CF_UCS		  0x23
#define CF_UDS		  0x1b
#define CF_DONE		  32   /* outcome bit: the sequence reached its epilogue */
#define CF_RIP_BODY	  (-1) /* a fault anywhere in [body, body + len + pad] */
#define CF_RIP_ANY	  (-2) /* not checked here (the class checks it) */
#define CF_RIP_NONE	  (-3)
#define CF_ANY		  (~0ull)
#define CF_MAX_PLANTED	  12

#define RF_CF	(1ull << 0)
#define RF_ONE	(1ull << 1)
#define RF_ZF	(1ull << 6)
#define RF_TF	(1ull << 8)
#define RF_IF	(1ull << 9)
#define RF_DF	(1ull << 10)
#define RF_OF	(1ull << 11)
#define RF_IOPL (3ull << 12)
#define RF_NT	(1ull << 14)
#define RF_RF	(1ull << 16)
#define RF_VM	(1ull << 17)
#define RF_AC	(1ull << 18)
#define RF_VIF	(1ull << 19)
#define RF_VIP	(1ull << 20)
#define RF_ID	(1ull << 21)

/* Register numbers as the instruction encoding has them. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

struct cf_ctx {
	uint64_t load[15]; /* RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8..R15 */
	uint64_t frame[5]; /* RIP, CS, RFLAGS, RSP, SS */
	uint64_t out[16];  /* load order, then RSP */
	uint64_t out_rflags, out_fs, out_gs;
	uint64_t host_rsp, exit_fn, fsgs;
	uint32_t mxcsr, pad0;
	uint64_t seen[16];
	uint64_t seen_rflags;
	uint64_t pad1[4];
	struct syst_fault_rec rec;
	uint8_t xmm_in[256], xmm_out[256];
	uint8_t stack[256], catch_stack[512];
} __attribute__((aligned(64)));

/* One sequence: its code, how it starts, what it may end in. */
struct seq {
	uint8_t cls;
	uint8_t len;	   /* body bytes */
	uint8_t tail;	   /* placed to end exactly at its page's end (then the hole) */
	uint8_t kill_only; /* cannot be diverted: only run in a child that it kills */
	uint8_t body[CF_BODY_MAX];
	uint64_t reg[16]; /* initial registers by encoding number; reg[RSP] is the RSP */
	uint64_t rflags;
	uint64_t stk[12]; /* written at the initial RSP upwards */
	int nstk;
	uint64_t xmm_pattern; /* nonzero: XMM0-15 loaded from it and must come back */
	/* Expectations. */
	uint64_t allow;	  /* bit v: killed or diverted by vector v; bit CF_DONE: completes */
	uint64_t err;	  /* the fault's error code, or CF_ANY */
	int rip, rip2;	  /* fault RIP as an offset in the body, CF_RIP_BODY or CF_RIP_ANY;
			     rip2 another allowed offset (or CF_RIP_NONE) */
	uint64_t rip_abs; /* nonzero: the fault RIP may also be this address */
	uint64_t cr2;	  /* a #PF's address, or CF_ANY */
	uint64_t planted[CF_MAX_PLANTED]; /* kernel-looking values the sequence itself holds */
	int nplanted;
	uint64_t arg[4];   /* for the class's own check */
	uint64_t at, page; /* where the body starts, and its code page */
	bool tail_ok;	   /* this slot may hold a body that ends at the page's end */
	const char *what;
};

/* What happened. */
struct cf_outcome {
	bool faulted;
	uint64_t vector; /* CF_DONE when it completed */
	struct syst_fault_rec rec;
	uint64_t regs[16]; /* by encoding number: at the end, or as the handler saw them */
	uint64_t rflags, fs, gs;
	const uint8_t *xmm_in, *xmm_out; /* XMM0-15 loaded and found */
};

/* What a sequence may rely on. */
struct cf_env {
	uint64_t region, stack_page; /* this worker's */
	uint64_t scratch;	     /* a page-sized hole in the region that map/unmap use */
	uint64_t pid, tid;
	bool fsgsbase, umip, smap, avx, avx512, amx, rdpid, rdtscp, xsavec;
	bool last_page; /* the last user page is mapped: NOPs, RX */
	bool qemu;	/* QEMU TCG: its known deviations are accepted (t_cpufuzz.c) */
	bool la57;	/* the CPU has 5-level paging (not enabled) */
	uint64_t xcr0;
	uint8_t *buf;		    /* this worker's page for system-call output */
	const uint8_t *xsave_image; /* a valid XSAVE image (standard form), 64-aligned */
	uint32_t xsave_size;
	char platform[16], counter0[48]; /* kinfo(KINFO_PLATFORM), counter_name(0) */
};

struct rng {
	uint64_t s;
};

static inline uint64_t cf_splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t cf_rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static inline uint64_t cf_below(struct rng *r, uint64_t n)
{
	return cf_rnd(r) % n;
}

static inline bool cf_kernel_looking(uint64_t v)
{
	return v >= CF_KADDR_MIN && v < (uint64_t)-4095;
}

/* The classes (cpufuzz_gen.c). */
enum {
	CL_INT_N,
	CL_TRAP_INSN,
	CL_PORT_IO,
	CL_PRIV,
	CL_CRDR,
	CL_DESC,
	CL_LARLSL,
	CL_SEGLOAD,
	CL_FAR,
	CL_SYSCALL,
	CL_MOVSS,
	CL_FSGS,
	CL_XSTATE,
	CL_BOUNDARY,
	CL_RANDOM,
	CL_KILL_ONLY,
	NR_CLASSES
};

struct cf_class {
	const char *name;
	unsigned weight; /* in 1000ths of the sequences */
	void (*gen)(const struct cf_env *e, struct rng *r, struct seq *s);
	/* Extra checks when the common ones passed; returns a reason or NULL. */
	const char *(*check)(const struct cf_env *e, const struct seq *s,
			     const struct cf_outcome *o);
};

extern const struct cf_class cf_classes[NR_CLASSES];
/* cpu_fuzz_only=NAME: every sequence from that class (debugging). */
extern int cf_only_class;
int cf_class_by_name(const char *name);

/* Generate sequence number i of a worker's stream (cpufuzz_gen.c). */
void cf_generate(const struct cf_env *e, uint64_t seed, uint64_t i, struct seq *s);
/* A kill-only sequence for slot i (a SYSCALL in the last two bytes, a
 * thread that starts at the end of user space): for the children only. */
void cf_generate_kill(const struct cf_env *e, uint64_t seed, uint64_t i, struct seq *s);

/* cpufuzz_run.S */
int cf_enter(struct cf_ctx *c);
void cf_exit_common(void);
void cf_catch(void);

/* ---- emitting a body (the generators' helpers) ---- */

static inline void cf_e8(struct seq *s, uint8_t b)
{
	if (s->len < CF_BODY_MAX)
		s->body[s->len++] = b;
}

static inline void cf_eb(struct seq *s, const char *bytes, int n)
{
	for (int i = 0; i < n; i++)
		cf_e8(s, (uint8_t)bytes[i]);
}

#define CF_EMIT(s, lit) cf_eb((s), (lit), (int)sizeof(lit) - 1)

static inline void cf_e32(struct seq *s, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		cf_e8(s, (uint8_t)(v >> (8 * i)));
}

static inline void cf_e64(struct seq *s, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		cf_e8(s, (uint8_t)(v >> (8 * i)));
}

/* movabs $v, %reg */
static inline void cf_movabs(struct seq *s, int reg, uint64_t v)
{
	cf_e8(s, (uint8_t)(0x48 | (reg >= 8)));
	cf_e8(s, (uint8_t)(0xb8 + (reg & 7)));
	cf_e64(s, v);
}

/* The fault is expected at the next byte emitted. */
static inline void cf_mark(struct seq *s)
{
	s->rip = s->len;
}

static inline void cf_plant(struct seq *s, uint64_t v)
{
	if (cf_kernel_looking(v) && s->nplanted < CF_MAX_PLANTED)
		s->planted[s->nplanted++] = v;
}

static inline uint64_t cf_vec(int v)
{
	return 1ull << v;
}

/* Expect exactly vector v (error err) at the next instruction. */
static inline void cf_expect_fault(struct seq *s, int v, uint64_t err)
{
	s->allow = cf_vec(v);
	s->err = err;
	cf_mark(s);
}

/* Pick one of n values. */
#define CF_PICK(r, arr) ((arr)[cf_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* Vectors (SDM Vol. 3A 6.15). */
enum {
	V_DE = 0,
	V_DB = 1,
	V_BP = 3,
	V_OF = 4,
	V_BR = 5,
	V_UD = 6,
	V_NM = 7,
	V_SS = 12,
	V_GP = 13,
	V_PF = 14,
	V_MF = 16,
	V_AC = 17,
	V_XM = 19
};

/* The classes' generators and checks (cpufuzz_insn.c, cpufuzz_state.c,
 * cpufuzz_mem.c). */
void cf_gen_int_n(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_trap_insn(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_port_io(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_priv(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_crdr(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_desc(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_larlsl(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_segload(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_far(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_syscall(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_movss(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_fsgs(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_xstate(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_boundary(const struct cf_env *e, struct rng *r, struct seq *s);
void cf_gen_random(const struct cf_env *e, struct rng *r, struct seq *s);
const char *cf_check_trap_insn(const struct cf_env *e, const struct seq *s,
			       const struct cf_outcome *o);
const char *cf_check_larlsl(const struct cf_env *e, const struct seq *s,
			    const struct cf_outcome *o);
const char *cf_check_far(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o);
const char *cf_check_syscall(const struct cf_env *e, const struct seq *s,
			     const struct cf_outcome *o);
const char *cf_check_movss(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o);
const char *cf_check_fsgs(const struct cf_env *e, const struct seq *s, const struct cf_outcome *o);
const char *cf_check_xstate(const struct cf_env *e, const struct seq *s,
			    const struct cf_outcome *o);
const char *cf_check_boundary(const struct cf_env *e, const struct seq *s,
			      const struct cf_outcome *o);

/* The runner (t_cpufuzz.c), shared with the kill children
 * (t_cpufuzz_kill.c). */
void cf_env_init(struct cf_env *e, int w, const uint8_t *xsave_image);
void cf_xsave_image_init(uint8_t *img);
int cf_last_page_init(bool end_syscall);
int cf_map_region(const struct cf_env *e);
void cf_write_epilogue(uint8_t *p, struct cf_ctx *c, const struct cf_env *e);
int cf_seal_writable(bool seal);
void cf_write_body(const struct seq *s);
void cf_ctx_init(struct cf_ctx *c, const struct cf_env *e);
void cf_prepare(struct cf_ctx *c, const struct cf_env *e, const struct seq *s);
void cf_run(struct cf_ctx *c, struct cf_outcome *o);
const char *cf_check(const struct cf_env *e, const struct cf_ctx *c, const struct seq *s,
		     const struct cf_outcome *o);
void cf_describe(const char *who, uint64_t seed, uint64_t i, const struct seq *s,
		 const struct cf_outcome *o, const char *why);
bool cf_rip_ok(const struct seq *s, uint64_t rip);
bool cf_planted(const struct seq *s, uint64_t v);
bool cf_has_error_code(uint64_t v);
uint64_t cf_effective_flags(const struct seq *s);
uint64_t cf_worker_seed(uint64_t round_seed, int w);
