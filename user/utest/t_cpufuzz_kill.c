/*
 * cpu_fuzz, the test itself (the design and the table of outcomes are at
 * the top of t_cpufuzz.c): rounds of child processes running the
 * sequences, then children that each replay one faulting sequence without
 * the fault diversion, so that the kernel's real kill path ends them: the
 * exit code must be 128 + an allowed vector, and the kernel's report line
 * (read back with kinfo(KINFO_LOG)) must name the vector, the error code,
 * the user's RIP (and for #PF the address) and no kernel address the
 * sequence did not put there itself. Then the leak check.
 */
#include "user/utest/cpufuzz.h"
#include "include/uapi/errno.h"

static struct cf_ctx *kctx; /* mapped above 4 GiB (t_cpufuzz.c says why) */
static uint8_t kxsave[4096] __attribute__((aligned(64)));
static uint32_t kill_never;

static void helper_block(void *p)
{
	(void)p;
	for (;;)
		futex_wait(&kill_never, 0, 0);
}

static void helper_sleep(void *p)
{
	(void)p;
	for (;;)
		sleep_ns(1000000);
}

static void helper_spin(void *p)
{
	(void)p;
	for (;;)
		cpu_relax();
}

static void kill_seq(const struct cf_env *e, uint64_t wseed, uint64_t index, int kind,
		     struct seq *s)
{
	if (kind == 1)
		cf_generate_kill(e, wseed, index, s);
	else
		cf_generate(e, wseed, index, s);
}

/* role_cpufuzz_kill <worker seed> <index> <kind> <helpers>: run one
 * sequence of worker 0's stream (kind 1: a kill-only one in its slot)
 * without the diversion. Exit 0 if it completes. */
void t_role_cpufuzz_kill(const char *arg)
{
	uint64_t wseed = arg_u64(&arg), index = arg_u64(&arg);
	int kind = (int)arg_u64(&arg), helpers = (int)arg_u64(&arg);
	struct cf_env e;
	struct cf_outcome o;
	struct seq s;

	cf_env_init(&e, 0, kxsave);
	e.tid = (uint64_t)gettid();
	e.last_page = true;
	cf_xsave_image_init(kxsave);
	kill_seq(&e, wseed, index, kind, &s);
	if (cf_last_page_init(s.kill_only && s.arg[1] == 1) || cf_map_region(&e))
		exit(2);
	kctx = map(NULL, sizeof(*kctx), UPROT_READ | UPROT_WRITE, 0);
	if (MAP_FAILED(kctx))
		exit(2);
	cf_ctx_init(kctx, &e);
	cf_write_epilogue((uint8_t *)(uintptr_t)s.page, kctx, &e);
	cf_write_body(&s);
	if (protect((void *)(uintptr_t)s.page, PAGE_SIZE, UPROT_READ | UPROT_EXEC))
		exit(3);
	if (helpers) {
		/* Threads in a blocking call, asleep and running: the kill
		 * must end them all. */
		thread_create(helper_block, NULL);
		thread_create(helper_sleep, NULL);
		int t = thread_create(helper_spin, NULL);

		set_affinity(t, nr_cpus() > 1 ? 1 : 0);
	}
	cf_prepare(kctx, &e, &s);
	if (cf_seal_writable(true))
		exit(3);
	cf_run(kctx, &o);
	if (s.kill_only && s.arg[0] != 0) {
		/* The new thread dies and takes the process with it. */
		sleep_ns(10000000000ull);
		exit(99);
	}
	exit(0);
}

