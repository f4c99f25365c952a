/*
 * membarrier (kernel/membarrier.c):
 *   membarrier_commands         query, registration, errors
 *   membarrier_ipis_only_to_mm  IPIs go exactly to the CPUs running our
 *                               threads, not to idle ones
 *   membarrier_store_buffer     the store-buffer litmus test: with
 *                               membarrier() on one side and only a compiler
 *                               barrier on the other, both loads never read
 *                               0 (run without it too, for comparison)
 *   membarrier_sync_core        after a sync-core membarrier returns, every
 *                               thread of the mm, running or blocked, has
 *                               serialized before its next user instruction
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"
#include "include/uapi/membarrier_cmds.h"

void t_membarrier_commands(const char *arg)
{
	(void)arg;
	T_EQ(membarrier(MEMBARRIER_CMD_QUERY, 0), MEMBARRIER_SUPPORTED);
	T_EQ(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), -1); /* -EPERM: not registered */
	T_EQ(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), -1);
	T_EQ(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 1), -22); /* flags */
	T_EQ(membarrier(1 << 12, 0), -22);
	T_EQ(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	T_EQ(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), 0);
	T_EQ(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), -1); /* not that one */
}

static uint32_t running;

void t_membarrier_ipis_only_to_mm(const char *arg)
{
	(void)arg;
	int k = nr_cpus() - 1 < 3 ? nr_cpus() - 1 : 3, tids[3];

	T_EQ(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	spinners_start(k, tids);
	uint64_t i0 = counter("membarrier_ipi");

	for (int r = 0; r < 10; r++)
		T_EQ(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), 0);
	uint64_t ipis = counter("membarrier_ipi") - i0;

	spinners_stop(k, tids);
	/* Spinning threads never block: exactly their CPUs, every time; the
	 * other CPUs are idle (lazy on our mm at most) and left alone. */
	T_EQ(ipis, 10 * k);
	ut_note("10 membarriers, %d of %d other CPUs running our threads: %lu IPIs", k,
		nr_cpus() - 1, ipis);
}

#define SB_ITERS 4000

static struct {
	uint32_t x[SB_ITERS], y[SB_ITERS], ra[SB_ITERS], rb[SB_ITERS];
	uint32_t arrive;
	int mode; /* 0: compiler barriers only, 1: membarrier on B, 2: mfence */
	int iters;
} sb;

static void sb_sync(int i)
{
	/* A two-thread barrier: SEQ_CST add, acquire spin (pairs with the
	 * other side's add). */
	__atomic_fetch_add(&sb.arrive, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&sb.arrive, __ATOMIC_ACQUIRE) < 2u * (uint32_t)(i + 1))
		cpu_relax();
}

/* One side: store to mine, order, load theirs. Side A never fences in
 * mode 1: only B's membarrier orders A's store and load. */
struct sb_side {
	uint32_t *mine, *theirs, *result;
	bool is_b;
};

static void sb_order(bool is_b)
{
	if (sb.mode == 2)
		/* MFENCE, the reference: pairs with the same fence in the
		 * other side's sb_order() (store-buffer litmus). */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	else if (sb.mode == 1 && is_b)
		membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0);
	else
		/* Compiler only, no pair: deliberately too weak in mode 0,
		 * and A's side in mode 1 relies on B's membarrier. */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void sb_side_fn(void *arg)
{
	const struct sb_side *s = arg;

	for (int i = 0; i < sb.iters; i++) {
		sb_sync(i);
		__atomic_store_n(&s->mine[i], 1, __ATOMIC_RELAXED);
		sb_order(s->is_b);
		s->result[i] = __atomic_load_n(&s->theirs[i], __ATOMIC_RELAXED);
	}
}

/* Runs the litmus test; returns how often both loads read 0. */
static int sb_run(int mode, int iters)
{
	int forbidden = 0;

	memset(&sb, 0, sizeof(sb));
	sb.mode = mode;
	sb.iters = iters;
	static struct sb_side sa, sbb;

	sa = (struct sb_side){ sb.x, sb.y, sb.ra, false };
	sbb = (struct sb_side){ sb.y, sb.x, sb.rb, true };
	int a = thread_create(sb_side_fn, &sa), b = thread_create(sb_side_fn, &sbb);

	set_affinity(a, 1);
	set_affinity(b, 2 % nr_cpus());
	thread_join(a, NULL);
	thread_join(b, NULL);
	for (int i = 0; i < iters; i++)
		forbidden += !sb.ra[i] && !sb.rb[i];
	return forbidden;
}

