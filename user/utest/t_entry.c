/*
 * The entry invariants from user mode (DESIGN.md "Entry invariants":
 * anything user code can do at the instruction level ends in a defined
 * result for that process, never a kernel panic). Each hostile sequence
 * runs in a child (role_entry <case> [gs base]) whose exit code says how
 * it ended: 128 + the vector it was killed by.
 *
 *   user_single_step        EFLAGS.TF in user mode: a plain step, a step
 *                           into SYSCALL (its trap lands on the kernel's
 *                           first instruction), MOV SS + SYSCALL and MOV SS
 *                           + INT3 (the deferred #DB). Each kills the
 *                           child with #DB (or #BP); before the fix the
 *                           user #DB went through the paranoid entry as a
 *                           kernel exception and panicked the machine.
 *   user_int1_int3_into     INT1 (ICEBP), INT3 (both encodings), INTO and
 *                           INT n for a spread of n: #DB, #BP, #UD, else
 *                           #GP.
 *   user_gsbase_kernel_half GS and FS bases set to kernel-half and boundary
 *                           values (WRGSBASE accepts any canonical value),
 *                           then NMIs at a thread running in user mode and
 *                           in system calls, and #DB in user mode and in
 *                           the kernel's SYSCALL entry before its SWAPGS.
 *                           The paranoid entry used to pick the per-CPU
 *                           pointer from the sign of the live GS base.
 *   syscall_return_noncanonical  a SYSCALL in the last two bytes of user
 *                           space returns to 0x800000000000: IRETQ there
 *                           faults in ring 0 with the user's GS base live;
 *                           the kernel must kill the process first.
 *   syscall_entry_clears_vm RFLAGS.VM or IOPL in user mode (states QEMU TCG
 *                           reaches, below) must not reach the kernel.
 */
#include "user/utest/utest.h"
#include "user/lib/syscall.h"
#include "include/uapi/test.h"
#include "include/uapi/membarrier_cmds.h"
#include "include/uapi/errno.h"

#define KILLED_BY(vec) (128 + (vec))
#define V_DB	       1
#define V_BP	       3
#define V_UD	       6
#define V_GP	       13

static void set_tf(void)
{
	__asm__ __volatile__("pushfq; orq $0x100, (%%rsp); popfq; nop; nop" ::: "memory", "cc");
}

/* POPF sets TF; the trap comes after the next instruction, the SYSCALL:
 * on its target, the kernel's first entry instruction. */
static void tf_syscall(void)
{
	long nr = SYS_GETPID;

	__asm__ __volatile__("pushfq; orq $0x100, (%%rsp); popfq; syscall; nop"
			     : "+a"(nr)
			     :
			     : "rcx", "r11", "memory", "cc");
}

/* MOV SS holds the step's #DB past the next instruction (SDM Vol. 3A
 * 6.8.3): it is delivered inside the kernel's handler of that instruction. */
static void tf_movss(bool int3)
{
	long nr = SYS_GETPID;
	uint16_t ss;

	__asm__ __volatile__("mov %%ss, %0" : "=r"(ss));
	if (int3)
		__asm__ __volatile__("pushfq; orq $0x100, (%%rsp); popfq; mov %1, %%ss; int3; nop"
				     : "+a"(nr)
				     : "r"(ss)
				     : "memory", "cc");
	else
		__asm__ __volatile__(
			"pushfq; orq $0x100, (%%rsp); popfq; mov %1, %%ss; syscall; nop"
			: "+a"(nr)
			: "r"(ss)
			: "rcx", "r11", "memory", "cc");
}

/* INT n with n from the argument: the gate's DPL decides (#GP(n*8+2)
 * unless the gate is open to user mode, which only #BP's is). */
static void int_n(int n)
{
	static uint8_t code[4096] __attribute__((aligned(4096)));

	code[0] = 0xcd;
	code[1] = (uint8_t)n;
	code[2] = 0xc3; /* ret, if the kernel ever let it through */
	if (protect(code, sizeof(code), UPROT_READ | UPROT_EXEC))
		exit(2);
	((void (*)(void))code)();
}

static void set_bases(uint64_t v)
{
	__asm__ __volatile__("wrgsbase %0; wrfsbase %0" ::"r"(v) : "memory");
}

static uint64_t gs_base(void)
{
	uint64_t v;

	__asm__ __volatile__("rdgsbase %0" : "=r"(v));
	return v;
}

/* role_entry <case> [gs]: run one hostile sequence; exit 0 if it returned
 * (it should not). gs: a GS and FS base to set first (needs FSGSBASE). */
