/*
 * Kills against blocking calls (DESIGN.md "Entry invariants": a kill is
 * never lost; the protocol is in sched/sched.c, "Kills").
 *
 * kill_before_block: a thread whose kill is already pending when it enters
 *   a blocking call (SYST_KILLED_THEN marks it killed as kill_threads()
 *   does, and wakes nobody) must come back at once with -EINTR, then exit.
 *   Before the fix each call blocked for ever: nothing on the way into a
 *   wait looked at the flag under the lock the killer takes.
 * kill_during_blocking_calls: a child whose threads loop in every blocking
 *   call, in protection changes and unmaps of memory another of its threads
 *   reads on another CPU (shootdowns in flight), and in creating threads
 *   that exit at once, is killed by its parent at random moments, kill_rounds times
 *   (default 100 in every boot; the qemu-kill-torture row runs 1500). A watchdog turns a
 *   wait that never returns into a failure with a list of every task, and
 *   kernel memory must come back exactly.
 * ipc_direct_switch_vs_kill: a receiver that a caller has taken off the
 *   endpoint is killed before the caller switches to it (the window is
 *   widened by SYST_IPC_SWITCH_DELAY). The caller must fall back to an
 *   ordinary wake (counter ipc_switch_fallback) instead of running a task
 *   that is already queued or running on another CPU.
 * finish_switch_vs_exit_elsewhere: a thread blocks on CPU 1; the CPU has
 *   let it go but not yet finished the switch (SYST_SWITCH_OUT_DELAY holds
 *   it there) when the thread is killed, runs on CPU 2 and exits, with the
 *   reaper held to CPU 1. finish_switch must decide whether to reap its
 *   prev from what it read before letting it go: a read after found the
 *   thread dead and queued it for the reaper a second time (seen once in
 *   qemu-kill-torture as a task freed before the reaper's put).
 */
#include "user/utest/utest.h"
#include "user/lib/syscall.h"
#include "include/uapi/errno.h"
#include "include/uapi/test.h"

#define MS	     1000000ul
#define PENDING	     0x5a5a5a5al /* no result stored yet */
#define EXIT_BY_KILL 137	 /* EXIT_KILLED_BASE + 9 (kernel/proc.h) */

/* role_sleep <ms>: a child that lives that long. */
void t_role_sleep(const char *arg)
{
	sleep_ns(arg_u64(&arg) * MS);
}

/* Wait until *word differs from PENDING, for up to ms of clock time
 * (sleeps last at least a tick, so a count of sleeps is no clock). */
static bool returned_within(volatile long *word, uint64_t ms)
{
	uint64_t end = clock_ns() + ms * MS;

	while (*word == PENDING && clock_ns() < end)
		sleep_ns(MS);
	return *word != PENDING;
}

/* Wait (up to 10 s, a hang bound) until thread tid is blocked and off its
 * CPU. */
static bool wait_blocked(int tid)
{
	uint64_t end = clock_ns() + 10000 * MS;

	while (clock_ns() < end) {
		if (sys_test(SYST_TASK_OFF_CPU, tid, 0, 0) == 1)
			return true;
		sleep_ns(MS);
	}
	return false;
}

/* ---- kill_before_block ---- */

struct kb {
	const char *name;
	long nr;
	uint64_t args[6];
	volatile long result;
	bool recv_first; /* receive one call on handle args[0] first */
};

static void kb_thread(void *p)
{
	struct kb *k = p;

	if (k->recv_first) {
		uint64_t m[4] = { 0 };

		if (ipc_recv((int)k->args[0], m) <= 0) {
			k->result = -1000;
			thread_exit(1);
		}
	}
	sys_test(SYST_KILLED_THEN, k->nr, (long)k->args, (long)&k->result);
	k->result = -2000; /* not reached: the kill ends the thread on its way out */
	thread_exit(2);
}

/* Run case k (thread started, result awaited up to 3 s), then unblock(k)
 * if the call did not return, and join the thread: it must end with
 * -EINTR, its pending kill. */
