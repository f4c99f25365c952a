/*
 * cpu_fuzz: the CPU interface from user mode, instruction by instruction.
 * Where syscall_fuzz throws bad arguments at the kernel, this runs short
 * instruction sequences, targeted and random, that enter the kernel in
 * every way user code can: software interrupts, exceptions of every kind
 * with hostile register state, system calls with odd flags, MOV SS shadows,
 * kernel-half segment bases, non-canonical and boundary addresses. The
 * kernel must give each a defined end (DESIGN.md "Entry invariants").
 *
 * How a sequence runs. One worker per CPU, each a child process of its
 * own per round (cpu_fuzz_shared=1: all of them threads of one process,
 * so that every code-page protection change shoots down the others' TLBs
 * while they run sequences; slow with many vCPUs on few host cores). A
 * worker writes a batch of sequences into its own code pages
 * (each followed by a hole; an epilogue at the start of each page saves
 * every register), makes them executable, and enters each through IRETQ
 * from a register image (cpufuzz_run.S), so that any RSP and any user flag,
 * TF included, holds from the first instruction. A sequence ends in its
 * epilogue (it completed) or in a fault. Random code loads and stores
 * through whatever it finds or computes, so the harness's own state (the
 * context the epilogue and the fault handler use, the counters) is kept
 * out of its reach (regression cpu_fuzz_harness_out_of_reach): no value a
 * sequence starts with and no byte it can read before it runs points into
 * the program's writable memory; the workers' state is mapped above 4 GiB,
 * where no 32-bit result lands; and while a process's only worker runs a
 * batch, the program's own writable data below 4 GiB is read-only, so that
 * a store there (a rotated 32-bit pointer, say) is a #PF like any other.
 * A fault that would kill the
 * process is diverted to a handler by SYST_FAULT_CATCH, with the kernel's
 * record of it: vector, error code, CR2, RIP, RSP, RFLAGS, every register.
 * Besides, a few sequences per run are replayed each in a child of their
 * own without the diversion: the kernel must kill that child with the
 * documented vector (exit code 128 + vector) and a report line on the
 * console naming the user's RIP (read back with kinfo(KINFO_LOG)).
 *
 * Documented outcomes (vector and error code; "done": it completes). Where
 * the architecture or the emulators allow more than one, all are accepted
 * and the counts per outcome are printed:
 *
 *   class          sequences                         outcome
 *   int_n          int $n, n = 0..255 (LOCK, prefixes) #BP (n = 3, RIP after);
 *                                                    #GP(8n + 2); LOCK: #UD
 *   trap_insn      int3, icebp, into, ud0/1/2, hlt,  #BP/#DB (traps, RIP after),
 *                  cli/sti, invalid one-byte opcodes #UD, #GP(0); INTO: #UD, or
 *                  of 64-bit mode, LOCK misuse,      QEMU's legacy INT 4: #GP(0x22)
 *                  popf/pushf of IF, IOPL, AC, DF,   with OF, done without;
 *                  NT, ID, RF, VM, VIF, VIP, TF      popf: done, IF/IOPL/VM/VIF/
 *                                                    VIP/RF unchanged; TF: #DB
 *   port_io        in/out/ins/outs, imm8 and DX, to  #GP(0) (no I/O bitmap,
 *                  the emulators' exit ports too    IOPL 0 whatever was asked)
 *   privileged     rdmsr, wrmsr, rdpmc, clts, invd,  #GP(0); stac/clac: #UD;
 *                  invlpg, lmsw, swapgs, sysret,     sysenter/sysexit: #GP(0)
 *                  xsetbv, xsaves, invpcid, lgdt,    (Intel) or #UD (AMD);
 *                  ltr, VMX/SVM/SGX, uintr, CET...   rdtsc, cpuid, xgetbv(0)...:
 *                                                    done
 *   cr_dr          mov to/from CR0-15, DR0-15        #GP(0); a register that
 *                                                    does not exist: #UD or #GP
 *   desc_tables    sgdt sidt sldt str smsw           #GP(0) with UMIP (done with
 *                  lgdt lidt lldt ltr                umip=off); loads: #GP(0)
 *   lar_lsl        lar lsl verr verw of selectors    done; ZF only for the user
 *                                                    code and data descriptors
 *   seg_load       mov/pop/lss/lfs/lgs of selectors  done for null (not SS), user
 *                                                    data, user code (not SS);
 *                                                    else #GP(selector)
 *   far            ljmp/lcall m16:32, lretq, iretq   done to user code; else
 *                  with every selector, bad RIP, RSP #GP(selector) or #GP(0);
 *                  and flags, NT set                 IRET with NT: #GP(0);
 *                                                    TF in the frame: #DB
 *   syscall_flags  syscall with TF AC DF NT RF ID    done with the call's result,
 *                  (IOPL asked), kernel addresses    RCX = return RIP, R11 =
 *                  in RCX R11 and others, a bad RSP  RFLAGS, the flags (RF
 *                  or none, XMM patterns; calls      excepted), RSP, XMM and other
 *                  that copy out (DF), probe SMAP    registers back as they were;
 *                  (AC), yield, sleep, map+unmap,    SMAP probe: -EFAULT; output
 *                  bad pointers, a thread with a     copied forward; bad entry:
 *                  kernel or non-canonical entry     -EINVAL; with TF: #DB after
 *   mov_ss         mov ss, then syscall, int3, int   the follower's own outcome;
 *                  $n, icebp, ud2, hlt, a faulting   with TF, or #DB after it
 *                  load, mov ss, rdmsr; TF or not    (a step delivered in the
 *                  (the deferred #DB), hostile GS    kernel is cleared there)
 *   fs_gs_base     wrfsbase/wrgsbase of kernel,      done or the follower's
 *                  boundary, user and non-canonical  fault, the bases exactly
 *                  values, then syscall, yield,      as written; non-canonical:
 *                  sleep, #PF, #BP, #DB, #UD, a spin #GP(0) and nothing written;
 *                  (timer, NMIs), a read at the base #PF at a kernel base
 *   xstate         xsetbv, xgetbv, xrstor of corrupt #GP(0), #PF, done (XMM as
 *                  images (XSTATE_BV, XCOMP_BV,      loaded, across a yield);
 *                  header, MXCSR, alignment, hole,   AVX-512 without it: #UD;
 *                  kernel), fxrstor, ldmxcsr, xsave  AMX without permission:
 *                  misaligned or to code, AVX-512,   #UD (or #NM with XFD)
 *                  AMX, AVX
 *   boundary       fetch falling and straddling into #PF(0x14, CR2 = the hole,
 *                  a hole; accesses straddling up    RIP = the instruction);
 *                  and down; non-canonical (via RSP  #PF(4/6, CR2 in the
 *                  and RBP: #SS), kernel-half and    access); #GP(0); #SS(0);
 *                  null addresses; odd RSP at an     the frame's RSP exactly
 *                  exception; execute NX, kernel,    the user's; #PF(0x15); no
 *                  non-canonical; store to code;     #AC (CR0.AM clear); the
 *                  fall off / read across the last   top: #GP(0) or #PF; with TF
 *                  user page                         #DB at RIP 0x800000000000
 *   random         1-40 random bytes, no control     any of #DE #DB #BP #UD #SS
 *                  transfer, random registers and    #GP #PF #MF #XM, or done;
 *                  flags (TF, AC, DF, NT)            RIP inside the sequence
 *   kill_only      (children only) syscall in the    killed by #GP at RIP
 *                  last two bytes; a thread created  0x800000000000; by #GP or
 *                  at the top or in a hole           #PF at its entry
 *
 * Checked for every sequence: the outcome is allowed; error code, RIP and
 * CR2 as expected; the kernel's record names user selectors and flags with
 * IF set and IOPL 0; the registers the handler found are exactly the ones
 * recorded (nothing leaks in on the way out); no kernel-half value in any
 * register, the record or the report that the sequence did not put there
 * itself (random code can compute any value: for it only RIP); the FS and
 * GS bases as written; after system calls the stack page holds no kernel
 * address. Afterwards: frames, heap, vmalloc pages, processes and IPC
 * objects as before, the address-space invariants (SYST_CHECK_MM).
 *
 * Parameters: cpu_fuzz_seed=N (printed; replays the same sequences per
 * worker), cpu_fuzz_seqs=N (in all, default 6000: the short round every
 * utest=all boot runs), cpu_fuzz_rounds=N (default 2), cpu_fuzz_kills=N
 * (children killed by a sequence, default 8), cpu_fuzz_shared=1 (above),
 * cpu_fuzz_only=CLASS and cpu_fuzz_trace=1 (every sequence named, with
 * its bytes, before it runs) for debugging.
 *
 * Not covered: control transfers in random code (they could run into
 * code outside the body), SYSCALL from random code (syscall_fuzz covers
 * the arguments), 32-bit compatibility mode (the GDT has no 32-bit user
 * code segment, so user code cannot enter it), hardware breakpoints (user
 * code cannot set DR7), real AMX tile data under permission (amx_tiles_
 * preserved), and timing: which instruction an interrupt lands on is left
 * to chance (spins, NMIs sent by another thread, the timer).
 */
