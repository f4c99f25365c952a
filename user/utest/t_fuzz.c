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
 * earlier mappings), kill of anything but our children, join of a sibling
 * worker, and SYS_TRACE while tracing is on (its dump writes the console).
 * SYS_TEST's hooks are all read-only or self-contained (syscall_test.h)
 * and are fuzzed.
 */
#include "user/utest/utest.h"
#include "user/lib/syscall.h"
#include "kernel/syscall_test.h"

#define USER_TOP_    0x0000800000000000ull
#define KADDR_MIN    0xffff800000000000ull
#define WINDOW	     0x0000500000000000ull /* map/unmap/protect playground */
#define WINDOW_SIZE  (256ull << 20)
#define ARENA_PAGES  4
#define ARENA_SIZE   (ARENA_PAGES * PAGE_SIZE)
#define MAX_WORKERS  16
#define MAX_KEPT     8
#define ENOSYS_	     38
#define EXIT_KILLED_ 137 /* EXIT_KILLED_BASE + 9 (kernel/proc.h) */

struct rng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return rnd(r) % n;
}

/* One worker's state: its generator, its scratch arena (the pages after it
 * are a hole: map() leaves one), what it created and may destroy. */
struct worker {
	struct rng r;
	uint8_t *arena;
	int pids[MAX_KEPT], tids[MAX_KEPT];
	uint64_t maps[MAX_KEPT][2];
	uint64_t calls;
	uint64_t cycles[NR_SYSCALLS + 1]; /* per call number; the last: unknown */
	volatile uint64_t cur_nr, cur_a0; /* for the hang report */
	int failures;
	int index;
};

static struct {
	uint64_t seed, calls_each;
	int nworkers, parent;
	const char *text; /* a read-only page of dots, a hole after it */
	uint64_t keys[2];
	int handles[2];
	bool trace_on;
	uint32_t done; /* workers finished (futex word) */
	struct worker w[MAX_WORKERS];
} fz;

/* A value that looks like a kernel address (negative errnos excluded). */
static bool kernel_looking(uint64_t v)
{
	return v >= KADDR_MIN && v < (uint64_t)-4095;
}

static void fuzz_fail(struct worker *w, const char *what, uint64_t nr, uint64_t v)
{
	w->failures++;
	if (w->failures <= 5)
		printf("        # fuzz: worker %d call %lu: %s (nr %lu, value %#lx)\n", w->index,
		       w->calls, what, nr, v);
}

/* ---- argument generators ---- */

static const uint64_t kernel_ptrs[] = {
	0xffff800000000000ull,			      /* direct map */
	0xffff800000100000ull, 0xffffc00000000000ull, /* vmalloc */
	0xffffd00000000000ull,			      /* ioremap */
	0xfffffe0000000000ull,			      /* entry area: per-CPU */
	0xfffffe0000001000ull, 0xffffffff80000000ull, /* kernel image */
	0xffffffff80200000ull,			      /* kernel text */
	0xffffffff80201003ull, 0xfffffffffffff000ull, ~0ull,
};
#define NR_KPTRS (sizeof(kernel_ptrs) / sizeof(kernel_ptrs[0]))

/* A pointer every call must refuse: at or beyond USER_TOP, or a range that
 * crosses it. */
static uint64_t bad_ptr(struct rng *r)
{
	switch (below(r, 5)) {
	case 0:
		return kernel_ptrs[below(r, NR_KPTRS)];
	case 1:
		return kernel_ptrs[below(r, NR_KPTRS)] + below(r, 1 << 20);
	case 2: /* non-canonical */
		return USER_TOP_ + (rnd(r) % (KADDR_MIN - USER_TOP_));
	case 3: /* straddles the end of user space */
		return USER_TOP_ - 1 - below(r, 64);
	default:
		return rnd(r) | (1ull << 63);
	}
}

static uint64_t any_ptr(struct worker *w)
{
	struct rng *r = &w->r;

	switch (below(r, 10)) {
	case 0:
		return below(r, 2) ? 0 : 1 + below(r, 4096); /* NULL page */
	case 1:
		return (uint64_t)w->arena + ARENA_SIZE - 1 - below(r, 16); /* into the hole */
	case 2:
		return 0x1000 + below(r, 0x100000); /* unmapped low memory */
	case 3:
	case 4:
		return bad_ptr(r);
	default:
		return (uint64_t)w->arena + below(r, ARENA_SIZE); /* valid, maybe unaligned */
	}
}

