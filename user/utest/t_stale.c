/*
 * Stale translations, observed rather than modelled (issue 19).
 *
 *   stale_reads   remaps, unmaps and frees pages while other CPUs and
 *                 other address spaces use them, through every path that
 *                 defers or skips a flush, and checks every read and write
 *                 against what the page tables say now
 *
 * On a TLB that keeps what the SDM allows (the PCID-faithful Bochs,
 * tools/bochs/README.md, or a real CPU) a missing flush shows here as a
 * read of an old frame's contents or a write that lands in a freed frame,
 * with tlbcheck=off: the kernel's own model of its TLB plays no part. The
 * first one seen prints "stale_reads: STALE <pattern> after <ms> ms: ..."
 * and fails the test; every tlbinject= plant must end that way, and a boot
 * without one must see none (tools/matrix.py). Elsewhere (QEMU, stock
 * Bochs: every CR3 write empties the TLB) it SKIPs.
 *
 * The patterns, and the plant each is built to expose:
 *   remote_remap   readers on CPUs 1..n read tags and write markers in
 *                  pages CPU 0 keeps replacing (map over them): an old tag,
 *                  or a marker missing from the new page (skip_ipi;
 *                  skip_invlpg with pti=off)
 *   local_remap    one thread: the kernel writes into a page through its
 *                  PCID (SYS_COUNTERS), the page is replaced, then read in
 *                  user mode and written again by the kernel (skip_invlpg:
 *                  the kernel PCID; skip_user_flush: the user PCID)
 *   lazy_wake      threads touch a page and block, so their CPUs idle on
 *                  our mm (lazy); CPU 0 replaces the page and wakes them
 *                  (skip_lazy_catchup)
 *   switch_back    the same, with another process running on their CPUs
 *                  meanwhile, so that they come back by a switch to a slot
 *                  that is behind (skip_gen_check)
 *   asid_reuse     more processes than PCID slots on one CPU, each with its
 *                  own page at the same address (skip_asid_flush)
 *   freed_tables   a thread makes its CPU cache the page tables of a
 *                  region (a user and a kernel access) and idles lazily;
 *                  CPU 0 unmaps the region, which frees its tables, and
 *                  fills fresh pages with a word that looks like a present
 *                  entry: a stale paging-structure entry makes the CPU's
 *                  speculative walks set an accessed flag in one
 *                  (skip_freed_tables_ipi)
 *   kernel_remap   a thread on CPU 1 reads a kernel page through the
 *                  kernel (SYST_KSTALE) between spells in user mode while
 *                  CPU 0 remaps it, so the flush is deferred (skip_kflush)
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"
#include "include/uapi/errno.h"

#define MAX_WORKERS 63

static uint64_t t0_ns;
static const char *pattern = "setup";

static long kswitch(const char *name)
{
	return sys_test(SYST_SWITCH, (long)name, (long)strlen(name), 0);
}

/* The first stale translation ends the test (and its process). */
__attribute__((noreturn, format(printf, 1, 2))) static void stale(const char *fmt, ...)
{
	static uint32_t reported;
	char buf[200];
	va_list ap;

	/* One report per run: another thread seeing another stale entry at
	 * the same moment waits for the process to end. */
	if (__atomic_exchange_n(&reported, 1, __ATOMIC_RELAXED))
		for (;;)
			yield();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("        # stale_reads: STALE %s after %lu ms: %s\n", pattern,
	       (clock_ns() - t0_ns) / 1000000, buf);
	exit(1);
}

static void note_done(const char *what, int rounds)
{
	ut_checks++;
	ut_note("%s: %d rounds, no stale translation (%lu ms in)", what, rounds,
		(clock_ns() - t0_ns) / 1000000);
}

static int workers(void)
{
	int n = nr_cpus() - 1;

	return n > MAX_WORKERS ? MAX_WORKERS : n;
}

/*
 * Decoys. A page replaced by map(MAP_FIXED) frees its frame, and the next
 * page allocated on this CPU is likely to get that very frame back: if it
 * is the replacement, a stale translation leads to the right frame and
 * nothing can be seen. So right after each replacement a decoy page takes
 * the freed frame (UMAP_POPULATE allocates at once) and is filled with
 * DECOY words, which no live page ever holds; the replacement gets another
 * frame when it is first touched.
 */
#define DECOY	   (1ull << 62)
#define MAX_DECOYS 512
static void *decoy[MAX_DECOYS];
static int nr_decoys;

