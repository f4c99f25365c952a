/*
 * bench: the measurement framework, the helpers the benchmarks share, and
 * main (the list of benchmarks to run, or a helper role). See bench.h for
 * how one result is measured.
 */
#include "user/bench/bench.h"
#include "include/uapi/test.h"
#include "lib/select.h"

#define BATCHES_DEFAULT 31
#define MAX_BATCHES	101
#define MAX_COUNTERS	128

int bench_errors;
static int batches = BATCHES_DEFAULT;
static uint64_t target_cycles;
/* stall=N (a test of the calibration): the first calibration batch of n = N
 * iterations of every operation reads as having reached the target, as one
 * a host preempted would. */
static uint64_t stall_at;
static uint64_t khz;
static char config[512], platform[32];
static const char *clock_kind;

/* The counters every line reports, per operation (kernel/counters.h). */
static const char *const event_names[] = {
	"syscall",	   "ctx_switch",    "cr3_write",      "cr3_write_noflush",
	"ipi_sent",	   "ipi_sent_tlb",  "tlb_flush_full", "tlb_flush_pages",
	"invlpg",	   "invpcid",	    "tlb_lazy_skip",  "asid_hit",
	"asid_miss",	   "asid_evict",    "pti_flush_full", "pti_flush_precise",
	"kflush_deferred", "kflush_ipi",    "kflush_catchup", "xsave",
	"xrstor",	   "msr_write",	    "pasid_write",    "membarrier_ipi",
	"page_fault_user", "ipc_fastpath",  "ipc_slowpath",   "page_walks",
	"handle_xfer",	   "tlb_shootdown", "memobj_revoke",  "memobj_revoke_mm",
	"irq_user",	   "irq_user_ack",  "ipc_fused",
};
#define NR_EVENTS (sizeof(event_names) / sizeof(event_names[0]))
static int event_index[NR_EVENTS];
static uint64_t event_x100[NR_EVENTS];

void bench_note(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# bench: %s\n", buf);
}

/* Serializing enough for batches of a millisecond: LFENCE waits for the
 * instructions before it to complete locally before RDTSC reads. */
