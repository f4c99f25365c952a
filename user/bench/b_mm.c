/*
 * Address-space changes and the flushes they cost (DESIGN.md "TLB
 * shootdown" to "Membarrier"): protection changes and unmaps with T
 * threads of this process spinning in user mode on CPUs 1..T (each must be
 * flushed) or blocked with their CPUs idle (lazy: none need be), first
 * touches, expedited membarrier, and kernel (vmalloc) unmaps while T CPUs
 * run user code (kflush=defer lets them catch up at their next entry).
 */
#include "user/bench/bench.h"
#include "include/uapi/test.h"
#include "include/uapi/membarrier_cmds.h"

#define RW	     (UPROT_READ | UPROT_WRITE)
#define PF_MAX_PAGES 4096

static const int T_VALUES[] = { 0, 1, 3, 7 };

struct mm_ctx {
	volatile uint8_t *page; /* the spinners read it */
	uint8_t *region;	/* page_fault: this batch's fresh pages */
	bool broken;
};

/* RW -> RO -> RW: two protection changes of a page the spinners read. */
static void protect_run(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	for (uint64_t i = 0; i < n; i++) {
		if (protect((void *)c->page, PAGE_SIZE, UPROT_READ) ||
		    protect((void *)c->page, PAGE_SIZE, RW))
			c->broken = true;
	}
}

static void munmap_run(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	for (uint64_t i = 0; i < n; i++) {
		volatile uint8_t *p = map(NULL, PAGE_SIZE, RW, 0);

		if (MAP_FAILED(p)) {
			c->broken = true;
			return;
		}
		*p = 1;
		if (unmap((void *)p, PAGE_SIZE))
			c->broken = true;
	}
}

static void pf_setup(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	c->region = map(NULL, n * PAGE_SIZE, RW, 0);
	if (MAP_FAILED(c->region)) {
		c->region = NULL;
		c->broken = true;
	}
}

static void pf_run(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	for (uint64_t i = 0; c->region && i < n; i++)
		((volatile uint8_t *)c->region)[i * PAGE_SIZE] = 1;
}

static void pf_teardown(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	if (c->region)
		unmap(c->region, n * PAGE_SIZE);
}

static void membarrier_run(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	for (uint64_t i = 0; i < n; i++) {
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0))
			c->broken = true;
	}
}

static void kunmap_run(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	for (uint64_t i = 0; i < n; i++) {
		if (sys_test(SYST_KERNEL_UNMAP, 1, 0, 0))
			c->broken = true;
	}
}

enum helpers { SPIN, IDLE };

/* One result with t helper threads on CPUs 1..t. */
static void with_threads(const char *fmt, int t, enum helpers how, struct bench_op op)
{
	char name[48];
	struct mm_ctx c = { 0 };
	uint8_t *page = map(NULL, PAGE_SIZE, RW, UMAP_POPULATE);

	snprintf(name, sizeof(name), fmt, t);
	if (t + 1 > nr_cpus()) {
		bench_note("%s: needs %d CPUs; skipped", name, t + 1);
		return;
	}
	if (MAP_FAILED(page)) {
		bench_note("%s: map failed", name);
		bench_errors++;
		return;
	}
	page[0] = 1;
	c.page = page;
	op.name = name;
	op.ctx = &c;
	op.cpus_used = t + 1;
	if (how == SPIN)
		spin_start(t, page);
	else
		idle_start(t, page);
	bench_run(&op);
	if (how == SPIN)
		spin_stop();
	else
		idle_stop();
	unmap(page, PAGE_SIZE);
	if (c.broken) {
		bench_note("%s: a system call failed", name);
		bench_errors++;
	}
}

static void for_each_t(const char *sel, const char *fmt, enum helpers how, struct bench_op op)
{
	char name[48];

	for (size_t i = 0; i < sizeof(T_VALUES) / sizeof(T_VALUES[0]); i++) {
		snprintf(name, sizeof(name), fmt, T_VALUES[i]);
		if (bench_wanted(sel, name))
			with_threads(fmt, T_VALUES[i], how, op);
	}
}

void bench_mm(const char *sel)
{
	for_each_t(sel, "tlb_shootdown_%d", SPIN,
		   (struct bench_op){ .run = protect_run, .ops_per_iter = 2 });
	for_each_t(sel, "tlb_shootdown_idle_%d", IDLE,
		   (struct bench_op){ .run = protect_run, .ops_per_iter = 2 });
	for_each_t(sel, "munmap_shootdown_%d", SPIN, (struct bench_op){ .run = munmap_run });
	if (bench_wanted(sel, "page_fault")) {
		struct mm_ctx c = { 0 };
		struct bench_op op = { .name = "page_fault",
				       .run = pf_run,
				       .setup = pf_setup,
				       .teardown = pf_teardown,
				       .ctx = &c,
				       .max_iters = PF_MAX_PAGES };

		bench_run(&op);
		if (c.broken) {
			bench_note("page_fault: map failed");
			bench_errors++;
		}
	}
	bool mb = false;

	for (size_t i = 0; i < sizeof(T_VALUES) / sizeof(T_VALUES[0]) && !mb; i++) {
		char name[48];

		snprintf(name, sizeof(name), "membarrier_expedited_%d", T_VALUES[i]);
		mb = bench_wanted(sel, name);
	}
	if (mb && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0)) {
		bench_note("membarrier: cannot register");
		bench_errors++;
	} else if (mb) {
		for_each_t(sel, "membarrier_expedited_%d", SPIN,
			   (struct bench_op){ .run = membarrier_run });
	}
	for_each_t(sel, "kernel_unmap_%d", SPIN, (struct bench_op){ .run = kunmap_run });
}
