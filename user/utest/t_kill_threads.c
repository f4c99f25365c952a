/*
 * Kill-anywhere torture, the cases t_kill.c does not reach (DESIGN.md
 * "Entry invariants": a kill is never lost; the protocol is in
 * sched/sched.c, "Kills").
 *
 * kill_single_threads: inside one process, single threads are killed
 *   (SYST_KILL_THREAD) at random moments while in each blocking call:
 *   ipc_call (queued, waiting for the reply, or switched to directly on
 *   one CPU), ipc_reply_recv and ipc_recv (idle, or owing a reply),
 *   futex_wait with and without timeout, thread_join, wait, sleep; while
 *   mapping and unmapping with other threads of the process touching the
 *   memory on other CPUs (shootdowns in flight); and racing their own
 *   exit. The process lives on: every victim must be joinable with -EINTR
 *   (or its own code, if it exited first), the threads it was dealing with
 *   must go on (a caller whose receiver died gets -ESHUTDOWN, a thread a
 *   killed joiner waited for can be joined again, a child a killed waiter
 *   waited for can be waited for again), and at the end every standing
 *   thread is killed the same way. kill_thread_rounds (default 60).
 * kill_handle_holders: processes that use an endpoint another process
 *   created (the handle's owner is a server, the others call it) are
 *   killed in random order at random moments: callers queued on it,
 *   waiting for a reply or being served, the server owing replies. A
 *   caller whose server died must get -ESHUTDOWN, never hang.
 *   kill_handle_rounds (default 12).
 * Both: a watchdog turns a hang into a failure with the kernel's list of
 * every task and where it blocked (SYST_WHERE), and frames, heap, vmalloc
 * pages, processes and IPC objects (endpoints and their references) are
 * exactly as before.
 */
#include "user/utest/utest.h"
#include "user/lib/syscall.h"
#include "include/uapi/errno.h"
#include "include/uapi/test.h"

#define MS	     1000000ul
#define EXIT_BY_KILL 137

static uint64_t kt_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- the watchdog ---- */

static volatile uint64_t wd_progress;
static volatile int wd_stop;
static const char *volatile wd_what = "";

/* A round that makes no progress for 60 s (of emulated time; one takes
 * milliseconds) is a hang: list every task and where it blocked, fail. */
static void watchdog(void *p)
{
	uint64_t last = wd_progress, since = clock_ns();

	(void)p;
	while (!wd_stop) {
		sleep_ns(100 * MS);
		if (wd_progress != last) {
			last = wd_progress;
			since = clock_ns();
		} else if (clock_ns() - since > 60000 * MS) {
			ut_fail(__FILE__, __LINE__,
				"no progress for 60 s after round %lu (%s): a lost kill or wake-up? "
				"every task:",
				last, wd_what);
			sys_test(SYST_WHERE, 1, 0, 0);
			exit(1);
		}
	}
}

/* ---- kill_single_threads: the child ---- */

enum {
	V_CALL,
	V_CALL_SAME_CPU,
	V_RECV,
	V_REPLY_RECV,
	V_FUTEX,
	V_FUTEX_TIMEOUT,
	V_JOIN,
	V_WAIT,
	V_SLEEP,
	V_MAP,
	V_EXIT,
	NR_V
};

static const char *const v_names[NR_V] = {
	"ipc_call",    "ipc_call (direct switch)",
	"ipc_recv",    "ipc_reply_recv",
	"futex_wait",  "futex_wait (timeout)",
	"thread_join", "wait",
	"sleep",       "map/unmap",
	"exit",
};

static struct {
	int h;			 /* the process's endpoint */
	uint32_t never;		 /* futex waits on it end by timeout or kill */
	volatile uint32_t go;	 /* releases a victim's joinee */
	volatile int joinee;	 /* the thread a V_JOIN victim joins */
	volatile int grandchild; /* the process a V_WAIT victim waits for */
	uint8_t *shared;	 /* 16 pages the touchers read, victims remap */
	volatile uint64_t calls, shutdowns, replies;
	int bad;
} kt;

/* Standing servers: receive, reply, receive; pinned to CPU 0 (the direct
 * switch target of V_CALL_SAME_CPU) or elsewhere. */
static void kt_server(void *p)
{
	uint64_t m[4] = { 0 };

	(void)p;
	for (;;) {
		long r = ipc_recv(kt.h, m);

		while (r > 0) {
			m[0] += 1;
			kt.replies++;
			r = ipc_reply_recv(kt.h, m);
		}
	}
}

/* Standing callers: their receiver may be a victim killed while owing
 * them the reply: -ESHUTDOWN, and on they go. */