void t_role_entry(const char *arg)
{
	char c[32];
	const char *sp = strchr(arg, ' ');
	size_t n = sp ? (size_t)(sp - arg) : strlen(arg);

	if (n >= sizeof(c))
		exit(2);
	memcpy(c, arg, n);
	c[n] = 0;
	if (sp) {
		const char *p = sp + 1;

		set_bases(arg_u64(&p));
	}
	if (!strcmp(c, "tf"))
		set_tf();
	else if (!strcmp(c, "tf_syscall"))
		tf_syscall();
	else if (!strcmp(c, "tf_movss_syscall"))
		tf_movss(false);
	else if (!strcmp(c, "tf_movss_int3"))
		tf_movss(true);
	else if (!strcmp(c, "icebp"))
		__asm__ __volatile__(".byte 0xf1");
	else if (!strcmp(c, "int3"))
		__asm__ __volatile__("int3");
	else if (!strcmp(c, "into")) /* invalid in 64-bit mode; OF=1 */
		__asm__ __volatile__("movb $0x7f, %%al; addb $1, %%al; .byte 0xce" ::: "rax", "cc");
	else if (!strncmp(c, "int_", 4)) {
		const char *v = c + 4;

		int_n((int)arg_u64(&v));
	} else
		exit(3);
	exit(0);
}

static void expect_child(const char *role, int want)
{
	int code = run_child(role);

	if (!T_EQ(code, want))
		ut_note("... role %s", role);
}

void t_user_single_step(const char *arg)
{
	(void)arg;
	uint64_t steps0 = counter("debug_kernel_step");

	expect_child("role_entry tf", KILLED_BY(V_DB));
	expect_child("role_entry tf_syscall", KILLED_BY(V_DB));
	expect_child("role_entry tf_movss_syscall", KILLED_BY(V_DB));
	/* The #BP kills, unless the deferred #DB reaches user mode first. */
	int code = run_child("role_entry tf_movss_int3");

	T_EXPECT(code == KILLED_BY(V_BP) || code == KILLED_BY(V_DB));
	ut_note("steps that landed in the kernel and were cleared: %lu; MOV SS + INT3 ended "
		"with %d",
		counter("debug_kernel_step") - steps0, code);
}

void t_user_int1_int3_into(const char *arg)
{
	(void)arg;
	char role[32];
	int bad = 0;

	expect_child("role_entry icebp", KILLED_BY(V_DB));
	expect_child("role_entry int3", KILLED_BY(V_BP));
	/* INTO is #UD in 64-bit mode (SDM Vol. 2A). QEMU TCG runs it as the
	 * legacy INTO, a software interrupt 4 whose gate has DPL 0: #GP.
	 * Either is a defined end. */
	int into = run_child("role_entry into");

	T_EXPECT(into == KILLED_BY(V_UD) || into == KILLED_BY(V_GP));
	ut_note("INTO in 64-bit mode ended with %d (%s)", into,
		into == KILLED_BY(V_UD) ? "#UD, as the SDM says"
					: "#GP: this CPU runs it as a legacy INT 4");
	/* INT n through gates of DPL 0: exceptions, the NMI vector, an IRQ,
	 * the IPI vectors, int 0x80 (cpu_fuzz sweeps all 256). */
	static const int vectors[] = { 0, 1, 2, 3, 4, 6, 8, 13, 14, 18, 32, 0x80, 0xee, 0xff };

	for (unsigned i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		int n = vectors[i];

		snprintf(role, sizeof(role), "role_entry int_%d", n);
		int want = KILLED_BY(n == V_BP ? V_BP : V_GP), code = run_child(role);

		if (code != want) {
			bad++;
			ut_note("int $%d: child ended with %d, not %d", n, code, want);
		}
	}
	T_EQ(bad, 0);
}

/* ---- GS and FS bases the kernel must not trust ---- */

static const uint64_t hostile_bases[] = {
	0xffff800000000000ull, /* lowest kernel-half address */
	0xffffffff80000000ull, /* kernel text */
	0xfffffe0000240000ull, /* CPU 1's per-CPU area (PERCPU_AREA_BASE + stride) */
	0xffffffffffffffffull, /* the top */
	0x00007fffffffffffull, /* the top of the lower half */
	0,
};

/* Phases: the main thread publishes a base and an odd phase; the victim
 * runs with that base until the phase turns even, then acknowledges. */
static struct {
	uint64_t base;
	volatile uint32_t phase, ack;
	volatile uint64_t spins, syscalls, wrong;
} gb;