#include "user/utest/cpufuzz.h"
#include "include/uapi/errno.h"

#define MAX_WORKERS 16
#define MAX_REPORTS 8

_Static_assert(__builtin_offsetof(struct cf_ctx, frame) == CF_FRAME, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, out) == CF_OUT, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, out_rflags) == CF_OUT_RFLAGS, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, out_fs) == CF_OUT_FS, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, out_gs) == CF_OUT_GS, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, host_rsp) == CF_HOST_RSP, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, exit_fn) == CF_EXIT_FN, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, fsgs) == CF_FSGS, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, mxcsr) == CF_MXCSR, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, seen) == CF_SEEN, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, seen_rflags) == CF_SEEN_RFLAGS, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, rec) == CF_REC, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, xmm_in) == CF_XMM_IN, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, xmm_out) == CF_XMM_OUT, "cpufuzz_ctx.h");
_Static_assert(__builtin_offsetof(struct cf_ctx, stack) + 256 == CF_STACK_TOP, "cpufuzz_ctx.h");
_Static_assert(sizeof(struct cf_ctx) == CF_SIZE, "cpufuzz_ctx.h");

/* The order cf_enter pops the registers in, and the epilogue stores them
 * (then RSP): encoding numbers. */
static const int load_order[16] = { RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8,
				    R9,	 R10, R11, R12, R13, R14, R15, RSP };
/* struct syst_fault_rec's regs[]: trap-frame order. */
static const int rec_order[15] = { R15, R14, R13, R12, R11, R10, R9, R8,
				   RBP, RDI, RSI, RDX, RCX, RBX, RAX };

/* Outcomes of sequences that may end more than one way, by what they are:
 * what this machine did (the emulators differ). */
#define MAX_AMBIG 64
struct ambig {
	const char *what;
	uint64_t count[CF_DONE + 1];
};

struct cf_worker {
	struct cf_ctx ctx;
	struct cf_env env;
	uint8_t xsave[4096] __attribute__((aligned(64)));
	struct seq *seqs;
	uint64_t seed, n, done, caught, failures;
	uint64_t by_class[NR_CLASSES], by_vector[CF_DONE + 1];
	struct ambig ambig[MAX_AMBIG];
	volatile uint64_t cur;
	int index;
	bool seal; /* the process's only worker: seal the program's data in batches */
};

static struct cf_worker *workers; /* [MAX_WORKERS], mapped above 4 GiB */
static bool cf_trace;		  /* cpu_fuzz_trace=1: name each sequence before it runs */
static uint32_t workers_done;
static volatile int workers_quit;

