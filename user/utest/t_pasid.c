/*
 * PASID per address space (kernel/pasid.c):
 *   pasid_bind_unbind     bind allocates a 20-bit PASID and is idempotent;
 *                         unbind drops it; a second unbind fails cleanly
 *   pasid_change_running  the PASID changes (bind, unbind, bind, ...) while
 *                         threads of the mm spin in user mode on every other
 *                         CPU; after each change returns, each thread checks
 *                         that the IA32_PASID it runs with (the MSR, or its
 *                         per-CPU shadow without ENQCMD) is the new value
 *   pasid_change_reaches_threads_sharing_a_cpu  the same with two threads
 *                         on one CPU that yield to each other (a switch
 *                         between threads of one mm loads no PASID:
 *                         mm/switch_mm.h), each checking after each switch
 *   pasid_exhaustion_clean with pasids=N: N holders, the next bind gets
 *                         -ENOSPC, a dead holder's PASID is reused
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"

#define PASID_VALID (1u << 31)
#define ROUNDS	    24

void t_pasid_bind_unbind(const char *arg)
{
	(void)arg;
	long p = pasid_bind();

	T_EXPECT(p > 0 && p < (1 << 20));
	T_EQ(pasid_bind(), p); /* idempotent */
	T_EQ(sys_test(SYST_PASID_READ, 0, 0, 0), (long)(PASID_VALID | (uint32_t)p));
	T_EQ(pasid_unbind(), 0);
	T_EQ(sys_test(SYST_PASID_READ, 0, 0, 0), 0);
	T_EQ(pasid_unbind(), -2); /* -ENOENT: nothing bound */
	long q = pasid_bind();

	T_EXPECT(q > 0 && q != p); /* next-fit: a fresh value */
	T_EQ(pasid_unbind(), 0);
}

static struct {
	uint64_t word;	  /* round << 32 | the IA32_PASID value after it */
	uint32_t acks;	  /* checks done, all threads, all rounds */
	uint32_t bad;	  /* a thread ran with the old value */
	uint32_t running; /* threads that started spinning */
	volatile int stop;
} ps;

static void spinner(void *arg)
{
	bool yield_each = arg != NULL;
	uint32_t last = 0;

	__atomic_fetch_add(&ps.running, 1, __ATOMIC_RELAXED);
	while (!ps.stop) {
		/* Acquire: the value was published after the change returned.
		 * Pairs with the release store of ps.word in
		 * t_pasid_change_running(). */
		uint64_t w = __atomic_load_n(&ps.word, __ATOMIC_ACQUIRE);

		if ((uint32_t)(w >> 32) != last) {
			/* We just ran user code after the change returned: the
			 * value we ran it with must be the new one. */
			if (sys_test(SYST_PASID_READ, 0, 0, 0) != (long)(uint32_t)w)
				__atomic_fetch_add(&ps.bad, 1, __ATOMIC_RELAXED);
			last = (uint32_t)(w >> 32);
			/* Release: the check is done before it is counted.
			 * Pairs with the acquire load of ps.acks in
			 * t_pasid_change_running(). */
			__atomic_fetch_add(&ps.acks, 1, __ATOMIC_RELEASE);
		}
		if (yield_each)
			yield(); /* to the other thread on this CPU: same mm */
		else
			cpu_relax();
	}
}

/* n spinners (yielding ones if yield_each), the i-th on CPU cpu_of(i). */
static void change_under(int n, bool yield_each, int (*cpu_of)(int))
{
	int tids[64];

	memset(&ps, 0, sizeof(ps));
	set_affinity(0, 0);
	for (int i = 0; i < n; i++) {
		tids[i] = thread_create(spinner, yield_each ? (void *)1 : NULL);
		set_affinity(tids[i], cpu_of(i));
	}
	while (__atomic_load_n(&ps.running, __ATOMIC_RELAXED) < (uint32_t)n)
		sleep_ns(1000000);
	uint64_t ipi0 = counter("pasid_resync_ipi"), res0 = counter("pasid_resync");
	uint64_t w0 = counter("pasid_write"), av0 = counter("pasid_write_avoided");

	for (uint32_t r = 1; r <= ROUNDS; r++) {
		long v = 0;

		if (r % 2) {
			long p = pasid_bind();

			T_EXPECT(p > 0);
			v = PASID_VALID | (uint32_t)p;
		} else {
			T_EQ(pasid_unbind(), 0);
		}
		T_EQ(sys_test(SYST_PASID_READ, 0, 0, 0), v); /* and the caller itself */
		/* Release: publish only after the change returned. Pairs with
		 * spinner()'s acquire load of ps.word. */
		__atomic_store_n(&ps.word, (uint64_t)r << 32 | (uint32_t)v, __ATOMIC_RELEASE);
		/* Acquire: the spinners' checks are done; pairs with their
		 * release add to ps.acks in spinner(). */
		while (__atomic_load_n(&ps.acks, __ATOMIC_ACQUIRE) < r * (uint32_t)n)
			cpu_relax();
	}
	ps.stop = 1;
	for (int i = 0; i < n; i++)
		thread_join(tids[i], NULL);
	T_EQ(ps.bad, 0);
	uint64_t ipis = counter("pasid_resync_ipi") - ipi0;

	/* Every change interrupts at least the CPUs our spinners run on
	 * (all on CPU 1 when they yield). */
	T_EXPECT(ipis >= (yield_each ? 1 : (uint64_t)n) * ROUNDS);
	ut_note("%d changes, %d %s threads: %u checks, %u stale; %lu resync IPIs, %lu resyncs, "
		"%lu PASID writes, %lu avoided",
		ROUNDS, n, yield_each ? "yielding" : "spinning", ps.acks, ps.bad, ipis,
		counter("pasid_resync") - res0, counter("pasid_write") - w0,
		counter("pasid_write_avoided") - av0);
}