static void kb_run(struct kb *k, long want, void (*unblock)(struct kb *))
{
	int code = 0;

	k->result = PENDING;
	int tid = thread_create(kb_thread, k);

	if (!T_EXPECT(tid > 0))
		return;
	if (!returned_within(&k->result, 3000)) {
		ut_fail(__FILE__, __LINE__, "%s entered with a kill pending still blocks after 3 s",
			k->name);
		unblock(k);
	} else if (!T_EQ(k->result, want)) {
		ut_note("... in %s", k->name);
	}
	T_EQ(thread_join(tid, &code), 0);
	T_EQ(code, -EINTR);
}

static uint32_t kb_word;	    /* futexes wait on it; stays 0 */
static volatile uint32_t kb_go;	    /* releases the helper threads */
static volatile long kb_helper_got; /* what a helper's own IPC returned */

static void unblock_nothing(struct kb *k)
{
	(void)k;
}

static void unblock_futex(struct kb *k)
{
	(void)k;
	futex_wake(&kb_word, 1);
}

static void unblock_close(struct kb *k)
{
	ep_close((int)k->args[0]);
}

static void unblock_kill(struct kb *k)
{
	kill_pid((int)k->args[0]);
}

static void unblock_go(struct kb *k)
{
	(void)k;
	kb_go = 1;
	futex_wake((uint32_t *)&kb_go, 8);
}

/* A thread that waits until kb_go is set. */
static void kb_holder(void *p)
{
	(void)p;
	while (!kb_go)
		futex_wait((uint32_t *)&kb_go, 0, 0);
}

/* Receive one call on handle h, wait for kb_go, reply. */
static void kb_receiver(void *p)
{
	uint64_t m[4] = { 0 };
	long r = ipc_recv((int)(intptr_t)p, m);

	kb_helper_got = r > 0 ? (long)m[0] : r;
	kb_holder(NULL);
	if (r > 0)
		ipc_reply((int)(intptr_t)p, m);
}

/* Call h with 0x5151 and keep what comes back. */
static void kb_caller(void *p)
{
	uint64_t m[4] = { 0x5151, 0, 0, 0 };
	long r = ipc_call((int)(intptr_t)p, m);

	kb_helper_got = r > 0 ? (long)m[0] : r;
}

static void kb_reset_helpers(void)
{
	kb_go = 0;
	kb_helper_got = PENDING;
}

static void kb_ipc_cases(void)
{
	int h;
	struct kb k = { 0 };

	/* ipc_recv with no caller. */
	h = ep_create();
	k = (struct kb){ .name = "ipc_recv", .nr = SYS_IPC_RECV, .args = { (uint64_t)h } };
	kb_run(&k, -EINTR, unblock_close);
	ep_close(h);

	/* ipc_call with no receiver: queued on the endpoint. */
	h = ep_create();
	k = (struct kb){ .name = "ipc_call (queued)",
			 .nr = SYS_IPC_CALL,
			 .args = { (uint64_t)h, 1, 2, 3, 4 } };
	kb_run(&k, -EINTR, unblock_close);
	ep_close(h);

	/* ipc_call to a waiting receiver on this CPU: the direct switch. The
	 * receiver gets the message either way; the caller must not wait for
	 * the reply. */
	kb_reset_helpers();
	h = ep_create();
	int rt = thread_create(kb_receiver, (void *)(intptr_t)h);

	T_EXPECT(wait_blocked(rt));
	k = (struct kb){ .name = "ipc_call (direct switch)",
			 .nr = SYS_IPC_CALL,
			 .args = { (uint64_t)h, 0x7777, 0, 0, 0 } };
	kb_run(&k, -EINTR, unblock_go);
	unblock_go(NULL);
	T_EQ(thread_join(rt, NULL), 0);
	T_EQ(kb_helper_got, 0x7777);
	ep_close(h);

	/* ipc_reply_recv: the case thread receives a call, then replies with
	 * its kill pending: the caller gets the reply, and the case thread
	 * must not wait for the next call. */
	kb_reset_helpers();
	h = ep_create();
	k = (struct kb){ .name = "ipc_reply_recv",
			 .nr = SYS_IPC_REPLY_RECV,
			 .args = { (uint64_t)h, 0x6262, 0, 0, 0 },
			 .recv_first = true };
	k.result = PENDING;
	int kt = thread_create(kb_thread, &k);

	T_EXPECT(wait_blocked(kt));
	int ct = thread_create(kb_caller, (void *)(intptr_t)h);
	int code = 0;

	if (!returned_within(&k.result, 3000)) {
		ut_fail(__FILE__, __LINE__,
			"ipc_reply_recv entered with a kill pending still "
			"blocks after 3 s");
		ep_close(h);
	} else {
		T_EQ(k.result, -EINTR);
	}
	T_EQ(thread_join(kt, &code), 0);
	T_EQ(code, -EINTR);
	T_EQ(thread_join(ct, NULL), 0);
	T_EQ(kb_helper_got, 0x6262);
	ep_close(h);
}