static void kt_caller(void *p)
{
	(void)p;
	for (;;) {
		uint64_t m[4] = { 7, 0, 0, 0 };
		long r = ipc_call(kt.h, m);

		kt.calls++;
		if (r == -ESHUTDOWN)
			kt.shutdowns++;
		else if (r > 0 && m[0] != 8)
			kt.bad++; /* a reply that is not the answer to our call */
	}
}

/* Standing touchers: read the shared pages on their CPU, so that a
 * victim's unmap there has other CPUs to shoot down. */
static void kt_toucher(void *p)
{
	(void)p;
	for (;;) {
		volatile uint8_t *s = kt.shared;

		for (int i = 0; i < 16; i++) {
			if (i < 4 || i >= 8) /* 4..7 come and go */
				(void)s[i * PAGE_SIZE];
		}
		yield(); /* on the CPU, the mm loaded, but not a hog */
	}
}

static void kt_joinee(void *p)
{
	(void)p;
	while (!kt.go)
		futex_wait((uint32_t *)&kt.go, 0, 0);
}

static void victim(void *arg)
{
	int kind = (int)(uintptr_t)arg;
	uint64_t m[4] = { 7, 0, 0, 0 };

	for (;;) {
		switch (kind) {
		case V_CALL:
		case V_CALL_SAME_CPU:
			ipc_call(kt.h, m);
			m[0] = 7;
			break;
		case V_RECV:
			/* (killed idle, or owing the reply in between) */
			if (ipc_recv(kt.h, m) > 0) {
				m[0] += 1;
				ipc_reply(kt.h, m);
			}
			break;
		case V_REPLY_RECV: {
			long r = ipc_recv(kt.h, m);

			while (r > 0) {
				m[0] += 1;
				r = ipc_reply_recv(kt.h, m);
			}
			break;
		}
		case V_FUTEX:
			futex_wait(&kt.never, 0, 0);
			break;
		case V_FUTEX_TIMEOUT:
			futex_wait(&kt.never, 0, 100000);
			break;
		case V_JOIN:
			thread_join(kt.joinee, NULL);
			break;
		case V_WAIT:
			wait_pid(kt.grandchild, NULL);
			break;
		case V_SLEEP:
			sleep_ns(50000);
			break;
		case V_MAP:
			/* Change what the touchers read (a shootdown of their
			 * CPUs each time) and unmap and map pages beside it. */
			protect(kt.shared, 4 * PAGE_SIZE, UPROT_READ);
			protect(kt.shared, 4 * PAGE_SIZE, UPROT_READ | UPROT_WRITE);
			unmap(kt.shared + 4 * PAGE_SIZE, 4 * PAGE_SIZE);
			map(kt.shared + 4 * PAGE_SIZE, 4 * PAGE_SIZE, UPROT_READ | UPROT_WRITE,
			    UMAP_FIXED | UMAP_POPULATE);
			break;
		case V_EXIT:
			thread_exit(5);
		}
	}
}

/* One round: start a victim of kind k, let it reach its call (or not),
 * kill it, join it. */
static void kt_round(int kind, uint64_t r, int ncpu)
{
	int tid, code = 0;

	kt.go = 0;
	if (kind == V_JOIN)
		kt.joinee = thread_create(kt_joinee, NULL);
	if (kind == V_WAIT)
		kt.grandchild = start_child("role_sleep 60000");
	tid = thread_create(victim, (void *)(uintptr_t)kind);
	if (tid < 0) {
		kt.bad++;
		return;
	}
	set_affinity(tid, kind == V_CALL_SAME_CPU ? 0 : (int)(r % (uint64_t)ncpu));
	/* Anywhere from before its first instruction to well after it
	 * blocked: spin up to 2 ms, or sleep. */
	if (r & 2) {
		uint64_t end = rdtsc() + (r >> 8) % (2 * tsc_khz());

		while (rdtsc() < end)
			cpu_relax();
	} else {
		sleep_ns((r >> 8) % (2 * MS));
	}
	long k = sys_test(SYST_KILL_THREAD, tid, 0, 0);

	if (k != 0 && !(kind == V_EXIT && k == -ESRCH)) {
		ut_note("kill of a %s victim returned %ld", v_names[kind], k);
		kt.bad++;
	}
	if (thread_join(tid, &code) || (code != -EINTR && !(kind == V_EXIT && code == 5))) {
		ut_note("%s victim joined with %d", v_names[kind], code);
		kt.bad++;
	}
	if (kind == V_JOIN) {
		/* Its joiner was killed: the joinee can be joined again. */
		kt.go = 1;
		futex_wake((uint32_t *)&kt.go, 1);
		if (thread_join(kt.joinee, NULL)) {
			ut_note("the thread a killed joiner waited for cannot be joined");
			kt.bad++;
		}
	}
	if (kind == V_WAIT) {
		/* Its waiter was killed: the child can be waited for again. */
		kill_pid(kt.grandchild);
		if (wait_pid(kt.grandchild, &code) || code != EXIT_BY_KILL) {
			ut_note("the child a killed waiter waited for: wait failed (%d)", code);
			kt.bad++;
		}
	}
}