/* On CPU 1: run with hostile bases, in user mode and in system calls,
 * checking that they stay what we set. Phase ~0: quit. */
static void gb_victim(void *p)
{
	(void)p;
	for (uint32_t seen = 0;;) {
		while (gb.phase == seen)
			cpu_relax();
		seen = gb.phase;
		if (seen == ~0u)
			break;
		uint64_t base = gb.base;

		set_bases(base);
		while (gb.phase == seen) {
			if (gs_base() != base)
				gb.wrong++;
			if (++gb.spins % 64 == 0) {
				syscall0(SYS_GETPID);
				gb.syscalls++;
			}
		}
		set_bases(0);
		seen = gb.phase;
		gb.ack = seen;
	}
}

void t_user_gsbase_kernel_half(const char *arg)
{
	(void)arg;
	char role[64];
	int n = (int)(sizeof(hostile_bases) / sizeof(hostile_bases[0]));

	if (!ut_cpu_has("fsgsbase")) {
		ut_note("SKIP: no FSGSBASE (user code cannot set its GS base here)");
		exit(3);
	}
	/* #DB with the hostile base live: in user mode (ICEBP), and in the
	 * kernel's SYSCALL entry before its SWAPGS (MOV SS + SYSCALL). */
	for (int i = 0; i < n; i++) {
		snprintf(role, sizeof(role), "role_entry icebp %lu", hostile_bases[i]);
		expect_child(role, KILLED_BY(V_DB));
		snprintf(role, sizeof(role), "role_entry tf_movss_syscall %lu", hostile_bases[i]);
		expect_child(role, KILLED_BY(V_DB));
	}
	if (nr_cpus() < 2) {
		ut_note("one CPU: no NMIs sent");
		return;
	}
	/* NMIs at a thread on CPU 1 running with each base. */
	uint64_t nmis0 = counter("nmi_test"), sent = 0;

	set_affinity(0, 0);
	gb.phase = gb.ack = 0;
	gb.wrong = gb.syscalls = 0;
	int v = thread_create(gb_victim, NULL);

	set_affinity(v, 1);
	for (int i = 0; i < n; i++) {
		gb.base = hostile_bases[i];
		gb.spins = 0;
		gb.phase = 2 * (uint32_t)i + 1;
		while (gb.spins < 1000)
			cpu_relax();
		for (int k = 0; k < 200; k++) {
			if (sys_test(SYST_SEND_NMI, 1, 0, 0) == 0)
				sent++;
			for (int w = 0; w < 2000; w++)
				cpu_relax();
		}
		gb.phase = 2 * (uint32_t)i + 2;
		while (gb.ack != gb.phase)
			cpu_relax();
	}
	gb.phase = ~0u;
	thread_join(v, NULL);
	T_EQ(gb.wrong, 0);
	T_EQ(sent, 200 * (uint64_t)n);
	T_EQ(counter("nmi_test") - nmis0, sent);
	ut_note("%lu NMIs at a thread with %d hostile GS/FS bases (%lu system calls among "
		"them)",
		sent, n, gb.syscalls);
}

/*
 * fs_gs_bases_survive_switches: threads with their own FS and GS bases
 * (every one different, GS never FS) yield, sleep, migrate and call an
 * echo server that has its own, two threads per CPU; after each step each
 * reads both bases back (RDFSBASE, RDGSBASE), the server after each
 * receive. The switch saves the leaving thread's bases and writes the
 * next one's where they differ (arch/x86/include/arch/switch.h; the GS
 * base through SWAPGS, RDGSBASE/WRGSBASE, SWAPGS): a save that read the
 * kernel's GS base, or a write that skipped a differing one, hands a
 * thread another's base or the kernel's.
 */
static struct {
	int ep;
	volatile uint64_t wrong, steps, served;
} fg;

static uint64_t fs_base(void)
{
	uint64_t v;

	__asm__ __volatile__("rdfsbase %0" : "=r"(v));
	return v;
}

static void fg_set(uint64_t fs, uint64_t gs)
{
	__asm__ __volatile__("wrfsbase %0; wrgsbase %1" ::"r"(fs), "r"(gs) : "memory");
}

static bool fg_holds(uint64_t fs, uint64_t gs)
{
	return fs_base() == fs && gs_base() == gs;
}

#define FG_FS(id) (0x100000000000ull + (uint64_t)(id)*0x1000)
#define FG_GS(id) (0x200000000000ull + (uint64_t)(id)*0x1000)