/* ---- the environment every sequence relies on ---- */

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	__asm__ __volatile__("cpuid"
			     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
			     : "a"(leaf), "c"(sub));
}

static bool switch_on(const char *name)
{
	return sys_test(SYST_SWITCH, (long)name, (long)strlen(name), 0) == 1;
}

/* Worker w's addresses and what the CPU and kernel offer; the same in a
 * kill child as in the worker it replays. */
void cf_env_init(struct cf_env *e, int w, const uint8_t *xsave_image)
{
	uint32_t r[4];

	memset(e, 0, sizeof(*e));
	e->region = CF_REGION + (uint64_t)w * CF_REGION_STEP;
	e->stack_page = e->region + CF_STACK_PAGE * 4096ull;
	e->scratch = e->region + (CF_STACK_PAGE + 4) * 4096ull;
	e->pid = (uint64_t)getpid();
	e->fsgsbase = ut_cpu_has("fsgsbase");
	e->umip = ut_cpu_has("umip") && switch_on("umip");
	e->smap = ut_cpu_has("smap") && switch_on("smap");
	e->avx = ut_cpu_has("avx");
	e->avx512 = ut_cpu_has("avx512f");
	e->amx = ut_cpu_has("amx_tile");
	e->rdtscp = ut_cpu_has("rdtscp");
	e->xsavec = ut_cpu_has("xsavec");
	cpuid(7, 0, r);
	e->rdpid = r[2] >> 22 & 1;
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	e->xcr0 = (uint64_t)hi << 32 | lo;
	cpuid(0xd, 0, r);
	e->xsave_size = r[1]; /* for the features enabled in XCR0 */
	e->buf = (uint8_t *)(uintptr_t)(e->region + CF_BUF_PAGE * 4096ull);
	e->xsave_image = xsave_image;
	kinfo(KINFO_PLATFORM, e->platform, sizeof(e->platform));
	e->qemu = !strncmp(e->platform, "qemu", 4);
	e->la57 = ut_cpu_has("la57");
	syscall3(SYS_COUNTER_NAME, 0, e->counter0, sizeof(e->counter0));
}

/* A valid XSAVE image of some SSE state, for the XRSTOR sequences. */
void cf_xsave_image_init(uint8_t *img)
{
	static const uint8_t pattern[16] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
	};

	memset(img, 0, 4096);
	__asm__ __volatile__("movdqu %0, %%xmm3" ::"m"(pattern) : "xmm3");
	__asm__ __volatile__("xsave (%0)" ::"r"(img), "a"(3), "d"(0) : "memory");
}

/* The last user page: NOPs to 0x800000000000 (kill_syscall: ends in a
 * SYSCALL). Shared by the workers, mapped once per process. */
int cf_last_page_init(bool end_syscall)
{
	uint8_t *p = map((void *)CF_LAST_PAGE, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED);

	if (MAP_FAILED(p))
		return -1;
	memset(p, 0x90, PAGE_SIZE);
	if (end_syscall) {
		p[PAGE_SIZE - 2] = 0x0f;
		p[PAGE_SIZE - 1] = 0x05;
	}
	return protect(p, PAGE_SIZE, UPROT_READ | UPROT_EXEC);
}

/* ---- writing code ---- */

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

/* At the start of each code page: store every register into c->out
 * without a free register, take c's exit stack, store RFLAGS, jump to
 * cf_exit_common with RAX = c.
 *
 * The code page is readable, and random code loads through pointers into
 * it: c's address must not be in it. So RAX is first parked in the park
 * page (RIP-relative: only a displacement to a page holding nothing else
 * is in the code), and c's address is an immediate with its bytes swapped,
 * which as a pointer is non-canonical or far from c. */
void cf_write_epilogue(uint8_t *p, struct cf_ctx *c, const struct cf_env *e)
{
	uint64_t ctx = (uint64_t)(uintptr_t)c;
	uint64_t park = e->region + CF_PARK_PAGE * 4096ull;

	*p++ = 0x48; /* mov %rax, park(%rip) */
	*p++ = 0x89;
	*p++ = 0x05;
	p = put32(p, (uint32_t)(park - ((uint64_t)(uintptr_t)p + 4)));
	*p++ = 0x48; /* movabs $bswap(c), %rax */
	*p++ = 0xb8;
	p = put64(p, __builtin_bswap64(ctx));
	*p++ = 0x48; /* bswap %rax */
	*p++ = 0x0f;
	*p++ = 0xc8;
	for (int j = 1; j < 16; j++) {
		int reg = load_order[j];

		*p++ = (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)); /* mov %reg, CF_OUT+8j(%rax) */
		*p++ = 0x89;
		*p++ = (uint8_t)(0x80 | (reg & 7) << 3);
		p = put32(p, CF_OUT + 8 * j);
	}
	*p++ = 0x48; /* mov park(%rip), %rbx */
	*p++ = 0x8b;
	*p++ = 0x1d;
	p = put32(p, (uint32_t)(park - ((uint64_t)(uintptr_t)p + 4)));
	*p++ = 0x48; /* mov %rbx, c->out[0] */
	*p++ = 0x89;
	*p++ = 0x98;
	p = put32(p, CF_OUT);
	*p++ = 0x48; /* lea CF_STACK_TOP(%rax), %rsp */
	*p++ = 0x8d;
	*p++ = 0xa0;
	p = put32(p, CF_STACK_TOP);
	*p++ = 0x9c; /* pushfq */
	*p++ = 0x8f; /* popq CF_OUT_RFLAGS(%rax) */
	*p++ = 0x80;
	p = put32(p, CF_OUT_RFLAGS);
	*p++ = 0xff; /* jmp *CF_EXIT_FN(%rax) */
	*p++ = 0xa0;
	put32(p, CF_EXIT_FN);
}

/* A body in its slot: then NOPs (an instruction cut short ends in them)
 * and a jump back to the page's epilogue; a tail body ends at the page's
 * last byte, before the hole. */
