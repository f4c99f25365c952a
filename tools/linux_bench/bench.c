/*
 * lbench: the benchmark suite of ../shared/BENCHMARKS.md on Linux, as the
 * /init of an initramfs (tools/compare_linux.py builds and boots it). This
 * file: main, null_syscall, the ping-pongs and as_ring; mm.c has the rest.
 *
 * Mapping (README.md "Comparing with Linux"):
 *   null_syscall           raw syscall(SYS_getppid)
 *   ipc_pingpong_*         two processes (fork), one word on a MAP_SHARED
 *                          page, FUTEX_WAKE then FUTEX_WAIT each way; one
 *                          round trip is one operation
 *   ipc_pingpong_*_pipe    the same round trip through two pipes: write one
 *                          byte, read one byte each way (compare_linux.py
 *                          shows it as a second Linux mechanism for the
 *                          ipc_pingpong_* rows)
 *   ipc_cap_transfer_same_cpu  a descriptor moved to the other process and
 *                          back over a unix socket pair: sendmsg with
 *                          SCM_RIGHTS and a one-byte message, then close of
 *                          the sender's copy (a move, as this kernel's
 *                          IPC_XFER_MOVE), each way
 *   thread_switch_same_cpu the same between two threads (private futex)
 *   fpu_pingpong_same_cpu  ipc_pingpong_same_cpu, both sides dirtying every
 *                          YMM (ZMM) register before each hand-off
 *   as_ring_K_64           K processes on CPU 0, one futex word each on a
 *                          shared page; the holder touches 64 private
 *                          pages, then passes the token on; per hop
 *
 * Helpers are forked children; they never return and are SIGKILLed after
 * their benchmark. Stores that hand over the token are release stores and
 * the loads that see it acquire loads: the pair orders the touched data.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#define PAGE	   4096
#define RING_PAGES 64
#define RING_MAX   32
#define WORD_GAP   16 /* futex words 64 bytes apart */

static uint64_t null_syscall(void *ctx, uint64_t n)
{
	(void)ctx;
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		long ret = SYS_getppid;

		__asm__ volatile("syscall" : "+a"(ret) : : "rcx", "r11", "memory");
	}
	return lb_rdtsc() - t0;
}

/* ---- ping-pong: turn is 1 while the server owns the word ---- */

struct pp {
	volatile uint32_t *turn;
	int wait_op, wake_op; /* FUTEX_WAIT/WAKE, _PRIVATE for threads */
	int vec;	      /* vec_level() to dirty before each hand-off, or 0 */
	volatile uint32_t stop;
};

static void pp_handoff(struct pp *p, uint32_t give)
{
	/* Release: the partner's acquire load of *turn sees our stores. */
	__atomic_store_n(p->turn, give, __ATOMIC_RELEASE);
	lb_futex(p->turn, p->wake_op, 1);
}

static void pp_wait_while(struct pp *p, uint32_t v)
{
	/* Acquire: pairs with the release in pp_handoff. */
	while (__atomic_load_n(p->turn, __ATOMIC_ACQUIRE) == v)
		lb_futex(p->turn, p->wait_op, v);
}

static void pp_serve(struct pp *p)
{
	for (uint64_t i = 0;; i++) {
		pp_wait_while(p, 0);
		if (p->stop)
			return;
		if (p->vec)
			vec_dirty(p->vec, i);
		pp_handoff(p, 0);
	}
}

static uint64_t pp_client(void *ctx, uint64_t n)
{
	struct pp *p = ctx;
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		if (p->vec)
			vec_dirty(p->vec, ~i);
		pp_handoff(p, 1);
		pp_wait_while(p, 1);
	}
	return lb_rdtsc() - t0;
}