static void fg_server(void *p)
{
	uint64_t m[4] = { 0 };

	(void)p;
	fg_set(FG_FS(99), FG_GS(99));
	for (ipc_recv(fg.ep, m);;) {
		if (!fg_holds(FG_FS(99), FG_GS(99)))
			__atomic_add_fetch(&fg.wrong, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&fg.served, 1, __ATOMIC_RELAXED);
		ipc_reply_recv(fg.ep, m);
	}
}

static void fg_worker(void *p)
{
	int id = (int)(intptr_t)p, cpu = id % nr_cpus();

	fg_set(FG_FS(id), FG_GS(id));
	for (int i = 0; i < 200; i++) {
		uint64_t m[4] = { (uint64_t)i, 0, 0, 0 };

		switch (i % 4) {
		case 0:
			yield();
			break;
		case 1:
			sleep_ns(100000);
			break;
		case 2:
			ipc_call(fg.ep, m);
			break;
		default:
			cpu = (cpu + 1) % nr_cpus();
			set_affinity(0, cpu);
		}
		if (!fg_holds(FG_FS(id), FG_GS(id)))
			__atomic_add_fetch(&fg.wrong, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&fg.steps, 1, __ATOMIC_RELAXED);
	}
}

void t_fs_gs_bases_survive_switches(const char *arg)
{
	int n = 2 * nr_cpus(), tids[32];

	(void)arg;
	if (!ut_cpu_has("fsgsbase")) {
		ut_note("SKIP: no FSGSBASE (user code cannot set its bases here)");
		exit(3);
	}
	if (n > 32)
		n = 32;
	fg.ep = ep_create();
	T_EXPECT(fg.ep >= 0);
	thread_create(fg_server, NULL);
	for (int i = 0; i < n; i++) {
		tids[i] = thread_create(fg_worker, (void *)(intptr_t)i);
		set_affinity(tids[i], i % nr_cpus());
	}
	for (int i = 0; i < n; i++)
		thread_join(tids[i], NULL);
	T_EQ(fg.wrong, 0);
	T_EQ(fg.steps, 200 * (uint64_t)n);
	ut_note("%d threads and a server, each with its own FS and GS base: %lu steps "
		"(yield, sleep, IPC, migrate), %lu calls served, %lu bases wrong",
		n, fg.steps, fg.served, fg.wrong);
	exit(ut_failures ? 1 : 0); /* the server never returns */
}

/* N system calls on CPU 0: how much its cr3_write and cr3_write_noflush
 * rose (read on that CPU). False (a note, the test skipped) with pti=off. */
static bool cr3_writes_of_syscalls(int n, uint64_t *writes, uint64_t *noflush)
{
	int w = counter_index("cr3_write"), nf = counter_index("cr3_write_noflush");
	uint64_t v0[128], v1[128];

	if (sys_test(SYST_SWITCH, (long)"pti", 3, 0) != 1) {
		ut_note("SKIP: pti=off (no CR3 write at entry or exit)");
		return false;
	}
	T_EXPECT(w >= 0 && w < 128 && nf >= 0 && nf < 128);
	T_EQ(set_affinity(0, 0), 0);
	yield(); /* on CPU 0 from here */
	int got = counters_read(v0, 128, 0);

	T_EXPECT(got > w && got > nf);
	for (int i = 0; i < n; i++)
		syscall0(SYS_GETTID);
	T_EXPECT(counters_read(v1, 128, 0) > w);
	*writes = v1[w] - v0[w];
	*noflush = v1[nf] - v0[nf];
	ut_note("%d system calls: %lu CR3 writes, %lu of them no-flush", n, *writes, *noflush);
	return true;
}

/*
 * syscall_exits_count_their_cr3: with PTI a system call writes CR3 twice,
 * the kernel root at entry and the user root at exit, and cr3_write counts
 * both. The exit code tests and loads the user CR3 itself and counts its
 * fast write in the entry page (sysret_cr3_fast, which counter_read()
 * adds); the slow exit (no PCIDs, a stale user PCID, queued flushes) counts
 * in C. Pinned to one CPU and read there: N calls raise its cr3_write by
 * 2N at least (interrupts add theirs); an exit that does not count shows
 * as about N. With hardware PCIDs (pcid=on once the boot resolved auto)
 * both writes are no-flush ones (a flushing exit needs a stale user PCID,
 * which nothing here makes), and cr3_write_noflush rises by 2N too.
 */
void t_syscall_exits_count_their_cr3(const char *arg)
{
	enum { N = 5000 };
	uint64_t writes, noflush;

	(void)arg;
	if (!cr3_writes_of_syscalls(N, &writes, &noflush))
		exit(3);
	T_EXPECT(writes >= 2 * (uint64_t)N);
	if (sys_test(SYST_SWITCH, (long)"pcid", 4, 0) == 1)
		T_EXPECT(noflush >= 2 * (uint64_t)N);
}