static void decoy_take(void)
{
	uint64_t *d;

	if (nr_decoys == MAX_DECOYS)
		return;
	d = map(NULL, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);
	if (MAP_FAILED(d))
		return;
	for (int i = 0; i < 512; i++)
		d[i] = DECOY | (uint64_t)nr_decoys;
	decoy[nr_decoys++] = d;
}

static void decoys_free(void)
{
	for (int i = 0; i < nr_decoys; i++)
		unmap(decoy[i], PAGE_SIZE);
	nr_decoys = 0;
}

/* Until task tid has blocked and its CPU has switched away from it. The
 * waits here yield rather than sleep: a sleep lasts a timer tick (10 ms),
 * and emulated time is what these rows pay for. */
static void wait_off_cpu(int tid)
{
	while (sys_test(SYST_TASK_OFF_CPU, tid, 0, 0) != 1)
		yield();
}

/* ---- remote_remap ---- */

#define R_PAGES 8

static struct {
	uint8_t *base;
	uint64_t published[R_PAGES];		/* the tag of the page mapped now */
	uint64_t ack[MAX_WORKERS + 1][R_PAGES]; /* generation whose marker landed */
	volatile int stop;
} rr;

static volatile uint64_t *rr_page(int i)
{
	return (volatile uint64_t *)(rr.base + (uint64_t)i * PAGE_SIZE);
}

static void rr_reader(void *arg)
{
	int k = (int)(uintptr_t)arg;

	while (!rr.stop) {
		for (int i = 0; i < R_PAGES; i++) {
			/* Acquire: the page this tag names was mapped and tagged
			 * before it was published (pairs with the writer's release). */
			uint64_t g = __atomic_load_n(&rr.published[i], __ATOMIC_ACQUIRE);
			uint64_t v = rr_page(i)[0];

			/* 0: a new page not tagged yet; older than g: a page that
			 * was replaced before g was published; DECOY: its frame. */
			if ((v && v < g) || (v & DECOY))
				stale("remote CPU %d read %#lx in page %d, whose tag is %#lx", k, v,
				      i, g);
			rr_page(i)[8 + k] = g;
			/* Release: the marker is written before the writer may
			 * look for it (pairs with the acquire in rr_check). */
			__atomic_store_n(&rr.ack[k][i], g, __ATOMIC_RELEASE);
		}
	}
}

/* Every reader that acknowledged page i's current generation wrote its
 * marker into the page mapped now. */
static void rr_check(int i, int n)
{
	uint64_t g = rr.published[i];

	for (int k = 1; k <= n; k++) {
		/* Acquire: pairs with the reader's release of ack. */
		if (__atomic_load_n(&rr.ack[k][i], __ATOMIC_ACQUIRE) != g)
			continue;
		uint64_t v = rr_page(i)[8 + k];

		if (v < g || (v & DECOY))
			stale("remote CPU %d wrote generation %lu into page %d, but the page holds %#lx "
			      "(the write went to a freed frame)",
			      k, g, i, v);
	}
}

static void remote_remap(int rounds)
{
	int n = workers(), tids[MAX_WORKERS];

	pattern = "remote_remap";
	memset(&rr, 0, sizeof(rr));
	rr.base = map(NULL, R_PAGES * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);
	T_EXPECT(!MAP_FAILED(rr.base));
	for (int i = 0; i < R_PAGES; i++)
		rr.published[i] = rr_page(i)[0] = 1;
	set_affinity(0, 0);
	for (int k = 1; k <= n; k++) {
		tids[k - 1] = thread_create(rr_reader, (void *)(uintptr_t)k);
		set_affinity(tids[k - 1], k);
	}
	for (int r = 0; r < rounds; r++) {
		int i = r % R_PAGES;
		volatile uint64_t *pg = rr_page(i);

		rr_check(i, n);
		T_EXPECT(map((void *)pg, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED) == pg);
		decoy_take();
		pg[0] = (uint64_t)r + 2;
		/* Release: the tag before its publication. Pairs with
		 * rr_reader()'s acquire load of rr.published[i]. */
		__atomic_store_n(&rr.published[i], (uint64_t)r + 2, __ATOMIC_RELEASE);
		if (!(r % 4))
			yield(); /* let the readers catch up */
	}
	rr.stop = 1;
	for (int k = 0; k < n; k++)
		thread_join(tids[k], NULL);
	for (int i = 0; i < R_PAGES; i++)
		rr_check(i, n);
	unmap(rr.base, R_PAGES * PAGE_SIZE);
	decoys_free();
	note_done("remote_remap", rounds);
}

