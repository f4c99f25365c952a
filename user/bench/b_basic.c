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

/* Answer calls on h, each carrying a handle in word 0, moving that handle
 * back in the reply, until STOP; 0 when stopped. */
static int serve_caps(int h)
{
	uint64_t m[4] = { 0 };
	long r = ipc_recv(h, m);

	while (r > 0 && m[1] != STOP) {
		if (IPC_RESULT_HANDLES(r) != 1)
			return -1;
		r = ipc_reply_recv_h(h, m, IPC_XFER_MOVE(0, 0));
	}
	if (r <= 0)
		return -1;
	ipc_reply(h, m);
	return 0;
}

/* role_ipc_server <cpu> <vec> <pasid> <caps>: serve calls on the endpoint
 * handed over at spawn until STOP (caps: each call carries a handle, moved
 * back in the reply). */
void role_ipc_server(const char *arg)
{
	uint64_t cpu = arg_u64(&arg), vec = arg_u64(&arg), pasid = arg_u64(&arg),
		 caps = arg_u64(&arg);

	set_affinity(0, (int)cpu);
	if (pasid && pasid_bind() < 0)
		exit(3);
	if (caps)
		exit(serve_caps(SPAWN_HANDLE(0)) ? 5 : 0);
	exit(serve(SPAWN_HANDLE(0), (int)vec) ? 5 : 0);
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
	struct pingpong p = { .vec = vec };
	int send = -1, recv = ep_pair(&send), code = -1,
	    pid = bench_spawn_h(recv, SPAWN_MOVE, "role_ipc_server %d %d %d 0", server_cpu, vec,
				pasid);

	p.h = pid < 0 ? -1 : send;
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

static int thread_ep;

static void thread_server(void *arg)
{
	(void)arg;
	thread_exit(serve(thread_ep, 0) ? 1 : 0);
}

static void thread_switch(void)
{
	struct bench_op op = { .name = "thread_switch_same_cpu" };
	struct pingpong p = { 0 };

	thread_ep = ep_create();
	int tid = thread_create(thread_server, NULL);

	if (tid < 0 || set_affinity(tid, 0)) {
		bench_note("thread_switch_same_cpu: no server thread");
		bench_errors++;
		return;
	}
	p.h = thread_ep;
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

struct cap_pingpong {
	int h, gift;
	bool broken;
};

/* One operation: a call moving a handle to the server and a reply moving
 * it back (a new handle value each time: the slot's next generation). */
static void cap_pingpong_run(void *ctx, uint64_t n)
{
	struct cap_pingpong *p = ctx;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t m[4] = { (uint64_t)p->gift, i, 0, 0 };
		long r = ipc_call_h(p->h, m, IPC_XFER_MOVE(0, 0));

		if (r <= 0 || IPC_RESULT_HANDLES(r) != 1)
			p->broken = true;
		p->gift = (int)m[0];
	}
}

/* ipc_cap_transfer_same_cpu: ipc_pingpong_same_cpu with one handle moved
 * in each direction (BENCHMARKS.md); compare its cycles with the plain
 * ping-pong's. */
static void cap_transfer(void)
{
	struct bench_op op = { .name = "ipc_cap_transfer_same_cpu" };
	struct cap_pingpong p = { 0 };
	int send = -1, recv = ep_pair(&send), code = -1;

	p.h = send;
	p.gift = ep_create();
	int pid = bench_spawn_h(recv, SPAWN_MOVE, "role_ipc_server 0 0 0 1");

	if (pid < 0 || p.gift < 0) {
		bench_note("ipc_cap_transfer_same_cpu: no server (spawn %d)", pid);
		bench_errors++;
		return;
	}
	op.run = cap_pingpong_run;
	op.ctx = &p;
	bench_run(&op);
	uint64_t stop[4] = { 0, STOP, 0, 0 };

	ipc_call(p.h, stop);
	if (wait_pid(pid, &code) || code || p.broken) {
		bench_note("ipc_cap_transfer_same_cpu: server exit %d, transfers %s", code,
			   p.broken ? "wrong" : "right");
		bench_errors++;
	}
	handle_close(p.gift);
	handle_close(p.h);
}

void bench_basic(const char *sel)
{
	if (bench_wanted(sel, "null_syscall")) {
		struct bench_op op = { .name = "null_syscall", .run = null_run };

		bench_run(&op);
	}
	if (bench_wanted(sel, "ipc_pingpong_same_cpu"))
		pingpong("ipc_pingpong_same_cpu", 0, 0);
	if (bench_wanted(sel, "ipc_cap_transfer_same_cpu"))
		cap_transfer();
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