/* paranoid_entries_count_their_cr3's thread on CPU 1: spins in user mode,
 * no system call, until stop. */
static volatile uint32_t pe_stop, pe_spinning;

static void pe_spinner(void *p)
{
	(void)p;
	while (!pe_stop)
		pe_spinning = 1;
}

/*
 * Regression paranoid_entries_count_their_cr3: an NMI (or #MC, #DB)
 * that interrupts user mode with PTI switches to the kernel root on entry
 * and back to the user root on the way out, two CR3 writes that
 * cr3_write did not count (found in review). A thread spins in user mode
 * on CPU 1 while CPU 0 sends it NMIs (SYST_SEND_NMI, which says whether
 * each interrupted user mode; U of them did). Read on CPU 1: each such
 * NMI adds its entry's write to pti_cr3 (a no-flush one with PCIDs) and
 * its exit's restore to cr3_write only (it restores a CR3 read back,
 * which has no no-flush bit). CPU 1's timer interrupts add two to pti_cr3
 * each (T of them, nearly all from user mode), and nothing there writes
 * CR3 from C. So cr3_write - pti_cr3 >= U (the restores; 0 before the
 * fix), and pti_cr3 - 2T is about U (half of it asked, for the odd tick
 * taken in the kernel; 0 before the fix, and then also the rest: the
 * ticks alone, 276 writes for 280 NMIs in one run, could pass a plainer
 * bound).
 */
void t_paranoid_entries_count_their_cr3(const char *arg)
{
	enum { N = 300 };
	int w = counter_index("cr3_write"), nf = counter_index("cr3_write_noflush");
	int pti = counter_index("pti_cr3"), tick = counter_index("timer_irq");
	uint64_t v0[128], v1[128], user = 0;

	(void)arg;
	if (sys_test(SYST_SWITCH, (long)"pti", 3, 0) != 1) {
		ut_note("SKIP: pti=off (no CR3 write at a paranoid entry)");
		exit(3);
	}
	if (nr_cpus() < 2) {
		ut_note("SKIP: one CPU (no NMIs sent)");
		exit(3);
	}
	if (!T_EXPECT(w >= 0 && w < 128 && nf >= 0 && nf < 128 && pti >= 0 && pti < 128 &&
		      tick >= 0 && tick < 128))
		return;
	T_EQ(set_affinity(0, 0), 0);
	yield();
	pe_stop = pe_spinning = 0;
	int v = thread_create(pe_spinner, NULL);

	T_EQ(set_affinity(v, 1), 0);
	while (!pe_spinning)
		cpu_relax();
	T_EXPECT(counters_read(v0, 128, 1) > w);
	for (int k = 0; k < N; k++) {
		long r = sys_test(SYST_SEND_NMI, 1, 1, 0);

		if (r > 0 && (r & 1))
			user++;
	}
	T_EXPECT(counters_read(v1, 128, 1) > w);
	pe_stop = 1;
	thread_join(v, NULL);
	int64_t writes = (int64_t)(v1[w] - v0[w]), noflush = (int64_t)(v1[nf] - v0[nf]);
	int64_t ptis = (int64_t)(v1[pti] - v0[pti]), ticks = (int64_t)(v1[tick] - v0[tick]);

	ut_note("%d NMIs at CPU 1, %lu of them in user mode, %ld timer interrupts: %ld CR3 "
		"writes there, %ld no-flush, %ld of PTI's",
		N, user, ticks, writes, noflush, ptis);
	T_EXPECT(user >= N / 2);
	T_EXPECT(writes - ptis >= (int64_t)user);
	T_EXPECT(ptis - 2 * ticks >= (int64_t)user / 2);
	if (sys_test(SYST_SWITCH, (long)"pcid", 4, 0) == 1)
		T_EXPECT(noflush - 2 * ticks >= (int64_t)user / 2);
}

/*
 * Regression cr3_noflush_counted_without_pcids: counter_read() added
 * pti_cr3, the PTI entry's CR3 writes, to cr3_write_noflush whatever the
 * PCID mode; with pcid=off every CR3 write flushes, and 5000 system calls
 * showed 5005 no-flush writes. With pcid=off (the QEMU TLB rows), none.
 */