static inline uint64_t tsc_now(void)
{
	uint32_t lo, hi;

	/* LFENCE, see above. No pair: it orders only this CPU's own
	 * instruction stream. */
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/*
 * Path-length profiler markers (tools/pathprof.py, `make profile`): 8-byte
 * NOPs, `nopl MAGIC(%rax,%rax,1)`, that do nothing on any CPU and that the
 * profiling Bochs (tools/bochs/instrument/ukprof) recognises by their
 * displacement. START and STOP bracket a timed batch, STOP with the
 * batch's operation count in RAX and the hardware interrupts each
 * operation takes itself in RDX (a batch with others is dropped); DONE
 * ends an operation's timed batches with its name in RDI, RSI, RDX, RCX.
 * Inside the TSC window they add two instructions and two moves per batch.
 */
static inline void prof_start(void)
{
	__asm__ __volatile__("nopl 0x556b5001(%%rax,%%rax,1)" ::: "memory");
}

static inline void prof_stop(uint64_t ops, uint64_t irqs_per_op)
{
	__asm__ __volatile__("nopl 0x556b5002(%%rax,%%rax,1)" ::"a"(ops), "d"(irqs_per_op)
			     : "memory");
}

static void prof_done(const char *name)
{
	uint64_t w[4] = { 0 };

	memcpy(w, name, strnlen(name, sizeof(w) - 1));
	__asm__ __volatile__("nopl 0x556b5003(%%rax,%%rax,1)" ::"D"(w[0]), "S"(w[1]), "d"(w[2]),
			     "c"(w[3])
			     : "memory");
}

static void snapshot(uint64_t *v)
{
	if (counters_read(v, MAX_COUNTERS, -1) < 0)
		memset(v, 0, MAX_COUNTERS * sizeof(*v));
}

/* Event e's count between two snapshots (0: the kernel lacks the counter). */
static uint64_t event_delta(size_t e, const uint64_t *c0, const uint64_t *c1)
{
	int i = event_index[e];

	return i >= 0 ? c1[i] - c0[i] : 0;
}

/* What the two snapshots around a batch add to its counts themselves (the
 * second read's system call; with PTI its CR3 writes): the least of a few
 * reads with nothing between them, subtracted from every timed batch, so
 * that an operation measured two to a batch (a slow one, or one with
 * max_iters) reports its own events, not half a system call more. */
static uint64_t harness_events[NR_EVENTS];

static void measure_harness(void)
{
	static uint64_t c0[MAX_COUNTERS], c1[MAX_COUNTERS];

	for (int k = 0; k < 5; k++) {
		snapshot(c0);
		snapshot(c1);
		for (size_t e = 0; e < NR_EVENTS; e++) {
			uint64_t d = event_delta(e, c0, c1);

			if (!k || d < harness_events[e])
				harness_events[e] = d;
		}
	}
}

/* One batch of n iterations; delta set: a timed batch (counted, marked). */
static uint64_t one_batch(const struct bench_op *op, uint64_t n, uint64_t *delta)
{
	static uint64_t c0[MAX_COUNTERS], c1[MAX_COUNTERS];
	uint64_t per_iter = op->ops_per_iter ? op->ops_per_iter : 1;

	if (op->setup)
		op->setup(op->ctx, n);
	if (delta)
		snapshot(c0);
	uint64_t t0 = tsc_now();

	if (delta)
		prof_start();
	op->run(op->ctx, n);
	if (delta)
		prof_stop(n * per_iter, op->irqs_per_op);
	uint64_t t1 = tsc_now();

	if (delta) {
		snapshot(c1);
		for (size_t e = 0; e < NR_EVENTS; e++) {
			uint64_t d = event_delta(e, c0, c1);

			delta[e] += d > harness_events[e] ? d - harness_events[e] : 0;
		}
	}
	if (op->teardown)
		op->teardown(op->ctx, n);
	return t1 - t0;
}

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++) {
		uint64_t x = v[i];
		int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

int bench_measure(const struct bench_op *op, struct bench_result *r)
{
	uint64_t per_iter = op->ops_per_iter ? op->ops_per_iter : 1;
	uint64_t n = 1, sample[MAX_BATCHES], delta[NR_EVENTS] = { 0 };
	bool first_stall = true;

	/* Calibrate: double until a batch reaches the target, and a second
	 * batch of the same size confirms it (the smaller counts). One slow
	 * batch, a cold first operation (an IPC server still starting, first
	 * touches) or one a loaded host preempted, must not stop the doubling.
	 * Regressions: the IPC ping-pongs calibrated to one operation a batch,
	 * whose marker and clock reads then went unamortized (cycles 5 above
	 * the profile: pathlen/<op>/profile failed);
	 * calibration_stopped_by_host_preemption: null_syscall stopped at two
	 * operations a batch under QEMU on a loaded host, and the counter read
	 * that ends each batch added half a system call per operation. */
	for (;;) {
		uint64_t c = one_batch(op, n, NULL);

		if (n == stall_at && first_stall) {
			first_stall = false;
			c = target_cycles;
		}
		if (c >= target_cycles) {
			uint64_t again = one_batch(op, n, NULL);

			c = again < c ? again : c;
		}
		if (c >= target_cycles || (op->max_iters && n * 2 > op->max_iters) ||
		    n >= (1ull << 40))
			break;
		n *= 2;
	}
	for (int w = 0; w < 2; w++)
		one_batch(op, n, NULL);
	for (int b = 0; b < batches; b++)
		sample[b] = one_batch(op, n, delta) * 100 / (n * per_iter);
	prof_done(op->name);
	sort_u64(sample, batches);
	r->cyc[0] = sample[batches / 10];
	r->cyc[1] = sample[batches / 2];
	r->cyc[2] = sample[batches - 1 - batches / 10];
	r->ops = n * per_iter * (uint64_t)batches;
	r->batches = batches;
	for (size_t e = 0; e < NR_EVENTS; e++)
		event_x100[e] = delta[e] * 100 / r->ops;
	r->events = event_x100;
	return 0;
}

const char *bench_x100(char *buf, uint64_t v)
{
	snprintf(buf, 32, "%lu.%02lu", v / 100, v % 100);
	return buf;
}

static uint64_t ns_x100(uint64_t cyc_x100)
{
	return khz ? cyc_x100 * 1000000 / khz : 0;
}

void bench_print(const struct bench_op *op, const struct bench_result *r, const char *extra)
{
	static char line[2048];
	char a[32], b[32], c[32];
	size_t len = 0;
	bool ns = !op->unit || !strcmp(op->unit, "ns");
	/* In ns, or as measured for other units (tsc/insn). */
	uint64_t m = ns ? ns_x100(r->cyc[1]) : r->cyc[1], lo = ns ? ns_x100(r->cyc[0]) : r->cyc[0],
		 hi = ns ? ns_x100(r->cyc[2]) : r->cyc[2];

#define ADD(...)                                                                         \
	len += (size_t)snprintf(line + len, len < sizeof(line) ? sizeof(line) - len : 0, \
				__VA_ARGS__)
	ADD("BENCH {\"name\":\"%s\",\"unit\":\"%s\",\"median\":%s,\"p10\":%s,\"p90\":%s,", op->name,
	    ns ? "ns" : op->unit, bench_x100(a, m), bench_x100(b, lo), bench_x100(c, hi));
	ADD("\"iters\":%lu,\"batches\":%d,\"cpus\":%d,\"cpus_used\":%d,", r->ops, r->batches,
	    nr_cpus(), op->cpus_used ? op->cpus_used : 1);
	ADD("\"cycles\":%lu,\"cycles_p10\":%lu,\"cycles_p90\":%lu,", (r->cyc[1] + 50) / 100,
	    (r->cyc[0] + 50) / 100, (r->cyc[2] + 50) / 100);
	ADD("\"platform\":\"%s\",\"clock\":\"%s\",\"tsc_khz\":%lu,", platform, clock_kind, khz);
	if (extra && *extra)
		ADD("%s,", extra);
	ADD("\"config\":\"%s\",\"events\":{", config);
	for (size_t e = 0; e < NR_EVENTS; e++)
		ADD("%s\"%s\":%s", e ? "," : "", event_names[e], bench_x100(a, r->events[e]));
	ADD("}}\n");
#undef ADD
	if (len >= sizeof(line)) {
		bench_note("%s: result line too long", op->name);
		bench_errors++;
		return;
	}
	console_write(line, len);
}

int bench_run(const struct bench_op *op)
{
	struct bench_result r;

	if (bench_measure(op, &r))
		return -1;
	bench_print(op, &r, NULL);
	return 0;
}

bool bench_wanted(const char *sel, const char *name)
{
	return select_wanted(sel, name, false);
}

/* ---- shared helpers ---- */

static struct {
	volatile int quit;
	uint32_t running, touched;
	uint32_t word; /* futex the idle threads block on */
	volatile uint8_t *page;
	int n, tids[BENCH_MAX_CPUS];
} helpers;

static void spinner(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&helpers.running, 1, __ATOMIC_RELAXED); /* a count only */
	while (!helpers.quit)
		(void)*helpers.page;
}