void cf_write_body(const struct seq *s)
{
	uint8_t *p = (uint8_t *)(uintptr_t)s->at;

	memcpy(p, s->body, s->len);
	if (s->tail)
		return;
	memset(p + s->len, 0x90, CF_PAD);
	p += s->len + CF_PAD;
	*p = 0xe9;
	put32(p + 1, (uint32_t)(s->page - (uint64_t)(uintptr_t)(p + 5)));
}

void cf_ctx_init(struct cf_ctx *c, const struct cf_env *e)
{
	memset(c, 0, sizeof(*c));
	c->exit_fn = (uint64_t)(uintptr_t)cf_exit_common;
	c->fsgs = e->fsgsbase;
	c->mxcsr = 0x1f80;
}

/* Set up c and the stack page for s. */
void cf_prepare(struct cf_ctx *c, const struct cf_env *e, const struct seq *s)
{
	uint8_t *stk = (uint8_t *)(uintptr_t)e->stack_page;
	uint64_t rsp = s->reg[RSP];

	for (int j = 0; j < 15; j++)
		c->load[j] = s->reg[load_order[j]];
	c->frame[0] = s->at;
	c->frame[1] = CF_UCS;
	c->frame[2] = s->rflags;
	c->frame[3] = rsp;
	c->frame[4] = CF_UDS;
	if (s->cls == CL_SYSCALL)
		memset(stk, 0, 4096); /* scanned afterwards for kernel addresses */
	if (s->cls == CL_XSTATE && (s->arg[3] & 1)) {
		memcpy(stk, e->xsave_image, e->xsave_size);
		if (s->arg[1] != ~0ull)
			memcpy(stk + s->arg[1], &s->arg[2], 8);
	}
	if (rsp >= e->stack_page && rsp + 8 * (uint64_t)s->nstk <= e->stack_page + 4096)
		memcpy(stk + (rsp - e->stack_page), s->stk, 8 * (size_t)s->nstk);
	for (int i = 0; i < 256; i += 8) {
		uint64_t v = s->xmm_pattern ? cf_splitmix(s->xmm_pattern + (uint64_t)i) : 0;

		memcpy(c->xmm_in + i, &v, 8);
	}
	memset(e->buf, 0, 64);
	c->rec.busy = 0;
	c->out_fs = c->out_gs = 0;
}

/* Run s (prepared) and describe how it ended. */
void cf_run(struct cf_ctx *c, struct cf_outcome *o)
{
	int caught = cf_enter(c);

	memset(o, 0, sizeof(*o));
	o->faulted = caught == 1;
	o->xmm_in = c->xmm_in;
	o->xmm_out = c->xmm_out;
	o->fs = c->out_fs;
	o->gs = c->out_gs;
	if (!o->faulted) {
		o->vector = CF_DONE;
		for (int j = 0; j < 16; j++)
			o->regs[load_order[j]] = c->out[j];
		o->rflags = c->out_rflags;
		return;
	}
	o->rec = c->rec;
	o->vector = o->rec.vector < CF_DONE ? o->rec.vector : CF_DONE; /* > 31: checked as bad */
	for (int j = 0; j < 15; j++)
		o->regs[rec_order[j]] = o->rec.regs[j];
	o->regs[RSP] = o->rec.rsp;
	o->rflags = o->rec.rflags;
}

/* ---- the checks every sequence gets ---- */

bool cf_planted(const struct seq *s, uint64_t v)
{
	for (int i = 0; i < s->nplanted; i++) {
		/* within a page either way (XSAVE areas span pages) */
		if (v - s->planted[i] + 4096 <= 8192)
			return true;
	}
	return false;
}

static bool foreign_kernel_value(const struct seq *s, uint64_t v)
{
	return cf_kernel_looking(v) && !cf_planted(s, v);
}

