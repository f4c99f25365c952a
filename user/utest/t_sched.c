/*
 * Scheduling: many threads on all CPUs handing a token around with futexes,
 * yields and sleeps; affinity.
 */
#include "user/utest/utest.h"

#define ROUNDS 60

/* A token goes round a ring of threads: each waits on its own futex word
 * (one waiter per word, so every hand-off wakes exactly one thread). */
struct ring {
	uint32_t slot[64]; /* 1: this thread holds the token */
	uint32_t nthreads;
	uint32_t handoffs;
	uint32_t count[64];
	uint32_t wrong_cpu;
};

struct ring_arg {
	struct ring *r;
	uint32_t id;
	int cpu;
};

static void ring_thread(void *p)
{
	struct ring_arg *a = p;
	struct ring *r = a->r;
	uint32_t next = (a->id + 1) % r->nthreads;

	for (int i = 0; i < ROUNDS; i++) {
		/* Acquire: pairs with the previous holder's release store. */
		while (!__atomic_load_n(&r->slot[a->id], __ATOMIC_ACQUIRE))
			futex_wait(&r->slot[a->id], 0, 0);
		r->slot[a->id] = 0;
		if (get_cpu() != a->cpu)
			__atomic_fetch_add(&r->wrong_cpu, 1, __ATOMIC_RELAXED);
		r->count[a->id]++;
		r->handoffs++;
		if (i % 7 == 3)
			yield();
		if (i % 11 == 5)
			sleep_ns(100000);
		/* Release: our updates are visible to the next holder (pairs with
		 * its acquire load of its slot). */
		__atomic_store_n(&r->slot[next], 1, __ATOMIC_RELEASE);
		futex_wake(&r->slot[next], 1);
	}
}

void t_threads_yield_sleep_futex(const char *arg)
{
	(void)arg;
	static struct ring r;
	static struct ring_arg args[64];
	int tids[64], n = nr_cpus() * 3;

	if (n > 64)
		n = 64;
	r.nthreads = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		args[i] = (struct ring_arg){ &r, (uint32_t)i, i % nr_cpus() };
		tids[i] = thread_create(ring_thread, &args[i]);
		T_EXPECT(tids[i] > 0);
		T_EQ(set_affinity(tids[i], args[i].cpu), 0);
	}
	r.slot[0] = 1;
	futex_wake(&r.slot[0], 1);
	for (int i = 0; i < n; i++) {
		int code = -1;

		T_EQ(thread_join(tids[i], &code), 0);
		T_EQ(code, 0);
	}
	T_EQ(r.handoffs, (uint32_t)(n * ROUNDS));
	for (int i = 0; i < n; i++)
		T_EQ(r.count[i], ROUNDS);
	/* A thread's first rounds may run before its affinity was set. */
	T_EXPECT(r.wrong_cpu <= (uint32_t)n);
	ut_note("%d threads on %d CPUs, %d hand-offs, %u early off-CPU observations", n, nr_cpus(),
		n * ROUNDS, r.wrong_cpu);
}

struct pinned {
	int cpu;
	volatile int go;
	int wrong;
	int seen_cpu;
};

static void pinned_thread(void *p)
{
	struct pinned *x = p;

	while (!x->go)
		yield();
	for (int i = 0; i < 100; i++) {
		if (get_cpu() != x->cpu)
			x->wrong++;
		yield();
	}
	x->seen_cpu = get_cpu();
}

void t_affinity_honoured(const char *arg)
{
	(void)arg;
	int n = nr_cpus();
	static struct pinned p[64];
	int tids[64];

	if (n > 64)
		n = 64;
	for (int c = 0; c < n; c++) {
		p[c].cpu = c;
		tids[c] = thread_create(pinned_thread, &p[c]);
		T_EQ(set_affinity(tids[c], c), 0);
		p[c].go = 1;
	}
	for (int c = 0; c < n; c++) {
		T_EQ(thread_join(tids[c], NULL), 0);
		T_EQ(p[c].wrong, 0);
		T_EQ(p[c].seen_cpu, c);
	}
	/* Move ourselves around. */
	for (int c = n - 1; c >= 0; c--) {
		T_EQ(set_affinity(0, c), 0);
		T_EQ(get_cpu(), c);
	}
	/* Re-pin a running thread from outside. */
	if (n > 1) {
		struct pinned q = { .cpu = 1, .go = 0 };
		int t = thread_create(pinned_thread, &q);

		T_EQ(set_affinity(t, 0), 0);
		yield();
		T_EQ(set_affinity(t, 1), 0);
		q.go = 1;
		T_EQ(thread_join(t, NULL), 0);
		T_EQ(q.wrong, 0);
		T_EQ(q.seen_cpu, 1);
	}
	T_EQ(set_affinity(0, nr_cpus()), -22); /* no such CPU online */
	T_EQ(set_affinity_all(0), 0);
}

/* ---- expired_slice_starves_newcomer ---- */

static struct {
	volatile int stop, ran;
	volatile uint64_t spins;
} es;

static void es_hog(void *p)
{
	(void)p;
	while (!es.stop)
		es.spins++;
}

static void es_newcomer(void *p)
{
	(void)p;
	es.ran = 1;
}

/* A thread that ran alone on its CPU until its time slice was used up was
 * never preempted afterwards: the tick set need_resched only on the tick
 * that used the slice up, and only if another task was waiting then; with
 * the slice at 0 a task that arrived later waited until the hog blocked
 * (sched/sched.c, schedule()). Found by kill_single_threads: a killed
 * thread, woken onto a CPU where a spinning thread had run alone, never
 * ran to its exit. */
void t_expired_slice_starves_newcomer(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs (the hog's and ours)");
		exit(3);
	}
	set_affinity(0, 0);
	es.stop = es.ran = 0;
	es.spins = 0;
	int hog = thread_create(es_hog, NULL);

	T_EQ(set_affinity(hog, 1), 0);
	sleep_ns(300000000); /* several slices, alone on CPU 1 */
	T_EXPECT(es.spins > 0);
	int nc = thread_create(es_newcomer, NULL);

	T_EQ(set_affinity(nc, 1), 0);
	/* Slices are sched_slice (5) ticks: it must run within a second (2 s
	 * of clock time is the hang bound; the hog then stops). */
	uint64_t t0 = clock_ns();

	while (!es.ran && clock_ns() - t0 < 2000000000ull)
		sleep_ns(10000000);
	bool ran = es.ran;
	uint64_t ms = (clock_ns() - t0) / 1000000;

	es.stop = 1;
	T_EQ(thread_join(hog, NULL), 0);
	T_EQ(thread_join(nc, NULL), 0);
	if (!T_EXPECT(ran))
		ut_note("a thread woken onto the hog's CPU did not run for %lu ms", ms);
	else
		ut_note("the newcomer ran after %lu ms", ms);
}
