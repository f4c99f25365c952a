/*
 * TLB protocol under load (run with tlbcheck=on in the test matrix, where
 * the kernel's coherence checker validates every flush):
 *   tlb_torture             readers on all CPUs check data tags while a
 *                           writer remaps and re-protects the pages
 *   asid_churn              more processes than PCID slots on one CPU
 *   lazy_shootdown_no_ipis  shootdowns with every other CPU idle send no IPIs
 *   many_changes_beside_an_idle_cpu  49152 page protections while a CPU
 *                           that ran the process idles (lazy on its mm, or
 *                           on the kernel mm with lazytlb=off): the
 *                           checker's model of that CPU holds a record for
 *                           every one until the CPU flushes, and must fold
 *                           them (tlbcheck=on only; the old model panicked
 *                           at 16384)
 *   kernel_unmap_deferred   kernel unmaps with every other CPU in user mode
 *                           send no IPIs (kflush=defer)
 *   kflush_idle_ipi_reads_flushed  an idle CPU's shootdown handler never
 *                           reads through a kernel range it has yet to flush
 *   tlb_inject_workload     every pattern a planted bug can hide in
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"

#define NPAGES 8

static long kswitch(const char *name)
{
	return sys_test(SYST_SWITCH, (long)name, (long)strlen(name), 0);
}

struct torture {
	uint8_t *base;
	uint32_t published[NPAGES]; /* tag of the page currently mapped */
	volatile int stop;
	uint32_t bad, reads;
};

static void reader(void *p)
{
	struct torture *t = p;

	while (!t->stop) {
		for (int i = 0; i < NPAGES; i++) {
			/* Acquire: the tag we then read is at least this new
			 * (pairs with the writer's release store). */
			uint32_t g = __atomic_load_n(&t->published[i], __ATOMIC_ACQUIRE);
			uint32_t tag = *(volatile uint32_t *)(t->base + i * PAGE_SIZE);

			/* 0: a fresh page the writer has not tagged yet. A nonzero
			 * tag older than g came from a page that was unmapped
			 * before g was published: a stale translation. */
			if (tag && tag < g)
				__atomic_fetch_add(&t->bad, 1, __ATOMIC_RELAXED);
			t->reads++;
		}
	}
}

static void torture_run(int rounds, bool remap)
{
	static struct torture t;
	int tids[64], n = nr_cpus() - 1;

	if (n > 63)
		n = 63;
	memset(&t, 0, sizeof(t));
	t.base = map(NULL, NPAGES * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);
	for (int i = 0; i < NPAGES; i++)
		*(uint32_t *)(t.base + i * PAGE_SIZE) = 1;
	for (int i = 0; i < NPAGES; i++)
		t.published[i] = 1;
	set_affinity(0, 0);
	for (int i = 0; i < n; i++) {
		tids[i] = thread_create(reader, &t);
		set_affinity(tids[i], i + 1);
	}
	for (int r = 0; r < rounds; r++) {
		int i = r % NPAGES;
		uint8_t *pg = t.base + i * PAGE_SIZE;
		uint32_t tag = (uint32_t)r + 2;

		if (remap) {
			/* Replace the page: the old frame is freed only after the
			 * flush; then tag the new one and publish. */
			T_EXPECT(map(pg, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED) == pg);
		} else {
			T_EQ(protect(pg, PAGE_SIZE, UPROT_READ), 0);
			T_EQ(protect(pg, PAGE_SIZE, UPROT_READ | UPROT_WRITE), 0);
		}
		*(volatile uint32_t *)pg = tag;
		/* Release: the tag is written before it is published. Pairs
		 * with reader()'s acquire load of published[i]. */
		__atomic_store_n(&t.published[i], tag, __ATOMIC_RELEASE);
	}
	t.stop = 1;
	for (int i = 0; i < n; i++)
		thread_join(tids[i], NULL);
	T_EQ(t.bad, 0);
	unmap(t.base, NPAGES * PAGE_SIZE);
	ut_note("%d %s rounds with %d readers: %u stale reads of %u", rounds,
		remap ? "remap" : "protect", n, t.bad, t.reads);
}