/* role_thread_victims <rounds> <seed> */
void t_role_thread_victims(const char *arg)
{
	uint64_t rounds = arg_u64(&arg), s = arg_u64(&arg) | 1;
	int ncpu = nr_cpus(), standing[8], ns = 0;

	kt.h = ep_create();
	kt.shared = map(NULL, 16 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);
	if (kt.h < 0 || MAP_FAILED(kt.shared))
		exit(10);
	set_affinity(0, ncpu > 1 ? 1 : 0);
	standing[ns++] = thread_create(kt_server, NULL);
	set_affinity(standing[0], 0);
	standing[ns++] = thread_create(kt_server, NULL);
	standing[ns++] = thread_create(kt_caller, NULL);
	standing[ns++] = thread_create(kt_caller, NULL);
	standing[ns] = thread_create(kt_toucher, NULL);
	set_affinity(standing[ns++], ncpu - 1);
	int wd = thread_create(watchdog, NULL);

	for (uint64_t i = 0; i < rounds && !kt.bad; i++) {
		uint64_t r = kt_next(&s);
		int kind = (int)(r % NR_V);

		if (kind == V_WAIT && (r >> 40) % 4)
			kind = V_SLEEP; /* a process per round is slow: fewer */
		wd_what = v_names[kind];
		kt_round(kind, kt_next(&s), ncpu);
		wd_progress = i + 1;
	}
	/* The standing threads die the same way, blocked or not. */
	for (int i = 0; i < ns; i++) {
		int code = 0;
		long k = sys_test(SYST_KILL_THREAD, standing[i], 0, 0);

		if (k != 0 || thread_join(standing[i], &code) || code != -EINTR) {
			ut_note("standing thread %d: kill %ld, joined with %d", i, k, code);
			kt.bad++;
		}
	}
	wd_stop = 1;
	thread_join(wd, NULL);
	printf("        # single threads: %lu killed; standing callers made %lu calls, %lu "
	       "ended by a receiver's death, servers replied %lu times\n",
	       rounds, kt.calls, kt.shutdowns, kt.replies);
	exit(kt.bad ? 1 : 0);
}

void t_kill_single_threads(const char *arg)
{
	uint64_t rounds = ut_param(arg, "kill_thread_rounds", 60);
	uint64_t seed = ut_param(arg, "kill_seed", rdtsc() | 1);
	char a[96];
	int code = -1;

	ut_note("%lu single threads killed, seed %lu (replay: kill_seed=%lu kill_thread_rounds=%lu)",
		rounds, seed, seed, rounds);
	/* Warm the caches with a short run, then measure around the long one. */
	snprintf(a, sizeof(a), "role_thread_victims 20 %lu", seed ^ 1);
	T_EQ(run_child(a), 0);
	struct usage before = usage_settled(NULL);
	struct objects objs = objects_now();
	uint64_t t0 = clock_ns();

	/* (the child's watchdog turns a hang into its failure) */
	snprintf(a, sizeof(a), "role_thread_victims %lu %lu", rounds, seed);
	code = run_child(a);
	T_EQ(code, 0);
	usage_expect_back(&before, &objs);
	ut_note("%lu single threads killed in %lu ms", rounds, (clock_ns() - t0) / MS);
}

/* ---- kill_handle_holders ---- */

/* role_ep_server: the endpoint's only receiver (its receive handle was
 * moved to us at spawn); two threads serve it. */
static int eps_h;

static void eps_thread(void *p)
{
	uint64_t m[4] = { 0 };

	(void)p;
	for (;;) {
		long r = ipc_recv(eps_h, m);

		while (r > 0) {
			m[0] = ~m[0];
			r = ipc_reply_recv(eps_h, m);
		}
	}
}

void t_role_ep_server(const char *arg)
{
	uint32_t never = 0;

	(void)arg;
	eps_h = SPAWN_HANDLE(0);
	thread_create(eps_thread, NULL);
	thread_create(eps_thread, NULL);
	for (;;)
		futex_wait(&never, 0, 0);
}