void t_membarrier_store_buffer(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 3) {
		ut_note("SKIP: needs three CPUs");
		exit(3);
	}
	T_EQ(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	int plain = sb_run(0, SB_ITERS), fenced = sb_run(2, SB_ITERS);
	int mb = sb_run(1, SB_ITERS / 4);

	T_EQ(fenced, 0);
	T_EQ(mb, 0);
	ut_note("store buffering (both loads 0): %d of %d with compiler barriers only, %d of %d "
		"with full fences, %d of %d with membarrier on one side",
		plain, SB_ITERS, fenced, SB_ITERS, mb, SB_ITERS / 4);
}

static struct {
	uint32_t word; /* the round just completed */
	uint64_t gen;  /* the sync-core generation after it */
	uint32_t acks;
	uint32_t bad;
	volatile int stop;
} sc;

/* If a new round was published, check that we serialized since its
 * membarrier returned (we ran user code after that), and acknowledge. */
static void sc_check(uint32_t *last)
{
	/* Acquire: pairs with the release store of word, which the main
	 * thread makes after storing gen. */
	uint32_t w = __atomic_load_n(&sc.word, __ATOMIC_ACQUIRE);

	if (w == *last)
		return;
	uint64_t want = __atomic_load_n(&sc.gen, __ATOMIC_RELAXED);

	if ((uint64_t)sys_test(SYST_SYNC_CORE_GEN, 0, 0, 0) < want)
		__atomic_fetch_add(&sc.bad, 1, __ATOMIC_RELAXED);
	*last = w;
	/* Release: our check is done before the main thread counts it.
	 * Pairs with the acquire load of sc.acks in t_membarrier_sync_core(). */
	__atomic_fetch_add(&sc.acks, 1, __ATOMIC_RELEASE);
}

/* Spins in user mode through each round. */
static void sc_spinner(void *arg)
{
	(void)arg;
	uint32_t last = 0;

	__atomic_fetch_add(&running, 1, __ATOMIC_RELAXED);
	while (!sc.stop) {
		sc_check(&last);
		cpu_relax();
	}
}

/* Sleeps through each round (blocked, not running), then checks. */
static void sc_sleeper(void *arg)
{
	(void)arg;
	uint32_t last = 0;

	while (!sc.stop) {
		futex_wait(&sc.word, last, 0);
		sc_check(&last);
	}
}

void t_membarrier_sync_core(const char *arg)
{
	(void)arg;
	/* Spinners on CPUs 1..k, the sleeper on a CPU of its own if there is
	 * one left (k + 1), the main thread on CPU 0. */
	int k = nr_cpus() - 2 < 6 ? nr_cpus() - 2 : 6, tids[7];

	if (k < 0)
		k = 0;

	memset(&sc, 0, sizeof(sc));
	running = 0;
	T_EQ(membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0), 0);
	set_affinity(0, 0);
	for (int i = 0; i < k; i++) {
		tids[i] = thread_create(sc_spinner, NULL);
		set_affinity(tids[i], i + 1);
	}
	tids[k] = thread_create(sc_sleeper, NULL);
	set_affinity(tids[k], (k + 1) % nr_cpus());
	while (__atomic_load_n(&running, __ATOMIC_RELAXED) < (uint32_t)k)
		sleep_ns(1000000);
	uint64_t s0 = counter("sync_core"), i0 = counter("membarrier_ipi");
	const uint32_t rounds = 20;

	for (uint32_t r = 1; r <= rounds; r++) {
		T_EQ(membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), 0);
		/* Our own return from it serialized us up to this round. */
		__atomic_store_n(&sc.gen, (uint64_t)sys_test(SYST_SYNC_CORE_GEN, 0, 0, 0),
				 __ATOMIC_RELAXED);
		/* Release, after gen: pairs with sc_check()'s acquire load. */
		__atomic_store_n(&sc.word, r, __ATOMIC_RELEASE);
		futex_wake(&sc.word, 1);
		/* Acquire: pairs with the checkers' release (sc_check). Sleep,
		 * not spin: the sleeper may share our CPU. */
		while (__atomic_load_n(&sc.acks, __ATOMIC_ACQUIRE) < r * (uint32_t)(k + 1))
			sleep_ns(100000);
	}
	sc.stop = 1;
	/* Release, after stop: pairs with sc_check()'s acquire load of word,
	 * after which sc_sleeper() reads stop. */
	__atomic_store_n(&sc.word, rounds + 1, __ATOMIC_RELEASE);
	futex_wake(&sc.word, 1);
	for (int i = 0; i <= k; i++)
		thread_join(tids[i], NULL);
	T_EQ(sc.bad, 0);
	T_EXPECT(counter("sync_core") - s0 >= (uint64_t)(k + 1) * rounds);
	ut_note("%u sync-core membarriers, %d spinning and 1 sleeping thread: %u checks, %u late; "
		"%lu IPIs, %lu serializations",
		rounds, k, sc.acks, sc.bad, counter("membarrier_ipi") - i0,
		counter("sync_core") - s0);
}
