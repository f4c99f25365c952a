/*
 * Extended state (arch/x86/xstate.c):
 *   vector_regs_preserved  threads, two per CPU, each with its own pattern in
 *                          every vector register the CPU has (XMM, YMM, or
 *                          ZMM and mask registers), held across yields,
 *                          sleeps, migrations, IPC round trips and busy
 *                          loops the tick preempts; checked after each step
 *   xstate_migration_stress  threads migrating, sleeping, yielding and
 *                          churning with checked vector registers (below)
 *   amx_refused            without permission, touching tile state kills
 *                          the process (#NM through XFD, or #UD)
 *   amx_tiles_preserved    with permission, the eight tiles of several
 *                          threads survive the same steps
 *   ud_blamed_on_amx       an ordinary #UD is not reported (nor retried)
 *                          as an AMX instruction
 */
#include "user/utest/utest.h"
#include "include/uapi/xstate.h"
#include "user/lib/syscall.h"

long vec_hold_sse(const void *in, void *out, long nr, long a0, long a1, long a2);
long vec_hold_avx(const void *in, void *out, long nr, long a0, long a1, long a2);
long vec_hold_avx512(const void *in, void *out, long nr, long a0, long a1, long a2);
long vec_hold_amx(const void *in, void *out, long nr, long a0, long a1, long a2);
void amx_touch(const void *cfg);

typedef long (*hold_fn)(const void *, void *, long, long, long, long);

struct cpuid_r {
	uint32_t a, b, c, d;
};

static struct cpuid_r cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_r r;

	__asm__ __volatile__("cpuid"
			     : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
			     : "a"(leaf), "c"(sub));
	return r;
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | (uint64_t)hi << 32;
}

/* What the kernel enabled for us: CPUID's OSXSAVE, then XCR0. */
enum level { LVL_SSE, LVL_AVX, LVL_AVX512 };

static enum level vec_level(void)
{
	if (!(cpuid(1, 0).c & (1u << 27)))
		return LVL_SSE; /* OSXSAVE clear: xsave=fxsave */
	uint64_t xcr0 = xgetbv0();

	if ((xcr0 & 0xe6) == 0xe6 && (cpuid(7, 0).b & (1u << 16)))
		return LVL_AVX512;
	return (xcr0 & 6) == 6 ? LVL_AVX : LVL_SSE;
}

static const struct {
	hold_fn fn;
	uint32_t bytes;
	const char *name;
} levels[] = {
	{ vec_hold_sse, 16 * 16, "xmm0-15" },
	{ vec_hold_avx, 16 * 32, "ymm0-15" },
	{ vec_hold_avx512, 32 * 64 + 8 * 8, "zmm0-31 and k0-7" },
};

/* ---- an IPC echo server inside the process ---- */

/* The server thread receives on arg, an endpoint handle of this process. */
static void echo_server(void *arg)
{
	int h = (int)(intptr_t)arg;
	uint64_t m[4] = { 0 };

	for (ipc_recv(h, m);;)
		ipc_reply_recv(h, m);
}

/* ---- the steps ---- */

enum step { ST_YIELD, ST_SLEEP, ST_MIGRATE, ST_IPC, ST_SPIN, NR_STEPS };
static const char *const step_names[] = { "yield", "sleep", "migrate", "ipc", "preempted spin" };

struct worker {
	int id, cpu, ep;
	hold_fn fn;
	uint32_t bytes;
	uint32_t bad[NR_STEPS], done[NR_STEPS];
	uint8_t in[4096 + 64] __attribute__((aligned(64)));
	uint8_t out[4096 + 64] __attribute__((aligned(64)));
};

static void fill(uint8_t *b, uint32_t n, int id, int round)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)(id * 37 + round * 11 + i * 7 + (i >> 8));
}

/* Busy-loop iterations that take about 100 ms here: several time slices,
 * so a spinning thread sharing its CPU is preempted with registers live. */
static long spin_iters;