static uint64_t hex_after(const char *line, const char *key, bool *found)
{
	const char *p = ut_find(line, key);
	uint64_t v = 0;

	*found = p != NULL;
	if (!p)
		return 0;
	p += strlen(key);
	if (p[0] == '0' && p[1] == 'x')
		p += 2;
	for (;; p++) {
		int d = *p >= '0' && *p <= '9'	 ? *p - '0'
			: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
						 : -1;

		if (d < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	return v;
}

/* The kernel's report of the kill of pid, from the log's newest 8 KiB:
 * "proc P (utest) thread T killed: WHAT at rip R (vector V, error E)". */
static bool find_report(int pid, char *line, size_t len)
{
	static char log[8192 + 1];
	char key[32];
	long n = kinfo(KINFO_LOG, log, sizeof(log) - 1);
	const char *p, *last = NULL;

	if (n <= 0)
		return false;
	log[n] = 0;
	snprintf(key, sizeof(key), "proc %d (", pid);
	for (p = log; (p = ut_find(p, key)); p++)
		last = p;
	if (!last)
		return false;
	size_t k = 0;

	while (last[k] && last[k] != '\n' && k + 1 < len) {
		line[k] = last[k];
		k++;
	}
	line[k] = 0;
	return true;
}

/* Every 0x number in the report: no kernel address the sequence did not
 * hold itself. */
static bool report_leaks(const struct seq *s, const char *line)
{
	for (const char *p = ut_find(line, "0x"); p; p = ut_find(p + 2, "0x")) {
		bool f;
		uint64_t v = hex_after(p, "0x", &f);

		if (cf_kernel_looking(v) && !cf_planted(s, v))
			return true;
	}
	return false;
}

static const char *check_kill(const struct seq *s, int code, const char *line, bool have_line)
{
	bool f1, f2, f3;

	if (code == 0)
		return s->allow >> CF_DONE & 1 ? NULL : "completed, but it must fault";
	if (code < 128 || code >= 128 + CF_DONE || !(s->allow >> (code - 128) & 1))
		return "exit code is not 128 + an allowed vector";
	if (!have_line)
		return "no kill report on the console";
	uint64_t v = hex_after(line, "(vector ", &f1), err = hex_after(line, "error 0x", &f2);
	uint64_t rip = hex_after(line, " at rip 0x", &f3);

	/* the vector is printed in decimal */
	const char *vp = ut_find(line, "(vector ");

	v = vp ? arg_u64(&(const char *){ vp + 8 }) : ~0ull;
	if (!f1 || !f2 || !f3)
		return "kill report not understood";
	if (v != (uint64_t)(code - 128))
		return "the report's vector is not the exit code's";
	if (cf_has_error_code(v) ? (s->err != CF_ANY && err != s->err) : err != 0)
		return "the report's error code";
	if (s->cls == CL_KILL_ONLY && s->arg[0] != 0) {
		if (rip < s->arg[2] || rip > CF_USER_TOP)
			return "the report's RIP is not the new thread's";
	} else if (!cf_rip_ok(s, rip)) {
		return "the report's RIP";
	}
	if (v == V_PF && s->cr2 != CF_ANY) {
		bool f;
		uint64_t cr2 = hex_after(line, "page fault at 0x", &f);

		if (!f || cr2 != s->cr2)
			return "the report's page-fault address";
	}
	if (report_leaks(s, line))
		return "a kernel address in the report";
	return NULL;
}

/* Children killed by sequences of the rounds' streams (worker 0's). */
static uint64_t kill_children(uint64_t seed, int rounds, uint64_t each, int kills, int *bad)
{
	struct cf_env e;
	struct rng r = { cf_splitmix(seed ^ 0x6b696c6cull) | 1 };
	uint64_t delivered = 0;
	static char line[512];
	struct seq s;

	cf_env_init(&e, 0, kxsave);
	e.last_page = true;
	for (int j = 0; j < kills; j++) {
		uint64_t wseed = cf_worker_seed(cf_splitmix(seed + (uint64_t)(j % rounds)), 0);
		int kind = j % 4 == 3, helpers = j % 2, code = -1, tries = 0;
		uint64_t index;

		do {
			index = cf_below(&r, each);
			kill_seq(&e, wseed, index, kind, &s);
		} while (s.allow >> CF_DONE & 1 && ++tries < 50);
		char a[96];

		snprintf(a, sizeof(a), "role_cpufuzz_kill %lu %lu %d %d", wseed, index, kind,
			 helpers);
		int pid = start_child(a);

		if (pid < 0 || wait_pid(pid, &code)) {
			(*bad)++;
			continue;
		}
		bool have = code >= 128 && find_report(pid, line, sizeof(line));
		const char *why = check_kill(&s, code, line, have);

		delivered += code >= 128;
		if (why) {
			struct cf_outcome o = { .faulted = false, .vector = CF_DONE };

			(*bad)++;
			cf_describe("kill child", wseed, index, &s, &o, why);
			printf("        #   exit code %d, report: %s\n", code,
			       have ? line : "(none)");
		}
	}
	return delivered;
}

/* One round: a child process per worker (their code-page protection
 * changes then shoot down nobody else's TLB), or with shared all workers
 * as threads of one (every change IPIs the CPUs of the others: slow with
 * many vCPUs on few host cores). Returns the number of children failed. */
static int run_round(uint64_t rs, uint64_t each, int nw, bool shared, bool last, const char *only)
{
	char a[128];
	int pids[16], bad = 0, n = shared ? 1 : nw;

	for (int w = 0; w < n; w++) {
		snprintf(a, sizeof(a), "role_cpufuzz %lu %lu %d %d %d %s", rs, each, w,
			 shared ? nw : 1, (w == 0) | (last && w == 0 ? 2 : 0), only);
		pids[w] = start_child(a);
	}
	for (int w = 0; w < n; w++) {
		int code = -1;

		if (pids[w] < 0 || wait_pid(pids[w], &code) || code)
			bad++;
	}
	return bad;
}

void t_cpu_fuzz(const char *arg)
{
	uint64_t seed = ut_param(arg, "cpu_fuzz_seed", rdtsc() ^ clock_ns());
	uint64_t seqs = ut_param(arg, "cpu_fuzz_seqs", 6000);
	int rounds = (int)MAX(ut_param(arg, "cpu_fuzz_rounds", 2), 1);
	bool shared = ut_param(arg, "cpu_fuzz_shared", 0);
	int kills = (int)ut_param(arg, "cpu_fuzz_kills", 8);
	char only[24] = "", cmdline[1024];

	kinfo(KINFO_CMDLINE, cmdline, sizeof(cmdline));
	if (!arg_get(arg, "cpu_fuzz_only", only, sizeof(only)))
		arg_get(cmdline, "cpu_fuzz_only", only, sizeof(only));
	cf_only_class = cf_class_by_name(only);
	int nw = (int)MIN((uint64_t)nr_cpus(), 16);
	uint64_t each = MAX(seqs / (uint64_t)rounds / (uint64_t)nw, 1);
	uint64_t steps0 = counter("debug_kernel_step"), t0, ns;
	int bad_kills = 0;

	ut_note("cpu_fuzz: seed %lu, %lu sequences in %d rounds of %d workers, %d kills (replay: "
		"cpu_fuzz_seed=%lu cpu_fuzz_seqs=%lu cpu_fuzz_rounds=%d%s%s)",
		seed, each * (uint64_t)rounds * (uint64_t)nw, rounds, nw, kills, seed, seqs, rounds,
		only[0] ? " cpu_fuzz_only=" : "", only);
	/* Warm the kernel's caches (slabs stay allocated) before measuring. */
	T_EQ(run_round(cf_splitmix(seed - 1), 200, nw, shared, 0, only), 0);
	struct usage before = usage_settled(NULL);
	struct objects objs = objects_now();

	t0 = clock_ns();
	for (int i = 0; i < rounds; i++) {
		uint64_t rs = cf_splitmix(seed + (uint64_t)i);

		if (!T_EQ(run_round(rs, each, nw, shared, i == rounds - 1, only), 0))
			ut_note("cpu_fuzz: round %d (seed %lu) failed", i, rs);
	}
	ns = clock_ns() - t0;
	uint64_t delivered = kill_children(seed, rounds, each, kills, &bad_kills);

	T_EQ(bad_kills, 0);
	usage_expect_back(&before, &objs);
	T_EQ(sys_test(SYST_CHECK_MM, 0, 0, 0), 0);
	uint64_t total = each * (uint64_t)rounds * (uint64_t)nw;

	ut_note("cpu_fuzz: %lu sequences in %lu ms (%lu sequences/s); %lu children killed by "
		"their sequence; %lu single steps landed in the kernel and were cleared",
		total, ns / 1000000, ns ? total * (uint64_t)1000000000 / ns : 0, delivered,
		counter("debug_kernel_step") - steps0);
}