/* Rounds per pass: torture_rounds / 8 (120 by default), at least 16. */
static int torture_rounds(void)
{
	long r = kswitch("torture_rounds") / 8;

	return r < 16 ? 16 : (int)r;
}

void t_tlb_torture(const char *arg)
{
	(void)arg;
	uint64_t sd0 = counter("tlb_shootdown");

	torture_run(torture_rounds(), true);
	torture_run(torture_rounds(), false);
	if (nr_cpus() > 1)
		T_EXPECT(counter("tlb_shootdown") > sd0);
}

/* role_ring <rounds> <pages>: one process of a token ring; receives on
 * SPAWN_HANDLE(0), passes the token to SPAWN_HANDLE(1). */
void t_role_ring(const char *arg)
{
	uint64_t rounds = arg_u64(&arg), pages = arg_u64(&arg);

	set_affinity(0, 0);
	int me = SPAWN_HANDLE(0), to = SPAWN_HANDLE(1);
	uint8_t *mem = map(NULL, pages * PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);
	uint64_t m[4] = { 0 };

	if (me < 0 || to < 0 || MAP_FAILED(mem))
		exit(10);
	for (uint64_t r = 0; r < rounds; r++) {
		/* Wait for the token, touch our pages, pass it on. */
		if (ipc_recv(me, m) < 0)
			exit(11);
		for (uint64_t i = 0; i < pages; i++)
			mem[i * PAGE_SIZE] += 1;
		ipc_reply(me, m);
		m[0]++;
		if (ipc_call(to, m) < 0 && r + 1 < rounds)
			exit(12);
	}
	exit(0);
}

void t_asid_churn(const char *arg)
{
	(void)arg;
	long asids = kswitch("asids");
	int k = (int)(asids < 8 ? asids + 3 : 10);
	int pids[16];
	char buf[96];
	uint64_t m[4] = { 0 };

	if (k > 16)
		k = 16;
	uint64_t evict0 = counter("asid_evict");

	int recv[16], send[16];

	for (int i = 0; i < k; i++)
		recv[i] = ep_pair(&send[i]);
	for (int i = 0; i < k; i++) {
		struct spawn_handle hs[2] = { { recv[i], SPAWN_MOVE },
					      { send[(i + 1) % k], R_SEND | R_XFER } };

		snprintf(buf, sizeof(buf), "role_ring 20 4");
		pids[i] = spawn_h("utest", buf, hs, 2);
	}
	for (int i = 1; i < k; i++)
		ep_close(send[i]);
	/* Start the token: call the first member from outside the ring. */
	int h = send[0];

	T_EXPECT(h >= 0);
	T_EXPECT(ipc_call(h, m) > 0);
	for (int i = 0; i < k; i++) {
		int code = -1;

		T_EQ(wait_pid(pids[i], &code), 0);
		T_EQ(code, 0);
	}
	ep_close(h);
	if (k > asids)
		T_EXPECT(counter("asid_evict") > evict0);
	ut_note("%d processes, %ld slots: %lu evictions", k, asids, counter("asid_evict") - evict0);
}

static struct {
	uint32_t word;
	uint8_t *page;
	uint32_t touched; /* workers that touched the page */
} lazy;

/* Block (the CPU idles lazily on our mm), wake once to touch the page the
 * main thread changed meanwhile (leaving lazy mode on the same mm: the
 * catch-up path), block again until the end. */
static void lazy_worker(void *arg)
{
	(void)arg;
	/* Acquire: pairs with the main thread's release stores of word. */
	while (__atomic_load_n(&lazy.word, __ATOMIC_ACQUIRE) == 0)
		futex_wait(&lazy.word, 0, 0);
	(void)*(volatile uint8_t *)lazy.page;
	/* Release, after the touch: pairs with lazy_phase()'s acquire load of
	 * touched. */
	__atomic_fetch_add(&lazy.touched, 1, __ATOMIC_RELEASE);
	/* Acquire: pairs with lazy_phase()'s release store of word (2). */
	while (__atomic_load_n(&lazy.word, __ATOMIC_ACQUIRE) == 1)
		futex_wait(&lazy.word, 1, 0);
}

/* Threads of ours ran on every other CPU and now block: those CPUs idle
 * with our mm still loaded (lazy). Shoot down, with check: no IPIs. Then
 * free page tables under them (those must interrupt them). */
