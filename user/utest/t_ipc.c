/*
 * IPC ping-pong between two processes, same CPU and across CPUs, with the
 * message contents checked both ways and the fast or slow path counted.
 */
#include "user/utest/utest.h"

#define STOP ~0ull

static void transform(uint64_t m[4])
{
	m[0] += 1;
	m[1] ^= 0xa5a5a5a5a5a5a5a5ull;
	m[2] *= 3;
	m[3] -= 7;
}

/* Answer calls on h with transform() until one says STOP, and answer that
 * too; 0, or -1 if IPC failed first. */
static int serve(int h)
{
	uint64_t m[4] = { 0 };
	long r = ipc_recv(h, m);

	while (r > 0 && m[0] != STOP) {
		transform(m);
		r = ipc_reply_recv(h, m);
	}
	if (r <= 0)
		return -1;
	ipc_reply(h, m);
	return 0;
}

/* role_ipc_server <cpu>: reply to calls on the endpoint handed over at
 * spawn (SPAWN_HANDLE(0)) until one says STOP. */
void t_role_ipc_server(const char *arg)
{
	int cpu = (int)arg_u64(&arg);

	set_affinity(0, cpu);
	exit(serve(SPAWN_HANDLE(0)) ? 11 : 0);
}

static void pingpong_n(int server_cpu, int client_cpu, const char *path_counter, int rounds)
{
	char role[64];
	int h = -1, recv = ep_pair(&h);

	T_EQ(set_affinity(0, client_cpu), 0);
	snprintf(role, sizeof(role), "role_ipc_server %d", server_cpu);
	int pid = start_child_h(role, recv, SPAWN_MOVE);

	T_EXPECT(pid > 0);
	/* Moved: the receive handle is gone from us. */
	T_EQ(handle_info(recv), -EBADF_);
	if (!T_EXPECT(h >= 0))
		return;
	uint64_t path0 = counter(path_counter);
	int bad = 0;

	for (int i = 0; i < rounds; i++) {
		uint64_t m[4] = { (uint64_t)i, (uint64_t)i * 7919, ~(uint64_t)i, 0x1234 };
		uint64_t want[4] = { m[0], m[1], m[2], m[3] };

		transform(want);
		long r = ipc_call(h, m);

		if (r <= 0 || memcmp(m, want, sizeof(m)))
			bad++;
	}
	T_EQ(bad, 0);
	uint64_t path = counter(path_counter) - path0;

	T_EXPECT(path >= (uint64_t)rounds);
	uint64_t stop[4] = { STOP, 0, 0, 0 };

	T_EXPECT(ipc_call(h, stop) > 0);
	int code = -1;

	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(code, 0);
	/* The server is gone, and with it the only receive handle: calls
	 * fail cleanly. */
	uint64_t m[4] = { 1, 2, 3, 4 };

	T_EQ(ipc_call(h, m), -ESHUTDOWN_);
	T_EQ(ep_close(h), 0);
	ut_note("%d round trips, %lu on the %s", rounds, path, path_counter);
}

static void pingpong(int server_cpu, int client_cpu, const char *path_counter)
{
	pingpong_n(server_cpu, client_cpu, path_counter, 2000);
}

void t_ipc_pingpong_same_cpu(const char *arg)
{
	(void)arg;
	pingpong(0, 0, "ipc_fastpath");
}

/*
 * The fused fast path (kernel/ipc.c, "Fused fast path") against the
 * general path it stands in front of: the same ping-pong on one CPU, every
 * message checked both ways, first with the fused path on (every hand-over
 * is its: ipc_fused counts two per round trip), then with it switched off
 * (SYST_IPCFAST) for the whole kernel, where the general direct switch
 * makes the same hand-overs and ipc_fused does not move.
 */
void t_ipc_fused_equals_general(const char *arg)
{
	(void)arg;
	long was = sys_test(SYST_IPCFAST, 1, 0, 0);

	T_EXPECT(was == 0 || was == 1);
	uint64_t f0 = counter("ipc_fused");

	pingpong(0, 0, "ipc_fused");
	uint64_t f1 = counter("ipc_fused");

	/* 2000 round trips and the STOP call: two hand-overs each, but for
	 * the server's first receive and last reply (general calls), and
	 * the first call if it came before the server waited. */
	T_EXPECT(f1 - f0 >= 2 * 2000 - 1);
	T_EQ(sys_test(SYST_IPCFAST, 0, 0, 0), 1);
	pingpong(0, 0, "ipc_fastpath");
	T_EQ(counter("ipc_fused"), f1);
	sys_test(SYST_IPCFAST, (long)was, 0, 0);
	ut_note("fused: %lu hand-overs", f1 - f0);
}