static int cpu_after_0(int i)
{
	return i + 1;
}

void t_pasid_change_running(const char *arg)
{
	(void)arg;
	int n = nr_cpus() - 1;

	change_under(n > 63 ? 63 : n, false, cpu_after_0);
}

static int cpu_1(int i)
{
	(void)i;
	return 1;
}

/*
 * A switch between two threads of one mm loads no PASID (mm/switch_mm.h):
 * a change writes the MSR of every CPU that has the mm loaded, in its IPI
 * (kernel/pasid.c). Had the IPI only marked the running thread, as it
 * did, a thread switched to on that CPU before the mark was consumed would
 * run with the old value: two threads on CPU 1 yield to each other, and
 * each checks after each switch.
 */
void t_pasid_change_reaches_threads_sharing_a_cpu(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: one CPU");
		exit(3);
	}
	change_under(2, true, cpu_1);
}

/* role_pasid_hold: bind a PASID, tell the parent the result over IPC (on
 * SPAWN_HANDLE(0)) and then sleep, holding it, until killed (a parent
 * receives one call at a time: its next receive ends our call). A refused
 * bind exits at once. */
void t_role_pasid_hold(const char *arg)
{
	(void)arg;
	long r = pasid_bind();
	int h = SPAWN_HANDLE(0);
	uint64_t m[4] = { (uint64_t)r, 0, 0, 0 };

	ipc_call(h, m);
	while (r > 0)
		sleep_ns(1000000000);
	exit(0);
}

/*
 * With pasids=N (the matrix boots pasids=4), N processes bind and hold a
 * PASID each; the next bind gets -ENOSPC and its process goes on; once a
 * holder is killed its PASID is free again.
 */
void t_pasid_exhaustion_clean(const char *arg)
{
	long n = sys_test(SYST_SWITCH, (long)"pasids", 6, 0);
	int pids[17], h = ep_create(), held = 0, refused = 0;
	char role[48];

	(void)arg;
	if (n < 1 || n > 16) {
		ut_note("SKIP: needs pasids=1..16 on the command line (pasids=%ld)", n);
		exit(3);
	}
	if (!T_EXPECT(h >= 0))
		return;
	snprintf(role, sizeof(role), "role_pasid_hold");
	for (int i = 0; i <= n; i++) {
		uint64_t m[4];

		pids[i] = start_child_h(role, h, R_SEND);
		if (!T_EXPECT(pids[i] > 0) || !T_EXPECT(ipc_recv(h, m) > 0))
			return;
		if ((long)m[0] > 0)
			held++;
		else if ((long)m[0] == -28) /* -ENOSPC */
			refused++;
		if (i == n) /* the refused one may go */
			ipc_reply(h, m);
	}
	T_EQ(held, n);
	T_EQ(refused, 1);
	int code = -1;

	T_EQ(wait_pid(pids[n], &code), 0);
	T_EQ(code, 0);
	/* Free one: a new process binds again. */
	T_EQ(kill_pid(pids[0]), 0);
	T_EQ(wait_pid(pids[0], NULL), 0);
	uint64_t m[4];

	pids[0] = start_child_h(role, h, R_SEND);
	T_EXPECT(pids[0] > 0 && ipc_recv(h, m) > 0 && (long)m[0] > 0);
	ut_note("pasids=%ld: %d bound, %d refused with -ENOSPC, rebound after a holder died", n,
		held, refused);
	for (int i = 0; i < n; i++) {
		kill_pid(pids[i]);
		wait_pid(pids[i], NULL);
	}
	ep_close(h);
}