static void start_threads(int t, volatile uint8_t *page, void (*fn)(void *))
{
	helpers.quit = 0;
	helpers.running = 0;
	helpers.touched = 0;
	helpers.word = 0;
	helpers.page = page;
	helpers.n = t;
	set_affinity(0, 0);
	for (int i = 0; i < t; i++) {
		helpers.tids[i] = thread_create(fn, NULL);
		if (helpers.tids[i] < 0 || set_affinity(helpers.tids[i], i + 1)) {
			bench_note("cannot start a thread on CPU %d", i + 1);
			bench_errors++;
		}
	}
}

void spin_start(int t, volatile uint8_t *page)
{
	start_threads(t, page, spinner);
	while (__atomic_load_n(&helpers.running, __ATOMIC_RELAXED) < (uint32_t)t) /* a count */
		sleep_ns(1000000);
}

void spin_stop(void)
{
	helpers.quit = 1;
	for (int i = 0; i < helpers.n; i++)
		thread_join(helpers.tids[i], NULL);
	helpers.n = 0;
}

static void idler(void *arg)
{
	(void)arg;
	(void)*helpers.page;
	/* Acquire: pairs with idle_stop()'s release store. */
	while (__atomic_load_n(&helpers.word, __ATOMIC_ACQUIRE) == 0)
		futex_wait(&helpers.word, 0, 0);
}

void idle_start(int t, volatile uint8_t *page)
{
	start_threads(t, page, idler);
	/* Until each has blocked and its CPU switched away (to idle). */
	for (int i = 0; i < t; i++) {
		while (sys_test(SYST_TASK_OFF_CPU, helpers.tids[i], 0, 0) != 1)
			sleep_ns(1000000);
	}
}

void idle_stop(void)
{
	/* Release: the idlers' acquire loads see it. Pairs with the acquire
	 * load of helpers.word in idler(). */
	__atomic_store_n(&helpers.word, 1, __ATOMIC_RELEASE);
	futex_wake(&helpers.word, BENCH_MAX_CPUS);
	for (int i = 0; i < helpers.n; i++)
		thread_join(helpers.tids[i], NULL);
	helpers.n = 0;
}

int bench_spawn(const char *fmt, ...)
{
	char arg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(arg, sizeof(arg), fmt, ap);
	va_end(ap);
	return spawn("bench", arg);
}

int bench_spawn_h(int h, uint32_t how, const char *fmt, ...)
{
	char arg[256];
	va_list ap;
	struct spawn_handle sh = { h, how };

	va_start(ap, fmt);
	vsnprintf(arg, sizeof(arg), fmt, ap);
	va_end(ap);
	return spawn_h("bench", arg, &sh, 1);
}