static uint64_t any_len(struct rng *r)
{
	static const uint64_t lens[] = {
		0,     1,	7,	    8,		4095,	    4096,	4097,  65536,
		65537, 1 << 20, 1ull << 32, 1ull << 40, 1ull << 47, 1ull << 63, ~0ull, -4095ull,
	};

	switch (below(r, 3)) {
	case 0:
		return lens[below(r, sizeof(lens) / sizeof(lens[0]))];
	case 1:
		return below(r, 256);
	default:
		return rnd(r) >> below(r, 64);
	}
}

static uint64_t any_int(struct rng *r)
{
	switch (below(r, 4)) {
	case 0:
		return below(r, 72) - 2;
	case 1:
		return (uint32_t)rnd(r);
	case 2:
		return (uint64_t)(int64_t)(int32_t)(0x80000000u + below(r, 4)) - 2;
	default:
		return rnd(r);
	}
}

/* map/unmap/protect addresses: never the fuzzer's own memory. */
static uint64_t vm_addr(struct worker *w, uint64_t *len)
{
	struct rng *r = &w->r;
	uint64_t k = below(r, MAX_KEPT);

	switch (below(r, 6)) {
	case 0:
		if (w->maps[k][0]) {
			*len = w->maps[k][1];
			return w->maps[k][0];
		}
		return WINDOW;
	case 1: { /* straddles USER_TOP */
		uint64_t a = USER_TOP_ - PAGE_SIZE * (1 + below(r, 4));

		*len = USER_TOP_ - a + PAGE_SIZE * below(r, 4) + 1;
		return a;
	}
	case 2:
		return bad_ptr(r);
	default: {
		uint64_t a = WINDOW + (below(r, WINDOW_SIZE) & ~(below(r, 8) ? 4095ull : 0));

		if (*len > WINDOW_SIZE && *len < USER_TOP_)
			*len = below(r, WINDOW_SIZE + PAGE_SIZE);
		if (a + *len > WINDOW + WINDOW_SIZE && *len < USER_TOP_)
			*len = WINDOW + WINDOW_SIZE - a;
		return a;
	}
	}
}

/* A handle no IPC call may block on: out of range. */
static uint64_t bad_handle(struct rng *r)
{
	switch (below(r, 3)) {
	case 0:
		return (uint64_t)-1 - below(r, 4);
	case 1:
		return 64 + below(r, 1000);
	default:
		return rnd(r) | (1ull << 62);
	}
}

/* IPC message words never look like kernel addresses: what comes back in
 * the registers can then be checked. */
static uint64_t clean_word(struct rng *r)
{
	return rnd(r) & 0x7fffffffffffffffull;
}

/* ---- the calls ---- */

static void kept_add(int *list, int v)
{
	for (int i = 0; i < MAX_KEPT; i++) {
		if (!list[i]) {
			list[i] = v;
			return;
		}
	}
}

static int kept_pick(struct rng *r, int *list)
{
	return list[below(r, MAX_KEPT)];
}

static void kept_drop(int *list, int v)
{
	for (int i = 0; i < MAX_KEPT; i++) {
		if (list[i] == v)
			list[i] = 0;
	}
}

static void helper_fn(void *arg)
{
	struct rng r = { (uint64_t)arg | 1 };

	for (uint64_t i = below(&r, 4); i; i--)
		syscall2(below(&r, 2) ? SYS_YIELD : SYS_GET_CPU, 0, 0);
	if (below(&r, 2))
		thread_exit((int)below(&r, 100));
}

/* Clears the out buffer we will scan (only inside our arena). */
static void out_prepare(struct worker *w, uint64_t p)
{
	uint64_t a = (uint64_t)w->arena;

	if (p >= a && p < a + ARENA_SIZE)
		memset((void *)p, 0, MIN(1024, a + ARENA_SIZE - p));
}

static void out_check(struct worker *w, uint64_t nr, uint64_t p)
{
	uint64_t a = (uint64_t)w->arena;

	if (p < a || p >= a + ARENA_SIZE)
		return;
	for (uint64_t q = p; q + 8 <= MIN(p + 1024, a + ARENA_SIZE); q += 8) {
		uint64_t v;

		memcpy(&v, (void *)q, 8);
		if (kernel_looking(v))
			fuzz_fail(w, "kernel address in an output buffer", nr, v);
	}
}