void t_kill_before_block(const char *arg)
{
	(void)arg;
	set_affinity(0, 0); /* every thread here on CPU 0: direct switches */
	uint64_t refused0 = counter("kill_before_block");
	struct kb k;

	k = (struct kb){ .name = "sleep", .nr = SYS_SLEEP, .args = { 10000 * MS } };
	kb_run(&k, -EINTR, unblock_nothing);
	k = (struct kb){ .name = "futex_wait",
			 .nr = SYS_FUTEX_WAIT,
			 .args = { (uint64_t)&kb_word, 0, 0 } };
	kb_run(&k, -EINTR, unblock_futex);
	k = (struct kb){ .name = "futex_wait (timeout)",
			 .nr = SYS_FUTEX_WAIT,
			 .args = { (uint64_t)&kb_word, 0, 10000 * MS } };
	kb_run(&k, -EINTR, unblock_futex);

	kb_reset_helpers();
	int holder = thread_create(kb_holder, NULL);

	k = (struct kb){ .name = "thread_join",
			 .nr = SYS_THREAD_JOIN,
			 .args = { (uint64_t)holder, 0 } };
	kb_run(&k, -EINTR, unblock_go);
	unblock_go(NULL);
	thread_join(holder, NULL); /* fails harmlessly if the case joined it */

	int pid = start_child("role_sleep 60000");

	k = (struct kb){ .name = "wait", .nr = SYS_WAIT, .args = { (uint64_t)pid, 0 } };
	kb_run(&k, -EINTR, unblock_kill);
	kill_pid(pid);
	wait_pid(pid, NULL); /* fails harmlessly if the case reaped it */

	kb_ipc_cases();
	/* One refused block per case (the direct switch falls back first). */
	uint64_t refused = counter("kill_before_block") - refused0;

	T_EXPECT(refused >= 9);
	ut_note("9 blocking calls entered with a kill pending; %lu waits refused", refused);
}

/* ---- kill_during_blocking_calls ---- */

static struct {
	int h;
	uint32_t never; /* stays 0: futex waits on it end only by timeout or kill */
} bl;

static void bl_receiver(void *p)
{
	uint64_t m[4] = { 0 };

	(void)p;
	for (;;) {
		long r = ipc_recv(bl.h, m);

		while (r > 0)
			r = ipc_reply_recv(bl.h, m);
	}
}

static void bl_caller(void *p)
{
	(void)p;
	for (;;) {
		uint64_t m[4] = { 1, 2, 3, 4 };

		ipc_call(bl.h, m);
	}
}

static void bl_futex(void *p)
{
	uint64_t timeout = (uint64_t)(uintptr_t)p;

	for (;;)
		futex_wait(&bl.never, 0, timeout);
}

static void bl_exit_soon(void *p)
{
	(void)p;
	sleep_ns(20000);
	thread_exit(7);
}

static void bl_joiner(void *p)
{
	(void)p;
	for (;;) {
		int t = thread_create(bl_exit_soon, NULL);

		if (t > 0)
			thread_join(t, NULL);
		else
			sleep_ns(100000);
	}
}