static void *shared_page(void)
{
	void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static pid_t fork_helper(int cpu)
{
	fflush(stdout);
	pid_t pid = fork();

	if (pid == 0)
		lb_pin(cpu);
	else if (pid < 0)
		lb_note("fork failed");
	return pid;
}

static void reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* op in this process against serve(op->ctx) in a forked helper on cpu,
 * which is killed afterwards. */
static void run_against(const struct lb_op *op, int cpu, void (*serve)(void *))
{
	pid_t pid = fork_helper(cpu);

	if (pid == 0) {
		serve(op->ctx);
		_exit(0);
	}
	if (pid > 0)
		lb_run(op);
	else
		lb_errors++;
	reap(pid);
}

static void pp_serve_ctx(void *p)
{
	pp_serve(p);
}

static void ipc_pingpong(const char *name, int cpu, int vec, const char *note)
{
	void *page = shared_page();
	struct pp p = { .wait_op = FUTEX_WAIT, .wake_op = FUTEX_WAKE, .vec = vec };
	struct lb_op op = { .name = name,
			    .run = pp_client,
			    .ctx = &p,
			    .note = note,
			    .mechanism = "futex ping-pong, 2 processes" };

	if (!page) {
		lb_errors++;
		return;
	}
	p.turn = page;
	run_against(&op, cpu, pp_serve_ctx);
	munmap(page, PAGE);
}

/* ---- pipe ping-pong: one byte down one pipe, back up the other ---- */

struct pipes {
	int down[2], up[2]; /* client -> server, server -> client */
};

static uint64_t pipe_client(void *ctx, uint64_t n)
{
	struct pipes *p = ctx;
	char c = 0;
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		if (write(p->down[1], &c, 1) != 1 || read(p->up[0], &c, 1) != 1)
			return LB_FAILED;
	}
	return lb_rdtsc() - t0;
}

static void pipe_serve(void *arg)
{
	struct pipes *p = arg;
	char c;

	close(p->down[1]);
	close(p->up[0]);
	while (read(p->down[0], &c, 1) == 1 && write(p->up[1], &c, 1) == 1)
		;
}

static void pipe_pingpong(const char *name, int cpu)
{
	struct pipes p;
	struct lb_op op = { .name = name,
			    .run = pipe_client,
			    .ctx = &p,
			    .mechanism = "pipe ping-pong, 2 processes" };

	if (pipe(p.down) || pipe(p.up)) {
		lb_note("%s: pipe failed", name);
		lb_errors++;
		return;
	}
	run_against(&op, cpu, pipe_serve);
	for (int i = 0; i < 2; i++) {
		close(p.down[i]);
		close(p.up[i]);
	}
}

/* ---- descriptor passing: an fd moved there and back (SCM_RIGHTS) ---- */

/* One byte and room for one descriptor. */
struct fdmsg {
	char c;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m;
};

static void fdmsg_init(struct fdmsg *f)
{
	f->c = 0;
	f->iov = (struct iovec){ .iov_base = &f->c, .iov_len = 1 };
	f->m = (struct msghdr){ .msg_iov = &f->iov,
				.msg_iovlen = 1,
				.msg_control = f->u.buf,
				.msg_controllen = sizeof(f->u.buf) };
}

/* Send one byte carrying fd, then close our copy: the descriptor moves. */
static int fd_move(int sock, int fd)
{
	struct fdmsg f;

	fdmsg_init(&f);
	struct cmsghdr *h = CMSG_FIRSTHDR(&f.m);

	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(sock, &f.m, 0) != 1)
		return -1;
	return close(fd);
}

/* The descriptor the next byte carries, or -1. */
static int fd_receive(int sock)
{
	struct fdmsg f;
	int fd;

	fdmsg_init(&f);
	if (recvmsg(sock, &f.m, 0) != 1)
		return -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(&f.m);

	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

struct fdpass {
	int sv[2]; /* ours, the server's */
	int fd;	   /* the descriptor that travels, while it is ours */
};

static uint64_t fdpass_client(void *ctx, uint64_t n)
{
	struct fdpass *p = ctx;
	uint64_t t0 = lb_rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		if (fd_move(p->sv[0], p->fd))
			return LB_FAILED;
		p->fd = fd_receive(p->sv[0]);
		if (p->fd < 0)
			return LB_FAILED;
	}
	return lb_rdtsc() - t0;
}

