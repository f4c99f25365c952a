/*
 * syscall_fuzz: random system calls with hostile arguments, from many
 * threads on every CPU, in child processes that exit or are killed in the
 * middle of their calls. The kernel must answer every call with a result
 * or an error: no panic, no hang, no kernel address in a result or an
 * output buffer, and no frame, heap or vmalloc page left behind once the
 * children are gone.
 *
 * Parameters (the kernel command line, or this test's argument):
 *   fuzz_seed=N    the seed (default: from the TSC); printed, so that
 *                  "fuzz_seed=N fuzz_calls=M" replays a run
 *   fuzz_calls=N   calls in all (default 10000: a smoke test in every test
 *                  boot; CI's fuzz row runs 10^6), spread over the rounds
 *   fuzz_rounds=N  child processes, one after the other (default 8); every
 *                  fourth is killed by the parent at a random moment, and
 *                  rounds are added (up to twice as many) until the
 *                  kernel's syscall counter moved by fuzz_calls
 *
 * Reproducible: each worker thread's calls come from its own generator,
 * seeded from (seed, round, worker); the interleaving of the threads is
 * not (that is the point of running them at once).
 *
 * What is never fuzzed, because it would legitimately end or block the
 * fuzzer: exit and thread_exit (only the short-lived helper threads call
 * them), unbounded sleeps and futex waits (every timeout is bounded),
 * blocking IPC on a valid handle (only the two "blocker" threads do that,
 * and the child's exit kills them mid-call), map/unmap/protect of the
 * fuzzer's own memory (those calls get a private window, kernel,
 * non-canonical and end-of-user-space addresses, or the fuzzer's own
 * earlier mappings), kill of anything but our children (SYST_KILL_THREAD
 * included: it could end a sibling worker), join of a sibling
 * worker, and SYS_TRACE while tracing is on (its dump writes the console).
 * SYS_TEST's hooks are all read-only or self-contained (syscall_test.h)
 * and are fuzzed.
 *
 * The argument generators are in fuzz_args.c, the calls in fuzz_calls.c.
 */
#include "user/utest/fuzz.h"
#include "include/uapi/test.h"

struct fuzz_run fz;

static void worker_fn(void *arg)
{
	struct worker *w = arg;

	set_affinity(0, w->index % nr_cpus());
	for (w->calls = 0; w->calls < fz.calls_each; w->calls++) {
		uint64_t nr = fuzz_pick(&w->r);
		long ret;

		if (nr == NR_SYSCALLS || nr == SYS_EXIT || nr == SYS_THREAD_EXIT) {
			/* An unknown number: exactly -ENOSYS. */
			nr = below(&w->r, 2) ? NR_SYSCALLS + below(&w->r, 1000) : rnd(&w->r);
			nr = nr < NR_SYSCALLS ? NR_SYSCALLS : nr;
			w->cur_nr = nr;
			ret = syscall6((long)nr, 1, 2, 3, 4, 5, 6);
			if (ret != -ENOSYS_)
				fuzz_fail(w, "unknown call number did not return -ENOSYS", nr,
					  (uint64_t)ret);
			continue;
		}
		w->cur_nr = nr;
		uint64_t c0 = rdtsc();

		ret = fuzz_one(w, nr);
		w->cycles[nr] += rdtsc() - c0;
		if (kernel_looking((uint64_t)ret))
			fuzz_fail(w, "kernel address returned", nr, (uint64_t)ret);
	}
	for (int i = 0; i < MAX_KEPT; i++) {
		if (w->tids[i])
			thread_join(w->tids[i], NULL);
		if (w->pids[i])
			wait_pid(w->pids[i], NULL);
	}
	w->cur_nr = ~0ull;
	/* Release: our failure count is visible before the count of the
	 * finished; pairs with the acquire load in role_fuzz. */
	__atomic_fetch_add(&fz.done, 1, __ATOMIC_RELEASE);
	futex_wake(&fz.done, 1);
}

/* Two threads that call, receive and reply on the child's own endpoints:
 * they block, rendezvous and are killed mid-call by the child's exit. */