static void bl_waiter(void *p)
{
	(void)p;
	for (;;) {
		int pid = spawn("utest", "role_exit 0");

		if (pid > 0)
			wait_pid(pid, NULL);
		else
			sleep_ns(100000);
	}
}

static uint8_t *bl_shared;

/* Protection changes and unmaps of pages another thread of the process is
 * reading on another CPU: each sends shootdowns, and a kill can land with
 * them in flight. */
static void bl_mapper(void *p)
{
	(void)p;
	for (;;) {
		protect(bl_shared, 4 * PAGE_SIZE, UPROT_READ);
		protect(bl_shared, 4 * PAGE_SIZE, UPROT_READ | UPROT_WRITE);
		unmap(bl_shared + 4 * PAGE_SIZE, 4 * PAGE_SIZE);
		map(bl_shared + 4 * PAGE_SIZE, 4 * PAGE_SIZE, UPROT_READ | UPROT_WRITE,
		    UMAP_FIXED | UMAP_POPULATE);
	}
}

static void bl_toucher(void *p)
{
	(void)p;
	for (;;) {
		for (int i = 0; i < 4; i++)
			(void)((volatile uint8_t *)bl_shared)[i * PAGE_SIZE];
		yield(); /* the mm stays loaded on its CPU, which it does not hog */
	}
}

static void bl_exit_now(void *p)
{
	(void)p;
	thread_exit(8);
}

/* Threads that exit at once, joined: the kill lands during another
 * thread's exit. */
static void bl_exiter(void *p)
{
	(void)p;
	for (;;) {
		int t = thread_create(bl_exit_now, NULL);

		if (t > 0)
			thread_join(t, NULL);
		else
			sleep_ns(100000);
	}
}

static void bl_sleeper(void *p)
{
	(void)p;
	for (uint64_t i = 1;; i++)
		sleep_ns(i * 7919 % 200000);
}

/* role_blockers <more>: threads looping in every blocking call until the
 * parent kills the process. The IPC pair shares one CPU (direct
 * switches), a second caller runs elsewhere (woken by IPI). */
void t_role_blockers(const char *arg)
{
	uint64_t more = arg_u64(&arg);
	int n = nr_cpus();

	set_affinity_all(0);
	bl.h = ep_create();
	if (bl.h < 0)
		exit(10);
	int a = thread_create(bl_receiver, NULL), b = thread_create(bl_caller, NULL);

	set_affinity(a, n > 1 ? 1 : 0);
	set_affinity(b, n > 1 ? 1 : 0);
	thread_create(bl_caller, NULL);
	thread_create(bl_futex, (void *)0);
	thread_create(bl_futex, (void *)(uintptr_t)50000);
	thread_create(bl_joiner, NULL);
	thread_create(bl_waiter, NULL);
	thread_create(bl_sleeper, NULL);
	if (more) {
		/* every fourth round: shootdowns in flight, threads exiting */
		bl_shared = map(NULL, 8 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);
		if (MAP_FAILED(bl_shared))
			exit(11);
		int t = thread_create(bl_toucher, NULL);

		set_affinity(t, n - 1);
		thread_create(bl_mapper, NULL);
		thread_create(bl_exiter, NULL);
	}
	futex_wait(&bl.never, 0, 0);
	exit(12);
}

static volatile uint64_t kd_round;
static volatile int kd_stop;

/* A hang bound: a wait for a killed child that has not returned for 60 s
 * (seconds of emulated time; one round takes milliseconds) is a lost kill.
 * List every task (where each blocked) and fail the test. */
static void kd_watchdog(void *p)
{
	uint64_t last = kd_round, since = clock_ns();

	(void)p;
	while (!kd_stop) {
		sleep_ns(100 * MS);
		if (kd_round != last) {
			last = kd_round;
			since = clock_ns();
		} else if (clock_ns() - since > 60000 * MS) {
			ut_fail(__FILE__, __LINE__,
				"round %lu: the wait for the killed child has not returned for 60 s "
				"(a lost kill?); every task:",
				last);
			sys_test(SYST_WHERE, 1, 0, 0);
			exit(1);
		}
	}
}

