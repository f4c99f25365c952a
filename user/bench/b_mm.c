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

/*
 * protect_sparse_tables: protection changes (RW -> RO -> RW) of a region
 * that has one touched page in each of SPARSE_TABLES level-1 tables (one
 * page every 2 MiB). The kernel's walk finds the 8 present entries among
 * 4096; it must scan each table's absent entries in place, not walk from
 * the root for each (regression sparse_tables_walk_in_place: the pathlen
 * gate holds its cost).
 */
#define SPARSE_TABLES 8
#define TABLE_SPAN    (PAGE_SIZE << 9) /* what one level-1 table maps */

static void sparse_setup(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	(void)n;
	c->region = map(NULL, SPARSE_TABLES * TABLE_SPAN, RW, 0);
	if (MAP_FAILED(c->region)) {
		c->region = NULL;
		c->broken = true;
		return;
	}
	for (uint64_t i = 0; i < SPARSE_TABLES; i++)
		((volatile uint8_t *)c->region)[i * TABLE_SPAN] = 1;
}

static void sparse_run(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	for (uint64_t i = 0; c->region && i < n; i++) {
		if (protect(c->region, SPARSE_TABLES * TABLE_SPAN, UPROT_READ) ||
		    protect(c->region, SPARSE_TABLES * TABLE_SPAN, RW))
			c->broken = true;
	}
}

static void sparse_teardown(void *ctx, uint64_t n)
{
	struct mm_ctx *c = ctx;

	(void)n;
	if (c->region)
		unmap(c->region, SPARSE_TABLES * TABLE_SPAN);
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

/* An operation of this thread alone, with a fresh context (its setup and
 * teardown, untimed, map and unmap what it works on). */
static void run_alone(const char *sel, struct bench_op op)
{
	struct mm_ctx c = { 0 };

	if (!bench_wanted(sel, op.name))
		return;
	op.ctx = &c;
	bench_run(&op);
	if (c.broken) {
		bench_note("%s: a system call failed", op.name);
		bench_errors++;
	}
}

void bench_mm(const char *sel)
{
	for_each_t(sel, "tlb_shootdown_%d", SPIN,
		   (struct bench_op){ .run = protect_run, .ops_per_iter = 2 });
	for_each_t(sel, "tlb_shootdown_idle_%d", IDLE,
		   (struct bench_op){ .run = protect_run, .ops_per_iter = 2 });
	for_each_t(sel, "munmap_shootdown_%d", SPIN, (struct bench_op){ .run = munmap_run });
	run_alone(sel, (struct bench_op){ .name = "page_fault",
					  .run = pf_run,
					  .setup = pf_setup,
					  .teardown = pf_teardown,
					  .max_iters = PF_MAX_PAGES });
	run_alone(sel, (struct bench_op){ .name = "protect_sparse_tables",
					  .run = sparse_run,
					  .setup = sparse_setup,
					  .teardown = sparse_teardown,
					  .ops_per_iter = 2,
					  .max_iters = 64 });
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