static void blocker_fn(void *arg)
{
	struct rng r = { (uint64_t)arg | 1 };

	for (;;) {
		uint64_t m[4] = { clean_word(&r), clean_word(&r), clean_word(&r), 0 };
		static const long nrs[] = { SYS_IPC_CALL, SYS_IPC_RECV, SYS_IPC_REPLY_RECV,
					    SYS_IPC_REPLY };
		long nr = nrs[below(&r, 4)];
		long ret = ipc_syscall(nr, fz.handles[below(&r, 2)], m);

		for (int i = 0; i < 4 && ret >= 0; i++) {
			if (kernel_looking(m[i]))
				printf("        # fuzz: blocker got a kernel address %#lx\n", m[i]);
		}
		if (ret < 0)
			sleep_ns(10000);
	}
}

static void child_setup(uint64_t seed)
{
	char *t = map(NULL, PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);

	memset(t, '.', PAGE_SIZE);
	protect(t, PAGE_SIZE, UPROT_READ);
	fz.text = t;
	for (int i = 0; i < 2; i++)
		fz.handles[i] = ep_create();
	fz.trace_on = sys_test(SYST_SWITCH, (long)"trace", 5, 0) > 0;
	for (int i = 0; i < fz.nworkers; i++) {
		struct worker *w = &fz.w[i];

		w->index = i;
		w->r.s = splitmix(seed ^ splitmix((uint64_t)i + 1)) | 1;
		w->arena = map(NULL, ARENA_SIZE, UPROT_READ | UPROT_WRITE, 0);
	}
}

/* Wait for the workers; a worker that makes no progress for 30 s is stuck
 * in the kernel: report where. */
static int child_wait(void)
{
	uint64_t last = 0, since = clock_ns();

	for (;;) {
		/* Acquire: pairs with the release increment in worker_fn. */
		uint32_t d = __atomic_load_n(&fz.done, __ATOMIC_ACQUIRE);
		uint64_t total = 0;

		if ((int)d == fz.nworkers)
			return 0;
		futex_wait(&fz.done, d, 100000000);
		for (int i = 0; i < fz.nworkers; i++)
			total += fz.w[i].calls;
		if (total != last) {
			last = total;
			since = clock_ns();
		} else if (clock_ns() - since > 30000000000ull) {
			sys_test(SYST_WHERE, 0, 0, 0); /* on the serial console */
			for (int i = 0; i < fz.nworkers; i++)
				printf("        # fuzz: worker %d stuck after %lu calls in nr %lu\n",
				       i, fz.w[i].calls, fz.w[i].cur_nr);
			return 1;
		}
	}
}

/* Where the time went: the call numbers that took the most of it. */
static void profile_print(void)
{
	uint64_t sum[NR_SYSCALLS + 1] = { 0 }, total = 0;
	char line[256];
	int n = 0;

	for (int i = 0; i < fz.nworkers; i++) {
		for (int c = 0; c <= NR_SYSCALLS; c++)
			sum[c] += fz.w[i].cycles[c];
	}
	for (int c = 0; c <= NR_SYSCALLS; c++)
		total += sum[c];
	n = snprintf(line, sizeof(line), "        # fuzz: time by call (%% of %lu ms):",
		     total / (tsc_khz() ? tsc_khz() : 1));
	for (int k = 0; k < 6 && total; k++) {
		int best = 0;

		for (int c = 1; c <= NR_SYSCALLS; c++)
			best = sum[c] > sum[best] ? c : best;
		n += snprintf(line + n, sizeof(line) - (size_t)n, " nr %d %lu%%", best,
			      sum[best] * 100 / total);
		sum[best] = 0;
	}
	printf("%s\n", line);
}

/* role_fuzz <seed> <calls per worker> <workers> <parent pid> */
void t_role_fuzz(const char *arg)
{
	uint64_t seed = arg_u64(&arg);

	fz.calls_each = arg_u64(&arg);
	uint64_t n = arg_u64(&arg);

	fz.nworkers = (int)MIN(n, (uint64_t)MAX_WORKERS);
	fz.parent = (int)arg_u64(&arg);
	child_setup(seed);
	pick_init();
	for (int i = 0; i < 2; i++)
		thread_create(blocker_fn, (void *)(seed + (uint64_t)i));
	for (int i = 0; i < fz.nworkers; i++)
		thread_create(worker_fn, &fz.w[i]);
	int bad = child_wait();

	for (int i = 0; i < fz.nworkers; i++)
		bad += fz.w[i].failures;
	profile_print();
	exit(bad ? 1 : 0); /* kills the blockers mid-call */
}

/* ---- the test: rounds of children, then the leak check ---- */