static long call_mm(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t len = any_len(r), a = vm_addr(w, &len);
	long ret;

	if (nr == SYS_MAP) {
		uint64_t flags = below(r, 5);

		if ((flags & UMAP_POPULATE) && len > (1 << 20))
			flags &= ~(uint64_t)UMAP_POPULATE;
		if (below(r, 4) == 0)
			a = 0;
		ret = syscall4(SYS_MAP, a, len, below(r, 9), flags);
		if (ret >= 0) {
			uint64_t got = (uint64_t)ret;

			if (got >= USER_TOP_ || (got & 4095) || ((flags & UMAP_FIXED) && got != a))
				fuzz_fail(w, "map returned a wrong address", nr, got);
			/* Keep what a plain map() placed: a fresh range nothing else
			 * uses. (Not a fixed one: it may lie over a range we keep
			 * already, and unmapping one record would leave the other
			 * pointing at whatever map() puts there next, such as a
			 * thread's stack.) */
			if (!(flags & UMAP_FIXED) &&
			    (got < WINDOW || got >= WINDOW + WINDOW_SIZE)) {
				uint64_t k = below(r, MAX_KEPT);

				if (w->maps[k][0])
					syscall2(SYS_UNMAP, w->maps[k][0], w->maps[k][1]);
				w->maps[k][0] = got;
				w->maps[k][1] = len;
			}
		}
		return ret;
	}
	if (nr == SYS_UNMAP) {
		ret = syscall2(SYS_UNMAP, a, len);
		for (int k = 0; k < MAX_KEPT; k++) {
			if (ret == 0 && w->maps[k][0] == a && w->maps[k][1] == len)
				w->maps[k][0] = 0;
		}
		return ret;
	}
	return syscall3(SYS_PROTECT, a, len, below(r, 9));
}

static long call_ipc(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t m[4] = { clean_word(r), clean_word(r), clean_word(r), clean_word(r) };
	uint64_t h = nr == SYS_IPC_REPLY ? any_int(r) : bad_handle(r);
	long ret = ipc_syscall((long)nr, (long)h, m);

	for (int i = 0; i < 4 && ret >= 0; i++) {
		if (kernel_looking(m[i]))
			fuzz_fail(w, "kernel address in an IPC message word", nr, m[i]);
	}
	return ret;
}

static long call_spawn(struct worker *w)
{
	struct rng *r = &w->r;

	if (below(r, 64) == 0) {
		int pid = spawn("utest", "role_exit 3");

		if (pid > 0) {
			if (below(r, 2))
				kept_add(w->pids, pid);
			else
				wait_pid(pid, NULL);
		}
		return pid;
	}
	return syscall4(SYS_SPAWN, any_ptr(w), any_len(r), any_ptr(w), any_len(r));
}

static long call_procs(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t p = any_ptr(w);
	long ret;

	switch (nr) {
	case SYS_WAIT: {
		int pid = below(r, 2) ? kept_pick(r, w->pids) : (int)any_int(r);

		if (pid == 0 || pid == getpid())
			pid = 1; /* init: not our child */
		out_prepare(w, p);
		ret = syscall2(SYS_WAIT, pid, p);
		if (ret == 0 || ret == -10)
			kept_drop(w->pids, pid);
		out_check(w, nr, p);
		return ret;
	}
	case SYS_KILL: {
		/* Ours, init, our parent (both must be refused), or nobody. */
		int others[] = { 1, fz.parent, 0, -1 };
		int pid = kept_pick(r, w->pids);

		if (!pid || below(r, 2))
			pid = below(r, 2) ? others[below(r, 4)]
					  : (int)(0x40000000 + below(r, 1 << 20));
		ret = syscall1(SYS_KILL, pid);
		if ((pid == 1 || pid == fz.parent) && ret != -1)
			fuzz_fail(w, "kill of a process not ours did not return -EPERM", nr,
				  (uint64_t)ret);
		return ret;
	}
	case SYS_THREAD_CREATE:
		if (below(r, 4) == 0) {
			int tid = thread_create(helper_fn, (void *)rnd(r));

			if (tid > 0) {
				int old = w->tids[below(r, MAX_KEPT)];

				if (old) {
					thread_join(old, NULL);
					kept_drop(w->tids, old);
				}
				kept_add(w->tids, tid);
			}
			return tid;
		}
		/* An entry point the kernel must refuse (a user one would run). */
		uint64_t entry = bad_ptr(r);

		entry = entry < USER_TOP_ ? KADDR_MIN : entry;
		ret = syscall3(SYS_THREAD_CREATE, entry, any_ptr(w), rnd(r));
		if (ret >= 0)
			fuzz_fail(w, "a thread was created at a kernel address", nr, (uint64_t)ret);
		return ret;
	default: { /* SYS_THREAD_JOIN */
		int tid = below(r, 2) ? kept_pick(r, w->tids) : 0;

		if (!tid)
			tid = below(r, 2) ? gettid() : (int)(0x40000000 + below(r, 1 << 20));
		out_prepare(w, p);
		ret = syscall2(SYS_THREAD_JOIN, tid, p);
		if (ret == 0)
			kept_drop(w->tids, tid);
		out_check(w, nr, p);
		return ret;
	}
	}
}

