/*
 * wake_heavy_T (T = 1, 3, 7): T threads of one process on CPUs 1..T block
 * and are woken in turn, so that what a CPU pays to come back to the
 * process after idling shows (lazy TLB: lazytlb=on keeps the process's mm
 * loaded while the CPU idles, lazytlb=off switches the idle CPU to the
 * kernel's). One operation: the thread on CPU 0 wakes the next thread
 * (round robin), which touches WAKE_P of the process's pages and wakes
 * CPU 0's thread back; both block in between, so every CPU idles between
 * its turns. Under the PCID-faithful Bochs the page_walks event is what
 * the TLB had to refill on the way.
 */
#include "user/bench/bench.h"
#include "include/uapi/test.h"

#define WAKE_P	 16
#define WAKE_MAX 8

static const int T_VALUES[] = { 1, 3, 7 };

static struct {
	volatile uint8_t *pages;
	uint32_t turn[WAKE_MAX]; /* futex per worker: its wake-ups so far */
	uint32_t back;		 /* futex: the workers' replies so far */
	int t, tids[WAKE_MAX];
	uint32_t next;
	volatile int stop;
} w;

static void worker(void *arg)
{
	int i = (int)(uintptr_t)arg;
	uint32_t seen = 0;

	for (;;) {
		/* Acquire: pairs with the release of turn[i] by the waker. */
		while (__atomic_load_n(&w.turn[i], __ATOMIC_ACQUIRE) == seen)
			futex_wait(&w.turn[i], seen, 0);
		seen = w.turn[i];
		if (w.stop)
			return;
		for (int p = 0; p < WAKE_P; p++)
			(void)w.pages[(uint64_t)p * PAGE_SIZE];
		/* Release: our touches before the reply. Pairs with the acquire
		 * loads of back in wake_run(). */
		__atomic_fetch_add(&w.back, 1, __ATOMIC_RELEASE);
		futex_wake(&w.back, 1);
	}
}

static void wake_run(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t k = 0; k < n; k++) {
		int i = (int)(w.next++ % (uint32_t)w.t);
		/* Acquire: the replies counted so far (pairs with the workers'
		 * release of back). */
		uint32_t b = __atomic_load_n(&w.back, __ATOMIC_ACQUIRE);

		/* Release: pairs with the worker's acquire of turn[i]. */
		__atomic_fetch_add(&w.turn[i], 1, __ATOMIC_RELEASE);
		futex_wake(&w.turn[i], 1);
		/* Acquire: pairs with the worker's release of back. */
		while (__atomic_load_n(&w.back, __ATOMIC_ACQUIRE) == b)
			futex_wait(&w.back, b, 0);
	}
}

/*
 * Before each batch (not timed): every worker blocked in its futex_wait
 * and switched out. A worker's last act in an operation, blocking again
 * after its reply, races with CPU 0 reading the counters that end the
 * batch and start the next: when CPU 0 was the quicker, that block (a
 * system call, a switch, a save) landed in the next batch, one operation
 * in five read ctx_switch 4.2, and the check below the benchmark failed
 * (regression wake_heavy_trailing_block_counted, seen in make test once
 * the system-call path got shorter). Bounded: a worker that never blocks
 * is a benchmark error, not a hang.
 */
static void wake_settle(void *ctx, uint64_t n)
{
	(void)ctx;
	(void)n;
	for (int i = 0; i < w.t; i++) {
		long spins = 0;

		while (sys_test(SYST_TASK_OFF_CPU, w.tids[i], 0, 0) != 1) {
			if (++spins > 100000000) {
				bench_note("wake_heavy_%d: worker %d never blocked", w.t, i);
				bench_errors++;
				return;
			}
			__asm__ __volatile__("pause");
		}
	}
}

static void wake_heavy(int t)
{
	char name[32];
	/* One operation per batch: between batches (the counters read) every
	 * CPU idles, which is the case measured; turns run back to back can
	 * find the next wake-up before blocking (QEMU runs the CPUs at once).
	 * It ran so before by accident (the first batch, with the threads'
	 * start-up, stopped the calibration), until bench_measure ran one
	 * operation before calibrating. */
	struct bench_op op = {
		.run = wake_run, .setup = wake_settle, .cpus_used = t + 1, .max_iters = 1
	};

	snprintf(name, sizeof(name), "wake_heavy_%d", t);
	op.name = name;
	if (t + 1 > nr_cpus()) {
		bench_note("%s: needs %d CPUs; skipped", name, t + 1);
		return;
	}
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.pages = map(NULL, WAKE_P * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);
	if (MAP_FAILED(w.pages)) {
		bench_note("%s: map failed", name);
		bench_errors++;
		return;
	}
	set_affinity(0, 0);
	for (int i = 0; i < t; i++) {
		w.tids[i] = thread_create(worker, (void *)(uintptr_t)i);
		set_affinity(w.tids[i], i + 1);
	}
	bench_run(&op);
	w.stop = 1;
	for (int i = 0; i < t; i++) {
		/* Release: w.stop before the turn; pairs with worker()'s
		 * acquire load of turn[i], after which it reads w.stop. */
		__atomic_fetch_add(&w.turn[i], 1, __ATOMIC_RELEASE);
		futex_wake(&w.turn[i], 1);
		thread_join(w.tids[i], NULL);
	}
	unmap((void *)w.pages, WAKE_P * PAGE_SIZE);
}

void bench_wake(const char *sel)
{
	char name[32];

	for (size_t i = 0; i < sizeof(T_VALUES) / sizeof(T_VALUES[0]); i++) {
		snprintf(name, sizeof(name), "wake_heavy_%d", T_VALUES[i]);
		if (bench_wanted(sel, name))
			wake_heavy(T_VALUES[i]);
	}
}