static void calibrate_spin(void)
{
	static uint8_t buf[4096 + 64] __attribute__((aligned(64)));
	uint64_t t0 = rdtsc();

	vec_hold_sse(buf, buf, -1, 1000000, 0, 0);
	uint64_t per_m = rdtsc() - t0, khz = (uint64_t)syscall0(SYS_TSC_KHZ);

	spin_iters = per_m ? (long)(1000000ull * (khz * 100) / per_m) : 1000000;
	if (spin_iters < 100000)
		spin_iters = 100000;
}

/* One step with the registers held; returns the system call's result. */
static long hold(struct worker *w, enum step s, const void *in, void *out)
{
	switch (s) {
	case ST_YIELD:
		return w->fn(in, out, SYS_YIELD, 0, 0, 0);
	case ST_SLEEP:
		return w->fn(in, out, SYS_SLEEP, 200000, 0, 0);
	case ST_MIGRATE: {
		uint64_t mask = 1ull << ((w->cpu = (w->cpu + 1) % nr_cpus()) % 64);

		return w->fn(in, out, SYS_SET_AFFINITY, 0, (long)&mask, 8);
	}
	case ST_IPC:
		/* ipc_call's message words travel in RSI, RDX, R10, R8: the
		 * helper passes a0..a2 in RDI, RSI, RDX (R10 zero). */
		return w->fn(in, out, SYS_IPC_CALL, w->ep, 1, 2);
	case ST_SPIN:
		return w->fn(in, out, -1, spin_iters, 0, 0);
	default:
		return -1;
	}
}

/* Rounds of the five steps each worker runs (xstate_rounds=, 4 unless
 * given; the Bochs row runs 2: its spins cost a minute of host time). */
static int worker_rounds = 4;

static void worker_fn(void *arg)
{
	struct worker *w = arg;

	for (int round = 0; round < worker_rounds; round++) {
		for (int s = 0; s < NR_STEPS; s++) {
			fill(w->in, w->bytes, w->id, round * NR_STEPS + s);
			memset(w->out, 0, w->bytes);
			long r = hold(w, (enum step)s, w->in, w->out);

			w->done[s]++;
			if (r < 0 || memcmp(w->in, w->out, w->bytes))
				w->bad[s]++;
		}
	}
}

/* Runs workers (two per CPU) with fn holding bytes of registers. */
static void run_workers(hold_fn fn, uint32_t bytes, const char *what)
{
	static struct worker ws[32];
	int n = 2 * nr_cpus(), tids[32];

	if (n > 32)
		n = 32;
	int ep = ep_create();
	int srv = thread_create(echo_server, (void *)(intptr_t)ep);
	T_EXPECT(ep >= 0);
	for (int i = 0; i < n; i++) {
		memset(&ws[i], 0, sizeof(ws[i]));
		ws[i] = (struct worker){
			.id = i + 1, .cpu = i % nr_cpus(), .ep = ep, .fn = fn, .bytes = bytes
		};
		tids[i] = thread_create(worker_fn, &ws[i]);
		set_affinity(tids[i], ws[i].cpu);
	}
	uint32_t bad = 0, done = 0;

	for (int i = 0; i < n; i++) {
		thread_join(tids[i], NULL);
		for (int s = 0; s < NR_STEPS; s++) {
			if (ws[i].bad[s])
				ut_note("thread %d: %s corrupted after %u of %u %s steps", ws[i].id,
					what, ws[i].bad[s], ws[i].done[s], step_names[s]);
			bad += ws[i].bad[s];
			done += ws[i].done[s];
		}
	}
	(void)srv; /* ends with the process */
	T_EQ(bad, 0);
	ut_note("%d threads, %s: %u steps (yield, sleep, migrate, IPC, preempted spin), %u corrupted",
		n, what, done, bad);
}

/*
 * One thread bouncing between two CPUs with nothing else to run: each CPU
 * still holds the thread's older registers when it comes back, so only the
 * restore tags (the thread's is the other CPU's by then) stop a stale
 * "already loaded" shortcut.
 */
static struct worker bouncer;

static void bounce_fn(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 40; i++) {
		uint64_t mask = 1ull << (i % 2);

		fill(w->in, w->bytes, w->id, i);
		memset(w->out, 0, w->bytes);
		long r = w->fn(w->in, w->out, SYS_SET_AFFINITY, 0, (long)&mask, 8);

		w->done[ST_MIGRATE]++;
		if (r < 0 || memcmp(w->in, w->out, w->bytes))
			w->bad[ST_MIGRATE]++;
	}
}