static long call_test(struct worker *w)
{
	struct rng *r = &w->r;
	uint64_t op = below(r, 18), a = any_ptr(w), b = any_len(r);

	switch (op) {
	case SYST_KERNEL_UNMAP:
		a = below(r, 70);
		b = any_ptr(w);
		out_prepare(w, b);
		break;
	case SYST_TASK_CPU:
	case SYST_TASK_OFF_CPU:
		a = any_int(r);
		break;
	case SYST_CPU_HAS:
	case SYST_SWITCH:
		b = below(r, 40);
		break;
	}
	long ret = syscall4(SYS_TEST, op, a, b, rnd(r));

	if (op == SYST_KERNEL_UNMAP)
		out_check(w, SYS_TEST, b);
	if (op == SYST_CHECK_MM && ret != 0)
		fuzz_fail(w, "SYST_CHECK_MM found invariant violations", op, (uint64_t)ret);
	return ret;
}

static long call_info(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;
	uint64_t p = any_ptr(w), len = any_len(r), a = any_int(r);
	long ret;

	out_prepare(w, p);
	switch (nr) {
	case SYS_COUNTERS:
		ret = syscall3(SYS_COUNTERS, p, len, below(r, 2) ? (uint64_t)-1 : a);
		break;
	case SYS_COUNTER_NAME:
		ret = syscall3(SYS_COUNTER_NAME, a, p, len);
		break;
	default:
		ret = syscall3(SYS_KINFO, below(r, 2) ? below(r, 6) : a, p, len);
		break;
	}
	out_check(w, nr, p);
	return ret;
}

static long call_console(struct worker *w)
{
	struct rng *r = &w->r;

	switch (below(r, 3)) {
	case 0: /* a few dots, then the hole: -EFAULT */
		return syscall2(SYS_CONSOLE_WRITE, fz.text + PAGE_SIZE - 1 - below(r, 4),
				2 + below(r, 8));
	case 1:
		return syscall2(SYS_CONSOLE_WRITE, bad_ptr(r), any_len(r));
	default:
		return syscall2(SYS_CONSOLE_WRITE, fz.text,
				below(r, 2) ? 0 : (1ull << 20) + rnd(r));
	}
}

