/*
 * Capabilities (kernel/handle.c, kernel/ipc.c): authority only through
 * handles.
 *
 *   handle_forged_refused     a process without a handle to an endpoint
 *                             cannot reach it, whatever number it passes
 *                             (the parent's own handle values included)
 *   handle_rights_enforced    every right checked per call: send, receive,
 *                             dup, transfer, grant, widening, wrong type
 *   handle_moved_in_message   a moved handle is gone from the sender and
 *                             works in the receiver with the rights given;
 *                             a copy leaves the sender's; handles and
 *                             objects come back exactly
 *   narrowed_move_drops_the_recv_right, fused_reply_with_handles_to_dead_caller,
 *   call_moving_its_own_endpoint_handle, failed_spawn_gives_moved_handle_back
 *                             regressions, each named and described below
 *   test_hooks_need_hwres     the SYS_TEST hooks that reach beyond the
 *                             caller (NMIs to other CPUs, global switches,
 *                             the console, kernel memory, a CPU held for
 *                             100 ms) refuse a process without the
 *                             hardware resource (regression: any process,
 *                             hostile code under test too, could use them)
 */
#include "user/utest/utest.h"
#include "user/lib/syscall.h"

#define EINVAL_ 22

static long handles_now(void)
{
	return sys_test(SYST_HANDLES, 0, 0, 0);
}

static long kobjs_now(void)
{
	return sys_test(SYST_KOBJS, 0, 0, 0);
}

/* role_forger <h1> <h2> ...: holds no handle; every IPC call with any
 * number must fail with -EBADF; exits with the count of those that did not. */
void t_role_forger(const char *arg)
{
	int bad = 0;
	uint64_t m[4] = { 1, 2, 3, 4 };
	long v;

	/* The parent's handle values, exactly. */
	while ((v = (long)arg_u64(&arg)) != 0) {
		bad += ipc_call((int)v, m) != -EBADF_;
		bad += ipc_recv((int)v, m) != -EBADF_;
		bad += handle_dup((int)v, 0) != -EBADF_;
		bad += handle_close((int)v) != -EBADF_;
	}
	/* Every slot with the first generations, and random numbers. */
	for (uint32_t gen = 0; gen < 8; gen++)
		for (uint32_t slot = 0; slot < 256; slot++)
			bad += ipc_call((int)(gen << 8 | slot), m) != -EBADF_;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 4096; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bad += ipc_call((int)x, m) != -EBADF_;
	}
	exit(bad > 250 ? 250 : bad);
}

void t_handle_forged_refused(const char *arg)
{
	(void)arg;
	int hs[4];
	char role[96];

	for (int i = 0; i < 4; i++)
		hs[i] = ep_create();
	snprintf(role, sizeof(role), "role_forger %d %d %d %d", hs[0], hs[1], hs[2], hs[3]);
	T_EQ(run_child(role), 0);
	/* And in our own process: a closed handle is stale at once, and the
	 * slot's next handle has another number. */
	T_EQ(handle_close(hs[0]), 0);
	uint64_t m[4] = { 0 };

	T_EQ(ipc_call(hs[0], m), -EBADF_);
	int again = ep_create();

	T_EXPECT(again != hs[0]);
	T_EQ((again & 0xff), (hs[0] & 0xff)); /* the same slot, a new generation */
	T_EQ(ipc_call(hs[0], m), -EBADF_);
	handle_close(again);
	for (int i = 1; i < 4; i++)
		T_EQ(handle_close(hs[i]), 0);
	ut_note("a child without handles: every number refused with -EBADF");
}