static void run_bouncer(hold_fn fn, uint32_t bytes, const char *what)
{
	if (nr_cpus() < 3)
		return;
	memset(&bouncer, 0, sizeof(bouncer));
	bouncer.id = 99;
	bouncer.fn = fn;
	bouncer.bytes = bytes;
	set_affinity(0, 2); /* out of the way (and blocked in join) */
	int t = thread_create(bounce_fn, &bouncer);

	thread_join(t, NULL);
	T_EQ(bouncer.bad[ST_MIGRATE], 0);
	ut_note("one thread bouncing between CPUs 0 and 1, %s: %u migrations, %u corrupted", what,
		bouncer.done[ST_MIGRATE], bouncer.bad[ST_MIGRATE]);
}

void t_vector_regs_preserved(const char *arg)
{
	enum level l = vec_level();
	uint64_t x0 = counter("xsave"), r0 = counter("xrstor"), s0 = counter("xrstor_skipped");

	worker_rounds = (int)ut_param(arg, "xstate_rounds", 4);
	calibrate_spin();
	/* Every level up to the CPU's: each register file on its own. */
	for (int i = 0; i <= (int)l; i++) {
		run_workers(levels[i].fn, levels[i].bytes, levels[i].name);
		run_bouncer(levels[i].fn, levels[i].bytes, levels[i].name);
	}
	ut_note("saves %lu, restores %lu, restores skipped %lu", counter("xsave") - x0,
		counter("xrstor") - r0, counter("xrstor_skipped") - s0);
	exit(ut_failures ? 1 : 0); /* the echo server never returns */
}

/*
 * xstate_migration_stress: three threads per CPU each load a fresh pattern
 * into every vector register, take one random step (yield; a short sleep
 * with the thread allowed everywhere, so it wakes wherever a CPU is idle;
 * a move to a random CPU; a spin the tick preempts), and check the
 * registers afterwards. A churn thread keeps creating and joining
 * short-lived threads that load the registers too, so task structs are
 * reused (a new one must start with no CPU holding its state). xstate_steps
 * steps in all (default 2000; the xstate-stress rows run 10^5).
 * Regression for a CPU saving its stale registers over a task's newer
 * state (fpu_owner_stale_cpu): a thread woken on a CPU it ran on long ago
 * and preempted before it returned to user.
 */
static struct {
	hold_fn fn;
	uint32_t bytes;
	long spin;
	int64_t left; /* steps still to take (atomic; below 0 once done) */
	uint32_t bad, done, churned;
	volatile int stop;
} ms;

struct ms_worker {
	int id;
	uint64_t rng;
	uint8_t in[4096 + 64] __attribute__((aligned(64)));
	uint8_t out[4096 + 64] __attribute__((aligned(64)));
};

static uint64_t ms_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static long ms_step(struct ms_worker *w, uint64_t r)
{
	int n = nr_cpus() < 64 ? nr_cpus() : 64;
	uint64_t all = n == 64 ? ~0ull : (1ull << n) - 1, one = 1ull << (r >> 8) % (uint64_t)n;

	switch (r % 5) {
	case 0:
		return ms.fn(w->in, w->out, SYS_YIELD, 0, 0, 0);
	case 1:
		return ms.fn(w->in, w->out, SYS_SET_AFFINITY, 0, (long)&all, 8);
	case 2:
		return ms.fn(w->in, w->out, SYS_SLEEP, (long)((r >> 8) % 200000), 0, 0);
	case 3:
		return ms.fn(w->in, w->out, SYS_SET_AFFINITY, 0, (long)&one, 8);
	default:
		return ms.fn(w->in, w->out, -1, ms.spin, 0, 0);
	}
}