/*
 * address_space_switches_count_their_cr3: the inline address-space switch
 * (mm/switch_mm.h load_mm_fast) counts its ASID hit and its no-flush CR3
 * write once, in mm_switch_fast, and counter_read() adds that count to
 * asid_hit, cr3_write and cr3_write_noflush. The ping-pong between two
 * processes on CPU 0, counters read on CPU 0: each round trip switches
 * address space twice, so cr3_write rises by 2 per round trip at least,
 * and with PCIDs and two slots at least (the two spaces taking turns in
 * them) so do asid_hit and cr3_write_noflush, but for the first switches
 * into each space. A switch whose count is lost shows as an asid_hit that
 * hardly moves.
 */
void t_address_space_switches_count_their_cr3(const char *arg)
{
	enum { ROUNDS = 2000, SLACK = 16 };
	int w = counter_index("cr3_write"), nf = counter_index("cr3_write_noflush");
	int hit = counter_index("asid_hit"), fast = counter_index("mm_switch_fast");
	uint64_t v0[128], v1[128];

	(void)arg;
	if (!T_EXPECT(w >= 0 && w < 128 && nf >= 0 && nf < 128 && hit >= 0 && hit < 128 &&
		      fast >= 0 && fast < 128))
		return;
	T_EQ(set_affinity(0, 0), 0);
	yield(); /* on CPU 0 from here */
	T_EXPECT(counters_read(v0, 128, 0) > fast);
	pingpong(0, 0, "ipc_fastpath"); /* ROUNDS round trips, pinned to CPU 0 */
	T_EXPECT(counters_read(v1, 128, 0) > fast);
	uint64_t writes = v1[w] - v0[w], noflush = v1[nf] - v0[nf];
	uint64_t hits = v1[hit] - v0[hit], fasts = v1[fast] - v0[fast];

	ut_note("%d round trips on CPU 0: %lu CR3 writes, %lu no-flush, %lu ASID hits, "
		"%lu of them inline switches",
		ROUNDS, writes, noflush, hits, fasts);
	T_EXPECT(writes >= 2 * (uint64_t)ROUNDS);
	/* Each inline switch is an ASID hit and a no-flush CR3 write. */
	T_EXPECT(hits >= fasts && noflush >= fasts && writes >= fasts);
	/* Hits need PCIDs and two slots at least (the TLB rows run some
	 * with asids=1, where every switch evicts). */
	if (sys_test(SYST_SWITCH, (long)"pcid", 4, 0) != 1 || /* not "on" */
	    sys_test(SYST_SWITCH, (long)"asids", 5, 0) < 2)
		return;
	T_EXPECT(hits >= 2 * (uint64_t)ROUNDS - SLACK);
	T_EXPECT(noflush >= 2 * (uint64_t)ROUNDS - SLACK);
}

void t_ipc_pingpong_cross_cpu(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	/* 500: each round trip wakes an idle CPU, which under QEMU takes
	 * milliseconds (2000 of them were 16 s of a -smp 2 row). */
	pingpong_n(1, 0, "ipc_slowpath", 500);
}

/*
 * Regression: ipc_switch_vs_migrating_wake. A call switching directly to a
 * receiver last run on another CPU took its own run-queue lock and then the
 * receiver's; a CPU waking a task whose affinity moved it (sched_finish_switch
 * -> sched_wake -> double_lock) takes the two in CPU order. Both at once
 * deadlocked (seen once as a 'runqueue' lockup panic in a full test run).
 * Here clients on every CPU call one unpinned server, so calls find it last
 * run on another CPU, while the main thread keeps moving yielding threads
 * between CPUs: both paths run concurrently and the lockup detector turns
 * a deadlock into a failed boot. The window is narrow: this did not hit
 * the deadlock in three runs before the fix; it keeps the paths exercised.
 */
static struct {
	volatile int stop;
	int h; /* one handle: a close by the owner ends the endpoint */
	uint32_t calls, bad;
} mw;

static void mw_server(void *arg)
{
	thread_exit(serve((int)(intptr_t)arg) ? 1 : 0);
}

static void mw_client(void *arg)
{
	set_affinity(0, (int)(intptr_t)arg);
	for (uint64_t i = 0; !mw.stop; i++) {
		uint64_t m[4] = { i, i * 3, ~i, 5 }, want[4] = { i, i * 3, ~i, 5 };

		transform(want);
		if (ipc_call(mw.h, m) <= 0 || memcmp(m, want, sizeof(m)))
			__atomic_fetch_add(&mw.bad, 1, __ATOMIC_RELAXED); /* a count only */
		__atomic_fetch_add(&mw.calls, 1, __ATOMIC_RELAXED);	  /* a count only */
	}
}

