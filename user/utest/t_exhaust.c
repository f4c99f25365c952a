/*
 * Running out: frames, threads (kernel stacks and task structures from a
 * squeezed machine), IPC handles. Each gives a clean error to the caller,
 * the kernel keeps running, and every frame, heap byte and vmalloc page
 * comes back once the test lets go (the counters of no_leaks_after_exit).
 * PCID slots cannot run out (a full CPU evicts: asid_churn) and the PASID
 * space (2^20) is too large to exhaust here.
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