static void ms_worker_fn(void *arg)
{
	struct ms_worker *w = arg;

	for (int round = 0; __atomic_fetch_sub(&ms.left, 1, __ATOMIC_RELAXED) > 0; round++) {
		uint64_t r = ms_next(&w->rng);

		fill(w->in, ms.bytes, w->id, round);
		memset(w->out, 0, ms.bytes);
		long res = ms_step(w, r);

		__atomic_fetch_add(&ms.done, 1, __ATOMIC_RELAXED);
		if (res < 0 || memcmp(w->in, w->out, ms.bytes))
			__atomic_fetch_add(&ms.bad, 1, __ATOMIC_RELAXED);
	}
}

static void ms_short_lived(void *arg)
{
	struct ms_worker *w = arg;

	fill(w->in, ms.bytes, w->id, 0);
	ms.fn(w->in, w->out, SYS_YIELD, 0, 0, 0);
	if (memcmp(w->in, w->out, ms.bytes))
		__atomic_fetch_add(&ms.bad, 1, __ATOMIC_RELAXED);
}

/* One short-lived thread per 20 steps: enough to reuse task structs all
 * the time, not so many that creating them is most of the run. */
static void ms_churn(void *arg)
{
	static struct ms_worker w;

	(void)arg;
	w.id = 777;
	while (!ms.stop) {
		int t = thread_create(ms_short_lived, &w);

		if (t > 0) {
			thread_join(t, NULL);
			ms.churned++;
		}
		while (!ms.stop && __atomic_load_n(&ms.done, __ATOMIC_RELAXED) < 20 * ms.churned)
			sleep_ns(1000000);
	}
}