static void mw_mover(void *arg)
{
	(void)arg;
	while (!mw.stop)
		yield();
}

void t_ipc_switch_vs_migrating_wake(const char *arg)
{
	int n = nr_cpus(), clients[16], movers[16], flips = 0;

	(void)arg;
	if (n < 2) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	if (n > 16)
		n = 16;
	mw.stop = 0;
	mw.calls = mw.bad = 0;
	int h = ep_create();

	mw.h = h;
	if (!T_EXPECT(h >= 0))
		return;
	int server = thread_create(mw_server, (void *)(intptr_t)h);

	T_EXPECT(server > 0);
	for (int i = 0; i < n; i++) {
		clients[i] = thread_create(mw_client, (void *)(intptr_t)i);
		movers[i] = thread_create(mw_mover, NULL);
		T_EXPECT(clients[i] > 0 && movers[i] > 0);
	}
	/* At least 400 rounds of moves and 500 calls made meanwhile, within
	 * 60 s of the clock (a hang bound, not a timing). Not a round bound:
	 * under Bochs 20000 rounds took 30 ms of its clock, less than a time
	 * slice, and the clients created on this CPU had not yet run. */
	int rounds = 0;
	uint64_t hang = clock_ns() + 60000000000ull;

	for (; clock_ns() < hang &&
	       (rounds < 400 || __atomic_load_n(&mw.calls, __ATOMIC_RELAXED) < 500);
	     rounds++) { /* relaxed: a count only */
		for (int i = 0; i < n; i++)
			flips += set_affinity(movers[i], (i + rounds) % n) == 0;
	}
	mw.stop = 1;
	for (int i = 0; i < n; i++) {
		T_EQ(thread_join(clients[i], NULL), 0);
		T_EQ(thread_join(movers[i], NULL), 0);
	}
	uint64_t stop[4] = { STOP, 0, 0, 0 };
	int code = -1;

	T_EXPECT(ipc_call(h, stop) > 0);
	T_EQ(thread_join(server, &code), 0);
	T_EQ(code, 0);
	T_EQ(mw.bad, 0);
	T_EXPECT(mw.calls >= 500);
	T_EQ(flips, rounds * n);
	ut_note("%u calls from %d CPUs to one server, %d affinity moves, %u wrong replies",
		mw.calls, n, flips, mw.bad);
	ep_close(h);
}

/*
 * Regression: ipc_pair_starves_cpu. The direct switch gave the receiver a
 * fresh time slice, so a client and server calling each other on one CPU
 * never used one up and a third task of the same priority there never
 * ran. The receiver now runs on the caller's remaining slice.
 */
static struct {
	volatile int stop;
	volatile uint64_t bystander;
} st;

static void st_client(void *arg)
{
	int h = (int)(intptr_t)arg;

	for (uint64_t i = 0; !st.stop; i++) {
		uint64_t m[4] = { i, 0, 0, 0 };

		if (ipc_call(h, m) <= 0)
			break;
	}
}

static void st_bystander(void *arg)
{
	(void)arg;
	while (!st.stop)
		st.bystander++;
}

void t_ipc_pair_does_not_starve_cpu(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs (the checker runs on the other)");
		exit(3);
	}
	st.stop = 0;
	st.bystander = 0;
	set_affinity(0, 1);
	int h = ep_create();

	if (!T_EXPECT(h >= 0))
		return;
	int server = thread_create(mw_server, (void *)(intptr_t)h);
	int client = thread_create(st_client, (void *)(intptr_t)h);

	T_EQ(set_affinity(server, 0), 0);
	T_EQ(set_affinity(client, 0), 0);
	sleep_ns(20000000); /* the pair is ping-ponging on CPU 0 */
	int by = thread_create(st_bystander, NULL);

	T_EQ(set_affinity(by, 0), 0);
	/* Up to 10 s (a hang bound): the bystander must get CPU 0. */
	for (int i = 0; i < 1000 && st.bystander == 0; i++)
		sleep_ns(10000000);
	T_EXPECT(st.bystander > 0);
	st.stop = 1;
	T_EQ(thread_join(by, NULL), 0);
	T_EQ(thread_join(client, NULL), 0);
	uint64_t stop[4] = { STOP, 0, 0, 0 };
	int code = -1;

	T_EXPECT(ipc_call(h, stop) > 0);
	T_EQ(thread_join(server, &code), 0);
	T_EQ(code, 0);
	ut_note("bystander ran %s", st.bystander ? "(yes)" : "never");
	ep_close(h);
}

/* ---- ep_create failing for want of a handle, while another thread uses
 * the full table (the regression was an ep_create that failed for want of
 * a handle freeing its endpoint while another thread's ep_open of the same
 * key held a reference; keys are gone, so the concurrent user is now a
 * thread duplicating and looking up handles of the full table) ---- */