bool cf_has_error_code(uint64_t v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

bool cf_rip_ok(const struct seq *s, uint64_t rip)
{
	uint64_t off = rip - s->at, ex = (uint64_t)(uintptr_t)cf_exit_common;

	if (s->rip == CF_RIP_ANY)
		return true;
	if (s->rip_abs && rip == s->rip_abs)
		return true;
	if (s->rip == CF_RIP_BODY)
		return off <= (uint64_t)s->len + CF_PAD + 5 ||
		       (rip >= s->page && rip < s->page + CF_EPILOGUE) ||
		       (rip >= ex && rip < ex + 16);
	return (s->rip >= 0 && off == (uint64_t)s->rip) ||
	       (s->rip2 >= 0 && off == (uint64_t)s->rip2);
}

static const char *cf_check_common(const struct cf_env *e, const struct cf_ctx *c,
				   const struct seq *s, const struct cf_outcome *o)
{
	bool random = s->cls == CL_RANDOM;

	if (o->faulted && o->rec.vector >= CF_DONE)
		return "diverted with a vector that is not an exception";
	if (!(s->allow >> o->vector & 1))
		return "an outcome the class does not allow";
	if (o->faulted) {
		const struct syst_fault_rec *rec = &o->rec;

		if (!cf_has_error_code(o->vector) ? rec->error != 0
						  : (s->err != CF_ANY && rec->error != s->err))
			return "error code";
		if (!cf_rip_ok(s, rec->rip))
			return "RIP";
		if (o->vector == V_PF && s->cr2 != CF_ANY && rec->cr2 != s->cr2)
			return "CR2";
		if (o->vector != V_PF && rec->cr2)
			return "CR2 reported for a fault that is not #PF";
		if (rec->cs != CF_UCS || rec->ss != CF_UDS)
			return "the record's CS or SS is not the user's";
		/* (QEMU TCG pushes stale lazily computed flags for some faults
		 * after a flag-setting instruction: for a #GP from INS/OUTS,
		 * which random code under QEMU therefore never holds
		 * (cpufuzz_mem.c qemu_aborts), and for a #PF from a SETcc store
		 * after RCL by CL, with VM, NT and IOPL 3 among the garbage
		 * (RFLAGS 0x7fed6, soak seed 1146913718, 2026-12-06): random
		 * code only) */
		if ((rec->rflags & (RF_IF | RF_IOPL | RF_VM)) != RF_IF && !(random && e->qemu))
			return "the record's RFLAGS (IF clear, IOPL or VM set)";
		if (rec->rip >= CF_USER_TOP && rec->rip < CF_KADDR_MIN && !s->rip_abs &&
		    s->cls != CL_BOUNDARY)
			return "a non-canonical RIP nobody asked for";
		/* (random code computes addresses: its CR2 and RSP can be anything) */
		if (foreign_kernel_value(s, rec->rip) ||
		    (!random &&
		     (foreign_kernel_value(s, rec->cr2) || foreign_kernel_value(s, rec->rsp))))
			return "a kernel address in the record";
		/* What the handler found is what the kernel recorded. */
		for (int j = 0; j < 15; j++) {
			int reg = load_order[j];

			if (reg == RDI)
				continue;
			if (c->seen[j] != o->regs[reg])
				return "a register changed between the kernel's record and user mode";
		}
		if (c->seen[5] != (uint64_t)(uintptr_t)&c->rec ||
		    c->seen[15] != (uint64_t)(uintptr_t)c + CF_CATCH_TOP ||
		    c->seen_rflags != (RF_IF | RF_ONE))
			return "the handler's RDI, RSP or RFLAGS";
	} else if ((o->rflags & (RF_IF | RF_IOPL | RF_VM | RF_VIF | RF_VIP | RF_RF)) != RF_IF) {
		return "RFLAGS at the end (IF clear, or IOPL, VM, VIF, VIP, RF set)";
	}
	if (!random) {
		for (int i = 0; i < 16; i++) {
			if (foreign_kernel_value(s, o->regs[i]))
				return "a kernel address in a register";
		}
	}
	if (s->cls != CL_FSGS && s->cls != CL_RANDOM && s->cls != CL_MOVSS && (o->fs || o->gs))
		return "the FS or GS base changed";
	if (s->xmm_pattern && !o->faulted && memcmp(o->xmm_in, o->xmm_out, 256))
		return "XMM registers changed across the system call";
	if (s->cls == CL_SYSCALL && !o->faulted) {
		const uint64_t *w = (const uint64_t *)(uintptr_t)e->stack_page;

		for (int i = 0; i < 512; i++) {
			if (foreign_kernel_value(s, w[i]))
				return "a kernel address in the stack page after a system call";
		}
	}
	return NULL;
}

const char *cf_check(const struct cf_env *e, const struct cf_ctx *c, const struct seq *s,
		     const struct cf_outcome *o)
{
	const char *why = cf_check_common(e, c, s, o);

	if (!why && cf_classes[s->cls].check)
		why = cf_classes[s->cls].check(e, s, o);
	return why;
}

void cf_describe(const char *who, uint64_t seed, uint64_t i, const struct seq *s,
		 const struct cf_outcome *o, const char *why)
{
	char hex[3 * CF_BODY_MAX + 1];
	int n = 0;

	for (int k = 0; k < s->len && n < (int)sizeof(hex) - 3; k++)
		n += snprintf(hex + n, sizeof(hex) - (size_t)n, "%02x ", s->body[k]);
	hex[n] = 0;
	printf("        # cpu_fuzz: %s: FAIL %s: seq %lu of seed %lu, class %s, '%s'\n", who, why,
	       i, seed, cf_classes[s->cls].name, s->what);
	printf("        #   body at %#lx: %s\n", s->at, hex);
	printf("        #   allowed %#lx err %#lx rip %d/%d/%#lx cr2 %#lx rflags %#lx rsp %#lx\n",
	       s->allow, s->err, s->rip, s->rip2, s->rip_abs, s->cr2, s->rflags, s->reg[RSP]);
	if (o->faulted)
		printf("        #   got vector %lu error %#lx rip %#lx (body%+ld) cr2 %#lx rsp %#lx "
		       "rflags %#lx\n",
		       o->rec.vector, o->rec.error, o->rec.rip, (long)(o->rec.rip - s->at),
		       o->rec.cr2, o->rec.rsp, o->rec.rflags);
	else
		printf("        #   completed: rax %#lx rcx %#lx rdx %#lx r11 %#lx rsp %#lx rflags %#lx "
		       "fs %#lx gs %#lx\n",
		       o->regs[RAX], o->regs[RCX], o->regs[RDX], o->regs[R11], o->regs[RSP],
		       o->rflags, o->fs, o->gs);
}

/* ---- a worker ---- */

static void note_ambiguous(struct cf_worker *wk, const struct seq *s, uint64_t v)
{
	if (!(s->allow & (s->allow - 1)) || s->cls == CL_RANDOM)
		return;
	for (int i = 0; i < MAX_AMBIG; i++) {
		struct ambig *a = &wk->ambig[i];

		if (!a->what || a->what == s->what) {
			a->what = s->what;
			a->count[v]++;
			return;
		}
	}
}

int cf_map_region(const struct cf_env *e)
{
	for (int p = 0; p < CF_CODE_PAGES; p++) {
		void *a = map((void *)(uintptr_t)(e->region + 2ull * (uint64_t)p * PAGE_SIZE),
			      PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED);

		if (MAP_FAILED(a))
			return -1;
	}
	static const int pages[] = { CF_STACK_PAGE, CF_BUF_PAGE, CF_PARK_PAGE };

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		void *a = map((void *)(uintptr_t)(e->region + (uint64_t)pages[i] * PAGE_SIZE),
			      PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED | UMAP_POPULATE);

		if (MAP_FAILED(a))
			return -1;
	}
	return 0;
}

static int protect_code(const struct cf_env *e, int prot)
{
	for (int p = 0; p < CF_CODE_PAGES; p++) {
		if (protect((void *)(uintptr_t)(e->region + 2ull * (uint64_t)p * PAGE_SIZE),
			    PAGE_SIZE, prot))
			return -1;
	}
	return 0;
}