void t_xstate_migration_stress(const char *arg)
{
	static struct ms_worker ws[24];
	enum level l = vec_level();
	int n = 3 * nr_cpus(), tids[24];
	uint64_t steps = ut_param(arg, "xstate_steps", 2000), t0 = clock_ns();

	if (n > 24)
		n = 24;
	calibrate_spin();
	ms.fn = levels[l].fn;
	ms.bytes = levels[l].bytes;
	ms.spin = spin_iters / 50 + 1; /* about 2 ms */
	ms.left = (int64_t)steps;
	ms.bad = ms.done = ms.churned = 0;
	ms.stop = 0;
	int churn = thread_create(ms_churn, NULL);

	for (int i = 0; i < n; i++) {
		ws[i].id = i + 1;
		ws[i].rng = (rdtsc() ^ (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull) | 1;
		tids[i] = thread_create(ms_worker_fn, &ws[i]);
	}
	for (int i = 0; i < n; i++)
		thread_join(tids[i], NULL);
	ms.stop = 1;
	thread_join(churn, NULL);
	uint64_t ms_taken = (clock_ns() - t0) / 1000000;

	T_EQ(ms.bad, 0);
	T_EXPECT(ms.done >= steps);
	ut_note("%s, %d threads: %u steps, %u corrupted, %u short-lived threads, %lu ms (%lu "
		"steps/s)",
		levels[l].name, n, ms.done, ms.bad, ms.churned, ms_taken,
		ms_taken ? (uint64_t)ms.done * 1000 / ms_taken : 0);
}

/* ---- AMX ---- */

static long uperm(long cmd, long features)
{
	return syscall2(SYS_XSTATE_PERM, cmd, features);
}

/*
 * Palette 1, tiles 0-7 of 16 rows x 16 bytes (LDTILECFG, SDM Vol. 2). Rows
 * equal to bytes per row on purpose: Bochs 3.0 stores the two swapped in
 * XSAVE's tile configuration, and a square configuration survives that.
 */
#define TILE_ROWS  16
#define TILE_COLSB 16

static void tile_config(uint8_t cfg[64])
{
	memset(cfg, 0, 64);
	cfg[0] = 1;
	for (int t = 0; t < 8; t++) {
		cfg[16 + 2 * t] = TILE_COLSB;
		cfg[48 + t] = TILE_ROWS;
	}
}

/* The bytes a tile holds: rows of TILE_COLSB at a stride of 64 (the
 * helper's), tiles 1 KiB apart. */
static bool tiles_equal(const uint8_t *a, const uint8_t *b)
{
	for (int t = 0; t < 8; t++)
		for (int r = 0; r < TILE_ROWS; r++)
			if (memcmp(a + t * 1024 + r * 64, b + t * 1024 + r * 64, TILE_COLSB))
				return false;
	return true;
}

static bool tiles_zero(const uint8_t *a)
{
	static const uint8_t zero[TILE_COLSB];

	for (int t = 0; t < 8; t++)
		for (int r = 0; r < TILE_ROWS; r++)
			if (memcmp(a + t * 1024 + r * 64, zero, TILE_COLSB))
				return false;
	return true;
}

static bool amx_offered(void)
{
	if (uperm(XSTATE_PERM_SUPPORTED, 0) <= 0) {
		ut_note("SKIP: no AMX here (or not offered: xsave mode without compaction)");
		return false;
	}
	return true;
}

/* role_amx_noperm: touch tile state without asking. Must not return. */
void t_role_amx_noperm(const char *arg)
{
	(void)arg;
	static uint8_t cfg[64] __attribute__((aligned(64)));

	tile_config(cfg);
	amx_touch(cfg);
	exit(0);
}

void t_amx_refused(const char *arg)
{
	(void)arg;
	if (!amx_offered())
		exit(3);
	T_EQ(uperm(XSTATE_PERM_GET, 0), 0);
	T_EQ(uperm(XSTATE_PERM_REQUEST, 1 << 2), -22); /* not a dynamic feature */
	int code = run_child("role_amx_noperm");

	/* #NM (7) through XFD, or #UD (6) with tile state off in XCR0. */
	T_EXPECT(code == 128 + 7 || code == 128 + 6);
	ut_note("touching tiles without permission: killed with exit code %d (%s)", code,
		code == 128 + 7 ? "#NM, XFD" : "#UD, XCR0");
}

/* ---- amx_first_use_in_older_thread ---- */

static struct {
	uint32_t go;
	int ok;
} fu;

static void first_use_thread(void *arg)
{
	static uint8_t cfg[64] __attribute__((aligned(64)));

	(void)arg;
	/* Acquire: pairs with the release store in t_role_amx_older_thread()
	 * (made after the permission was granted). */
	while (!__atomic_load_n(&fu.go, __ATOMIC_ACQUIRE))
		futex_wait(&fu.go, 0, 0);
	tile_config(cfg);
	amx_touch(cfg); /* killed here if the kernel does not grow us */
	fu.ok = 1;
	thread_exit(0);
}

/* role_amx_older_thread: a thread that exists before the process asks for
 * AMX (so it has no tile space), then uses tiles. Exit 0 if it could. */
void t_role_amx_older_thread(const char *arg)
{
	(void)arg;
	int tid = thread_create(first_use_thread, NULL);

	if (tid < 0 || uperm(XSTATE_PERM_REQUEST, 3 << 17))
		exit(2);
	/* Release: the thread's acquire load sees it after the grant. Pairs
	 * with the acquire load in first_use_thread(). */
	__atomic_store_n(&fu.go, 1, __ATOMIC_RELEASE);
	futex_wake(&fu.go, 1);
	if (thread_join(tid, NULL))
		exit(3);
	exit(fu.ok ? 0 : 1);
}

/* The permission is the process's, the tile space each thread's: a thread
 * made before the grant gets its space at its first tile instruction, by
 * XFD's first-use #NM, or without XFD (Bochs) by the #UD of that
 * instruction, recognised by its opcode (amx_first_use_ud). Either way the
 * instruction runs again and the thread goes on. */
void t_amx_first_use_in_older_thread(const char *arg)
{
	(void)arg;
	if (!amx_offered())
		exit(3);
	uint64_t n0 = counter("xfd_fault") + counter("amx_first_use_ud");

	T_EQ(run_child("role_amx_older_thread"), 0);
	uint64_t n = counter("xfd_fault") + counter("amx_first_use_ud") - n0;

	T_EXPECT(n >= 1);
	ut_note("first-use faults that grew a thread: %lu (#NM with XFD: %s)", n,
		counter("xfd_fault") ? "yes" : "no");
}

/* ---- ud_blamed_on_amx ---- */

/* role_ud_amx_perm: AMX permitted, then an ordinary UD2. */
void t_role_ud_amx_perm(const char *arg)
{
	(void)arg;
	if (uperm(XSTATE_PERM_REQUEST, 3 << 17))
		exit(2);
	__asm__ __volatile__("ud2");
	exit(0);
}

/* The kill report of child pid (the newest in the kernel log). */
static bool kill_report(int pid, char *line, size_t len)
{
	static char log[8193];
	char key[32];
	long n = kinfo(KINFO_LOG, log, sizeof(log) - 1);
	const char *last = NULL;

	if (n <= 0)
		return false;
	log[n] = 0;
	snprintf(key, sizeof(key), "proc %d (", pid);
	for (const char *p = log; *p; p++) {
		if (!strncmp(p, key, strlen(key)))
			last = p;
	}
	if (!last)
		return false;
	size_t k = 0;

	for (; last[k] && last[k] != '\n' && k + 1 < len; k++)
		line[k] = last[k];
	line[k] = 0;
	return true;
}

static bool contains(const char *s, const char *w)
{
	for (; *s; s++) {
		if (!strncmp(s, w, strlen(w)))
			return true;
	}
	return false;
}

/* On a CPU with AMX but no XFD (Bochs) every #UD of a task without tile
 * state in its XCR0 was taken for an AMX instruction: the kill report
 * blamed AMX for a UD2, and a task with AMX permission had its buffer
 * grown and the UD2 run again. Now only AMX opcodes are (found by
 * cpu_fuzz's report checks under Bochs). */
void t_ud_blamed_on_amx(const char *arg)
{
	static const char *const roles[] = { "role_ud", "role_ud_amx_perm", "role_amx_noperm" };
	char line[256];

	(void)arg;
	if (!amx_offered())
		exit(3);
	for (int i = 0; i < 3; i++) {
		int code = -1, pid = start_child(roles[i]);

		T_EXPECT(pid > 0 && wait_pid(pid, &code) == 0);
		T_EXPECT(code == 128 + 6 || (i == 2 && code == 128 + 7));
		if (!T_EXPECT(kill_report(pid, line, sizeof(line))))
			continue;
		bool amx = contains(line, "AMX");

		/* UD2: an invalid opcode, AMX not named; a tile instruction
		 * without permission: AMX named */
		if (!T_EQ(amx, i == 2))
			ut_note("%s: %s", roles[i], line);
	}
}

static uint64_t ud_caught(const struct syst_fault_rec *rec)
{
	(void)rec;
	return 1;
}

static uint8_t ud_stack[8192] __attribute__((aligned(16)));
static struct syst_fault_rec ud_rec;

/*
 * Regression ud_at_page_end_resolves_no_fault (found in review): on a CPU
 * with AMX and no XFD (Bochs), a #UD made the kernel read the 8 bytes at
 * RIP to tell AMX opcodes apart, with interrupts off, and a read past the
 * page's end resolved a fault there: mm->lock taken with interrupts off,
 * a deadlock when its holder waits for this CPU to answer a flush IPI.
 * Now those bytes are read without resolving faults. A UD2 in the last
 * two bytes of a page whose next page is mapped and untouched: after
 * the #UD (caught), the first touch of the next page must still fault.
 */
void t_ud_at_page_end_resolves_no_fault(const char *arg)
{
	(void)arg;
	if (!amx_offered())
		exit(3);
	uint8_t *a = map(NULL, 2 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);

	if (!T_EXPECT(!MAP_FAILED(a)))
		return;
	a[PAGE_SIZE - 2] = 0x0f; /* UD2 */
	a[PAGE_SIZE - 1] = 0x0b;
	T_EQ(protect(a, PAGE_SIZE, UPROT_READ | UPROT_EXEC), 0);
	T_EQ(sys_test(SYST_FAULT_CATCH, (long)(uintptr_t)fc_catch,
		      (long)(uintptr_t)(ud_stack + sizeof(ud_stack)), (long)(uintptr_t)&ud_rec),
	     0);
	ud_rec.busy = 0;
	T_EQ(fc_run((uint64_t(*)(void))(uintptr_t)(a + PAGE_SIZE - 2), ud_caught), 1);
	T_EQ(sys_test(SYST_FAULT_CATCH, 0, 0, 0), 0);
	uint64_t f0 = counter("page_fault_user");

	(void)*(volatile uint8_t *)(a + PAGE_SIZE); /* the first touch */
	uint64_t f = counter("page_fault_user") - f0;

	ut_note("the first touch of the page after the UD2 faulted %lu time(s)", f);
	T_EXPECT(f >= 1);
	T_EQ(unmap(a, 2 * PAGE_SIZE), 0);
}

struct tile_worker {
	uint8_t in[64 + 8192] __attribute__((aligned(64)));
	uint8_t out[8192] __attribute__((aligned(64)));
	int id, cpu, ep;
	uint32_t bad, done, zeroed;
};

static void tile_worker_fn(void *arg)
{
	struct tile_worker *w = arg;
	struct worker step = { .ep = w->ep, .cpu = w->cpu, .fn = vec_hold_amx };

	for (int round = 0; round < 2; round++) {
		for (int s = 0; s < NR_STEPS; s++) {
			tile_config(w->in);
			fill(w->in + 64, 8192, w->id, round * NR_STEPS + s);
			memset(w->out, 0, sizeof(w->out));
			long r = hold(&step, (enum step)s, w->in, w->out);

			w->done++;
			if (r < 0)
				w->bad++;
			else if (!tiles_equal(w->in + 64, w->out) && tiles_zero(w->out))
				w->zeroed++; /* data in its initial state: see below */
			else if (!tiles_equal(w->in + 64, w->out))
				w->bad++;
		}
	}
}

void t_amx_tiles_preserved(const char *arg)
{
	(void)arg;
	static struct tile_worker ws[8];
	int n = nr_cpus() < 4 ? 2 * nr_cpus() : 8, tids[8];

	if (!amx_offered())
		exit(3);
	calibrate_spin();
	spin_iters /= 4; /* tiles are slow in emulation; still over a slice */
	T_EQ(uperm(XSTATE_PERM_REQUEST, 3 << 17), 0);
	T_EQ(uperm(XSTATE_PERM_GET, 0), 3 << 17);
	int ep = ep_create();
	int srv = thread_create(echo_server, (void *)(intptr_t)ep);
	uint64_t f0 = counter("xfd_fault"), w0 = counter("xfd_msr_write"),
		 a0 = counter("xfd_msr_write_avoided"), c0 = counter("xcr0_write");

	for (int i = 0; i < n; i++) {
		ws[i].id = i + 1;
		ws[i].cpu = i % nr_cpus();
		ws[i].ep = ep;
		ws[i].bad = ws[i].done = 0;
		tids[i] = thread_create(tile_worker_fn, &ws[i]);
		set_affinity(tids[i], ws[i].cpu);
	}
	uint32_t bad = 0, done = 0, zeroed = 0;
	char platform[16] = "";

	for (int i = 0; i < n; i++) {
		thread_join(tids[i], NULL);
		bad += ws[i].bad;
		done += ws[i].done;
		zeroed += ws[i].zeroed;
	}
	(void)srv;
	kinfo(KINFO_PLATFORM, platform, sizeof(platform));
	T_EQ(bad, 0);
	/* Every step ran its tile instructions after the step (the tile
	 * configuration survived: no #UD). The data: Bochs 3.0's XSAVE* keep
	 * no tile data (XSTATE_BV[18] comes out 0 after TILELOADD, an inverted
	 * in-use test), so after a real save and restore it reads back in its
	 * initial state, all zeros. Elsewhere that is a kernel bug. */
	if (strcmp(platform, "bochs"))
		T_EQ(zeroed, 0);
	ut_note("%d threads, tmm0-7: %u steps, %u corrupted, %u with tile data reset%s; first-use "
		"#NM %lu, XFD writes %lu (avoided %lu), XCR0 writes %lu",
		n, done, bad, zeroed, strcmp(platform, "bochs") ? "" : " (Bochs: expected)",
		counter("xfd_fault") - f0, counter("xfd_msr_write") - w0,
		counter("xfd_msr_write_avoided") - a0, counter("xcr0_write") - c0);
	exit(ut_failures ? 1 : 0); /* the echo server never returns */
}