void t_cr3_noflush_counted_without_pcids(const char *arg)
{
	uint64_t writes, noflush;

	(void)arg;
	if (sys_test(SYST_SWITCH, (long)"pcid", 4, 0) != 2) { /* "off" */
		ut_note("SKIP: PCIDs in use (pcid=off only)");
		exit(3);
	}
	if (!cr3_writes_of_syscalls(5000, &writes, &noflush))
		exit(3);
	T_EXPECT(writes >= 2 * 5000);
	T_EQ(noflush, 0);
}

/* role_last_page_syscall: a SYSCALL whose return address is 0x800000000000. */
void t_role_last_page_syscall(const char *arg)
{
	(void)arg;
	uint8_t *p =
		map((void *)0x7ffffffff000ull, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED);

	if (MAP_FAILED(p))
		exit(2);
	p[PAGE_SIZE - 2] = 0x0f; /* syscall */
	p[PAGE_SIZE - 1] = 0x05;
	if (protect(p, PAGE_SIZE, UPROT_READ | UPROT_EXEC))
		exit(3);
	__asm__ __volatile__("jmp *%0" ::"r"(p + PAGE_SIZE - 2), "a"((long)SYS_GETPID) : "memory");
	exit(4);
}

void t_syscall_return_noncanonical(const char *arg)
{
	(void)arg;
	expect_child("role_last_page_syscall", KILLED_BY(V_GP));
}

/*
 * Regression iret_to_noncanonical_rip: an interrupt that arrives after the
 * last instruction of the lower half is delivered with RIP 0x800000000000
 * in its frame (the fetch there has not faulted yet). Returning to that
 * frame, IRETQ checks RIP first and raises #GP in ring 0: on the entry
 * stack (or the NMI's IST stack) with the user's CR3 and GS base, where
 * the kernel's text is not mapped, so the #GP handler faulted on its own
 * first instruction, again and again, until a double fault: "PANIC on cpu
 * 0: unexpected #DF double fault in kernel mode in trap_dispatch" (make
 * soak-cpu-fuzz, seed 871173012, its fall-off-the-last-page class, once
 * in 28 boots). The kernel must deliver the #GP the fetch would have
 * raised instead, for an interrupt and for an NMI.
 *
 * A thread on CPU 1 runs the last user page's NOPs into 0x800000000000
 * again and again (each #GP diverted with SYST_FAULT_CATCH); CPU 0 sends
 * it IPIs (membarrier) and NMIs until each has landed on that boundary at
 * least once (counters return_noncanonical_irq and _nmi). Bochs delivers
 * them there within 10^3 to 10^5 falls (the old kernel: the same double
 * fault); QEMU TCG was never seen to (4.5 million falls, 40,000 IPIs and
 * NMIs), so under QEMU nothing is required of chance.
 */
static struct syst_fault_rec nc_rec;
static volatile uint64_t nc_falls, nc_bad;
static uint8_t nc_stack[4096] __attribute__((aligned(16)));
void nc_fall(void);
void nc_catch(void);

__asm__(".text\n"
	"nc_fall:\n" /* into the NOPs of the last user page, at 0-1023 bytes
		     * in by the TSC: the CPUs' interleaving under Bochs is
		     * periodic, and a fixed start can keep missing the end */
	"	rdtsc\n"
	"	andl $0x3ff, %eax\n"
	"	movabsq $0x7ffffffff000, %rdx\n"
	"	addq %rax, %rdx\n"
	"	jmp *%rdx\n"
	"nc_catch:\n" /* RDI = &nc_rec: the #GP at 0x800000000000, diverted */
	"	cmpq $13, 8(%rdi)\n"
	"	jne 1f\n"
	"	movabsq $0x800000000000, %rax\n"
	"	cmpq %rax, 32(%rdi)\n"
	"	je 2f\n"
	"1:	lock incq nc_bad(%rip)\n"
	"2:	lock incq nc_falls(%rip)\n"
	"	movq $0, (%rdi)\n" /* busy 0: armed again */
	"	jmp nc_fall\n");

static void nc_spinner(void *p)
{
	(void)p;
	if (sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)nc_catch,
		     (long)(uintptr_t)(nc_stack + 4096), (long)(uintptr_t)&nc_rec)) {
		nc_bad++;
		return;
	}
	nc_fall();
}

