/*
 * System call, IPC, thread switch, FPU hand-off and PASID switch: the
 * kernel's headline paths (DESIGN.md "IPC").
 *
 * ipc_pingpong_*: this process calls an endpoint served by another process
 * ("bench role_ipc_server"); one operation is a call and its reply.
 * thread_switch_same_cpu is the same protocol between two threads of this
 * process, so the difference between the two is the address-space switch.
 * fpu_pingpong_same_cpu dirties every vector register on both sides before
 * each hand-off. pasid_switch is the same-CPU ping-pong with both processes
 * bound to (different) PASIDs, against a baseline with neither bound.
 */
#include "user/bench/bench.h"
#include "user/lib/syscall.h"

#define STOP ~0ull

/* Answer calls on h (incrementing word 0) until STOP; 0 when stopped. */
static int serve(int h, int vec)
{
	uint64_t m[4] = { 0 };
	long r = ipc_recv(h, m);

	for (uint64_t i = 0; r > 0 && m[0] != STOP; i++) {
		if (vec)
			vec_dirty(vec, i);
		m[0]++;
		r = ipc_reply_recv(h, m);
	}
	if (r <= 0)
		return -1;
	ipc_reply(h, m);
	return 0;
}

/* role_ipc_server <key> <cpu> <vec> <pasid>: serve calls until STOP. */
void role_ipc_server(const char *arg)
{
	uint64_t key = arg_u64(&arg), cpu = arg_u64(&arg), vec = arg_u64(&arg),
		 pasid = arg_u64(&arg);

	set_affinity(0, (int)cpu);
	if (pasid && pasid_bind() < 0)
		exit(3);
	int h = ep_create(key);

	if (h < 0)
		exit(4);
	exit(serve(h, (int)vec) ? 5 : 0);
}

static void null_run(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++)
		syscall0(SYS_GETTID);
}

struct pingpong {
	int h, vec;
	bool broken;
};

static void pingpong_run(void *ctx, uint64_t n)
{
	struct pingpong *p = ctx;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t m[4] = { i, 0, 0, 0 };

		if (p->vec)
			vec_dirty(p->vec, ~i);
		if (ipc_call(p->h, m) <= 0 || m[0] != i + 1)
			p->broken = true;
	}
}

/* Measure a ping-pong with a server process on server_cpu (us on 0). */
static int measure_pingpong(struct bench_op *op, struct bench_result *r, int server_cpu, int vec,
			    int pasid)
{
	uint64_t key = bench_key();
	struct pingpong p = { .vec = vec };
	int code = -1,
	    pid = bench_spawn("role_ipc_server %lu %d %d %d", key, server_cpu, vec, pasid);

	p.h = pid < 0 ? -1 : ep_open_wait(key);
	if (p.h < 0) {
		bench_note("%s: no server (spawn %d)", op->name, pid);
		bench_errors++;
		return -1;
	}
	op->run = pingpong_run;
	op->ctx = &p;
	bench_measure(op, r);
	uint64_t stop[4] = { STOP, 0, 0, 0 };

	ipc_call(p.h, stop);
	ep_close(p.h);
	if (wait_pid(pid, &code) || code || p.broken) {
		bench_note("%s: server exit %d, replies %s", op->name, code,
			   p.broken ? "wrong" : "right");
		bench_errors++;
		return -1;
	}
	return 0;
}

static void pingpong(const char *name, int server_cpu, int vec)
{
	struct bench_op op = { .name = name, .cpus_used = server_cpu ? 2 : 1 };
	struct bench_result r;

	if (!measure_pingpong(&op, &r, server_cpu, vec, 0))
		bench_print(&op, &r, NULL);
}

static uint64_t thread_key;

static void thread_server(void *arg)
{
	int h = ep_create(thread_key);

	(void)arg;
	thread_exit(h < 0 || serve(h, 0) ? 1 : 0);
}

static void thread_switch(void)
{
	struct bench_op op = { .name = "thread_switch_same_cpu" };
	struct pingpong p = { 0 };

	thread_key = bench_key();
	int tid = thread_create(thread_server, NULL);

	if (tid < 0 || set_affinity(tid, 0)) {
		bench_note("thread_switch_same_cpu: no server thread");
		bench_errors++;
		return;
	}
	p.h = ep_open_wait(thread_key);
	op.run = pingpong_run;
	op.ctx = &p;
	if (p.h >= 0)
		bench_run(&op);
	uint64_t stop[4] = { STOP, 0, 0, 0 };

	int code = -1;

	if (p.h < 0 || ipc_call(p.h, stop) <= 0 || thread_join(tid, &code) || code || p.broken) {
		bench_note("thread_switch_same_cpu: the server thread failed");
		bench_errors++;
	}
	ep_close(p.h);
}

static void pasid_switch(void)
{
	struct bench_op base = { .name = "pasid_switch", .ops_per_iter = 2 };
	struct bench_op op = base;
	struct bench_result eq, diff;
	uint64_t eq_cyc;
	char extra[160], a[32];

	/* Round trips are two switches: per switch. Baseline first. */
	if (measure_pingpong(&base, &eq, 0, 0, 0))
		return;
	eq_cyc = eq.cyc[1];
	if (pasid_bind() < 0) {
		bench_note("pasid_switch: cannot bind a PASID");
		bench_errors++;
		return;
	}
	if (!measure_pingpong(&op, &diff, 0, 0, 1)) {
		/* Signed: on the shadow path (no ENQCMD) the difference can be
		 * below zero, and that is a result too. */
		bool neg = diff.cyc[1] < eq_cyc;

		snprintf(extra, sizeof(extra), "\"equal_cycles\":%lu,\"delta_cycles\":%s%s",
			 (eq_cyc + 50) / 100, neg ? "-" : "",
			 bench_x100(a, neg ? eq_cyc - diff.cyc[1] : diff.cyc[1] - eq_cyc));
		bench_print(&op, &diff, extra);
	}
	pasid_unbind();
}

void bench_basic(const char *sel)
{
	if (bench_wanted(sel, "null_syscall")) {
		struct bench_op op = { .name = "null_syscall", .run = null_run };

		bench_run(&op);
	}
	if (bench_wanted(sel, "ipc_pingpong_same_cpu"))
		pingpong("ipc_pingpong_same_cpu", 0, 0);
	if (bench_wanted(sel, "ipc_pingpong_cross_cpu")) {
		if (nr_cpus() < 2)
			bench_note("ipc_pingpong_cross_cpu: needs 2 CPUs; skipped");
		else
			pingpong("ipc_pingpong_cross_cpu", 1, 0);
	}
	if (bench_wanted(sel, "thread_switch_same_cpu"))
		thread_switch();
	if (bench_wanted(sel, "fpu_pingpong_same_cpu")) {
		if (!vec_level())
			bench_note("fpu_pingpong_same_cpu: no AVX; skipped");
		else
			pingpong("fpu_pingpong_same_cpu", 0, vec_level());
	}
	if (bench_wanted(sel, "pasid_switch"))
		pasid_switch();
}