static void fdpass_serve(void *arg)
{
	struct fdpass *p = arg;

	close(p->sv[0]);
	for (int fd; (fd = fd_receive(p->sv[1])) >= 0 && !fd_move(p->sv[1], fd);)
		;
}

static void fd_pingpong(void)
{
	struct fdpass p;
	int pfd[2];
	struct lb_op op = { .name = "ipc_cap_transfer_same_cpu",
			    .run = fdpass_client,
			    .ctx = &p,
			    .mechanism = "unix socket, fd moved (SCM_RIGHTS, close), 2 processes" };

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p.sv) || pipe(pfd)) {
		lb_note("%s: socketpair or pipe failed", op.name);
		lb_errors++;
		return;
	}
	close(pfd[1]);
	p.fd = pfd[0]; /* the read end of a pipe travels */
	run_against(&op, 0, fdpass_serve);
	close(p.sv[0]);
	close(p.sv[1]);
	if (p.fd >= 0)
		close(p.fd);
}

static void *pp_thread(void *arg)
{
	lb_pin(0);
	pp_serve(arg);
	return NULL;
}

static void thread_switch(void)
{
	static volatile uint32_t turn;
	struct pp p = { .turn = &turn,
			.wait_op = FUTEX_WAIT_PRIVATE,
			.wake_op = FUTEX_WAKE_PRIVATE };
	struct lb_op op = { .name = "thread_switch_same_cpu",
			    .run = pp_client,
			    .ctx = &p,
			    .mechanism = "futex ping-pong, 2 threads" };
	pthread_t t;

	turn = 0;
	if (pthread_create(&t, NULL, pp_thread, &p)) {
		lb_note("pthread_create failed");
		lb_errors++;
		return;
	}
	lb_run(&op);
	p.stop = 1;
	pp_handoff(&p, 1);
	pthread_join(t, NULL);
}

/* ---- as_ring: word i is 1 while member i holds the token ---- */

struct ring {
	volatile uint32_t *words;
	int k;
	volatile uint8_t *mine; /* this member's RING_PAGES pages */
};

static void ring_wait(struct ring *r, int i)
{
	volatile uint32_t *w = r->words + i * WORD_GAP;

	/* Acquire: pairs with the predecessor's release in ring_pass. */
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == 0)
		lb_futex(w, FUTEX_WAIT, 0);
	*w = 0;
}

static void ring_pass(struct ring *r, int i)
{
	volatile uint32_t *next = r->words + (i + 1) % r->k * WORD_GAP;

	/* A read of each page, as ours (user/bench/b_ring.c touch()): the
	 * increment this did was a load and a store, four instructions a page
	 * more than ours, about 5% of Linux's hop (found in review). */
	for (int p = 0; p < RING_PAGES; p++)
		(void)r->mine[p * PAGE];
	/* Release: the successor sees the token after our stores. */
	__atomic_store_n(next, 1, __ATOMIC_RELEASE);
	lb_futex(next, FUTEX_WAKE, 1);
}