/* role_rights: SPAWN_HANDLE(0) is a send-only copy of an endpoint. */
void t_role_rights(const char *arg)
{
	(void)arg;
	int h = SPAWN_HANDLE(0), bad = 0;
	uint64_t m[4] = { 0 };

	bad += HANDLE_INFO_RIGHTS(handle_info(h)) != (R_SEND | R_XFER) ? 1 : 0;
	bad += ipc_recv(h, m) != -EACCES_ ? 2 : 0;			   /* no R_RECV */
	bad += ipc_reply_recv(h, m) != -EACCES_ ? 4 : 0;		   /* no R_RECV */
	bad += handle_dup(h, R_SEND) != -EACCES_ ? 8 : 0;		   /* no R_DUP */
	bad += ipc_call_h(h, m, IPC_XFER_COPY(0, 0)) != -EACCES_ ? 16 : 0; /* no R_GRANT */
	m[0] = 42;
	bad += ipc_call(h, m) <= 0 || m[0] != 43 ? 32 : 0; /* R_SEND works */
	exit(bad);
}

void t_handle_rights_enforced(const char *arg)
{
	(void)arg;
	long h0 = handles_now(), o0 = kobjs_now();
	int send = -1, recv = ep_pair(&send);
	uint64_t m[4] = { 0 };

	T_EXPECT(recv >= 0 && send >= 0);
	T_EQ(HANDLE_INFO_TYPE(handle_info(recv)), KOBJ_ENDPOINT);
	T_EQ(HANDLE_INFO_RIGHTS(handle_info(send)), R_SEND | R_GRANT | R_DUP | R_XFER);
	/* Rights only narrow. */
	T_EQ(handle_dup(send, R_RECV), -EACCES_);
	int narrow = handle_dup(send, R_SEND);

	T_EXPECT(narrow > 0);
	T_EQ(handle_dup(narrow, 0), -EACCES_);			    /* no R_DUP left */
	T_EQ(ipc_recv(narrow, m), -EACCES_);			    /* no R_RECV */
	T_EQ(ipc_call_h(narrow, m, IPC_XFER_COPY(0, 0)), -EACCES_); /* no R_GRANT */
	T_EQ(ipc_call_h(send, m, 1ull << 15), -EINVAL_);	    /* not a descriptor */
	struct spawn_handle sh = { narrow, R_SEND };

	T_EQ(spawn_h("utest", "role_exit 0", &sh, 1), -EACCES_); /* no R_XFER */
	T_EQ(handle_close(narrow), 0);
	/* A send-only child: its calls reach us, nothing else does. */
	int pid = start_child_h("role_rights", send, R_SEND | R_XFER);

	T_EXPECT(pid > 0);
	long r = ipc_recv(recv, m);

	T_EXPECT(r > 0 && m[0] == 42);
	m[0]++;
	T_EQ(ipc_reply(recv, m), 0);
	int code = -1;

	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(code, 0);
	/* Wrong type: a dup of an endpoint is still an endpoint; a number
	 * naming nothing is -EBADF; copying with more rights than held is
	 * refused at spawn. */
	struct spawn_handle wide = { send, R_SEND | R_RECV };

	T_EQ(spawn_h("utest", "role_exit 0", &wide, 1), -EACCES_);
	T_EQ(handle_close(send), 0);
	T_EQ(handle_close(recv), 0);
	T_EQ(handles_now(), h0);
	T_EQ(kobjs_now(), o0);
	ut_note("send, receive, dup, transfer and grant each refused without its right");
}

/* role_cap_echo: receives on SPAWN_HANDLE(0); a message with a handle in
 * word 0 gets a call with 7 on that handle, and the handle moved back in
 * the reply. Stops on a plain message. */
void t_role_cap_echo(const char *arg)
{
	(void)arg;
	int h = SPAWN_HANDLE(0);
	uint64_t m[4] = { 0 };
	long r = ipc_recv(h, m);

	while (r > 0 && IPC_RESULT_HANDLES(r) == 1) {
		int got = (int)m[0];
		uint64_t c[4] = { 7, 0, 0, 0 };
		long info = handle_info(got);

		m[1] = (uint64_t)info;
		m[2] = (uint64_t)ipc_call(got, c);
		m[3] = c[0];
		r = ipc_reply_recv_h(h, m, IPC_XFER_MOVE(0, 0));
	}
	if (r > 0)
		ipc_reply(h, m);
	exit(r > 0 ? 0 : 1);
}