static struct {
	volatile int stop;
	int h;
	uint64_t found; /* dups refused for want of a slot */
} er;

static void er_opener(void *arg)
{
	(void)arg;
	while (!er.stop) {
		if (handle_dup(er.h, R_SEND) == -EMFILE_)
			er.found++;
		uint64_t m[4] = { 0 };

		/* A number that is no handle of ours: refused, whatever it is. */
		if (ipc_call(er.h + (1 << 8) * 77, m) != -EBADF_)
			er.found = 1ull << 40;
	}
}

void t_ipc_create_without_handle(const char *arg)
{
	(void)arg;
	int hs[64], n = 0, h;
	long objs0 = sys_test(SYST_KOBJS, 0, 0, 0), handles0 = sys_test(SYST_HANDLES, 0, 0, 0);

	/* Fill the handle table (PROC_MAX_HANDLES). */
	while (n < 64 && (h = ep_create()) >= 0)
		hs[n++] = h;
	T_EQ(ep_create(), -EMFILE_);
	er.stop = 0;
	er.found = 0;
	er.h = hs[0];
	int opener = thread_create(er_opener, NULL);

	for (int i = 0; i < 20000; i++)
		T_EQ(ep_create(), -EMFILE_);
	er.stop = 1;
	T_EQ(thread_join(opener, NULL), 0);
	T_EXPECT(er.found < (1ull << 40));
	for (int i = 0; i < n; i++)
		T_EQ(ep_close(hs[i]), 0);
	/* Reuse the freed endpoints: the heap checks each for writes after
	 * its free (a reference dropped after the free would be one). */
	for (int i = 0; i < 64; i++) {
		h = ep_create();
		if (T_EXPECT(h >= 0))
			T_EQ(ep_close(h), 0);
	}
	T_EQ(sys_test(SYST_KOBJS, 0, 0, 0), objs0);
	T_EQ(sys_test(SYST_HANDLES, 0, 0, 0), handles0);
	ut_note("%d handles; 20000 creates without a handle; %lu dups refused meanwhile", n,
		er.found);
}

/*
 * Regression: ipc_wait_done_races_the_wakers_block. A call whose receiver
 * must run on another CPU wakes it and then blocks, holding the endpoint
 * lock in between; the receiver's wait_done() takes that lock, so its
 * reply cannot come before the caller is BLOCKED. A wait_done() that
 * skipped the lock when its state said it had been dequeued let the
 * receiver reply (ipc_reply wakes the caller without the endpoint lock)
 * while the caller was still running: the wake-up found it not blocked,
 * and the caller then blocked for ever (seen as a hang of
 * ipc_pair_does_not_starve_cpu at -smp 4). SYST_IPC_BLOCK_DELAY widens the
 * window to 20 ms on every round.
 */
static struct {
	int h;
	volatile int done;
	volatile long last;
} wd;

static void wd_server(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t m[4] = { 0 };

		if (ipc_recv(wd.h, m) <= 0)
			break;
		bool stop = m[0] == STOP;

		ipc_reply(wd.h, m);
		if (stop)
			break;
	}
}

static void wd_caller(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++) {
		uint64_t m[4] = { (uint64_t)i, 0, 0, 0 };

		sleep_ns(5000000); /* the server is back in ipc_recv, queued */
		if (sys_test(SYST_IPC_BLOCK_DELAY, 20000, 0, 0))
			break;
		wd.last = ipc_call(wd.h, m);
		if (wd.last <= 0)
			break;
		wd.done = i + 1;
	}
}

void t_ipc_wait_done_races_the_wakers_block(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	set_affinity(0, 1);
	wd.h = ep_create();
	wd.done = 0;
	if (!T_EXPECT(wd.h >= 0))
		return;
	int server = thread_create(wd_server, NULL);

	T_EQ(set_affinity(server, 0), 0);
	int caller = thread_create(wd_caller, NULL);

	T_EQ(set_affinity(caller, 1), 0);
	/* Up to 10 s (a hang bound): five calls of about 25 ms each. */
	for (int i = 0; i < 1000 && wd.done < 5 && wd.last >= 0; i++)
		sleep_ns(10000000);
	T_EQ(wd.done, 5);
	if (wd.done < 5) {
		ut_note("a call never returned (a lost wake-up): %d of 5 done", wd.done);
		exit(1); /* the stuck caller goes with the process */
	}
	T_EQ(thread_join(caller, NULL), 0);
	uint64_t stop[4] = { STOP, 0, 0, 0 };

	T_EXPECT(ipc_call(wd.h, stop) > 0);
	T_EQ(thread_join(server, NULL), 0);
	ep_close(wd.h);
}