void t_iret_to_noncanonical_rip(const char *arg)
{
	(void)arg;
	uint8_t *p =
		map((void *)0x7ffffffff000ull, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED);
	char platform[16] = "";
	bool smp = nr_cpus() > 1, must_land;

	syscall3(SYS_KINFO, KINFO_PLATFORM, platform, sizeof(platform));
	must_land = smp && strncmp(platform, "qemu", 4);

	T_EXPECT(!MAP_FAILED(p));
	if (MAP_FAILED(p))
		return;
	memset(p, 0x90, PAGE_SIZE);
	T_EQ(protect(p, PAGE_SIZE, UPROT_READ | UPROT_EXEC), 0);
	T_EQ(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	uint64_t irq0 = counter("return_noncanonical_irq"),
		 nmi0 = counter("return_noncanonical_nmi");
	uint64_t t0 = clock_ns(), ipis = 0, nmis = 0, irq = 0, nmi = 0;

	set_affinity(0, 0);
	int tid = thread_create(nc_spinner, NULL);

	T_EXPECT(tid > 0);
	set_affinity(tid, smp ? 1 : 0);
	/* Until both landed, up to 60 s (Bochs: well under one); under QEMU
	 * 2 s. One CPU: only the timer interrupts the spinner, for 2 s. A
	 * spin of pseudo-random length before each send, so that the sends
	 * do not fall into step with the falls: the loop's own length is
	 * fixed, and Bochs's CPUs take turns. (Without it bochs-spr-4cpu once
	 * took 696,587 falls, 20,484 IPIs and 1.3 s of emulated time, at
	 * 77834f0 in a full make test, where the same row alone took 24,820
	 * falls and 47 ms.) */
	for (uint64_t lcg = 1; clock_ns() - t0 < (must_land ? 60000000000ull : 2000000000ull);) {
		if (!smp) {
			sleep_ns(10000000);
			continue;
		}
		irq = counter("return_noncanonical_irq") - irq0;
		nmi = counter("return_noncanonical_nmi") - nmi0;
		if (irq && nmi && nc_falls > 1000)
			break;
		lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
		for (uint64_t j = lcg >> 54; j; j--) /* 0-1023 */
			__asm__ __volatile__("");
		if (!irq) {
			membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0);
			ipis++;
		}
		if (!nmi && sys_test(SYST_SEND_NMI, 1, 0, 0) == 0)
			nmis++;
	}
	T_EQ(sys_test(SYST_KILL_THREAD, tid, 0, 0), 0);
	thread_join(tid, NULL);
	irq = counter("return_noncanonical_irq") - irq0;
	nmi = counter("return_noncanonical_nmi") - nmi0;
	T_EQ(nc_bad, 0);
	T_EXPECT(nc_falls > 0);
	if (must_land) {
		T_EXPECT(irq > 0);
		T_EXPECT(nmi > 0);
	}
	ut_note("%lu falls off the last page, %lu IPIs and %lu NMIs sent: %lu interrupts and "
		"%lu NMIs on the boundary became its #GP",
		(uint64_t)nc_falls, ipis, nmis, irq, nmi);
}

/* ---- ldtr_left_by_firmware ---- */

/* A descriptor at this index of an LDT based at address 0 lies at user
 * address 0x12c0. */
#define LDT_INDEX 600

/* role_ldt_probe <how>: put a valid user data descriptor where an LDT at
 * linear address 0 would have entry LDT_INDEX, then use that LDT selector:
 * how 0 loads it into FS (exit 0 if that worked), how 1 asks LAR (exit 1
 * if ZF says the descriptor is visible, 4 if not). With a null LDTR the
 * load is #GP(selector) and LAR clears ZF. */
void t_role_ldt_probe(const char *arg)
{
	int how = (int)arg_u64(&arg);
	uint8_t *p =
		map((void *)0x1000, 0xf000, UPROT_READ | UPROT_WRITE, UMAP_FIXED | UMAP_POPULATE);
	uint32_t sel = LDT_INDEX << 3 | 4 | 3;

	if (MAP_FAILED(p))
		exit(2);
	/* present, DPL 3, writable data, base 0, limit 4 GiB */
	*(volatile uint64_t *)(uintptr_t)(LDT_INDEX * 8) = 0x00cff2000000ffffull;
	if (how == 0) {
		__asm__ __volatile__("movl %0, %%fs" ::"r"(sel) : "memory");
		exit(0);
	}
	uint64_t ar = 0;
	uint8_t zf;

	__asm__ __volatile__("lar %2, %0; setz %1"
			     : "+r"(ar), "=q"(zf)
			     : "r"((uint64_t)sel)
			     : "cc");
	exit(zf ? 1 : 4);
}

static volatile int bounded_done;
static volatile int bounded_pid;

static void bounded_killer(void *p)
{
	uint64_t end = clock_ns() + (uint64_t)(uintptr_t)p * 1000000ull;

	while (!bounded_done && clock_ns() < end)
		sleep_ns(10000000);
	if (!bounded_done)
		kill_pid(bounded_pid);
}