static void answer_sevens(void *arg)
{
	int h = (int)(intptr_t)arg;
	uint64_t m[4] = { 0 };

	for (long r = ipc_recv(h, m); r > 0; r = ipc_reply_recv(h, m)) {
		if (m[0] != 7) {
			ipc_reply(h, m);
			break;
		}
		m[0] = 8;
	}
}

void t_handle_moved_in_message(const char *arg)
{
	(void)arg;
	long h0 = handles_now(), o0 = kobjs_now();
	int send = -1, recv = ep_pair(&send);
	int pid = start_child_h("role_cap_echo", recv, SPAWN_MOVE);
	/* A second endpoint whose send right travels. */
	int ours = ep_create();
	int tid = thread_create(answer_sevens, (void *)(intptr_t)ours);
	int gift = handle_dup(ours, R_SEND | R_XFER | R_DUP);

	T_EXPECT(pid > 0 && tid > 0 && gift > 0);
	/* Move: gone from us, back in the reply with a new number. */
	uint64_t m[4] = { (uint64_t)gift, 0, 0, 0 };
	long r = ipc_call_h(send, m, IPC_XFER_MOVE(0, R_SEND | R_XFER));

	T_EXPECT(r > 0);
	T_EQ(IPC_RESULT_HANDLES(r), 1);
	T_EQ(handle_info(gift), -EBADF_);				/* moved out */
	T_EQ(HANDLE_INFO_RIGHTS(m[1]), R_SEND | R_XFER);		/* narrowed in flight */
	T_EXPECT((long)m[2] > 0 && (long)m[2] == IPC_RESULT_TID(m[2])); /* its call worked */
	T_EQ(m[3], 8);
	int back = (int)m[0];

	T_EQ(HANDLE_INFO_RIGHTS(handle_info(back)), R_SEND | R_XFER);
	/* Copy: ours stays; the copy needs R_DUP, which back lacks. */
	m[0] = (uint64_t)back;
	T_EQ(ipc_call_h(send, m, IPC_XFER_COPY(0, 0)), -EACCES_);
	T_EQ(HANDLE_INFO_RIGHTS(handle_info(back)), R_SEND | R_XFER); /* a refused copy keeps it */
	int c2 = handle_dup(ours, R_SEND | R_XFER | R_DUP);

	m[0] = (uint64_t)c2;
	r = ipc_call_h(send, m, IPC_XFER_COPY(0, R_SEND | R_XFER));
	T_EQ(IPC_RESULT_HANDLES(r), 1);
	T_EXPECT(handle_info(c2) > 0); /* a copy: still ours */
	handle_close((int)m[0]);
	/* A bad word in the descriptor consumes the moved ones before it. */
	m[0] = (uint64_t)back;
	m[1] = 12345;
	T_EQ(ipc_call_h(send, m, IPC_XFER_MOVE(0, 0) | IPC_XFER_MOVE(1, 0)), -EBADF_);
	T_EQ(handle_info(back), -EBADF_);
	/* Stop the echo and the thread; everything comes back. */
	uint64_t stop[4] = { 0 };

	T_EXPECT(ipc_call(send, stop) > 0);
	int code = -1;

	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(code, 0);
	stop[0] = 0;
	ipc_call(ours, stop);
	T_EQ(thread_join(tid, NULL), 0);
	handle_close(c2);
	handle_close(ours);
	handle_close(send);
	T_EQ(handles_now(), h0);
	T_EQ(kobjs_now(), o0);
	ut_note("moved: gone from the sender; copied: kept; %lu handles delivered in all",
		counter("handle_xfer"));
}

/* A thread's one call on h: its result, then done set. */
struct one_call {
	int h;
	uint64_t delay_ns; /* before the call */
	long result;
	int done;
};