/* ---- local_remap ---- */

#define SENTINEL 0x5e47e1e75e47e1e7ull

static void local_remap(int rounds)
{
	volatile uint64_t *p = map(NULL, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	pattern = "local_remap";
	T_EXPECT(!MAP_FAILED(p));
	for (int r = 0; r < rounds; r++) {
		p[0] = (uint64_t)r + 1;
		/* The kernel writes p[8] through its PCID: now it caches p. */
		T_EQ(counters_read((uint64_t *)&p[8], 1, -1), 1);
		T_EXPECT(map((void *)p, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED) == p);
		decoy_take();
		if (p[0] != 0)
			stale("round %d: a replaced page read %#lx in user mode, a new page reads 0",
			      r, p[0]);
		p[8] = SENTINEL;
		T_EQ(counters_read((uint64_t *)&p[8], 1, -1), 1);
		if (p[8] == SENTINEL)
			stale("round %d: the kernel's write into a replaced page did not reach the new "
			      "one (it went to the freed frame)",
			      r);
	}
	unmap((void *)p, PAGE_SIZE);
	decoys_free();
	note_done("local_remap", rounds);
}

/* ---- lazy_wake, switch_back ---- */

#define WAKE_STOP 0xffffffffu

static struct {
	volatile uint64_t *page;
	uint32_t go;	    /* futex: the round; WAKE_STOP ends */
	uint64_t published; /* the tag of the page mapped now */
	uint32_t acked;	    /* workers done with this round */
} lw;

static void lw_worker(void *arg)
{
	int k = (int)(uintptr_t)arg;
	uint32_t seen = 0;

	(void)lw.page[0]; /* cached here from now on */
	/* Release: the read above before it is counted; pairs with the
	 * acquire load in lw_wait_acked(). */
	__atomic_fetch_add(&lw.acked, 1, __ATOMIC_RELEASE);
	for (;;) {
		/* Acquire: pairs with the main thread's release of go. */
		while (__atomic_load_n(&lw.go, __ATOMIC_ACQUIRE) == seen)
			futex_wait(&lw.go, seen, 0);
		seen = lw.go;
		if (seen == WAKE_STOP)
			return;
		/* Acquire: the page and its tag (pairs with the release of
		 * published). */
		uint64_t g = __atomic_load_n(&lw.published, __ATOMIC_ACQUIRE);
		uint64_t v = lw.page[0];

		if (v != g)
			stale("CPU %d, woken in round %u, read %#lx; the page mapped has %#lx", k,
			      seen, v, g);
		/* Release: our read is done before the next replacement. Pairs
		 * with the acquire load in lw_wait_acked(). */
		__atomic_fetch_add(&lw.acked, 1, __ATOMIC_RELEASE);
	}
}

static void lw_wait_acked(int n)
{
	/* Acquire: pairs with the workers' release. */
	while (__atomic_load_n(&lw.acked, __ATOMIC_ACQUIRE) < (uint32_t)n)
		yield();
}

/* hogs: another process on each worker CPU, so that a worker comes back
 * by a switch from that process (not from idle). */
static void lazy_wake(int rounds, bool hogs)
{
	int n = workers(), tids[MAX_WORKERS], hog[MAX_WORKERS];
	char buf[64];

	pattern = hogs ? "switch_back" : "lazy_wake";
	memset(&lw, 0, sizeof(lw));
	lw.page = map(NULL, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);
	T_EXPECT(!MAP_FAILED(lw.page));
	lw.published = lw.page[0] = 1;
	set_affinity(0, 0);
	for (int k = 1; k <= n && hogs; k++) {
		snprintf(buf, sizeof(buf), "role_stale_hog %d", k);
		hog[k - 1] = start_child(buf);
		T_EXPECT(hog[k - 1] > 0);
	}
	for (int k = 1; k <= n; k++) {
		tids[k - 1] = thread_create(lw_worker, (void *)(uintptr_t)k);
		set_affinity(tids[k - 1], k);
	}
	lw_wait_acked(n);
	for (int r = 1; r <= rounds; r++) {
		for (int k = 0; k < n; k++)
			wait_off_cpu(tids[k]);
		T_EXPECT(map((void *)lw.page, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED) ==
			 lw.page);
		decoy_take();
		lw.page[0] = (uint64_t)r + 1;
		/* Release: the new page and its tag before the round starts.
		 * Pairs with lw_worker()'s acquire load of published. */
		__atomic_store_n(&lw.published, (uint64_t)r + 1, __ATOMIC_RELEASE);
		lw.acked = 0;
		/* Release: acked's reset before the round; pairs with
		 * lw_worker()'s acquire load of go. */
		__atomic_store_n(&lw.go, (uint32_t)r, __ATOMIC_RELEASE);
		futex_wake(&lw.go, n);
		lw_wait_acked(n);
	}
	/* Release: pairs with the workers' acquire of go. */
	__atomic_store_n(&lw.go, WAKE_STOP, __ATOMIC_RELEASE);
	futex_wake(&lw.go, n);
	for (int k = 0; k < n; k++)
		thread_join(tids[k], NULL);
	for (int k = 0; k < n && hogs; k++) {
		kill_pid(hog[k]);
		wait_pid(hog[k], NULL);
	}
	unmap((void *)lw.page, PAGE_SIZE);
	decoys_free();
	note_done(pattern, rounds);
}

/* role_stale_hog <cpu>: yield on that CPU until killed. */
void t_role_stale_hog(const char *arg)
{
	set_affinity(0, (int)arg_u64(&arg));
	for (;;)
		yield();
}

/* ---- asid_reuse ---- */

#define AS_VA 0x200000000000ull

/* role_stale_as <cpu> <rounds> <index> <start ns>: a page of our own at
 * AS_VA, tagged with our pid; yield round after round on one CPU and
 * check the tag each time. Exit 2 on a stale read (printed). */
void t_role_stale_as(const char *arg)
{
	int cpu = (int)arg_u64(&arg), rounds = (int)arg_u64(&arg), idx = (int)arg_u64(&arg);
	uint64_t start = arg_u64(&arg);

	set_affinity(0, cpu);
	volatile uint64_t *p =
		map((void *)AS_VA, PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_FIXED | UMAP_POPULATE);
	uint64_t tag = 0xa5000000000ull | (uint64_t)getpid() << 8 | (uint64_t)idx;

	if (MAP_FAILED(p))
		exit(10);
	p[0] = tag;
	while (clock_ns() < start) /* every member present before the rounds */
		sleep_ns(1000000);
	for (int r = 0; r < rounds; r++) {
		yield();
		if (p[0] != tag) {
			printf("        # stale_reads: process %d read %#lx at %#llx, its own page "
			       "holds %#lx (round %d)\n",
			       getpid(), p[0], AS_VA, tag, r);
			exit(2);
		}
	}
	exit(0);
}

static struct {
	int pids[16], k, cpu;
	long asids;
	int codes[16];
} ar;

/* One waiter per member, so that the first one to go wrong is reported
 * at once: once members run on each other's translations the kernel
 * itself may not last long (a member's exit frees a kernel stack that a
 * stale entry still maps). */
static void ar_waiter(void *arg)
{
	int i = (int)(uintptr_t)arg, code = -1;

	if (wait_pid(ar.pids[i], &code))
		code = -1;
	/* 2: it read another's page; 128 + vector: killed by a fault, which
	 * these processes never make unless they run on another's
	 * translations of their code, stack or data. */
	if (code == 2 || code > 128)
		stale("process %d of %d sharing %ld PCID slots on CPU %d: %s (exit code %d)", i,
		      ar.k, ar.asids, ar.cpu,
		      code == 2 ? "read another's page" : "killed by a fault in its own code",
		      code);
	ar.codes[i] = code;
}

static void asid_reuse(int rounds)
{
	int tids[16];
	char buf[96];
	uint64_t start = clock_ns() + 30000000; /* 30 ms to start them all */

	pattern = "asid_reuse";
	ar.asids = kswitch("asids");
	ar.k = (int)(ar.asids + 2 > 16 ? 16 : ar.asids + 2);
	ar.cpu = nr_cpus() > 1 ? 1 : 0;
	for (int i = 0; i < ar.k; i++) {
		snprintf(buf, sizeof(buf), "role_stale_as %d %d %d %lu", ar.cpu, rounds, i, start);
		ar.pids[i] = start_child(buf);
		T_EXPECT(ar.pids[i] > 0);
		tids[i] = thread_create(ar_waiter, (void *)(uintptr_t)i);
	}
	for (int i = 0; i < ar.k; i++) {
		thread_join(tids[i], NULL);
		T_EQ(ar.codes[i], 0);
	}
	note_done("asid_reuse", rounds);
}

/* ---- freed_tables ---- */

#define FT_VA	   0x280000000000ull /* a PML4 slot of its own */
#define FT_PAGES   64
#define FT_PATTERN 0x1001ull /* present, not accessed, frame 0x1000 */

static struct {
	uint32_t go, acked;
} ft;

static void ft_worker(void *arg)
{
	(void)arg;
	uint32_t seen = 0;

	for (;;) {
		/* Acquire: the region is mapped before go moves. Pairs with
		 * freed_tables()'s release store of go. */
		while (__atomic_load_n(&ft.go, __ATOMIC_ACQUIRE) == seen)
			futex_wait(&ft.go, seen, 0);
		seen = ft.go;
		if (seen == WAKE_STOP)
			return;
		/* Walk the region's tables in user mode and from the kernel
		 * (a futex compare reads it through the kernel's PCID): both
		 * of this CPU's PCIDs now cache them. The futex does not wait:
		 * the word is not 3. */
		(void)*(volatile uint64_t *)FT_VA;
		futex_wait((uint32_t *)FT_VA, 3, 0);
		/* Release: both walks done before the ack; pairs with
		 * freed_tables()'s acquire load of acked. */
		__atomic_fetch_add(&ft.acked, 1, __ATOMIC_RELEASE);
	}
}

static void freed_tables(int rounds)
{
	int tid;

	pattern = "freed_tables";
	memset(&ft, 0, sizeof(ft));
	set_affinity(0, 0);
	tid = thread_create(ft_worker, NULL);
	set_affinity(tid, 1);
	for (int r = 1; r <= rounds; r++) {
		volatile uint64_t *reg = map((void *)FT_VA, PAGE_SIZE, UPROT_READ | UPROT_WRITE,
					     UMAP_FIXED | UMAP_POPULATE);

		T_EXPECT(reg == (volatile uint64_t *)FT_VA);
		reg[0] = 1;
		ft.acked = 0;
		/* Release: the region mapped before go moves (pairs with the
		 * worker's acquire). */
		__atomic_store_n(&ft.go, (uint32_t)r, __ATOMIC_RELEASE);
		futex_wake(&ft.go, 1);
		/* Acquire: pairs with the worker's release. */
		while (__atomic_load_n(&ft.acked, __ATOMIC_ACQUIRE) < 1)
			yield();
		wait_off_cpu(tid); /* its CPU idles on our mm */
		/* The region's only page: its page table, directory and
		 * directory-pointer table are freed. */
		T_EQ(unmap((void *)FT_VA, PAGE_SIZE), 0);
		volatile uint64_t *fresh =
			map(NULL, FT_PAGES * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

		T_EXPECT(!MAP_FAILED(fresh));
		for (int i = 0; i < FT_PAGES * 512; i++)
			fresh[i] = FT_PATTERN;
		sleep_ns(20000000); /* two ticks: CPU 1 halts, and walks, after each */
		for (int i = 0; i < FT_PAGES * 512; i++) {
			if (fresh[i] != FT_PATTERN)
				stale("round %d: word %d of a fresh page changed from %#llx to %#lx: the "
				      "page was a page table freed under lazy CPU 1, which still walked it",
				      r, i, FT_PATTERN, fresh[i]);
		}
		unmap((void *)fresh, FT_PAGES * PAGE_SIZE);
	}
	/* Release: pairs with the worker's acquire of go. */
	__atomic_store_n(&ft.go, WAKE_STOP, __ATOMIC_RELEASE);
	futex_wake(&ft.go, 1);
	thread_join(tid, NULL);
	note_done("freed_tables", rounds);
}

/* ---- kernel_remap ---- */

static struct {
	uint64_t tag;	   /* the kernel page's tag now */
	uint64_t read_tag; /* the tag the reader last saw through the kernel */
	volatile int stop;
	uint32_t park;	 /* futex: 1 once the whole test is over */
	uint32_t parked; /* the reader reads no more */
	int tid;
} kr;

static void kr_reader(void *arg)
{
	(void)arg;
	while (!kr.stop) {
		/* Acquire: the remap that made this tag returned before it
		 * was published (pairs with the main thread's release). */
		uint64_t g = __atomic_load_n(&kr.tag, __ATOMIC_ACQUIRE);
		long v = sys_test(SYST_KSTALE, KSTALE_READ, 0, 0);

		if (v >= 0 && (uint64_t)v < g)
			stale("CPU 1 read tag %ld through the kernel; the kernel page has %lu", v,
			      g);
		if (v >= 0)
			/* Release: our read of g is done before the main
			 * thread remaps (pairs with its acquire of read_tag). */
			__atomic_store_n(&kr.read_tag, g, __ATOMIC_RELEASE);
		/* A spell in user mode: a remap now is deferred for this CPU. */
		for (volatile int i = 0; i < 2000; i++)
			;
	}
	/* Parked, not exited, until the end of the test: an exit frees a
	 * kernel stack, and with some plants (skip_kflush, skip_asid_flush)
	 * a freed stack left mapped crashes the kernel before the pattern
	 * built to expose that plant has run. Release: our last READ
	 * returned (pairs with the acquire before the teardown). */
	__atomic_store_n(&kr.parked, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&kr.park, __ATOMIC_ACQUIRE))
		futex_wait(&kr.park, 0, 0);
}

static void kernel_remap_end(void)
{
	if (!kr.tid)
		return;
	/* Release: pairs with the reader's acquire of park. */
	__atomic_store_n(&kr.park, 1, __ATOMIC_RELEASE);
	futex_wake(&kr.park, 1);
	thread_join(kr.tid, NULL);
}

static void kernel_remap(int rounds)
{
	pattern = "kernel_remap";
	memset(&kr, 0, sizeof(kr));
	long t = sys_test(SYST_KSTALE, KSTALE_SETUP, 0, 0);

	if (!T_EXPECT(t == 1))
		return;
	kr.tag = 1;
	set_affinity(0, 0);
	kr.tid = thread_create(kr_reader, NULL);
	set_affinity(kr.tid, 1);
	for (int r = 0; r < rounds; r++) {
		/* Acquire: until the reader has read the current tag once.
		 * Pairs with kr_reader()'s release store of read_tag. */
		while (__atomic_load_n(&kr.read_tag, __ATOMIC_ACQUIRE) != kr.tag)
			yield();
		long v;

		while ((v = sys_test(SYST_KSTALE, KSTALE_REMAP, 0, 0)) == -EBUSY)
			; /* the reader is reading it: a moment */
		T_EXPECT(v > 0);
		/* Release: the remap returned before the tag is published.
		 * Pairs with kr_reader()'s acquire load of kr.tag. */
		__atomic_store_n(&kr.tag, (uint64_t)v, __ATOMIC_RELEASE);
	}
	kr.stop = 1;
	/* Acquire: the reader's last READ returned (pairs with its release
	 * of parked). */
	while (!__atomic_load_n(&kr.parked, __ATOMIC_ACQUIRE))
		yield();
	T_EQ(sys_test(SYST_KSTALE, KSTALE_TEARDOWN, 0, 0), 0);
	note_done("kernel_remap", rounds);
}

void t_stale_reads(const char *arg)
{
	char platform[32] = "";
	long r = kswitch("torture_rounds") / 10;
	int rounds = r < 20 ? 20 : (int)r;

	(void)arg;
	kinfo(KINFO_PLATFORM, platform, sizeof(platform));
	if (!counter("page_walks") && strcmp(platform, "hardware")) {
		ut_note("SKIP: this TLB forgets on every CR3 write (needs the PCID-faithful Bochs, "
			"tools/bochs, or hardware)");
		exit(3);
	}
	t0_ns = clock_ns();
	ut_note("stale_reads: %d CPUs, %d rounds per pattern, tlbcheck=%s tlbinject=%ld", nr_cpus(),
		rounds, kswitch("tlbcheck") == 1 ? "on" : "off", kswitch("tlbinject"));
	/* Cheapest first; kernel_remap before any thread of ours exits (a
	 * missed kernel flush can also leave a freed kernel stack mapped, and
	 * then the kernel crashes before this test sees anything). */
	local_remap(rounds);
	if (nr_cpus() > 1)
		kernel_remap(rounds);
	asid_reuse(rounds);
	if (nr_cpus() < 2) {
		ut_note("the cross-CPU patterns need two CPUs");
		return;
	}
	lazy_wake(rounds, true);
	lazy_wake(rounds, false);
	remote_remap(rounds * 2);
	freed_tables(rounds / 4 < 4 ? 4 : rounds / 4);
	kernel_remap_end();
}
