/*
 * Running out: frames, threads (kernel stacks and task structures from a
 * squeezed machine), IPC handles. Each gives a clean error to the caller,
 * the kernel keeps running, and every frame, heap byte and vmalloc page
 * comes back once the test lets go (the counters of no_leaks_after_exit).
 * PCID slots cannot run out (a full CPU evicts: asid_churn) and the PASID
 * space (2^20) is too large to exhaust here.
 *
 * exhaustion_sweep: each operation below (thread creation, a populated
 * mapping, an endpoint pair, a memory object, a process spawn, a 512-page
 * memory object revoked) runs with exactly k frames free (SYST_SQUEEZE),
 * for k = 0, 1, 2, ... until it has succeeded twice; each
 * run succeeds or fails with an error, and once the squeeze is given back
 * frames, heap, vmalloc pages, processes, kernel objects and handles are
 * exactly as before: whatever allocation in the kernel fails, the
 * operation gives back everything it took. (Found first: a first touch
 * that ran out left its empty page tables linked, ktest
 * oom_fault_leaves_no_table.)
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"

#define RW	     (UPROT_READ | UPROT_WRITE)
#define MAX_THREADS  4096
#define LEAVE_FRAMES 2048 /* what the squeeze leaves free: 8 MiB */

static struct {
	uint32_t release;
	int tids[MAX_THREADS];
	int made, err;
	int ep_made, ep_err;
	long map_err;
} ex;

static void parked(void *arg)
{
	(void)arg;
	/* Acquire: pairs with the release store that lets the threads go. */
	while (!__atomic_load_n(&ex.release, __ATOMIC_ACQUIRE))
		futex_wait(&ex.release, 0, 0);
}

static void exhaust_once(void)
{
	long free = sys_test(SYST_FRAMES_FREE, 0, 0, 0);

	/* Frames: more than the machine has, all at once: refused whole. */
	void *all = map(NULL, (size_t)(free + 1024) * PAGE_SIZE, RW, UMAP_POPULATE);

	ex.map_err = MAP_FAILED(all) ? (long)(intptr_t)all : 0;
	if (!MAP_FAILED(all))
		unmap(all, (size_t)(free + 1024) * PAGE_SIZE);

	/* Squeeze: take all but LEAVE_FRAMES, then make threads until the
	 * kernel cannot (each needs a kernel stack and a task). */
	free = sys_test(SYST_FRAMES_FREE, 0, 0, 0);
	size_t squeeze = free > LEAVE_FRAMES ? (size_t)(free - LEAVE_FRAMES) * PAGE_SIZE : 0;
	void *big = squeeze ? map(NULL, squeeze, RW, UMAP_POPULATE) : NULL;

	ex.release = 0;
	ex.made = 0;
	ex.err = 0;
	while (ex.made < MAX_THREADS) {
		int t = thread_create(parked, NULL);

		if (t < 0) {
			ex.err = t;
			break;
		}
		ex.tids[ex.made++] = t;
	}
	/* Release: the parked threads' acquire loads see it. Pairs with the
	 * acquire load of ex.release in parked(). */
	__atomic_store_n(&ex.release, 1, __ATOMIC_RELEASE);
	futex_wake(&ex.release, MAX_THREADS);
	for (int i = 0; i < ex.made; i++)
		thread_join(ex.tids[i], NULL);
	if (big && !MAP_FAILED(big))
		unmap(big, squeeze);

	/* IPC handles: a process has a fixed table. */
	int hs[128];

	ex.ep_made = 0;
	ex.ep_err = 0;
	for (int i = 0; i < 128; i++) {
		int h = ep_create();

		if (h < 0) {
			ex.ep_err = h;
			break;
		}
		hs[ex.ep_made++] = h;
	}
	for (int i = 0; i < ex.ep_made; i++)
		ep_close(hs[i]);
}

void t_resource_exhaustion_clean(const char *arg)
{
	(void)arg;
	exhaust_once(); /* warm the caches (slabs stay allocated) */
	struct usage before = usage_settled(NULL);

	exhaust_once();
	struct usage after = usage_settled(&before);

	T_EQ(ex.map_err, -12); /* -ENOMEM, nothing left mapped */
	T_EXPECT(ex.made > 0 && ex.made < MAX_THREADS);
	T_EXPECT(ex.err == -12 || ex.err == -11); /* -ENOMEM or -EAGAIN */
	T_EQ(ex.ep_err, -24);			  /* -EMFILE */
	T_EXPECT(ex.ep_made > 0);
	T_EQ(after.frames, before.frames);
	T_EQ(after.heap, before.heap);
	/* Exact: a stack allocation that fails part-way (frames run out
	 * here) must give back, and uncount, exactly what it took. */
	T_EQ(after.vmalloc, before.vmalloc);
	T_EQ(after.procs, before.procs);
	/* And the machine still works: a child runs and exits. */
	T_EQ(run_child("role_exit 7"), 7);
	ut_note("map beyond RAM: %ld; %d threads before %d with 8 MiB left; %d handles before %d; "
		"free+slab frames %ld, heap %ld bytes before and after",
		ex.map_err, ex.made, ex.err, ex.ep_made, ex.ep_err, after.frames, after.heap);
}

/* ---- exhaustion_sweep ---- */

#define SWEEP_MAX 2048 /* frames: more than any operation below needs */

static void sw_exit_now(void *p)
{
	(void)p;
}

static long sw_thread(void)
{
	int t = thread_create(sw_exit_now, NULL);

	return t < 0 ? t : thread_join(t, NULL);
}