static uint64_t kd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void t_kill_during_blocking_calls(const char *arg)
{
	uint64_t rounds = ut_param(arg, "kill_rounds", 100);
	uint64_t seed = ut_param(arg, "kill_seed", rdtsc() | 1), s = seed;
	uint64_t khz = tsc_khz(), bad = 0, t0 = clock_ns();

	ut_note("%lu kills, seed %lu (replay: kill_seed=%lu kill_rounds=%lu)", rounds, seed, seed,
		rounds);
	struct usage before = usage_settled(NULL);
	struct objects objs = objects_now();
	int wd = thread_create(kd_watchdog, NULL);

	for (uint64_t i = 0; i < rounds; i++) {
		char role[48];
		int code = -1;

		snprintf(role, sizeof(role), "role_blockers %lu", (uint64_t)(i % 4 == 3));
		int pid = start_child(role);

		if (!T_EXPECT(pid > 0))
			break;
		/* Anywhere from the child's first instruction to well after
		 * all its threads block: spin up to 4 ms, or sleep. */
		uint64_t r = kd_next(&s);

		if (r & 1) {
			uint64_t end = rdtsc() + (r >> 1) % (4 * khz);

			while (rdtsc() < end)
				cpu_relax();
		} else {
			sleep_ns((r >> 1) % (4 * MS));
		}
		kill_pid(pid);
		if (wait_pid(pid, &code) || code != EXIT_BY_KILL) {
			bad++;
			ut_note("round %lu: child exited with %d", i, code);
		}
		kd_round = i + 1;
	}
	kd_stop = 1;
	thread_join(wd, NULL);
	T_EQ(bad, 0);
	usage_expect_back(&before, &objs);
	ut_note("%lu children killed in %lu ms; kill_before_block %lu, ipc_switch_fallback %lu",
		kd_round, (clock_ns() - t0) / MS, counter("kill_before_block"),
		counter("ipc_switch_fallback"));
}

/* ---- ipc_direct_switch_vs_kill ---- */

/* role_ipc_victim: one thread on CPU 1, allowed on CPUs 1 and 2,
 * answering calls on SPAWN_HANDLE(0) with its tid. */
void t_role_ipc_victim(const char *arg)
{
	uint64_t mask = (1u << 1) | (1u << 2);
	uint64_t m[4] = { 0 };
	int h = SPAWN_HANDLE(0);

	(void)arg;
	set_affinity(0, 1);
	syscall3(SYS_SET_AFFINITY, 0, &mask, sizeof(mask));
	long r = ipc_recv(h, m);

	while (r > 0) {
		m[0] = (uint64_t)gettid();
		r = ipc_reply_recv(h, m);
	}
	exit(11);
}

static struct {
	volatile int armed;
	int pid;
} dk;

/* On CPU 0: once the caller is about to call, let it take the receiver off
 * the endpoint (it then spins 100 ms in the kernel), and kill the victim. */
static void dk_killer(void *p)
{
	(void)p;
	while (!dk.armed)
		cpu_relax();
	uint64_t end = rdtsc() + 20 * tsc_khz();

	while (rdtsc() < end)
		cpu_relax();
	kill_pid(dk.pid);
}