static void lazy_phase(bool check)
{
	int n = nr_cpus() - 1, tids[64];

	if (n > 63)
		n = 63;
	lazy.word = 0;
	lazy.touched = 0;
	uint8_t *p = map(NULL, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	lazy.page = p;

	set_affinity(0, 0);
	/* Run a thread of ours on every other CPU, then let them block: those
	 * CPUs go idle with our mm still loaded (lazy). */
	for (int i = 0; i < n; i++) {
		tids[i] = thread_create(lazy_worker, NULL);
		set_affinity(tids[i], i + 1);
	}
	/* Until every worker has blocked and its CPU switched away (to idle,
	 * which keeps our mm: lazy). */
	for (int i = 0; i < n; i++) {
		while (sys_test(SYST_TASK_OFF_CPU, tids[i], 0, 0) != 1)
			sleep_ns(1000000);
	}
	uint64_t ipi0 = counter("ipi_sent_tlb"), skip0 = counter("tlb_lazy_skip");

	for (int r = 0; r < 50; r++) {
		protect(p, PAGE_SIZE, UPROT_READ);
		protect(p, PAGE_SIZE, UPROT_READ | UPROT_WRITE);
	}
	uint64_t ipis = counter("ipi_sent_tlb") - ipi0, skips = counter("tlb_lazy_skip") - skip0;

	if (check && kswitch("lazytlb") == 1) {
		/* Every idle CPU is skipped by every request: exactly the n
		 * workers' CPUs when they are all the other CPUs; beyond 64
		 * CPUs also any other that ran this process and went idle. */
		T_EQ(ipis, 0);
		T_EXPECT(skips >= (uint64_t)(100 * n) &&
			 skips <= (uint64_t)(100 * (nr_cpus() - 1)));
	} else if (check) {
		/* lazytlb=off: the idle CPUs run the kernel mm; the first IPI
		 * finds each elsewhere and it leaves mm's mask for good. */
		T_EXPECT(ipis <= (uint64_t)n);
		T_EQ(skips, 0);
	}
	if (check)
		ut_note("100 protection changes, %d idle CPUs, lazytlb=%s: %lu IPIs, %lu lazy skips",
			n, kswitch("lazytlb") == 1 ? "on" : "off", ipis, skips);
	/* Wake the workers on their lazy CPUs: each leaves lazy mode on the
	 * same mm and must catch up before touching the page. Release: pairs
	 * with lazy_worker()'s acquire load of word. */
	__atomic_store_n(&lazy.word, 1, __ATOMIC_RELEASE);
	futex_wake(&lazy.word, 64);
	/* Acquire: their touches are done before we unmap below. Pairs with
	 * lazy_worker()'s release add to touched. */
	while (__atomic_load_n(&lazy.touched, __ATOMIC_ACQUIRE) < (uint32_t)n)
		sleep_ns(1000000);
	/* Freed page tables: a fresh region in its own page directory. */
	uint8_t *far = map((void *)0x300000000000ull, 64 * PAGE_SIZE, UPROT_READ | UPROT_WRITE,
			   UMAP_FIXED | UMAP_POPULATE);

	T_EXPECT(far == (uint8_t *)0x300000000000ull);
	T_EQ(unmap(far, 64 * PAGE_SIZE), 0);
	unmap(p, PAGE_SIZE);
	/* Release: everything above happens before the workers finish.
	 * Pairs with lazy_worker()'s second acquire load of word. */
	__atomic_store_n(&lazy.word, 2, __ATOMIC_RELEASE);
	futex_wake(&lazy.word, 64);
	for (int i = 0; i < n; i++)
		thread_join(tids[i], NULL);
}

void t_lazy_shootdown_no_ipis(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	lazy_phase(true);
}

static struct {
	uint32_t word, on_cpu1;
} idle;

/* Runs on CPU 1 (our mm loaded there), then blocks until the end. */
static void idle_worker(void *arg)
{
	(void)arg;
	set_affinity(0, 1);
	/* Release: pairs with the main thread's acquire load. */
	__atomic_store_n(&idle.on_cpu1, 1, __ATOMIC_RELEASE);
	/* Acquire: pairs with the main thread's release store of word. */
	while (__atomic_load_n(&idle.word, __ATOMIC_ACQUIRE) == 0)
		futex_wait(&idle.word, 0, 0);
}

void t_many_changes_beside_an_idle_cpu(const char *arg)
{
	(void)arg;
	const uint64_t pages = 2048, len = pages * PAGE_SIZE;
	const int rounds = 12;

	if (nr_cpus() < 2 || kswitch("tlbcheck") != 1) {
		ut_note("SKIP: needs two CPUs and tlbcheck=on (the checker's model is under test)");
		exit(3);
	}
	uint8_t *p = map(NULL, len, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	if (!T_EXPECT(!MAP_FAILED(p)))
		return;
	set_affinity(0, 0);
	idle.word = 0;
	idle.on_cpu1 = 0;
	int tid = thread_create(idle_worker, NULL);

	/* Acquire: pairs with idle_worker()'s release store. */
	while (!__atomic_load_n(&idle.on_cpu1, __ATOMIC_ACQUIRE))
		sleep_ns(1000000);
	while (sys_test(SYST_TASK_OFF_CPU, tid, 0, 0) != 1)
		sleep_ns(1000000);
	uint64_t skips = counter("tlb_lazy_skip");

	for (int r = 0; r < rounds; r++) {
		T_EQ(protect(p, len, UPROT_READ), 0);
		T_EQ(protect(p, len, UPROT_READ | UPROT_WRITE), 0);
	}
	skips = counter("tlb_lazy_skip") - skips;
	/* Release: pairs with idle_worker()'s acquire load. */
	__atomic_store_n(&idle.word, 1, __ATOMIC_RELEASE);
	futex_wake(&idle.word, 1);
	T_EQ(thread_join(tid, NULL), 0);
	p[0] = 1;
	T_EQ(unmap(p, len), 0);
	ut_note("%d protections of %lu pages beside an idle CPU (lazytlb=%s, %lu lazy skips)",
		2 * rounds, pages, kswitch("lazytlb") == 1 ? "on" : "off", skips);
}

void t_kernel_unmap_deferred(const char *arg)
{
	(void)arg;
	int n = nr_cpus() - 1, tids[64];
	long defer = kswitch("kflush");

	if (n < 1) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	if (n > 63)
		n = 63;
	spinners_start(n, tids);
	uint64_t ipis = 0, deferred = 0;

	for (int r = 0; r < 20; r++) {
		uint64_t out[2] = { 0, 0 };

		T_EQ(sys_test(SYST_KERNEL_UNMAP, 1, (long)out, 0), 0);
		ipis += out[0];
		deferred += out[1];
	}
	spinners_stop(n, tids);
	/* Every other CPU (beyond 64 CPUs, not only the spinners' n) is
	 * either interrupted or deferred, once per unmap. The spinning CPUs
	 * are in user mode, so with kflush=defer most are deferred (a tick
	 * can catch one in the kernel, so not all: the count is in the note);
	 * with kflush=ipi none is. */
	T_EQ(ipis + deferred, (uint64_t)(20 * (nr_cpus() - 1)));
	if (defer == 1)
		T_EXPECT(deferred > 0);
	else
		T_EQ(deferred, 0);
	ut_note("20 kernel unmaps, %d CPUs in user mode, kflush=%s: %lu IPIs, %lu deferred", n,
		defer == 1 ? "defer" : "ipi", ipis, deferred);
}

/* Everything a planted bug (tlbinject=) could hide behind, in one run. */
void t_tlb_inject_workload(const char *arg)
{
	(void)arg;
	torture_run(torture_rounds() / 2, false);
	torture_run(torture_rounds() / 2, true);
	if (nr_cpus() > 1)
		lazy_phase(false);
	t_asid_churn("");
	if (nr_cpus() > 1)
		for (int i = 0; i < 3; i++)
			t_kernel_unmap_deferred("");
}

/*
 * kflush_idle_ipi_reads_flushed (regression, found by review): CPU 1 idles
 * with our mm loaded (lazy) while the reaper, pinned to CPU 0, frees a dead
 * thread's kernel stack; that flush is deferred for the idle CPU. A new
 * thread gets the stack's address back (first fit) and unmaps a page whose
 * page table goes with it, which interrupts CPU 1 even though it is lazy
 * (freed tables), with the flush request on the new stack. The interrupt
 * must catch up before the handler reads the request: with tlbcheck=on,
 * kflush_assert_caught_up() panics otherwise. On real hardware the old code
 * read the request, and wrote back, through a translation to a freed frame.
 *
 * A round counts as "arose" when CPU 1's counter kflush_ipi_arg_fresh
 * moved: a call IPI whose argument is vmalloc memory found its interrupt's
 * entry catching up on a pending flush, the very case of the bug. The test
 * needs that at least once. It skips where the case cannot arise: with
 * lazytlb=off idle CPUs leave the mm (no shootdown reaches them), with
 * kflush=ipi nothing is deferred.
 */
#define KI_REGION 0x300000000000ull /* an empty 2 MiB region: its table goes */

/* A handshake: gen asks the idler to run once more, ack says it did.
 * Relaxed atomics throughout: the words carry no other data. */
static struct {
	uint32_t gen, ack;
	volatile int quit;
} ki;

static void ki_idler(void *p)
{
	(void)p;
	for (uint32_t seen = 0; !ki.quit;) {
		while (__atomic_load_n(&ki.gen, __ATOMIC_RELAXED) == seen && !ki.quit)
			futex_wait(&ki.gen, seen, 0);
		seen = __atomic_load_n(&ki.gen, __ATOMIC_RELAXED);
		__atomic_store_n(&ki.ack, seen, __ATOMIC_RELAXED);
	}
}

static void ki_exit_now(void *p)
{
	(void)p;
}

static void ki_unmapper(void *p)
{
	(void)p;
	volatile uint8_t *a =
		map((void *)KI_REGION, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED);

	if (MAP_FAILED(a))
		return;
	*a = 1;
	unmap((void *)a, PAGE_SIZE);
}

/* CPU 1's count of call-IPI arguments read right after a catch-up. */
static uint64_t ki_fresh_cpu1(void)
{
	uint64_t v[128];
	int i = counter_index("kflush_ipi_arg_fresh"), n = counters_read(v, 128, 1);

	return i >= 0 && i < n ? v[i] : 0;
}

void t_kflush_idle_ipi_reads_flushed(const char *arg)
{
	int rounds = (int)ut_param(arg, "kflush_idle_rounds", 100), arose = 0;

	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	if (kswitch("lazytlb") == 0 || kswitch("kflush") == 0) {
		ut_note("SKIP: %s",
			kswitch("lazytlb") == 0
				? "lazytlb=off (idle CPUs leave the mm: no shootdown reaches them)"
				: "kflush=ipi (nothing is deferred: idle CPUs flush at once)");
		exit(3);
	}
	set_affinity(0, 0);
	T_EQ(sys_test(SYST_PIN_REAPER, 0, 0, 0), 0);
	ki.gen = ki.ack = 0;
	ki.quit = 0;
	int idler = thread_create(ki_idler, NULL);

	set_affinity(idler, 1);
	for (int i = 0; i < rounds; i++) {
		/* CPU 1 loads our mm again, then idles (lazy). */
		__atomic_store_n(&ki.gen, (uint32_t)i + 1, __ATOMIC_RELAXED);
		futex_wake(&ki.gen, 1);
		while (__atomic_load_n(&ki.ack, __ATOMIC_RELAXED) != (uint32_t)i + 1 ||
		       sys_test(SYST_TASK_OFF_CPU, idler, 0, 0) != 1)
			yield();
		/* A stack freed while CPU 1 idles: its flush is deferred there. */
		int d = thread_create(ki_exit_now, NULL);

		thread_join(d, NULL);
		while (sys_test(SYST_TASKS_DYING, 0, 0, 0) > 0)
			yield();
		/* A new thread on that stack sends CPU 1 a shootdown. */
		uint64_t f0 = ki_fresh_cpu1();
		int b = thread_create(ki_unmapper, NULL);

		thread_join(b, NULL);
		if (ki_fresh_cpu1() > f0)
			arose++;
	}
	ki.quit = 1;
	__atomic_store_n(&ki.gen, ~0u, __ATOMIC_RELAXED);
	futex_wake(&ki.gen, 1);
	thread_join(idler, NULL);
	T_EQ(sys_test(SYST_PIN_REAPER, -1, 0, 0), 0);
	T_EXPECT(arose > 0);
	ut_note("%d rounds: in %d the shootdown IPI reached CPU 1 with a kernel flush pending "
		"(tlbcheck %s)",
		rounds, arose,
		kswitch("tlbcheck") == 1 ? "on: the request's address checked" : "off");
}

/* role_on_cpu <cpu>: runs there, maps and writes a page, and exits 0
 * (1 if it ran elsewhere). */
void t_role_on_cpu(const char *arg)
{
	int cpu = (int)arg_u64(&arg);
	volatile uint64_t *p = map(NULL, PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);

	set_affinity(0, cpu);
	if (MAP_FAILED(p))
		exit(2);
	*p = 0x5eed;
	exit(get_cpu() == cpu && *p == 0x5eed ? 0 : 1);
}

/* role_lazy_drop: SPAWN_HANDLE(0) the hardware resource. Runs on CPU 1
 * (its address space loaded there), moves to CPU 0 (CPU 1 idles, lazy on
 * it), and exits with SYST_LAZY_DROP_MOVE 1: its teardown moves to CPU 1
 * between dropping CPU 0's hold and calling the other CPUs, if it can. */
void t_role_lazy_drop(const char *arg)
{
	(void)arg;
	set_affinity(0, 1);
	if (get_cpu() != 1)
		exit(10);
	set_affinity(0, 0);
	if (sys_test(SYST_LAZY_DROP_MOVE, 1, 0, 0) != 0)
		exit(11);
	exit(0);
}

/*
 * Regression lazy_drop_stays_on_one_cpu (found in review): the last
 * reference to an address space drops the lazy holds of every CPU, its
 * own first and then the others by a cross-call, which skips the
 * caller's CPU. The caller could be preempted in between and pulled to
 * a CPU lazy on that address space, which then kept it loaded as it was
 * freed (CR3 on the freed roots; its loaded_mm soon the next address
 * space from the same slot, loaded without a CR3 write). Now both steps
 * run on one CPU, and mm_drop_lazy_users() checks that no CPU holds it
 * after (the old code with that check: "BUG at mm/tlb.c"). Five children
 * (role_lazy_drop), each followed by a process pinned to CPU 1.
 */
void t_lazy_drop_stays_on_one_cpu(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: one CPU");
		exit(3);
	}
	for (int i = 0; i < 5; i++) {
		int code = -1, pid = start_child_h("role_lazy_drop", DEV_RES, 0);

		T_EXPECT(pid > 0);
		T_EQ(wait_pid(pid, &code), 0);
		T_EQ(code, 0);
		pid = start_child("role_on_cpu 1");
		T_EXPECT(pid > 0);
		T_EQ(wait_pid(pid, &code), 0);
		T_EQ(code, 0);
	}
	ut_note("5 exits whose teardown was asked to move to a CPU lazy on it");
}

/*
 * Regression tlb_flush_full_is_the_sum_of_its_reasons (found in review):
 * tlb_flush_full says it is the sum of the tlb_full_* reasons, but a
 * kernel flush's full catch-up counted it with no reason, and a switch
 * to a slot whose only lag was the kernel's generation flushed the PCID
 * counting neither. Both now count tlb_full_kflush. Read after
 * kernel_unmap_deferred (kernel flushes on every CPU), twice until two
 * reads agree (another CPU may count between the two it adds).
 */
void t_tlb_flush_full_is_the_sum_of_its_reasons(const char *arg)
{
	static const char *const reasons[] = { "tlb_full_ceiling",  "tlb_full_gen_gap",
					       "tlb_full_asid_new", "tlb_full_request",
					       "tlb_full_nopcid",   "tlb_full_kflush" };
	uint64_t full = 0, sum = 1;

	(void)arg;
	for (int tries = 0; tries < 10 && full != sum; tries++) {
		full = counter("tlb_flush_full");
		sum = 0;
		for (unsigned i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
			sum += counter(reasons[i]);
	}
	ut_note("tlb_flush_full %lu, its reasons %lu (kernel catch-ups %lu)", full, sum,
		counter("tlb_full_kflush"));
	T_EQ(full, sum);
}
