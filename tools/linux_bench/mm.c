/*
 * lbench, memory benchmarks: tlb_shootdown_T, tlb_shootdown_idle_T,
 * munmap_shootdown_T, page_fault, membarrier_expedited_T (T = 0, 1, 3, 7).
 *
 * Helpers are threads of this process pinned to CPUs 1..T, so Linux has
 * this mm on those CPUs: "spinners" read a touched page in a loop in user
 * mode; "idlers" touch it, then block in FUTEX_WAIT, and the benchmark
 * starts only once /proc says every idler sleeps (its CPU is idle, lazily
 * keeping the mm). The measuring thread stays on CPU 0.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static const int counts[] = { 0, 1, 3, 7 };

struct helpers {
	volatile uint8_t *page;
	volatile uint32_t stop;	 /* spinners: leave; idlers: the futex word */
	volatile uint32_t ready; /* helpers that touched the page */
	int n;
	bool idle;
	pthread_t thread[LB_MAX_CPUS];
	volatile pid_t tid[LB_MAX_CPUS];
};

struct helper_arg {
	struct helpers *h;
	int cpu;
};

static struct helper_arg args[LB_MAX_CPUS];

static void *helper_main(void *a)
{
	struct helper_arg *arg = a;
	struct helpers *h = arg->h;

	lb_pin(arg->cpu);
	h->tid[arg->cpu] = gettid();
	(void)*h->page;
	/* Release: the page was touched before we count as ready. */
	__atomic_add_fetch(&h->ready, 1, __ATOMIC_RELEASE);
	if (h->idle) {
		while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED))
			lb_futex(&h->stop, FUTEX_WAIT_PRIVATE, 0);
		return NULL;
	}
	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED))
		(void)*h->page;
	return NULL;
}

/* 'S' in /proc/self/task/TID/stat: the idler sleeps in the kernel. */
static bool sleeping(pid_t tid)
{
	char path[64], buf[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (!(f = fopen(path, "r")))
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');

	return p && p[1] == ' ' && p[2] == 'S';
}

static int helpers_start(struct helpers *h, int n, bool idle, volatile uint8_t *page)
{
	memset((void *)h, 0, sizeof(*h));
	h->page = page;
	h->idle = idle;
	for (int c = 1; c <= n; c++) {
		args[c] = (struct helper_arg){ h, c };
		if (pthread_create(&h->thread[c], NULL, helper_main, &args[c]))
			return -1;
		h->n = c;
	}
	/* Acquire: pairs with the helpers' release of ready. */
	while (__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE) < (uint32_t)n)
		sched_yield();
	for (int c = 1, tries = 0; idle && c <= n && tries < 5000; tries++) {
		if (h->tid[c] && sleeping(h->tid[c]))
			c++;
		else
			usleep(1000);
	}
	return 0;
}

static void helpers_stop(struct helpers *h)
{
	__atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
	lb_futex(&h->stop, FUTEX_WAKE_PRIVATE, LB_MAX_CPUS);
	for (int c = 1; c <= h->n; c++)
		pthread_join(h->thread[c], NULL);
}

/* ---- the operations ---- */

static uint64_t protect(void *ctx, uint64_t n)
{
	void *page = ctx;
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		if (mprotect(page, PAGE, PROT_READ) || mprotect(page, PAGE, PROT_READ | PROT_WRITE))
			return LB_FAILED;
	}
	return lb_rdtsc() - t0;
}

static uint64_t map_touch_unmap(void *ctx, uint64_t n)
{
	(void)ctx;
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		volatile uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return LB_FAILED;
		*p = 1;
		munmap((void *)p, PAGE);
	}
	return lb_rdtsc() - t0;
}

static uint64_t page_fault(void *ctx, uint64_t n)
{
	(void)ctx;
	uint8_t *m =
		mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return LB_FAILED;
	/* 4 KiB faults only, as in our kernel (Debian's THP is "always"). */
	madvise(m, n * PAGE, MADV_NOHUGEPAGE);
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++)
		((volatile uint8_t *)m)[i * PAGE] = 1;
	uint64_t t = lb_rdtsc() - t0;

	munmap(m, n * PAGE);
	return t;
}

static uint64_t membarrier_op(void *ctx, uint64_t n)
{
	(void)ctx;
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
			return LB_FAILED;
	}
	return lb_rdtsc() - t0;
}

/* ---- the benchmarks ---- */

static void with_helpers(const char *fmt, int t, bool idle, struct lb_op *op)
{
	static struct helpers h;
	char name[48];
	uint8_t *page;

	snprintf(name, sizeof(name), fmt, t);
	if (!lb_wanted(name))
		return;
	if (t + 1 > lb_ncpus) {
		lb_note("skip %s: needs %d CPUs, have %d", name, t + 1, lb_ncpus);
		return;
	}
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		lb_errors++;
		return;
	}
	page[0] = 1;
	op->name = name;
	op->ctx = page;
	if (helpers_start(&h, t, idle, page) == 0)
		lb_run(op);
	else
		lb_errors++;
	helpers_stop(&h);
	munmap(page, PAGE);
}

void bench_mm(void)
{
	const int n = sizeof(counts) / sizeof(counts[0]);

	for (int i = 0; i < n; i++) {
		struct lb_op op = { .run = protect, .ops_per_iter = 2, .mechanism = "mprotect" };

		with_helpers("tlb_shootdown_%d", counts[i], false, &op);
	}
	for (int i = 0; i < n; i++) {
		struct lb_op op = { .run = protect, .ops_per_iter = 2, .mechanism = "mprotect" };

		with_helpers("tlb_shootdown_idle_%d", counts[i], true, &op);
	}
	for (int i = 0; i < n; i++) {
		/* The helpers spin on their own page; CPU 0 maps another. */
		struct lb_op op = { .run = map_touch_unmap, .mechanism = "mmap, write, munmap" };

		with_helpers("munmap_shootdown_%d", counts[i], false, &op);
	}
	if (lb_wanted("page_fault")) {
		struct lb_op op = { .name = "page_fault",
				    .run = page_fault,
				    .max_iters = 8192,
				    .mechanism = "first write, anonymous page" };

		lb_run(&op);
	}
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0)) {
		lb_note("skip membarrier_expedited_*: registration failed");
		return;
	}
	for (int i = 0; i < n; i++) {
		struct lb_op op = { .run = membarrier_op,
				    .mechanism = "MEMBARRIER_CMD_PRIVATE_EXPEDITED" };

		with_helpers("membarrier_expedited_%d", counts[i], false, &op);
	}
}