static long call_misc(struct worker *w, uint64_t nr)
{
	struct rng *r = &w->r;

	switch (nr) {
	case SYS_SLEEP: {
		static const uint64_t bad[] = { 3600ull * 1000000000ull + 1, ~0ull, 1ull << 63 };

		/* A real sleep lasts until the next tick (hz=100): keep them rare. */
		return syscall1(SYS_SLEEP, below(r, 32) ? bad[below(r, 3)] : below(r, 20000));
	}
	case SYS_SET_AFFINITY: {
		uint64_t p = any_ptr(w), tid = below(r, 2) ? 0 : any_int(r);

		if (tid && tid < (1 << 20) && below(r, 4))
			tid = (uint64_t)gettid();
		return syscall3(SYS_SET_AFFINITY, tid, p,
				below(r, 2) ? 8 * below(r, 3) : any_len(r));
	}
	case SYS_FUTEX_WAIT: { /* always a bounded timeout; few of them wait */
		uint64_t p = any_ptr(w), a = (uint64_t)w->arena;
		bool ours = p >= a && p < a + ARENA_SIZE;

		return syscall3(SYS_FUTEX_WAIT, p, ours && below(r, 16) ? 0x5a5a5a5a : 0,
				1 + below(r, 20000));
	}
	case SYS_FUTEX_WAKE:
		return syscall2(SYS_FUTEX_WAKE, any_ptr(w), any_int(r));
	case SYS_EP_CREATE:
	case SYS_EP_OPEN:
		return syscall1(nr, below(r, 2) ? fz.keys[below(r, 2)] : any_int(r));
	case SYS_EP_CLOSE:
		return syscall1(SYS_EP_CLOSE, any_int(r));
	case SYS_TRACE:
		if (fz.trace_on)
			return 0;
		return syscall2(SYS_TRACE, any_int(r), any_int(r));
	default:
		return syscall6((long)nr, (long)any_int(r), (long)any_int(r), (long)any_int(r),
				(long)any_int(r), (long)any_int(r), (long)any_int(r));
	}
}

static long fuzz_one(struct worker *w, uint64_t nr)
{
	switch (nr) {
	case SYS_MAP:
	case SYS_UNMAP:
	case SYS_PROTECT:
		return call_mm(w, nr);
	case SYS_IPC_CALL:
	case SYS_IPC_REPLY_RECV:
	case SYS_IPC_RECV:
	case SYS_IPC_REPLY:
		return call_ipc(w, nr);
	case SYS_SPAWN:
		return call_spawn(w);
	case SYS_WAIT:
	case SYS_KILL:
	case SYS_THREAD_CREATE:
	case SYS_THREAD_JOIN:
		return call_procs(w, nr);
	case SYS_TEST:
		return call_test(w);
	case SYS_COUNTERS:
	case SYS_COUNTER_NAME:
	case SYS_KINFO:
		return call_info(w, nr);
	case SYS_CONSOLE_WRITE:
		return call_console(w);
	default:
		return call_misc(w, nr);
	}
}

/* How often each call is drawn, out of 16 per number: calls that wait for
 * every CPU of the process (an IPI round trip: milliseconds under TCG with
 * more virtual CPUs than host cores) would take all the time otherwise.
 * Index NR_SYSCALLS stands for the unknown numbers. */
static uint8_t weight(uint64_t nr)
{
	switch (nr) {
	case SYS_PASID_BIND:
	case SYS_PASID_UNBIND:
		return 1;
	case SYS_MEMBARRIER:
		return 4;
	default:
		return 16;
	}
}

static uint8_t pick_table[(NR_SYSCALLS + 1) * 16];
static uint32_t pick_len;

static void pick_init(void)
{
	for (uint64_t nr = 0; nr <= NR_SYSCALLS; nr++) {
		for (int i = 0; i < weight(nr); i++)
			pick_table[pick_len++] = (uint8_t)nr;
	}
}

static void worker_fn(void *arg)
{
	struct worker *w = arg;

	set_affinity(0, w->index % nr_cpus());
	for (w->calls = 0; w->calls < fz.calls_each; w->calls++) {
		uint64_t nr = pick_table[below(&w->r, pick_len)];
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
	for (int i = 0; i < 2; i++) {
		fz.keys[i] = 0xf0220000000ull + (uint64_t)getpid() * 4 + (uint64_t)i;
		fz.handles[i] = ep_create(fz.keys[i]);
	}
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

static uint64_t param(const char *arg, const char *key, uint64_t dflt)
{
	static char cmdline[1024];
	char v[32];
	const char *p = v;

	if (!arg_get(arg, key, v, sizeof(v))) {
		kinfo(KINFO_CMDLINE, cmdline, sizeof(cmdline));
		if (!arg_get(cmdline, key, v, sizeof(v)))
			return dflt;
	}
	return arg_u64(&p);
}

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
	uint64_t seed = param(arg, "fuzz_seed", rdtsc() ^ clock_ns());
	uint64_t calls = param(arg, "fuzz_calls", 10000);
	int rounds = (int)MAX(param(arg, "fuzz_rounds", 8), 1);
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