/* run_child, but a child still running after ms is killed (exit 137). */
static int run_bounded(const char *role, uint64_t ms)
{
	int code = -1;

	bounded_done = 0;
	bounded_pid = start_child(role);
	if (bounded_pid < 0)
		return -1;
	int t = thread_create(bounded_killer, (void *)(uintptr_t)ms);

	if (wait_pid(bounded_pid, &code))
		code = -1;
	bounded_done = 1;
	thread_join(t, NULL);
	return code;
}

/* The kernel never loaded LDTR, so it kept what reset (or the firmware)
 * left there: under QEMU base 0, limit 0xffff. A selector with TI set then
 * made the CPU read its descriptor from user address index * 8: with SMAP
 * that implicit supervisor read faults, and the fault repeated for ever;
 * without SMAP user memory became a descriptor table (data segments, and
 * in 64-bit mode call gates to any kernel address). Found by cpu_fuzz (a
 * MOV to FS of a random selector killed by a #PF at 0xa9a8). */
void t_ldtr_left_by_firmware(const char *arg)
{
	(void)arg;
	int load = run_bounded("role_ldt_probe 0", 5000),
	    lar = run_bounded("role_ldt_probe 1", 5000);

	if (!T_EQ(load, KILLED_BY(V_GP)))
		ut_note("loading an LDT selector ended with %d (0: loaded from user memory, 137: "
			"hung and killed)",
			load);
	if (!T_EQ(lar, 4))
		ut_note("LAR of an LDT selector ended with %d (1: visible, 137: hung and killed)",
			lar);
}

/*
 * Regression syscall_entry_clears_vm: an emulator's state, not a CPU's, but
 * one a user could make the kernel panic with. QEMU TCG's SYSRET loads
 * RFLAGS.VM from R11 (a CPU clears it: R11 AND 3C7FD7H), its SYSCALL keeps
 * in the kernel every RFLAGS bit that SFMASK does not clear, and its
 * lazily computed flags have put garbage bits into the RFLAGS an exception
 * or a SYSCALL saves (RFLAGS 0x5a5e065a, VM among them, in a CPU-fuzzer
 * soak's double fault). With VM set in the kernel every PUSHF, POPF, CLI
 * and STI is a #GP (QEMU applies the virtual-8086 rule: IOPL below 3), and an
 * interrupt or exception at the same privilege is one too (QEMU's
 * do_interrupt64), so a fault there became a double fault. The kernel's
 * SFMASK now clears VM and IOPL with the rest.
 *
 * Each round the hook plants VM in the RFLAGS its SYSRET loads (what the
 * garbage would), and the next system call reports the RFLAGS it was
 * entered with and the kernel's own. Under QEMU the user comes in with VM
 * set ("entered with VM" counts it, so the row shows the path was taken);
 * on a CPU or under Bochs never. The kernel must never run with VM or IOPL.
 * vm_rounds=N (default 200).
 */
void t_syscall_entry_clears_vm(const char *arg)
{
	const uint64_t vm = 1ull << 17, iopl = 3ull << 12;
	uint64_t rounds = ut_param(arg, "vm_rounds", 200), entered = 0, ran = 0;

	for (uint64_t i = 0; i < rounds; i++) {
		/* Planted, then the next call's entry RFLAGS; planted, then
		 * the next call's own. */
		long p1 = sys_test(SYST_SYSRET_FLAGS, (long)vm, 0, 0);
		long user = sys_test(SYST_SYSRET_FLAGS, 0, 1, 0);
		long p2 = sys_test(SYST_SYSRET_FLAGS, (long)vm, 0, 0);

		uint64_t kernel = (uint64_t)sys_test(SYST_SYSRET_FLAGS, 0, 0, 0);
		if (!T_EXPECT(p1 >= 0 && user >= 0 && p2 >= 0))
			break;
		entered += ((uint64_t)user & vm) != 0;
		if (kernel & (vm | iopl)) {
			if (ran++ == 0)
				ut_note("round %lu: the kernel ran with RFLAGS %#lx", i, kernel);
		}
	}
	T_EQ(sys_test(SYST_SYSRET_FLAGS, 1, 0, 0), -EINVAL); /* VM only */
	T_EQ(sys_test(SYST_SYSRET_FLAGS, 0, 2, 0), -EINVAL);
	ut_note("%lu rounds: %lu entered with VM, the kernel ran with VM or IOPL %lu times", rounds,
		entered, ran);
	T_EQ(ran, 0);
}