extern char __writable_start[], __writable_end[];

/* The program's .data and .bss read-only (seal) or writable again. While
 * sealed, nothing of the process may write them: its worker's state is
 * mapped, printf formats on the stack, and the other threads (the main
 * one waiting, the NMI sender) only read them. */
int cf_seal_writable(bool seal)
{
	uint64_t lo = (uint64_t)(uintptr_t)__writable_start;
	uint64_t hi = ((uint64_t)(uintptr_t)__writable_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1ull);

	return protect((void *)(uintptr_t)lo, hi - lo, UPROT_READ | (seal ? 0 : UPROT_WRITE));
}

static void run_batch(struct cf_worker *wk, uint64_t base, uint64_t n)
{
	struct cf_env *e = &wk->env;
	struct cf_outcome o;

	for (int p = 0; p < CF_CODE_PAGES; p++) {
		uint8_t *pg = (uint8_t *)(uintptr_t)(e->region + 2ull * (uint64_t)p * PAGE_SIZE);

		memset(pg, 0xcc, PAGE_SIZE);
		cf_write_epilogue(pg, &wk->ctx, e);
	}
	for (uint64_t k = 0; k < n; k++) {
		cf_generate(e, wk->seed, base + k, &wk->seqs[k]);
		cf_write_body(&wk->seqs[k]);
	}
	if (protect_code(e, UPROT_READ | UPROT_EXEC) || (wk->seal && cf_seal_writable(true))) {
		wk->failures++;
		printf("        # cpu_fuzz: worker %d: protect failed\n", wk->index);
		protect_code(e, UPROT_READ | UPROT_WRITE); /* the next batch writes them */
		return;
	}
	for (uint64_t k = 0; k < n; k++) {
		const struct seq *s = &wk->seqs[k];

		wk->cur = base + k;
		if (cf_trace) {
			/* With the bytes: a sequence that crashes the emulator
			 * is the last one named. */
			char hex[3 * 64 + 1] = "";
			int q = 0;

			for (int j = 0; j < s->len && j < 64; j++)
				q += snprintf(hex + q, sizeof(hex) - (size_t)q, " %02x",
					      s->body[j]);
			printf("        # cpu_fuzz: worker %d seq %lu %s '%s'%s\n", wk->index,
			       base + k, cf_classes[s->cls].name, s->what, hex);
		}
		cf_prepare(&wk->ctx, e, s);
		cf_run(&wk->ctx, &o);
		const char *why = cf_check(e, &wk->ctx, s, &o);

		wk->done++;
		wk->caught += o.faulted;
		wk->by_class[s->cls]++;
		wk->by_vector[o.vector]++;
		note_ambiguous(wk, s, o.vector);
		if (why) {
			if (wk->failures++ < MAX_REPORTS) {
				char who[24];

				snprintf(who, sizeof(who), "worker %d", wk->index);
				cf_describe(who, wk->seed, base + k, s, &o, why);
			}
		}
	}
	if (wk->seal && cf_seal_writable(false)) {
		wk->failures++;
		printf("        # cpu_fuzz: worker %d: unseal failed\n", wk->index);
	}
	protect_code(e, UPROT_READ | UPROT_WRITE);
}

static void worker_fn(void *arg)
{
	struct cf_worker *wk = arg;
	struct cf_env *e = &wk->env;

	set_affinity(0, wk->index % nr_cpus());
	cf_env_init(e, wk->index, wk->xsave);
	e->tid = (uint64_t)gettid();
	e->last_page = true;
	cf_xsave_image_init(wk->xsave);
	cf_ctx_init(&wk->ctx, e);
	wk->seqs = map(NULL, CF_BATCH * sizeof(struct seq), UPROT_READ | UPROT_WRITE, 0);
	if (MAP_FAILED(wk->seqs) || cf_map_region(e) ||
	    sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)cf_catch,
		     (long)(uintptr_t)&wk->ctx + CF_CATCH_TOP, (long)(uintptr_t)&wk->ctx.rec)) {
		printf("        # cpu_fuzz: worker %d: set-up failed\n", wk->index);
		wk->failures++;
	} else {
		for (uint64_t base = 0; base < wk->n; base += CF_BATCH)
			run_batch(wk, base, MIN((uint64_t)CF_BATCH, wk->n - base));
	}
	sys_test(SYST_FAULT_CATCH, 0, 0, 0);
	wk->cur = ~0ull;
	/* Release: this worker's counts are visible before the count of the
	 * finished; pairs with the acquire load in wait_workers. */
	__atomic_fetch_add(&workers_done, 1, __ATOMIC_RELEASE);
	futex_wake(&workers_done, 1);
}

/* NMIs at the CPUs where workers run sequences, until they finish. */
static void nmi_poker(void *arg)
{
	int n = nr_cpus(), me = (int)(uintptr_t)arg;
	uint64_t sent = 0;

	for (int c = 0; !workers_quit; c = (c + 1) % n) {
		if (c != me && n > 1 && sys_test(SYST_SEND_NMI, c, 0, 0) == 0)
			sent++;
		sleep_ns(2000000);
	}
	printf("        # cpu_fuzz: %lu NMIs sent to CPUs running sequences\n", sent);
}

/* Wait for the workers; a worker that makes no progress for 30 s is stuck
 * (in the kernel, or in a sequence that should not loop): report where. */
static int wait_workers(int nw)
{
	uint64_t last = ~0ull, since = clock_ns();

	for (;;) {
		/* Acquire: pairs with the release increment in worker_fn. */
		uint32_t d = __atomic_load_n(&workers_done, __ATOMIC_ACQUIRE);
		uint64_t total = 0;

		if ((int)d == nw)
			return 0;
		futex_wait(&workers_done, d, 100000000);
		for (int i = 0; i < nw; i++)
			total += workers[i].done;
		if (total != last) {
			last = total;
			since = clock_ns();
		} else if (clock_ns() - since > 30000000000ull) {
			sys_test(SYST_WHERE, 0, 0, 0);
			for (int i = 0; i < nw; i++)
				printf("        # cpu_fuzz: worker %d stuck at sequence %lu (seed %lu)\n",
				       i, workers[i].cur, workers[i].seed);
			return 1;
		}
	}
}

