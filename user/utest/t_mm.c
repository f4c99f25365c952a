/*
 * Memory: map, unmap, protect, populate, fixed mappings, faults on each.
 */
#include "user/utest/utest.h"

void t_map_unmap_protect(const char *arg)
{
	(void)arg;
	const size_t n = 16;
	uint8_t *p = map(NULL, n * PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);

	if (!T_EXPECT(!MAP_FAILED(p)))
		return;
	uint64_t pf0 = counter("page_fault_user");

	for (size_t i = 0; i < n; i++)
		p[i * PAGE_SIZE + 5] = (uint8_t)(i + 1);
	T_EXPECT(counter("page_fault_user") - pf0 >= n); /* faulted in on first touch */
	for (size_t i = 0; i < n; i++)
		T_EQ(p[i * PAGE_SIZE + 5], i + 1);
	T_EQ(p[3], 0); /* fresh pages are zero */

	/* Read-only: reads work, the contents survive. */
	T_EQ(protect(p, n * PAGE_SIZE, UPROT_READ), 0);
	for (size_t i = 0; i < n; i++)
		T_EQ(p[i * PAGE_SIZE + 5], i + 1);
	T_EQ(protect(p, n * PAGE_SIZE, UPROT_READ | UPROT_WRITE), 0);
	p[5] = 99;
	T_EQ(p[5], 99);

	/* Unmap a page in the middle: its neighbours stay. */
	T_EQ(unmap(p + 4 * PAGE_SIZE, PAGE_SIZE), 0);
	T_EQ(p[3 * PAGE_SIZE + 5], 4);
	T_EQ(p[5 * PAGE_SIZE + 5], 6);
	/* Protect across the hole: part of the range is unmapped. */
	T_EQ(protect(p, n * PAGE_SIZE, UPROT_READ), -12);

	/* A fixed mapping over the hole brings a zero page back. */
	uint8_t *q = map(p + 4 * PAGE_SIZE, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED);

	T_EXPECT(q == p + 4 * PAGE_SIZE);
	T_EQ(q[5], 0);
	T_EQ(unmap(p, n * PAGE_SIZE), 0);

	/* Populated mappings take no faults when touched. */
	uint8_t *r = map(NULL, 8 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	pf0 = counter("page_fault_user");
	for (int i = 0; i < 8; i++)
		r[i * PAGE_SIZE] = 1;
	T_EQ(counter("page_fault_user") - pf0, 0);
	T_EQ(unmap(r, 8 * PAGE_SIZE), 0);

	/* Large sparse mapping: only touched pages cost memory. */
	uint8_t *big = map(NULL, 1ull << 30, UPROT_READ | UPROT_WRITE, 0);

	T_EXPECT(!MAP_FAILED(big));
	big[0] = 1;
	big[(1ull << 30) - 1] = 2;
	T_EQ(big[(1ull << 30) - 1], 2);
	T_EQ(unmap(big, 1ull << 30), 0);

	/* Writing to a read-only page, or to an unmapped one, kills: also
	 * just past the mapping the fault handler found last, and in one
	 * it found and that was then unmapped (mm/vm.c's VMA hint). */
	T_EQ(run_child("role_segv ro"), 128 + 14);
	T_EQ(run_child("role_segv past"), 128 + 14);
	T_EQ(run_child("role_segv unmapped"), 128 + 14);
}

/* Regression (found by syscall_fuzz): protect and unmap stepped through
 * every page of a range, mapped or not, under the mm lock: on a 1 TiB
 * mapping, 2^28 steps, and another thread of the process faulting in
 * meanwhile spun on the lock until the lockup detector stopped the
 * machine. They now skip absent page tables: fast however large the hole. */
void t_unmap_huge_sparse_range(const char *arg)
{
	(void)arg;
	const uint64_t len = 1ull << 40; /* the most one map() takes */
	uint8_t *big = map(NULL, len, UPROT_READ | UPROT_WRITE, 0);

	if (!T_EXPECT(!MAP_FAILED(big)))
		return;
	big[0] = 1;
	big[len / 2] = 2;
	big[len - 1] = 3;
	uint64_t t0 = clock_ns();

	T_EQ(protect(big, len, UPROT_READ), 0);
	T_EQ(big[len / 2], 2);
	T_EQ(unmap(big, len), 0);
	uint64_t ms = (clock_ns() - t0) / 1000000;

	T_EXPECT(ms < 1000);
	ut_note("protect and unmap of a 1 TiB range with 3 pages: %lu ms", ms);
}

/*
 * Regression: an unmap or a protect held the mm lock, and with it
 * preemption, from the first page of its range to the last, however long
 * the range (mm/vm.c "Long operations"): a thread of ours could keep its
 * CPU from running anything else, and a second thread faulting meanwhile
 * spun on the lock into the lockup detector, for as long as it had memory
 * to map. Now the lock is let go of between chunks when a reschedule is
 * due or another CPU waits for it.
 *
 * What shows it, without a timing: while the main thread changes a range
 * (protect to read-only, or unmap), a prober thread asks the kernel to
 * write (counters_read() writes its result through the user-copy path)
 * to the range's first page, then to a page of another mapping that no
 * one has touched, then to the range's last page. The first write failing
 * and the other two succeeding means that a fault, which takes the lock,
 * was served after the change reached the first page and before it
 * reached the last: inside the system call. With the lock held
 * throughout, that cannot happen: on the same CPU the prober does not run
 * until the call returns; on another CPU the fault waits for the lock, and
 * when it gets it the last page has changed too. (The middle write is
 * what needs the lock: a write to a page the change has reached fails
 * either way, a protection fault on a present page without the lock.)
 *
 * On the same CPU the prober runs only when the call is preempted at a
 * break, which needs its slice to end inside the call. The run that tests
 * it (row qemu-mm-long-ops) has one-tick slices and hz=1000: every tick
 * inside the call ends the slice. The call starts just after a tick (the
 * prober's slice ended there), so it must last more than a tick: that row
 * changes 256 MiB (long_pages=65536; under QEMU a protect takes some
 * 2.5 ms, an unmap ten times that). From another CPU the two threads must
 * run at once, which a loaded host running more vCPUs than it has cores
 * grants only now and then: that part is the unmap's alone (a protect of
 * 64 MiB, a millisecond or two of host time, saw nothing in ten tries
 * under load), and with ticket locks alone (ticket_locks() says why).
 * Each part tries up to ten fresh ranges; the old kernel showed nothing
 * inside in any try. With longer slices (every other boot) the same-CPU
 * part is skipped, and the other-CPU part on one CPU or with
 * test-and-set locks.
 */
static struct {
	volatile uint8_t *base;
	uint64_t pages;
	uint8_t *fresh;	    /* LR_FRESH pages mapped, untouched: one per probe */
	volatile int phase; /* 0 before, 1 in the call, 2 after */
	volatile int running;
	volatile int armed; /* the prober saw phase 1 */
	int inside;	    /* probes that saw the call part-way */
	int probes;	    /* probes made in phase 1 */
} lr;

#define LR_FRESH 1024

static void long_range_prober(void *arg)
{
	(void)arg;
	uint64_t *first = (uint64_t *)lr.base;
	uint64_t *last = (uint64_t *)(lr.base + (lr.pages - 1) * PAGE_SIZE);

	lr.running = 1;
	while (lr.phase != 2 && lr.probes < LR_FRESH) {
		if (lr.phase != 1)
			continue;
		lr.armed = 1;
		long a = counters_read(first, 1, -1);
		long c = counters_read((uint64_t *)(lr.fresh + lr.probes * PAGE_SIZE), 1, -1);
		long b = counters_read(last, 1, -1);

		lr.probes++;
		lr.inside += a < 0 && c == 1 && b == 1;
	}
	thread_exit(0);
}

/* One change of a fresh range, the main thread on CPU 0 and the prober
 * on cpu: how many probes saw it part-way (-1: no memory). */
static int long_range_run(bool unmap_it, uint64_t pages, int cpu)
{
	uint64_t len = pages * PAGE_SIZE;
	uint8_t *p = map(NULL, len, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	if (!T_EXPECT(!MAP_FAILED(p)))
		return -1;
	lr.fresh = map(NULL, LR_FRESH * PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);
	if (!T_EXPECT(!MAP_FAILED(lr.fresh)))
		return -1;
	lr.base = p;
	lr.pages = pages;
	lr.phase = 0;
	lr.running = 0;
	lr.armed = 0;
	lr.inside = 0;
	lr.probes = 0;
	uint64_t breaks = counter("mm_lock_break");

	set_affinity(0, 0);
	int tid = thread_create(long_range_prober, NULL);

	if (!T_EXPECT(tid > 0))
		return -1;
	set_affinity(tid, cpu);
	while (!lr.running)
		yield();
	lr.phase = 1;
	/* From another CPU: start once the prober runs (a loaded host may
	 * not be running its vCPU, and the call is short). */
	while (cpu != 0 && !lr.armed)
		;
	uint64_t t0 = clock_ns();
	int r = unmap_it ? unmap(p, len) : protect(p, len, UPROT_READ);
	uint64_t us = (clock_ns() - t0) / 1000;

	lr.phase = 2;
	T_EQ(r, 0);
	T_EQ(thread_join(tid, NULL), 0);
	ut_note("%s of %lu pages, prober on CPU %d: %d of %d probes inside the call; "
		"%lu lock breaks, %lu us",
		unmap_it ? "unmap" : "protect", pages, cpu, lr.inside, lr.probes,
		counter("mm_lock_break") - breaks, us);
	/* Done: both pages changed, the page tables as they should be. */
	T_EXPECT(counters_read((uint64_t *)p, 1, -1) < 0);
	T_EXPECT(counters_read((uint64_t *)(p + len - PAGE_SIZE), 1, -1) < 0);
	T_EQ(sys_test(SYST_CHECK_MM, 0, 0, 0), 0);
	if (!unmap_it)
		T_EQ(unmap(p, len), 0);
	T_EQ(unmap(lr.fresh, LR_FRESH * PAGE_SIZE), 0);
	set_affinity_all(0);
	return lr.inside;
}

static long switch_value(const char *name)
{
	return sys_test(SYST_SWITCH, (long)name, (long)strlen(name), 0);
}

/* Ticket locks (spinlock=ticket, or auto without a hypervisor)? Only they
 * promise a waiter its turn at a break; test-and-set locks promise that
 * the lock moves (no waiter is reported locked up), and a waiter whose
 * vCPU the host does not run at that moment loses it: a loaded host, ten
 * unmaps of 64 MiB with 32 breaks each, saw nothing inside. */
static bool ticket_locks(void)
{
	long mode = switch_value("spinlock"); /* auto, ticket, tas */

	return mode == 1 || (mode == 0 && !ut_cpu_has("hypervisor"));
}

/* The prober on CPU 0 (ours: with one-tick slices) and, for an unmap, on
 * CPU 1 (if there is one): up to `tries` fresh ranges until one shows the
 * call part-way. */
static void long_range(const char *arg, bool unmap_it)
{
	uint64_t pages = ut_param(arg, "long_pages", 16384);
	int tries = (int)ut_param(arg, "long_tries", 10), ran = 0;

	for (int cpu = 0; cpu < 2; cpu++) {
		int inside = 0, t;

		if (cpu == 0 && switch_value("sched_slice") != 1) {
			ut_note("prober on our CPU: skipped (slices of more than a tick)");
			continue;
		}
		if (cpu == 1 && (nr_cpus() < 2 || !unmap_it || !ticket_locks())) {
			if (unmap_it)
				ut_note("prober on another CPU: skipped (%s)",
					nr_cpus() < 2 ? "one CPU" : "test-and-set locks");
			continue;
		}
		for (t = 0; t < tries && inside == 0; t++)
			inside = long_range_run(unmap_it, pages, cpu);
		if (!T_EXPECT(inside > 0))
			ut_note("prober on CPU %d: nothing seen inside in %d tries", cpu, t);
		ran++;
	}
	if (!ran)
		T_EXPECT(true); /* nothing this boot can observe: skipped */
}

void t_long_protect_lets_others_run(const char *arg)
{
	long_range(arg, false);
}

void t_long_unmap_lets_others_run(const char *arg)
{
	long_range(arg, true);
}

/*
 * Long operations racing each other in one process (mm/vm.c "Long
 * operations"): what keeps an unmap or a protect one operation while it
 * lets go of the lock. Threads on every CPU, over one range of RACE_PAGES
 * (several breaks' worth): the main one maps it whole with MAP_FIXED and
 * populates it, then unmaps it; one protects all of it, read-only and back;
 * one unmaps a part once a round; one maps, touches (through the kernel)
 * and unmaps small areas elsewhere (a map may take a hole of the range
 * during a break); one has the kernel write to pages of the range (a fault
 * there is served or refused, never anything else) and checks the page
 * tables (SYST_CHECK_MM: no page of a freed frame, none outside a VMA);
 * one fills four views of a 512-page memory object and decommits it (a
 * revocation of 2048 pages, with breaks of its own). In a child process:
 * the parent then checks that memory and kernel objects came back exactly.
 */
#define RACE_PAGES   2048
#define RACE_VIEWS   4 /* of a memory object of MEMOBJ_PAGES pages */
#define MEMOBJ_PAGES 512

static struct {
	uint8_t *x; /* NULL until the threads may start */
	volatile int stop;
	volatile long bad; /* results no call may give */
	volatile int round;
	int mo;			    /* the memory object's handle */
	uint8_t *views[RACE_VIEWS]; /* its mappings */
	int revokes;
	int rounds;
} rc;

static void race_note_bad(const char *what, long r)
{
	if (__atomic_fetch_add(&rc.bad, 1, __ATOMIC_RELAXED) < 8)
		ut_note("%s gave %ld", what, r);
}

/* Until the range's place is known. */
static void race_wait_start(void)
{
	/* Acquire: pairs with the release store in t_role_mm_race(). */
	while (!__atomic_load_n(&rc.x, __ATOMIC_ACQUIRE))
		yield();
}

static void race_protector(void *arg)
{
	(void)arg;
	race_wait_start();
	for (int i = 0; !rc.stop; i++) {
		long r = protect(rc.x, RACE_PAGES * PAGE_SIZE,
				 i & 1 ? UPROT_READ | UPROT_WRITE : UPROT_READ);
		if (r != 0 && r != -12 /* ENOMEM: part not mapped */)
			race_note_bad("protect", r);
	}
	thread_exit(0);
}

/* Once a round: unmapping a part all the time, it would cut into every
 * populate (with fair, ticket locks), and no range would be whole. */
static void race_part_unmapper(void *arg)
{
	(void)arg;
	race_wait_start();
	for (int i = 0, seen = 0; !rc.stop; i++) {
		while (rc.round == seen && !rc.stop)
			yield();
		seen = rc.round;
		uint64_t off = (uint64_t)(i * 97 % (RACE_PAGES - 64)) * PAGE_SIZE;
		long r = unmap(rc.x + off, 64 * PAGE_SIZE);

		if (r)
			race_note_bad("unmap of a part", r);
	}
	thread_exit(0);
}

static void race_small_mapper(void *arg)
{
	(void)arg;
	race_wait_start();
	while (!rc.stop) {
		uint8_t *p = map(NULL, 16 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, 0);

		if (MAP_FAILED(p)) {
			race_note_bad("map", (long)p);
			continue;
		}
		/* Written by the kernel: the area may be in a hole of the
		 * range, and a map with MAP_FIXED may replace it first. */
		for (int i = 0; i < 16; i++) {
			long r = counters_read((uint64_t *)(p + i * PAGE_SIZE), 1, -1);

			if (r != 1 && r != -14)
				race_note_bad("a kernel write into a small area", r);
		}
		long r = unmap(p, 16 * PAGE_SIZE);

		if (r)
			race_note_bad("unmap", r);
	}
	thread_exit(0);
}

static void race_writer(void *arg)
{
	(void)arg;
	race_wait_start();
	for (uint64_t i = 0; !rc.stop; i++) {
		uint64_t *w = (uint64_t *)(rc.x + (i * 193 % RACE_PAGES) * PAGE_SIZE);
		long r = counters_read(w, 1, -1);

		if (r != 1 && r != -14 /* EFAULT */)
			race_note_bad("a kernel write into the range", r);
		if (i % 64 == 0 && (r = sys_test(SYST_CHECK_MM, 0, 0, 0)) != 0)
			race_note_bad("SYST_CHECK_MM", r);
	}
	thread_exit(0);
}

/* Every page of every view touched (by the kernel), then all of them
 * decommitted at once: the views stay, with fresh pages at the next touch. */
static void race_revoker(void *arg)
{
	(void)arg;
	race_wait_start();
	while (!rc.stop) {
		for (int v = 0; v < RACE_VIEWS; v++) {
			for (int i = 0; i < MEMOBJ_PAGES; i++) {
				long r = counters_read((uint64_t *)(rc.views[v] + i * PAGE_SIZE), 1,
						       -1);

				if (r != 1)
					race_note_bad("a kernel write into a memory object", r);
			}
		}
		long r = mo_revoke(rc.mo, MO_DECOMMIT);

		if (r != 1)
			race_note_bad("a decommit", r);
		rc.revokes++;
	}
	thread_exit(0);
}

void t_role_mm_race(const char *arg)
{
	void (*fns[])(void *) = { race_protector, race_part_unmapper, race_small_mapper,
				  race_writer, race_revoker };
	int tids[5], n = (int)(sizeof(fns) / sizeof(fns[0]));
	uint64_t len = RACE_PAGES * PAGE_SIZE;

	rc.rounds = (int)ut_param(arg, "mm_race_rounds", 1);
	rc.mo = mo_create(MEMOBJ_PAGES);
	if (!T_EXPECT(rc.mo >= 0))
		exit(1);
	for (int v = 0; v < RACE_VIEWS; v++) {
		rc.views[v] = mo_map(rc.mo, NULL, UPROT_READ | UPROT_WRITE);
		if (!T_EXPECT(!MAP_FAILED(rc.views[v])))
			exit(1);
	}
	for (int i = 0; i < n; i++) {
		tids[i] = thread_create(fns[i], NULL);
		set_affinity(tids[i], (i + 1) % nr_cpus());
	}
	/* A place for the range (mapped and unmapped once), found after the
	 * threads' stacks and the object's views were mapped: a map with
	 * MAP_FIXED replaces whatever is there. The threads start when it is
	 * known. */
	uint8_t *x = map(NULL, len, UPROT_READ | UPROT_WRITE, 0);

	if (!T_EXPECT(!MAP_FAILED(x)) || !T_EQ(unmap(x, len), 0))
		exit(1);
	/* Release: pairs with the acquire load in race_wait_start(). */
	__atomic_store_n(&rc.x, x, __ATOMIC_RELEASE);
	set_affinity(0, 0);
	uint64_t breaks = counter("mm_lock_break"), waits = counter("mm_op_wait");
	int whole = 0;

	for (int i = 0; i < rc.rounds; i++) {
		void *p = map(rc.x, len, UPROT_READ | UPROT_WRITE, UMAP_FIXED | UMAP_POPULATE);

		/* -ENOMEM: a part unmapped while it populated (it then
		 * unmaps the rest). */
		if (p != rc.x && (long)p != -12)
			race_note_bad("map with MAP_FIXED", (long)p);
		whole += p == rc.x;
		rc.round = i + 1;
		long r = unmap(rc.x, len);

		if (r)
			race_note_bad("unmap of the range", r);
	}
	rc.stop = 1;
	for (int i = 0; i < n; i++)
		T_EQ(thread_join(tids[i], NULL), 0);
	T_EQ(rc.bad, 0);
	T_EQ(sys_test(SYST_CHECK_MM, 0, 0, 0), 0);
	ut_note("%d rounds over %d pages (%d mapped whole), %d decommits of %d pages: %lu lock "
		"breaks, %lu waits for a busy range",
		rc.rounds, RACE_PAGES, whole, rc.revokes, RACE_VIEWS * MEMOBJ_PAGES,
		counter("mm_lock_break") - breaks, counter("mm_op_wait") - waits);
	exit(ut_failures ? 1 : 0);
}

void t_long_mm_ops_race(const char *arg)
{
	char role[48];
	struct usage before = usage_settled(NULL);
	struct objects objs = objects_now();

	snprintf(role, sizeof(role), "role_mm_race mm_race_rounds=%lu",
		 ut_param(arg, "mm_race_rounds", 1));
	/* With a copy of our hardware resource: the role checks its address
	 * space with SYST_CHECK_MM, an [hwres] hook. */
	int pid = start_child_h(role, DEV_RES, 0), code = -1;

	T_EXPECT(pid > 0);
	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(code, 0);
	usage_expect_back(&before, &objs);
}