int vec_level(void)
{
	uint32_t a, b, c, d, lo, hi;

	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)) || !(c & (1u << 28))) /* OSXSAVE, AVX */
		return 0;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 0x6) != 0x6) /* SSE and YMM state enabled */
		return 0;
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	if ((b & (1u << 16)) && (lo & 0xe0) == 0xe0) /* AVX512F, opmask+ZMM state */
		return 2;
	return 1;
}

/* ---- the path-length calibration ---- */

/* n rounds of a loop of exactly 1000 instructions (500 x dec; jnz). */
static void insn_loop(void *ctx, uint64_t n)
{
	(void)ctx;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = 500;

		__asm__ __volatile__("1: dec %0; jnz 1b" : "+r"(k));
	}
}

/* TSC ticks per executed instruction: 1.00 under Bochs with one CPU and
 * clock sync=none is what makes "cycles" a path length there. */
static void calibrate(void)
{
	struct bench_op op = {
		.name = "tsc_per_insn", .run = insn_loop, .ops_per_iter = 1000, .unit = "tsc/insn"
	};

	bench_run(&op);
}

static void setup_globals(void)
{
	khz = tsc_khz();
	if (kinfo(KINFO_CONFIG, config, sizeof(config)) < 0)
		strlcpy(config, "?", sizeof(config));
	if (kinfo(KINFO_PLATFORM, platform, sizeof(platform)) < 0)
		strlcpy(platform, "?", sizeof(platform));
	if (!strcmp(platform, "bochs"))
		clock_kind = nr_cpus() == 1 ? "path-length" : "instructions-smp";
	else if (!strncmp(platform, "qemu", 4))
		clock_kind = "emulated";
	else if (!strcmp(platform, "hardware"))
		clock_kind = "real";
	else
		clock_kind = "virtual";
	/* Bochs: a batch of 200,000 instructions; elsewhere 2 ms. */
	target_cycles = !strcmp(platform, "bochs") ? 200000 : khz * 2;
	for (size_t e = 0; e < NR_EVENTS; e++)
		event_index[e] = counter_index(event_names[e]);
}

/* The number after "key" (an item of the list), or -1 when it is absent. */
static long option(const char *sel, const char *key)
{
	size_t len = strlen(key);
	const char *p = sel;

	while (*p && (strncmp(p, key, len) || (p > sel && p[-1] != ',')))
		p++;
	if (!*p)
		return -1;
	long v = 0;

	for (p += len; *p >= '0' && *p <= '9' && v < 1000000; p++)
		v = v * 10 + (*p - '0');
	return v;
}

/* Options in the list: batches=N, stall=N. */
static void options(const char *sel)
{
	long v = option(sel, "batches=");

	if (v >= 5 && v <= MAX_BATCHES)
		batches = (int)v;
	else if (v >= 0)
		bench_note("batches=%ld out of range 5..%d; using %d", v, MAX_BATCHES, batches);
	v = option(sel, "stall=");
	if (v > 0) {
		stall_at = (uint64_t)v;
		bench_note("stall=%ld: the first calibration batch of %ld iterations reads as slow",
			   v, v);
	}
}

int main(const char *arg, uint64_t arg_len, uint64_t nr_handles)
{
	/* init passes the hardware resource (irq_to_user's IRQ object). */
	int res = nr_handles >= 1 && HANDLE_INFO_TYPE(handle_info(SPAWN_HANDLE(0))) == KOBJ_HWRES
			  ? SPAWN_HANDLE(0)
			  : -1;

	(void)arg_len;
	if (!strncmp(arg, "role_", 5)) {
		setup_globals();
		if (!strncmp(arg, "role_ipc_server ", 16))
			role_ipc_server(arg + 16);
		else if (!strncmp(arg, "role_ring ", 10))
			role_ring(arg + 10);
		else if (!strncmp(arg, "role_shm_reader ", 16))
			role_shm_reader(arg + 16);
		else if (!strncmp(arg, "role_irq_server ", 16))
			role_irq_server(arg + 16);
		else
			return 2;
		return bench_errors ? 1 : 0;
	}
	setup_globals();
	options(arg);
	set_affinity(0, 0);
	measure_harness(); /* where the batches will run */
	printf("# bench: %s, %d CPUs, TSC %lu kHz, clock %s, %d batches per result\n", platform,
	       nr_cpus(), khz, clock_kind, batches);
	printf("# bench: config %s\n", config);
	uint64_t t0 = clock_ns();

	if (bench_wanted(arg, "tsc_per_insn"))
		calibrate();
	bench_basic(arg);
	bench_mm(arg);
	bench_shm(arg);
	bench_irq(arg, res);
	bench_ring(arg);
	bench_wake(arg);
	printf("# bench: done in %lu ms, %d errors\n", (clock_ns() - t0) / 1000000, bench_errors);
	return bench_errors ? 1 : 0;
}