/* 24 pages across a 2 MiB boundary: tables and pages. */
static long sw_map(void)
{
	static char *base;

	if (!base) { /* a fixed place: the tables it needs are the same each run */
		base = map(NULL, 4u << 20, RW, 0);
		if (MAP_FAILED(base))
			return (long)(intptr_t)base;
		unmap(base, 4u << 20);
		base = (char *)(((uintptr_t)base + (2u << 20)) & ~(uintptr_t)((2u << 20) - 1));
	}
	char *p = map(base - 12 * PAGE_SIZE, 24 * PAGE_SIZE, RW, UMAP_FIXED | UMAP_POPULATE);

	if (MAP_FAILED(p))
		return (long)(intptr_t)p;
	return unmap(p, 24 * PAGE_SIZE);
}

static long sw_endpoint(void)
{
	int send = -1, recv = ep_pair(&send);

	if (recv < 0)
		return recv;
	handle_close(send);
	return handle_close(recv);
}

static long sw_memobj(void)
{
	int h = mo_create(8);

	if (h < 0)
		return h;
	void *p = mo_map(h, NULL, RW);
	long r = MAP_FAILED(p) ? (long)(intptr_t)p : unmap(p, 8 * PAGE_SIZE);

	handle_close(h);
	return r;
}

/* 512 pages (the most): the object's page array (and revoke's copy of it) are
 * allocations of whole frames, not slab. */
static long sw_memobj_revoke(void)
{
	int h = mo_create(512);

	if (h < 0)
		return h;
	void *p = mo_map(h, NULL, RW);
	long r = MAP_FAILED(p) ? (long)(intptr_t)p : mo_revoke(h, 0);

	if (!MAP_FAILED(p))
		unmap(p, 512 * PAGE_SIZE);
	handle_close(h);
	return r < 0 ? r : 0;
}

static long sw_spawn(void)
{
	int pid = start_child("role_exit 7"), code = -1;

	if (pid < 0)
		return pid;
	wait_pid(pid, &code);
	return code == 7 ? 0 : -1000 - code; /* killed for want of memory: a failure */
}

static const struct {
	const char *name;
	long (*op)(void);
} sweep_ops[] = {
	{ "thread_create", sw_thread }, { "map 24 pages populated", sw_map },
	{ "ep_pair", sw_endpoint },	{ "mo_create and mo_map", sw_memobj },
	{ "spawn", sw_spawn },		{ "mo_create 512 pages and mo_revoke", sw_memobj_revoke },
};

/* Usage and objects as *u and *o, but for the held frames the squeeze
 * holds, within 2 s of the reaper's work. */
static bool sweep_back(const struct usage *u, const struct objects *o, long held, struct usage *now,
		       struct objects *onow)
{
	for (int i = 0; i < 200; i++) {
		*now = usage_now();
		*onow = objects_now();
		now->frames += held;
		if (now->frames == u->frames && now->heap == u->heap &&
		    now->vmalloc == u->vmalloc && now->procs == u->procs &&
		    onow->kobjs == o->kobjs && onow->handles == o->handles)
			return true;
		sleep_ns(10000000);
	}
	return false;
}

void t_exhaustion_sweep(const char *arg)
{
	(void)arg;
	int runs = 0, failed_runs = 0, first_ok[sizeof(sweep_ops) / sizeof(sweep_ops[0])];

	/* Warm: every operation once, so that slabs, tables of our own and
	 * the stack table exist before the counts are taken. */
	for (unsigned i = 0; i < sizeof(sweep_ops) / sizeof(sweep_ops[0]); i++)
		T_EQ(sweep_ops[i].op(), 0);
	struct usage before = usage_settled(NULL), now;
	struct objects objs = objects_now(), onow;

	/* The squeeze stays between runs and moves up a frame at a time (a
	 * fresh one takes all of memory: 75 ms a run on a 6 GiB machine). */
	for (unsigned i = 0; i < sizeof(sweep_ops) / sizeof(sweep_ops[0]); i++) {
		int oks = 0;
		long held = 0;

		first_ok[i] = -1;
		for (int k = 0; k <= SWEEP_MAX && oks < 2; k++) {
			held = sys_test(SYST_SQUEEZE, k, 0, 0);
			if (!T_EQ(sys_test(SYST_FRAMES_FREE, 0, 0, 0), k))
				break;
			long r = sweep_ops[i].op();

			runs++;
			failed_runs += r != 0;
			if (r == 0 && oks++ == 0)
				first_ok[i] = k;
			ut_checks++;
			if (!sweep_back(&before, &objs, held, &now, &onow)) {
				ut_fail(__FILE__, __LINE__,
					"lost: %s with %d frames free (%s): frames %+ld, heap %+ld, "
					"vmalloc %+ld, processes %+ld, objects %+ld, handles %+ld",
					sweep_ops[i].name, k, r ? "failed" : "succeeded",
					now.frames - before.frames, now.heap - before.heap,
					now.vmalloc - before.vmalloc, now.procs - before.procs,
					onow.kobjs - objs.kobjs, onow.handles - objs.handles);
				before = now; /* go on from here */
				objs = onow;
			}
		}
		T_EQ(sys_test(SYST_SQUEEZE, -1, 0, 0), 0);
		T_EXPECT(first_ok[i] >= 0);
	}
	ut_note("%d runs, %d failed for want of memory and gave everything back; first success "
		"with k frames free: thread %d, map %d, endpoint %d, memory object %d, spawn %d, "
		"512-page memory object revoked %d",
		runs, failed_runs, first_ok[0], first_ok[1], first_ok[2], first_ok[3], first_ok[4],
		first_ok[5]);
}