static volatile uint8_t *ring_pages(void)
{
	uint8_t *m = mmap(NULL, RING_PAGES * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	for (int p = 0; p < RING_PAGES; p++)
		m[p * PAGE] = 1;
	return m;
}

static uint64_t ring_lap(void *ctx, uint64_t n)
{
	struct ring *r = ctx;
	uint64_t t0 = lb_rdtsc();

	/* Member 0 holds the token between batches: n whole laps. */
	for (uint64_t i = 0; i < n; i++) {
		ring_pass(r, 0);
		ring_wait(r, 0);
	}
	return lb_rdtsc() - t0;
}

static void as_ring(int k)
{
	char name[32];
	pid_t pids[RING_MAX] = { 0 };
	struct ring r = { .words = shared_page(), .k = k };
	struct lb_op op = { .name = name,
			    .run = ring_lap,
			    .ctx = &r,
			    .ops_per_iter = k,
			    .mechanism = "futex token ring" };

	snprintf(name, sizeof(name), "as_ring_%d_%d", k, RING_PAGES);
	if (!lb_wanted(name))
		return;
	if (!r.words) {
		lb_errors++;
		return;
	}
	for (int i = 1; i < k; i++) {
		if ((pids[i] = fork_helper(0)) == 0) {
			r.mine = ring_pages();
			if (!r.mine)
				_exit(1);
			for (;;) {
				ring_wait(&r, i);
				ring_pass(&r, i);
			}
		}
	}
	r.mine = ring_pages();
	if (r.mine)
		lb_run(&op);
	else
		lb_errors++;
	for (int i = 1; i < k; i++)
		reap(pids[i]);
	munmap((void *)r.mine, RING_PAGES * PAGE);
	munmap((void *)r.words, PAGE);
}

void bench_ipc(void)
{
	struct lb_op op = { .name = "null_syscall",
			    .run = null_syscall,
			    .mechanism = "syscall(SYS_getppid)" };
	static char fpu_note[32];
	int vec = vec_level();

	if (lb_wanted(op.name))
		lb_run(&op);
	if (lb_wanted("ipc_pingpong_same_cpu"))
		ipc_pingpong("ipc_pingpong_same_cpu", 0, 0, NULL);
	if (lb_wanted("ipc_pingpong_same_cpu_pipe"))
		pipe_pingpong("ipc_pingpong_same_cpu_pipe", 0);
	if (lb_wanted("ipc_pingpong_cross_cpu")) {
		if (lb_ncpus >= 2)
			ipc_pingpong("ipc_pingpong_cross_cpu", 1, 0, NULL);
		else
			lb_note("skip ipc_pingpong_cross_cpu: needs 2 CPUs, have %d", lb_ncpus);
	}
	if (lb_wanted("ipc_pingpong_cross_cpu_pipe")) {
		if (lb_ncpus >= 2)
			pipe_pingpong("ipc_pingpong_cross_cpu_pipe", 1);
		else
			lb_note("skip ipc_pingpong_cross_cpu_pipe: needs 2 CPUs, have %d",
				lb_ncpus);
	}
	if (lb_wanted("ipc_cap_transfer_same_cpu"))
		fd_pingpong();
	if (lb_wanted("thread_switch_same_cpu"))
		thread_switch();
	if (lb_wanted("fpu_pingpong_same_cpu")) {
		snprintf(fpu_note, sizeof(fpu_note), "fpu=%s", vec == 2 ? "zmm32+k" : "ymm16");
		if (vec)
			ipc_pingpong("fpu_pingpong_same_cpu", 0, vec, fpu_note);
		else
			lb_note("skip fpu_pingpong_same_cpu: no AVX enabled (CPUID/XCR0)");
	}
}

int main(void)
{
	static const int ring_k[] = { 2, 4, 8, 16, 32 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* As init: /proc for the options, affinity and IPI counts; sysfs only
	 * for the meltdown (PTI) state in the config field. Run by hand (a
	 * quick check on a host), both are there already. */
	if (getpid() == 1) {
		mkdir("/proc", 0555);
		mkdir("/sys", 0555);
		if (mount("proc", "/proc", "proc", 0, NULL))
			lb_note("cannot mount /proc");
		mount("sysfs", "/sys", "sysfs", 0, NULL);
	}
	lb_init();
	bench_ipc();
	bench_mm();
	for (size_t i = 0; i < sizeof(ring_k) / sizeof(ring_k[0]); i++)
		as_ring(ring_k[i]);
	lb_finish();
}