void t_ipc_direct_switch_vs_kill(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 3) {
		ut_note("SKIP: needs three CPUs");
		exit(3);
	}
	int hits = 0;

	/* The kill lands 20 ms into a 100 ms window; rounds until it landed
	 * inside it three times (a host that stalls the killer can miss). */
	for (int round = 0; round < 10 && hits < 3; round++) {
		char role[48];
		uint64_t m[4] = { 0 };
		int code = -1;

		set_affinity(0, 1);
		int h = -1, recv = ep_pair(&h);

		snprintf(role, sizeof(role), "role_ipc_victim");
		dk.pid = start_child_h(role, recv, SPAWN_MOVE);
		dk.armed = 0;

		if (!T_EXPECT(dk.pid > 0 && h >= 0))
			break;
		/* One plain call: afterwards the victim is blocked on the
		 * endpoint (it re-queued itself before switching back). */
		T_EXPECT(ipc_call(h, m) > 0);
		int killer = thread_create(dk_killer, NULL);

		set_affinity(killer, 0);
		uint64_t fb0 = counter("ipc_switch_fallback");

		T_EQ(sys_test(SYST_IPC_SWITCH_DELAY, 100000, 0, 0), 0);
		dk.armed = 1;
		long r = ipc_call(h, m);

		thread_join(killer, NULL);
		T_EQ(wait_pid(dk.pid, &code), 0);
		T_EQ(code, EXIT_BY_KILL);
		ep_close(h);
		/* A reply (r > 0) means the victim reached user mode with our
		 * message: the kill came after the switch (a stalled killer),
		 * and the fallback counted was the victim's own reply, which
		 * falls back when its sender has a kill pending. Seen under
		 * load: 'r == -ESHUTDOWN: 2558 != -108'. Not a hit. */
		if (counter("ipc_switch_fallback") > fb0 && r <= 0) {
			hits++;
			/* The victim got our message, was killed, and owed us a
			 * reply: the call fails. */
			T_EQ(r, -ESHUTDOWN);
		}
	}
	T_EXPECT(hits >= 1);
	ut_note("the kill landed between pop and switch in %d rounds", hits);
}

static struct {
	volatile int stop;
	volatile uint64_t spins; /* the spinner on CPU 1 runs: it counts */
	uint32_t never;		 /* the victim waits on it for ever */
} fs;

static void fs_spinner(void *p)
{
	(void)p;
	while (!fs.stop)
		fs.spins++;
}

/* Blocks on CPU 1, free to be woken on CPU 2, with the delay armed for the
 * CPU that switches away from it. */
static void fs_victim(void *p)
{
	uint64_t mask[16] = { 1ull << 1 | 1ull << 2 };

	(void)p;
	set_affinity(0, 1);
	while (get_cpu() != 1)
		yield();
	syscall3(SYS_SET_AFFINITY, 0, mask, sizeof(mask));
	/* The most the hook allows: on a loaded host the kill, the wake on
	 * CPU 2 and the exit there must all fit in it. */
	sys_test(SYST_SWITCH_OUT_DELAY, 100000, 0, 0);
	futex_wait(&fs.never, 0, 0);
}

void t_finish_switch_vs_exit_elsewhere(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 3) {
		ut_note("SKIP: needs three CPUs");
		exit(3);
	}
	int hits = 0, rounds = 0;

	set_affinity(0, 0);
	T_EQ(sys_test(SYST_PIN_REAPER, 1, 0, 0), 0);
	fs.stop = 0;
	int spinner = thread_create(fs_spinner, NULL);

	set_affinity(spinner, 1);
	/* A round hits when the victim has exited while CPU 1 is still in
	 * the delay (the spinner, next on CPU 1, has not run since the victim
	 * went off it): until three did (a host that stalls us can miss). */
	for (; rounds < 20 && hits < 3; rounds++) {
		int v = thread_create(fs_victim, NULL), code = -1;

		if (!T_EXPECT(v > 0))
			break;
		while (sys_test(SYST_TASK_OFF_CPU, v, 0, 0) != 1)
			;
		uint64_t spins = fs.spins;

		T_EQ(sys_test(SYST_KILL_THREAD, v, 0, 0), 0);
		thread_join(v, &code);
		if (fs.spins == spins)
			hits++;
	}
	fs.stop = 1;
	thread_join(spinner, NULL);
	T_EQ(sys_test(SYST_PIN_REAPER, -1, 0, 0), 0);
	set_affinity_all(0);
	T_EXPECT(hits >= 1);
	ut_note("the victim exited on another CPU while CPU 1 was still switching away from it "
		"in %d of %d rounds",
		hits, rounds);
}