static void print_summary(int nw, bool ambiguous)
{
	uint64_t cls[NR_CLASSES] = { 0 }, vec[CF_DONE + 1] = { 0 }, done = 0, caught = 0;
	char line[512];
	int n;

	for (int i = 0; i < nw; i++) {
		done += workers[i].done;
		caught += workers[i].caught;
		for (int k = 0; k < NR_CLASSES; k++)
			cls[k] += workers[i].by_class[k];
		for (int v = 0; v <= CF_DONE; v++)
			vec[v] += workers[i].by_vector[v];
	}
	n = snprintf(line, sizeof(line),
		     "        # cpu_fuzz: worker %d%s: %lu sequences, %lu faults "
		     "diverted; done %lu",
		     workers[0].index, nw > 1 ? "..." : "", done, caught, vec[CF_DONE]);
	for (int v = 0; v < CF_DONE; v++) {
		if (vec[v])
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", vector %d %lu", v,
				      vec[v]);
	}
	printf("%s\n", line);
	if (ambiguous) {
		n = snprintf(line, sizeof(line), "        # cpu_fuzz: by class:");
		for (int k = 0; k < NR_CLASSES; k++) {
			if (cls[k])
				n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %lu",
					      cf_classes[k].name, cls[k]);
		}
		printf("%s\n", line);
	}
	/* Where more than one end is allowed: which this machine chose. */
	for (int i = 0; ambiguous && i < MAX_AMBIG; i++) {
		const char *what = workers[0].ambig[i].what;
		uint64_t sum[CF_DONE + 1] = { 0 };

		if (!what)
			break;
		for (int w = 0; w < nw; w++) {
			for (int j = 0; j < MAX_AMBIG; j++) {
				if (workers[w].ambig[j].what != what)
					continue;
				for (int v = 0; v <= CF_DONE; v++)
					sum[v] += workers[w].ambig[j].count[v];
			}
		}
		n = snprintf(line, sizeof(line), "        # cpu_fuzz: '%s' ended:", what);
		for (int v = 0; v < CF_DONE; v++) {
			if (sum[v])
				n += snprintf(line + n, sizeof(line) - (size_t)n, " vector %d %lu",
					      v, sum[v]);
		}
		if (sum[CF_DONE])
			n += snprintf(line + n, sizeof(line) - (size_t)n, " done %lu",
				      sum[CF_DONE]);
		printf("%s\n", line);
	}
}

uint64_t cf_worker_seed(uint64_t round_seed, int w)
{
	return cf_splitmix(round_seed ^ cf_splitmix((uint64_t)w + 1));
}

int cf_class_by_name(const char *name)
{
	for (int k = 0; k < NR_CLASSES; k++) {
		if (!strcmp(cf_classes[k].name, name))
			return k;
	}
	return -1;
}

/* role_cpufuzz <seed> <sequences per worker> <first worker> <workers> <flags> [class]:
 * workers first.. in this process (their numbers pick their CPUs, regions
 * and seeds). flags: 1 start the NMI sender, 2 print which outcome this
 * machine chose where several are allowed. */
void t_role_cpufuzz(const char *arg)
{
	uint64_t seed = arg_u64(&arg), each = arg_u64(&arg), first = arg_u64(&arg);
	uint64_t want = arg_u64(&arg), flags = arg_u64(&arg);
	int nw = (int)MIN(want, (uint64_t)MAX_WORKERS - first), bad = 0, poker = 0;

	while (*arg == ' ')
		arg++;
	cf_only_class = cf_class_by_name(arg);
	cf_trace = ut_param("", "cpu_fuzz_trace", 0);

	workers = map(NULL, MAX_WORKERS * sizeof(*workers), UPROT_READ | UPROT_WRITE, 0);
	if (MAP_FAILED(workers) || cf_last_page_init(false))
		exit(2);
	for (int i = 0; i < nw; i++) {
		workers[i].seal = nw == 1;
		workers[i].index = (int)first + i;
		workers[i].n = each;
		workers[i].seed = cf_worker_seed(seed, (int)first + i);
	}
	if (flags & 1)
		poker = thread_create(nmi_poker, (void *)0);
	for (int i = 0; i < nw; i++)
		thread_create(worker_fn, &workers[i]);
	bad = wait_workers(nw);
	workers_quit = 1;
	if (poker > 0 && !bad)
		thread_join(poker, NULL);
	for (int i = 0; i < nw; i++)
		bad += workers[i].failures != 0;
	print_summary(nw, flags & 2);
	exit(bad ? 1 : 0);
}

/*
 * Regression cpu_fuzz_harness_out_of_reach: a random sequence took the
 * context's address from its own code page, where the epilogue held it as
 * an absolute immediate, and stored through it over the fault record. Its
 * next fault found the record busy, so the kernel (rightly) would not
 * divert it and killed the worker: "page fault at 0x436ffc (user write,
 * protection violation)", round 2 of soak seed 2911135397, every replay.
 * Nothing the harness gives a sequence may point into the program's
 * writable memory: no register or stack word it starts with, no word of
 * its stack page, and no eight bytes at any offset of what the harness
 * writes where the sequence can read it (each code page's epilogue, the
 * output and park pages). The bodies' own bytes are the generator's
 * (immediates, random code) and are checked as registers, not as windows.
 * The sequence that failed also computed one: RDI, a pointer into its
 * stack page, rotated as a 32-bit value ("rol $0xa5, %edi": 0x505200) and
 * then "rep stosl" downwards with DF set, over the whole .bss. So a store
 * into the program's data while it is sealed must end in a #PF (error 7)
 * that is diverted like any other, with the data unchanged.
 */
