/*
 * shm_revoke_K_T (BENCHMARKS.md): one page of a memory object mapped in K
 * address spaces, this process's and K-1 reader processes' whose threads
 * spin reading it on CPUs 1..T (one per CPU); one operation: this process touches its
 * mapping, then revokes the object (MO_DECOMMIT, so the mappings stay and
 * fault the next page in). Before each operation every reader has read the
 * page since the last one (the object is mapped in all K spaces). Compare
 * with munmap_shootdown_T (the same page in one space): the events give
 * the IPIs (one round for all spaces: mm_flush_many) and flushes.
 */
#include "user/bench/bench.h"
#include "include/uapi/test.h"

struct shm_report {
	volatile uint64_t gen;
	volatile uint64_t ack[64];
};

struct shm_ctx {
	int h, readers;
	volatile uint8_t *mine;
	struct shm_report *rep;
	bool broken;
};

/* role_shm_reader <index> <cpu>: SPAWN_HANDLE(0) the object, (1) the
 * report; reads until killed. */
void role_shm_reader(const char *arg)
{
	int idx = (int)arg_u64(&arg), cpu = (int)arg_u64(&arg);

	set_affinity(0, cpu);
	volatile uint8_t *page = mo_map(SPAWN_HANDLE(0), NULL, UPROT_READ);
	struct shm_report *rep = mo_map(SPAWN_HANDLE(1), NULL, UPROT_READ | UPROT_WRITE);

	if (MAP_FAILED(page) || MAP_FAILED(rep))
		exit(3);
	for (;;) {
		uint64_t g = rep->gen;

		(void)*page;
		rep->ack[idx] = g;
	}
}

static void shm_run(void *ctx, uint64_t n)
{
	struct shm_ctx *c = ctx;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t g = ++c->rep->gen;

		for (int r = 0; r < c->readers; r++) {
			uint64_t t0 = clock_ns();
			bool told = false;

			while (c->rep->ack[r] != g) {
				cpu_relax();
				/* A reader 10 s late: say where everything is
				 * (the kernel prints every task) rather than
				 * hang silently. */
				if (!told && clock_ns() - t0 > 10000000000ull) {
					told = true;
					bench_note("shm_revoke: reader %d has not read the page "
						   "for 10 s (ack %lu, gen %lu)",
						   r, c->rep->ack[r], g);
					sys_test(SYST_WHERE, 1, 0, 0);
				}
			}
		}
		*c->mine = 1;
		if (mo_revoke(c->h, MO_DECOMMIT) < 1)
			c->broken = true;
	}
}

static void shm_revoke(int k, int t)
{
	char name[48];
	int pids[64], rh = mo_create(1);
	struct shm_ctx c = { .h = mo_create(1), .readers = k - 1 };

	snprintf(name, sizeof(name), "shm_revoke_%d_%d", k, t);
	if (t + 1 > nr_cpus() || k - 1 > t) {
		bench_note("%s: needs %d CPUs; skipped", name, t + 1);
		return;
	}
	c.mine = mo_map(c.h, NULL, UPROT_READ | UPROT_WRITE);
	c.rep = mo_map(rh, NULL, UPROT_READ | UPROT_WRITE);
	if (c.h < 0 || rh < 0 || MAP_FAILED(c.mine) || MAP_FAILED(c.rep)) {
		bench_note("%s: no memory object", name);
		bench_errors++;
		return;
	}
	for (int i = 0; i < c.readers; i++) {
		char arg[64];
		struct spawn_handle hs[2] = { { c.h, R_MAP_READ | R_XFER },
					      { rh, R_MAP_READ | R_MAP_WRITE | R_XFER } };

		snprintf(arg, sizeof(arg), "role_shm_reader %d %d", i, 1 + i % t);
		pids[i] = spawn_h("bench", arg, hs, 2);
	}
	struct bench_op op = { .name = name, .run = shm_run, .ctx = &c, .cpus_used = t + 1 };

	bench_run(&op);
	for (int i = 0; i < c.readers; i++) {
		kill_pid(pids[i]);
		wait_pid(pids[i], NULL);
	}
	if (c.broken) {
		bench_note("%s: a revocation failed", name);
		bench_errors++;
	}
	unmap((void *)c.mine, PAGE_SIZE);
	unmap(c.rep, PAGE_SIZE);
	handle_close(c.h);
	handle_close(rh);
}

void bench_shm(const char *sel)
{
	/* One reader per CPU (K - 1 <= T): a reader sharing a CPU would
	 * wait a time slice to read the page again. */
	/* K = 4, 8 (T = 3, 7) were left out once for not finishing a
	 * 160 s boot on the loaded test host. Not reproduced since (qemu
	 * smp4 and smp8, host load 7-10: 4_3 57 and 16 ms per operation,
	 * 8_7 98 ms, bench done in 2.7-4.9 s; no kernel stall, and the stall
	 * report above never fired): an operation waits until each of K-1
	 * spinning readers' vCPUs has been run by the host, so its cost is the
	 * host's scheduling of K busy vCPU threads on 2 cores (2_1: 0.13 ms;
	 * 3_2: 10 ms), which a heavier load stretches further. */
	static const int KT[][2] = { { 1, 0 }, { 1, 1 }, { 2, 1 }, { 3, 2 }, { 4, 3 }, { 8, 7 } };

	for (size_t i = 0; i < sizeof(KT) / sizeof(KT[0]); i++) {
		char name[48];

		snprintf(name, sizeof(name), "shm_revoke_%d_%d", KT[i][0], KT[i][1]);
		if (bench_wanted(sel, name))
			shm_revoke(KT[i][0], KT[i][1]);
	}
}