/* role_ep_client: two threads call the server's endpoint (a send handle
 * copied at spawn); a call that finds the server gone (-ESHUTDOWN) ends
 * the process with 21, a wrong answer with 23. */
static int epc_h;
static uint32_t epc_end;

static void epc_thread(void *p)
{
	for (uint64_t i = (uint64_t)(uintptr_t)p;; i++) {
		uint64_t m[4] = { i, 0, 0, 0 };
		long r = ipc_call(epc_h, m);

		if (r == -ESHUTDOWN)
			exit(21);
		if (r < 0 || m[0] != ~i)
			exit(23);
	}
}

void t_role_ep_client(const char *arg)
{
	(void)arg;
	epc_h = SPAWN_HANDLE(0);
	thread_create(epc_thread, (void *)1);
	thread_create(epc_thread, (void *)(1ull << 40));
	for (;;)
		futex_wait(&epc_end, 0, 0);
}

static void random_delay(uint64_t r, uint64_t max_us)
{
	if (r & 1) {
		uint64_t end = rdtsc() + (r >> 1) % (max_us * tsc_khz() / 1000 + 1);

		while (rdtsc() < end)
			cpu_relax();
	} else {
		sleep_ns((r >> 1) % (max_us * 1000 + 1));
	}
}

static bool client_code_ok(int code)
{
	return code == EXIT_BY_KILL || code == 21;
}

/* One round; returns the number of bad endings. */
static int handle_round(uint64_t *s, uint64_t *killed)
{
	int bad = 0, code = -1, c[2], h = -1;
	int recv = ep_pair(&h); /* we keep a send handle too */

	if (recv < 0)
		return 1;
	int srv = start_child_h("role_ep_server", recv, SPAWN_MOVE);

	if (srv < 0)
		return 1;
	c[0] = start_child_h("role_ep_client", h, R_SEND);
	c[1] = start_child_h("role_ep_client", h, R_SEND);
	random_delay(kt_next(s), 8000);
	switch (kt_next(s) % 3) {
	case 0: /* the owner first: the callers must see -ESHUTDOWN and end */
		kill_pid(srv);
		break;
	case 1: /* a caller first (its server may owe it a reply), then the owner */
		kill_pid(c[0]);
		random_delay(kt_next(s), 4000);
		kill_pid(srv);
		break;
	default: /* everyone, in a random order */
		for (int i = 0; i < 3; i++) {
			int who = (int)((kt_next(s) + (uint64_t)i) % 3);

			kill_pid(who == 2 ? srv : c[who]);
			random_delay(kt_next(s), 2000);
		}
		kill_pid(srv);
		break;
	}
	(*killed)++;
	if (wait_pid(srv, &code) || code != EXIT_BY_KILL) {
		ut_note("the server ended with %d", code);
		bad++;
	}
	/* Our own handle: the endpoint died with its only receiver. */
	uint64_t m[4] = { 1, 0, 0, 0 };

	if (ipc_call(h, m) != -ESHUTDOWN) {
		ut_note("a call on a dead server's endpoint did not fail with -ESHUTDOWN");
		bad++;
	}
	ep_close(h);
	for (int i = 0; i < 2; i++) {
		if (wait_pid(c[i], &code) || !client_code_ok(code)) {
			ut_note("a client ended with %d", code);
			bad++;
		}
		*killed += code == EXIT_BY_KILL;
	}
	return bad;
}

void t_kill_handle_holders(const char *arg)
{
	uint64_t rounds = ut_param(arg, "kill_handle_rounds", 12);
	uint64_t seed = ut_param(arg, "kill_seed", rdtsc() | 1), s = seed | 1, killed = 0;
	int bad = 0;

	ut_note("%lu rounds of a server and two clients, seed %lu (replay: kill_seed=%lu "
		"kill_handle_rounds=%lu)",
		rounds, seed, seed, rounds);
	bad += handle_round(&s, &killed); /* warm the caches */
	struct usage before = usage_settled(NULL);
	struct objects objs = objects_now();
	int wd = thread_create(watchdog, NULL);
	uint64_t t0 = clock_ns();

	wd_what = "server and clients";
	for (uint64_t i = 0; i < rounds; i++) {
		bad += handle_round(&s, &killed);
		wd_progress = i + 1;
	}
	wd_stop = 1;
	thread_join(wd, NULL);
	T_EQ(bad, 0);
	usage_expect_back(&before, &objs);
	ut_note("%lu rounds, %lu processes killed, in %lu ms", rounds, killed,
		(clock_ns() - t0) / MS);
}