static volatile uint64_t sealed_victim = 0x5ea1ed;

/* Run "mov %rax, (%rdi)" at the start of worker 0's first code page with
 * RDI = &sealed_victim, with the program's data sealed. */
static void store_into_sealed_data(const struct cf_env *e, struct cf_ctx *c, struct cf_outcome *o)
{
	struct seq t;
	uint8_t *pg = (uint8_t *)(uintptr_t)e->region;

	memset(&t, 0, sizeof(t));
	t.cls = CL_RANDOM;
	t.page = e->region;
	t.at = e->region + CF_EPILOGUE;
	t.len = 3;
	memcpy(t.body, "\x48\x89\x07", 3);
	t.reg[RAX] = 0xdead;
	t.reg[RDI] = (uint64_t)(uintptr_t)&sealed_victim;
	t.reg[RSP] = e->stack_page + 2048;
	t.rflags = 0x202;
	protect_code(e, UPROT_READ | UPROT_WRITE);
	memset(pg, 0xcc, PAGE_SIZE);
	cf_write_epilogue(pg, c, e);
	cf_write_body(&t);
	T_EQ(protect_code(e, UPROT_READ | UPROT_EXEC), 0);
	T_EQ(sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)cf_catch,
		      (long)(uintptr_t)c + CF_CATCH_TOP, (long)(uintptr_t)&c->rec),
	     0);
	cf_prepare(c, e, &t);
	/* Sealed, even the checks' own counters are read-only: none until
	 * it is unsealed. */
	int sealed = cf_seal_writable(true);

	cf_run(c, o);
	int unsealed = cf_seal_writable(false);

	sys_test(SYST_FAULT_CATCH, 0, 0, 0);
	T_EQ(sealed, 0);
	T_EQ(unsealed, 0);
}

static uint64_t writable_hits(const void *at, size_t len, size_t step, uint64_t *first)
{
	uint64_t lo = (uint64_t)(uintptr_t)__writable_start;
	uint64_t hi = (uint64_t)(uintptr_t)__writable_end, hits = 0;
	const uint8_t *p = at;

	for (size_t i = 0; i + 8 <= len; i += step) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		if (v >= lo && v < hi && !hits++)
			*first = v;
	}
	return hits;
}

void t_cpu_fuzz_harness_out_of_reach(const char *arg)
{
	static uint8_t xsave[4096] __attribute__((aligned(64)));
	struct cf_ctx *cc = map(NULL, sizeof(*cc), UPROT_READ | UPROT_WRITE, 0);
	struct cf_outcome o;
	uint64_t seed = ut_param(arg, "cpu_fuzz_seed", 2911135397ull), first = 0;
	uint64_t in_pages = 0, in_values = 0, seqs = 0;
	struct cf_env e;
	struct seq *s = map(NULL, CF_BATCH * sizeof(*s), UPROT_READ | UPROT_WRITE, 0);
	const void *park;

	cf_env_init(&e, 0, xsave);
	e.tid = (uint64_t)gettid();
	e.last_page = true;
	park = (const void *)(uintptr_t)(e.region + CF_PARK_PAGE * 4096ull);
	cf_xsave_image_init(xsave);
	T_EXPECT(!MAP_FAILED(s) && !MAP_FAILED(cc) && !cf_map_region(&e));
	if (MAP_FAILED(s) || MAP_FAILED(cc))
		return;
	cf_ctx_init(cc, &e);
	/* Three batches of every class, then one of the kill-only ones. */
	for (int b = 0; b < 4; b++) {
		uint64_t wseed = cf_worker_seed(cf_splitmix(seed + (uint64_t)b), 0);

		for (int p = 0; p < CF_CODE_PAGES; p++) {
			uint8_t *pg =
				(uint8_t *)(uintptr_t)(e.region + 2ull * (uint64_t)p * PAGE_SIZE);

			memset(pg, 0xcc, PAGE_SIZE);
			cf_write_epilogue(pg, cc, &e);
			in_pages += writable_hits(pg, CF_EPILOGUE, 1, &first);
		}
		for (uint64_t k = 0; k < CF_BATCH; k++, seqs++) {
			if (b == 3)
				cf_generate_kill(&e, wseed, k, &s[k]);
			else
				cf_generate(&e, wseed, k, &s[k]);
			in_values += writable_hits(s[k].reg, sizeof(s[k].reg), 8, &first);
			in_values += writable_hits(s[k].stk, 8 * (size_t)s[k].nstk, 8, &first);
			cf_prepare(cc, &e, &s[k]);
			in_values += writable_hits((const void *)(uintptr_t)e.stack_page, PAGE_SIZE,
						   8, &first);
		}
		in_pages += writable_hits(e.buf, PAGE_SIZE, 1, &first);
		in_pages += writable_hits(park, PAGE_SIZE, 1, &first);
	}
	T_EQ(in_pages, 0);
	T_EQ(in_values, 0);
	if (in_pages || in_values)
		ut_note("the first: %#lx; writable memory [%p, %p), the context at %p", first,
			(void *)__writable_start, (void *)__writable_end, (void *)cc);
	ut_note("%lu sequences (seed %lu): their registers, stacks and pages", seqs, seed);
	unmap(s, CF_BATCH * sizeof(*s));

	T_EXPECT((uint64_t)(uintptr_t)cc >= 1ull << 32);
	store_into_sealed_data(&e, cc, &o);
	T_EXPECT(o.faulted);
	T_EQ(o.vector, 14);
	T_EQ(o.rec.error, 7);
	T_EQ(o.rec.cr2, (uint64_t)(uintptr_t)&sealed_victim);
	T_EQ(sealed_victim, 0x5ea1ed);
	ut_note("a store into the sealed data: vector %lu error %#lx at %#lx", o.vector,
		o.rec.error, o.rec.cr2);
}