static int fuzz_round(uint64_t seed, uint64_t calls_each, int workers, bool kill, struct rng *r)
{
	char a[96];

	snprintf(a, sizeof(a), "role_fuzz %lu %lu %d %d", seed, calls_each, workers, getpid());
	if (!kill)
		return run_child(a);
	int code = -1, pid = start_child(a);

	if (pid < 0)
		return -1;
	sleep_ns(1000000 + below(r, 200000000));
	kill_pid(pid);
	if (wait_pid(pid, &code))
		return -1;
	return code == EXIT_KILLED_ ? 0 : code;
}

void t_syscall_fuzz(const char *arg)
{
	uint64_t seed = ut_param(arg, "fuzz_seed", rdtsc() ^ clock_ns());
	uint64_t calls = ut_param(arg, "fuzz_calls", 10000);
	int rounds = (int)MAX(ut_param(arg, "fuzz_rounds", 8), 1);
	int workers = (int)MIN((uint64_t)nr_cpus(), (uint64_t)MAX_WORKERS);
	uint64_t each = calls / (uint64_t)rounds / (uint64_t)workers + 1;
	struct rng r = { splitmix(seed) | 1 };

	ut_note("fuzz: seed %lu, %lu calls in %d rounds of %d workers (replay: fuzz_seed=%lu "
		"fuzz_calls=%lu fuzz_rounds=%d)",
		seed, calls, rounds, workers, seed, calls, rounds);
	T_EQ(fuzz_round(splitmix(seed - 1), 200, workers, false, &r), 0); /* warm caches */
	struct usage before = usage_settled(NULL);
	uint64_t sc0 = counter("syscall"), t0 = clock_ns();

	/* Killed rounds end early: add rounds (up to twice as many) until
	 * the kernel counted the calls asked for. */
	for (int i = 0; i < 2 * rounds && (i < rounds || counter("syscall") - sc0 < calls); i++) {
		uint64_t s = splitmix(seed + (uint64_t)i);
		bool kill = i % 4 == 3;
		int code = fuzz_round(s, each, workers, kill, &r);

		if (!T_EQ(code, 0))
			ut_note("fuzz: round %d (seed %lu%s) failed", i, s, kill ? ", killed" : "");
	}
	uint64_t ns = clock_ns() - t0, sc = counter("syscall") - sc0;
	struct usage after = usage_settled(&before);

	T_EQ(after.frames, before.frames);
	T_EQ(after.heap, before.heap);
	T_EQ(after.vmalloc, before.vmalloc);
	T_EQ(after.procs, before.procs);
	T_EQ(sys_test(SYST_CHECK_MM, 0, 0, 0), 0);
	ut_note("fuzz: %lu system calls in %lu ms (%lu calls/s); free+slab frames %ld, heap %ld "
		"bytes, vmalloc %ld pages, %ld processes before and after",
		sc, ns / 1000000, ns ? sc * (uint64_t)1000000000 / ns : 0, after.frames, after.heap,
		after.vmalloc, after.procs);
}

/*
 * Regression fuzz_bad_ptr_wraps_to_user: bad_ptr() is the fuzzer's pointer
 * that every call must refuse, and vm_addr() hands it to map, unmap and
 * protect. One of its kinds was a kernel address plus up to 1 MiB, and the
 * kernel addresses include ~0 and the last page: the sum wrapped around to
 * the first megabyte of user space. A page-aligned one with a long length
 * is a range the kernel must honour, and it covered the fuzzer's own text:
 * fuzz-qemu-smp2 failed (seed 3542210742, round 6) with both workers killed
 * by "page fault at 0x407f8b (user fetch, protection violation)" right
 * after protect(0xf3000, 0x1e9798443e, RW) made its text non-executable.
 * Every value of 10^5 drawn must lie at or above the end of user space,
 * but for the kind that straddles it on purpose (at most 64 below).
 */
void t_fuzz_bad_ptr_wraps_to_user(const char *arg)
{
	struct rng r = { .s = splitmix(ut_param(arg, "seed", 1)) };
	uint64_t user = 0, lowest = ~0ull;

	for (int i = 0; i < 100000; i++) {
		uint64_t p = bad_ptr(&r);

		if (p < USER_TOP_ - 64)
			user++;
		lowest = p < lowest ? p : lowest;
	}
	T_EQ(user, 0);
	ut_note("100000 values, the lowest %#lx", lowest);
}
