/*
 * as_ring_K_P: K processes pinned to one CPU pass the CPU round a ring,
 * each touching P of its own pages per turn; one operation is one hop
 * (one switch to the next address space and its P touches).
 *
 * The token is the CPU itself: every member loops "touch P pages; yield",
 * and with nothing else runnable there the round-robin queue runs them in
 * ring order (the events prove it: one ctx_switch and one cr3_write per
 * hop). Members 1..K-1 report ready over IPC before member 0, which
 * measures and prints, starts; the driver then kills the others.
 */
#include "user/bench/bench.h"

#define RING_P	 64
#define RING_MAX 32

static const int K_VALUES[] = { 2, 4, 8, 16, 32 };

struct ring {
	volatile uint8_t *pages;
	int p;
};

static void touch(const struct ring *r)
{
	for (int i = 0; i < r->p; i++)
		(void)r->pages[(uint64_t)i * PAGE_SIZE];
}

static void ring_run(void *ctx, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		touch(ctx);
		yield();
	}
}

/* role_ring <index> <K> <P> <cpu>, with a send handle to the starter's
 * endpoint as SPAWN_HANDLE(0) */
void role_ring(const char *arg)
{
	int idx = (int)arg_u64(&arg), k = (int)arg_u64(&arg), p = (int)arg_u64(&arg);
	int cpu = (int)arg_u64(&arg);
	struct ring r = {
		map(NULL, (uint64_t)p * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE), p
	};

	if (MAP_FAILED(r.pages) || set_affinity(0, cpu))
		exit(3);
	touch(&r);
	if (idx > 0) {
		uint64_t m[4] = { (uint64_t)idx, 0, 0, 0 };

		if (ipc_call(SPAWN_HANDLE(0), m) <= 0)
			exit(4);
		for (;;)
			ring_run(&r, 1u << 30);
	}
	char name[32];

	snprintf(name, sizeof(name), "as_ring_%d_%d", k, p);
	struct bench_op op = {
		.name = name, .run = ring_run, .ctx = &r, .ops_per_iter = (uint64_t)k
	};

	bench_run(&op);
}

static void ring(int k)
{
	int cpu = nr_cpus() > 1 ? 1 : 0, pids[RING_MAX], code = -1;
	int h = ep_create();

	if (h < 0) {
		bench_note("as_ring: no endpoint");
		bench_errors++;
		return;
	}
	/* Members 1..K-1 first, each ready (spinning the ring) before the
	 * next starts. */
	for (int i = 1; i < k; i++) {
		uint64_t m[4];

		pids[i] = bench_spawn_h(h, R_SEND | R_XFER, "role_ring %d %d %d %d", i, k, RING_P,
					cpu);
		if (pids[i] < 0 || ipc_recv(h, m) <= 0 || ipc_reply(h, m) < 0) {
			bench_note("as_ring_%d: member %d did not start", k, i);
			bench_errors++;
			k = i;
			break;
		}
	}
	pids[0] = bench_spawn_h(h, R_SEND | R_XFER, "role_ring 0 %d %d %d", k, RING_P, cpu);
	if (pids[0] < 0 || wait_pid(pids[0], &code) || code) {
		bench_note("as_ring_%d: the measuring member failed (%d)", k, code);
		bench_errors++;
	}
	for (int i = 1; i < k; i++) {
		kill_pid(pids[i]);
		wait_pid(pids[i], NULL);
	}
	ep_close(h);
}

void bench_ring(const char *sel)
{
	char name[32];

	for (size_t i = 0; i < sizeof(K_VALUES) / sizeof(K_VALUES[0]); i++) {
		snprintf(name, sizeof(name), "as_ring_%d_%d", K_VALUES[i], RING_P);
		if (bench_wanted(sel, name))
			ring(K_VALUES[i]);
	}
}