static void call_once(void *arg)
{
	struct one_call *c = arg;
	uint64_t m[4] = { 7, 0, 0, 0 };

	if (c->delay_ns)
		sleep_ns(c->delay_ns);
	c->result = ipc_call(c->h, m);
	/* Release: the result before done. Pairs with the acquire load in
	 * call_after_recv_right_moved(). */
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

/* Receive on carrier one message with a handle in word 0, close that
 * handle, reply. */
static void recv_close_reply(void *arg)
{
	int carrier = (int)(intptr_t)arg;
	uint64_t m[4] = { 0 };
	long r = ipc_recv(carrier, m);

	if (r > 0 && (IPC_RESULT_HANDLES(r) & 1))
		handle_close((int)m[0]);
	ipc_reply(carrier, m);
}

/*
 * A fresh endpoint's only R_RECV handle moved away in a message, with
 * `rights` (0: unchanged), and closed by the receiver: then no receive
 * right exists, the endpoint is dead, and a call on a send copy fails at
 * once with -ESHUTDOWN. True if that call ended within 300 ms (its result
 * in *res); a call still blocked is killed.
 */
static bool call_after_recv_right_moved(uint32_t rights, long *res)
{
	int ep = ep_create(), snd = handle_dup(ep, R_SEND), carrier = ep_create();
	int t1 = thread_create(recv_close_reply, (void *)(intptr_t)carrier);
	uint64_t m[4] = { (uint64_t)ep, 0, 0, 0 };

	T_EXPECT(ep > 0 && snd > 0 && carrier > 0 && t1 > 0);
	T_EXPECT(ipc_call_h(carrier, m, IPC_XFER_MOVE(0, rights)) > 0);
	T_EQ(thread_join(t1, NULL), 0);
	struct one_call c = { .h = snd, .result = 12345 };
	int t2 = thread_create(call_once, &c);

	sleep_ns(300000000ull);
	/* Acquire: pairs with the release store in call_once(). */
	bool done = __atomic_load_n(&c.done, __ATOMIC_ACQUIRE);

	*res = c.result;
	if (!done)
		sys_test(SYST_KILL_THREAD, t2, 0, 0);
	thread_join(t2, NULL);
	handle_close(snd);
	handle_close(carrier);
	return done;
}

/*
 * Regression narrowed_move_drops_the_recv_right: a handle moved with
 * narrowed rights kept the old rights' accounting. An endpoint's last
 * R_RECV handle moved as R_SEND | R_XFER and closed left recv_handles at
 * 1 for ever: the endpoint never died and a caller blocked for ever
 * ("call ended 0 result 12345"). Found in review (2026-12-06). Control:
 * the same move with its rights unchanged.
 */
void t_narrowed_move_drops_the_recv_right(const char *arg)
{
	(void)arg;
	long h0 = handles_now(), o0 = kobjs_now(), res = 0;
	bool done = call_after_recv_right_moved(0, &res);

	ut_note("moved unchanged, closed: call ended %d result %ld", done, res);
	T_EXPECT(done && res == -ESHUTDOWN_);
	done = call_after_recv_right_moved(R_SEND | R_XFER, &res);
	ut_note("moved as R_SEND | R_XFER, closed: call ended %d result %ld", done, res);
	T_EXPECT(done && res == -ESHUTDOWN_);
	T_EQ(handles_now(), h0);
	T_EQ(kobjs_now(), o0);
}

/*
 * Regression fused_reply_with_handles_to_dead_caller: the fused
 * reply_recv with handles delivered them under the endpoint's lock; to a
 * caller that had exited the delivery fails and releases them there, and
 * releasing an R_RECV handle of that endpoint took its lock again: the
 * CPU spun on its own lock, interrupts off, until the lock-up detector's
 * panic ("lockup: cpu 0 spun 10000 ms on lock 'endpoint' ... held by cpu
 * 0 (taken at sys_reply_recv_xfer+0xf8)"). Any process could: kill the
 * thread that called, then reply with a copy of the endpoint. Found in
 * review (2026-12-06). Now the fused path misses (ipc_fused_miss) and the
 * general one releases them outside the lock; the reply_recv then serves
 * the next call.
 */
void t_fused_reply_with_handles_to_dead_caller(const char *arg)
{
	(void)arg;
	long h0 = handles_now(), o0 = kobjs_now();
	int ep = ep_create();
	struct one_call c = { .h = ep };
	int tc = thread_create(call_once, &c);
	uint64_t m[4] = { 0 };

	T_EXPECT(ep > 0 && tc > 0);
	long r = ipc_recv(ep, m);

	T_EXPECT(r > 0);
	T_EQ(sys_test(SYST_KILL_THREAD, tc, 0, 0), 0);
	T_EQ(thread_join(tc, NULL), 0); /* it has exited: we owe it a reply */
	struct one_call late = { .h = ep, .delay_ns = 100000000ull };
	int tl = thread_create(call_once, &late);
	uint64_t miss0 = counter("ipc_fused_miss");

	m[0] = (uint64_t)ep;
	r = ipc_reply_recv_h(ep, m, IPC_XFER_COPY(0, 0));
	uint64_t misses = counter("ipc_fused_miss") - miss0;

	ut_note("reply with a copy of the endpoint to an exited caller: %ld, then the next "
		"call (%lu fused misses)",
		r, misses);
	T_EXPECT(r > 0 && m[0] == 7);
	T_EXPECT(misses >= 1);
	T_EXPECT(ipc_reply(ep, m) == 0);
	T_EQ(thread_join(tl, NULL), 0);
	T_EXPECT(late.result > 0);
	handle_close(ep);
	T_EQ(handles_now(), h0);
	T_EQ(kobjs_now(), o0);
}

/* The server of call_moving_its_own_endpoint_handle: after delay_ns, one
 * receive on h; what arrived in word 0 (a handle: its rights), closed;
 * then the reply. */
struct own_handle_server {
	int h;
	uint64_t delay_ns;
	long got;    /* the receive's result */
	long rights; /* of the handle received in word 0, or -1 */
};

static void own_handle_serve(void *arg)
{
	struct own_handle_server *sv = arg;
	uint64_t m[4] = { 0 };

	if (sv->delay_ns)
		sleep_ns(sv->delay_ns);
	sv->got = ipc_recv(sv->h, m);
	sv->rights = -1;
	if (sv->got > 0 && (IPC_RESULT_HANDLES(sv->got) & 1)) {
		sv->rights = HANDLE_INFO_RIGHTS(handle_info((int)m[0]));
		handle_close((int)m[0]);
	}
	ipc_reply(sv->h, m);
}

/* A call on a send handle that moves that very handle in its message;
 * the server receives after delay_ns. The call's result; its handle must
 * be gone and must have arrived with its rights. */
static long call_moving_own_handle(uint64_t delay_ns)
{
	const uint32_t rights = R_SEND | R_GRANT | R_XFER;
	int ep = ep_create(), snd = handle_dup(ep, rights);
	struct own_handle_server sv = { .h = ep, .delay_ns = delay_ns, .got = 12345 };
	int tid = thread_create(own_handle_serve, &sv);
	uint64_t m[4] = { (uint64_t)snd, 0, 0, 0 };

	T_EXPECT(ep > 0 && snd > 0 && tid > 0);
	if (!delay_ns)
		sleep_ns(50000000ull); /* the server waits first */
	long r = ipc_call_h(snd, m, IPC_XFER_MOVE(0, 0));

	if (r < 0) /* the server still waits: let it go */
		sys_test(SYST_KILL_THREAD, tid, 0, 0);
	thread_join(tid, NULL);
	T_EQ(handle_info(snd), -EBADF_); /* moved (or, before the fix, released) */
	if (r > 0) {
		T_EXPECT(sv.got > 0);
		T_EQ(sv.rights, (long)rights);
	}
	handle_close(ep);
	return r;
}

/*
 * Regression call_moving_its_own_endpoint_handle: a call whose message
 * moves the handle the call names. The fused path looked the endpoint up
 * before taking the handles, and the call went through (the handle
 * travelling with it); the general path took the handles first, then
 * failed its lookup with -EBADF and released them, and the fused path's
 * miss (no receiver waiting yet) did the same. So the same call succeeded
 * or failed with the timing and the ipcfast switch. Found in review
 * (2026-12-06). Now every path looks up first: the call succeeds in all
 * three cases (on the old code: a tid, then -9 and -9).
 */
void t_call_moving_its_own_endpoint_handle(const char *arg)
{
	(void)arg;
	long h0 = handles_now(), o0 = kobjs_now();
	long was = sys_test(SYST_IPCFAST, 1, 0, 0);
	long waiting = call_moving_own_handle(0);
	long queued = call_moving_own_handle(100000000ull);

	sys_test(SYST_IPCFAST, 0, 0, 0);
	long general = call_moving_own_handle(0);

	sys_test(SYST_IPCFAST, was, 0, 0);
	ut_note("call moving its own handle: %ld with the server waiting, %ld with the call "
		"queued first, %ld with ipcfast=off",
		waiting, queued, general);
	T_EXPECT(waiting > 0 && queued > 0 && general > 0);
	T_EQ(handles_now(), h0);
	T_EQ(kobjs_now(), o0);
}

/*
 * Regression failed_spawn_gives_moved_handle_back: a spawn that fails
 * after it has moved a handle out of our table gives it back
 * (include/uapi/handle.h), but put it in its slot as a new handle, the
 * next generation: our value failed with -EBADF, and the object sat
 * under one we were never told ("handle 0x101 info before 65567 after
 * -9"). Found in review (2026-12-06). Now the same value works again, with
 * the same rights, and nothing leaks.
 */
void t_failed_spawn_gives_moved_handle_back(const char *arg)
{
	(void)arg;
	long h0 = handles_now(), o0 = kobjs_now();
	int ep = ep_create();
	long before = handle_info(ep);
	struct spawn_handle hs[2] = { { ep, SPAWN_MOVE }, { 12345, R_SEND } };

	T_EXPECT(ep > 0 && before > 0);
	T_EQ(spawn_h("utest", "role_exit 0", hs, 2), -EBADF_); /* the second is bad */
	long after = handle_info(ep);

	ut_note("a move in a failed spawn: handle %#x info %ld before, %ld after", ep, before,
		after);
	T_EQ(after, before);
	T_EQ(handle_close(ep), 0);
	T_EQ(handles_now(), h0);
	T_EQ(kobjs_now(), o0);
}

/* role_cap_return <cpu>: on that CPU, receives on SPAWN_HANDLE(0); a
 * message with one handle, in word 0, is answered with the handle moved
 * back and the rights it arrived with in word 1. Stops on a plain
 * message, which it answers. */
void t_role_cap_return(const char *arg)
{
	int h = SPAWN_HANDLE(0);
	uint64_t m[4] = { 0 };

	set_affinity(0, (int)arg_u64(&arg));
	long r = ipc_recv(h, m);

	while (r > 0 && IPC_RESULT_HANDLES(r) == 1) {
		m[1] = (uint64_t)handle_info((int)m[0]);
		r = ipc_reply_recv_h(h, m, IPC_XFER_MOVE(0, 0));
	}
	if (r > 0)
		ipc_reply(h, m);
	exit(r > 0 ? 0 : 1);
}

#define CAP_ROUNDS	 500
#define CAP_ROUNDS_CROSS 100 /* each a pair of IPIs: slow under QEMU at -smp 8 */

/* rounds calls to a role_cap_return on server_cpu (we run on CPU 0), each
 * moving *gift there and back; *gift is the handle that came back. Counts
 * the round trips whose message or handle was not as sent. */
static int cap_return_rounds(int server_cpu, int *gift, int rounds)
{
	char role[64];
	int send = -1, recv = ep_pair(&send), bad = 0;

	snprintf(role, sizeof(role), "role_cap_return %d", server_cpu);
	int pid = start_child_h(role, recv, SPAWN_MOVE);

	if (!T_EXPECT(pid > 0 && send >= 0))
		return 1;
	for (uint64_t i = 0; i < (uint64_t)rounds; i++) {
		uint64_t m[4] = { (uint64_t)*gift, 0, ~i, i * 7919 };
		long r = ipc_call_h(send, m, IPC_XFER_MOVE(0, 0));

		if (r <= 0 || IPC_RESULT_HANDLES(r) != 1) {
			bad++;
			break; /* the handle is gone */
		}
		/* Gone from us when it left (the number is stale: the slot's
		 * generation moved on), back under a number that works. */
		if (handle_info(*gift) != -EBADF_ && (int)m[0] != *gift)
			bad++;
		*gift = (int)m[0];
		if (m[1] != (uint64_t)handle_info(*gift) || m[2] != ~i || m[3] != i * 7919 ||
		    HANDLE_INFO_RIGHTS(m[1]) != (R_SEND | R_XFER))
			bad++;
	}
	uint64_t stop[4] = { 0 };
	int code = -1;

	T_EXPECT(ipc_call(send, stop) > 0);
	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(code, 0);
	handle_close(send);
	return bad;
}

/*
 * The fused fast path with handles (kernel/ipc.c, "Fused fast path"): a
 * ping-pong that moves a handle to a server process with every call and
 * back with every reply, as the benchmark ipc_cap_transfer_same_cpu does.
 *   - On one CPU with the path on, every hand-over is fused (ipc_fused two
 *     a round trip, but for the first call if the server was not waiting
 *     yet) and each moves one handle (handle_xfer two a round trip).
 *   - With the path off (SYST_IPCFAST), the general path makes the same
 *     transfers and ipc_fused does not move.
 *   - With the server on another CPU (at -smp 2 and up; fewer rounds,
 *     each a pair of IPIs), the path takes the handles and then misses
 *     (the partner cannot run here): every hand-over after that point is
 *     the general path's (ipc_fused_miss two a round trip, ipc_fused
 *     none), with the same result. Nothing else runs IPC meanwhile (the
 *     serial driver only answers SERIAL_WRITE calls, none here).
 * Each time, every word and the handle's rights come back as sent. At the
 * end the handle still names the endpoint it was made for (closing that
 * endpoint's only receive handle makes a call on it fail with
 * -ESHUTDOWN), and handles and kernel objects are as before.
 */
void t_ipc_fused_moves_handles(const char *arg)
{
	(void)arg;
	long h0 = handles_now(), o0 = kobjs_now();
	long was = sys_test(SYST_IPCFAST, 1, 0, 0);
	int ours = ep_create();
	int gift = handle_dup(ours, R_SEND | R_XFER);

	T_EXPECT(was == 0 || was == 1);
	T_EQ(set_affinity(0, 0), 0);
	if (!T_EXPECT(ours >= 0 && gift >= 0))
		return;
	uint64_t f0 = counter("ipc_fused"), x0 = counter("handle_xfer");

	T_EQ(cap_return_rounds(0, &gift, CAP_ROUNDS), 0);
	uint64_t f1 = counter("ipc_fused"), x1 = counter("handle_xfer");

	T_EXPECT(f1 - f0 >= 2 * CAP_ROUNDS - 1);
	T_EQ(x1 - x0, 2 * CAP_ROUNDS);

	sys_test(SYST_IPCFAST, 0, 0, 0);
	T_EQ(cap_return_rounds(0, &gift, CAP_ROUNDS), 0);
	T_EQ(counter("ipc_fused"), f1);
	T_EQ(counter("handle_xfer") - x1, 2 * CAP_ROUNDS);

	sys_test(SYST_IPCFAST, 1, 0, 0);
	if (nr_cpus() >= 2) {
		uint64_t f2 = counter("ipc_fused"), m2 = counter("ipc_fused_miss");
		uint64_t x2 = counter("handle_xfer");

		T_EQ(cap_return_rounds(1, &gift, CAP_ROUNDS_CROSS), 0);
		T_EQ(counter("ipc_fused"), f2);
		T_EXPECT(counter("ipc_fused_miss") - m2 >= 2 * CAP_ROUNDS_CROSS);
		T_EQ(counter("handle_xfer") - x2, 2 * CAP_ROUNDS_CROSS);
	}
	sys_test(SYST_IPCFAST, was, 0, 0);
	uint64_t m[4] = { 1, 2, 3, 4 };

	T_EQ(handle_close(ours), 0);
	T_EQ(ipc_call(gift, m), -ESHUTDOWN_);
	T_EQ(handle_close(gift), 0);
	T_EQ(handles_now(), h0);
	T_EQ(kobjs_now(), o0);
	ut_note("%d round trips a pass, each moving a handle both ways; fused: %lu hand-overs",
		CAP_ROUNDS, f1 - f0);
}

/* The [hwres] hooks (include/uapi/test.h), each with an argument it would
 * accept: what they would do if the gate let them through is harmless. */
static const long hwres_hooks[][2] = {
	{ SYST_KERNEL_UNMAP, 1 },    { SYST_WHERE, 0 },	       { SYST_IPC_SWITCH_DELAY, 0 },
	{ SYST_PIN_REAPER, -1 },     { SYST_SEND_NMI, 0 },     { SYST_KSTALE, KSTALE_READ },
	{ SYST_IPC_BLOCK_DELAY, 0 }, { SYST_IPCFAST, 1 },      { SYST_SWITCH_OUT_DELAY, 0 },
	{ SYST_SQUEEZE, -1 },	     { SYST_CHECK_MM, 0 }, /* its walk held the mm lock unbounded */
	{ SYST_DUP_DELAY, 0 },	     { SYST_REVOKE_DELAY, 0 }, { SYST_WAKE_DELAY, 0 },
	{ SYST_LAZY_DROP_MOVE, 0 },
};
#define NR_HWRES_HOOKS (sizeof(hwres_hooks) / sizeof(hwres_hooks[0]))

/* role_test_hooks: spawned with no handle. Each [hwres] hook, with no
 * handle, with a forged one (a slot we never filled) and with a handle of
 * another type, must fail as the lookup does; exits with a bit per hook
 * that did not. */
void t_role_test_hooks(const char *arg)
{
	(void)arg;
	int send = -1, recv = ep_pair(&send), bad = recv < 0 ? 1 << 30 : 0;

	for (unsigned i = 0; i < NR_HWRES_HOOKS; i++) {
		long op = hwres_hooks[i][0], a = hwres_hooks[i][1];

		if (syscall6(SYS_TEST, op, a, 0, 0, -1, 0) != -EBADF_ ||
		    syscall6(SYS_TEST, op, a, 0, 0, SPAWN_HANDLE(7), 0) != -EBADF_ ||
		    syscall6(SYS_TEST, op, a, 0, 0, recv, 0) != -EPROTOTYPE_)
			bad |= 1 << i;
	}
	exit(bad);
}

void t_test_hooks_need_hwres(const char *arg)
{
	(void)arg;
	/* We hold it (init gives every test program the hardware resource),
	 * and a hook that needs it works for us. */
	T_EXPECT(hwres_handle() >= 0);
	T_EQ(sys_test(SYST_IPC_SWITCH_DELAY, 0, 0, 0), 0);
	int pid = start_child("role_test_hooks"), code = -1;

	T_EXPECT(pid > 0);
	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(code, 0); /* else: a bit per hook of hwres_hooks[] that let it in */
	if (code == 0)
		ut_note("a process without the hardware resource: every [hwres] hook refused");
}
