/*
 * lbench harness (see harness.h): options, TSC calibration, batches,
 * percentiles, /proc/interrupts deltas, BENCH lines, the end of the run.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <cpuid.h>
#include <fnmatch.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LB_WARMUP    2
#define LB_MAX_ITERS (1ull << 26)

int lb_ncpus;
int lb_errors;

static char cmdline[4096];
static char platform[32];
static const char *clock_kind;
static char config[512];
static double tsc_khz;
static uint64_t target_cycles;
static int batches = 31;

/* Events: /proc/interrupts rows, summed over CPUs (received IPIs). */
static const struct {
	const char *row, *name;
} events[] = {
	{ "TLB:", "tlb_ipi_recv" },
	{ "CAL:", "call_ipi_recv" },
	{ "RES:", "resched_ipi_recv" },
};
#define NR_EVENTS (sizeof(events) / sizeof(events[0]))

/*
 * Page walks: the patched Bochs (tools/bochs/README.md) counts every TLB
 * miss that walked, per CPU. User space reads them through I/O ports
 * (ioperm; we are init, so root): OUT 0xe0 with cpu << 8 | counter latches
 * one counter of that CPU in the CPU we run on, IN 0xe0 / IN 0xe4 read its
 * halves; 0xffffffff selects the ID. Counters 0-3 are the walks (data and
 * instruction, user and kernel half). Probed only under Bochs: elsewhere
 * port 0xe0 may be a device's. The caller is pinned (lb_pin), so the
 * latch it reads is the one it set.
 */
#define PW_PORT	 0xe0
#define PW_MAGIC 0x4258504349440001ull
static bool pw_present;

static uint64_t pw_read(uint32_t sel)
{
	uint64_t lo, hi;

	outl(sel, PW_PORT);
	lo = inl(PW_PORT);
	hi = inl(PW_PORT + 4);
	return hi << 32 | lo;
}

static void pw_probe(void)
{
	if (strcmp(platform, "bochs") || ioperm(PW_PORT, 8, 1))
		return;
	pw_present = pw_read(0xffffffff) == PW_MAGIC;
}

static uint64_t pw_walks(void)
{
	uint64_t n = 0;

	for (int c = 0; c < lb_ncpus; c++)
		for (uint32_t k = 0; k < 4; k++)
			n += pw_read((uint32_t)c << 8 | k);
	return n;
}

static const char *opt(const char *key)
{
	static char val[256];
	size_t len = strlen(key);

	for (const char *p = cmdline; (p = strstr(p, key)) != NULL; p += len) {
		if ((p != cmdline && p[-1] != ' ') || p[len] != '=')
			continue;
		size_t n = strcspn(p + len + 1, " \n");

		if (n >= sizeof(val))
			n = sizeof(val) - 1;
		memcpy(val, p + len + 1, n);
		val[n] = '\0';
		return val;
	}
	return NULL;
}

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* QEMU TCG and KVM name themselves in CPUID leaf 0x40000000; Bochs does
 * not set the hypervisor bit. The caller's lbench.platform= wins. */
static void detect_platform(void)
{
	unsigned a, b, c, d;
	const char *p = opt("lbench.platform");

	if (p) {
		snprintf(platform, sizeof(platform), "%s", p);
	} else if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 31))) {
		char sig[13] = { 0 };

		__cpuid(0x40000000, a, b, c, d);
		memcpy(sig, &b, 4);
		memcpy(sig + 4, &c, 4);
		memcpy(sig + 8, &d, 4);
		snprintf(platform, sizeof(platform), "%s",
			 !strcmp(sig, "TCGTCGTCGTCG")	 ? "qemu"
			 : !strncmp(sig, "KVMKVMKVM", 9) ? "kvm"
							 : "hypervisor");
	} else {
		snprintf(platform, sizeof(platform), "hw");
	}
	clock_kind = !strcmp(platform, "qemu")	  ? "emulated"
		     : !strcmp(platform, "bochs") ? "path-length"
						  : "real";
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void calibrate_tsc(void)
{
	double t0 = now_ns(), t1;
	uint64_t c0 = lb_rdtsc(), c1;

	do {
		t1 = now_ns();
		c1 = lb_rdtsc();
	} while (t1 - t0 < 50e6);
	tsc_khz = (c1 - c0) / (t1 - t0) * 1e6;
}

/* Whether the first "flags" line of /proc/cpuinfo lists flag. */
static bool has_flag(const char *cpuinfo, const char *flag)
{
	const char *p = strstr(cpuinfo, "\nflags");
	size_t n = strlen(flag);

	if (!p)
		return false;
	const char *end = strchr(p + 1, '\n');

	for (p = strchr(p, ':'); p && *p && (!end || p < end); p++) {
		if (p[0] == ' ' && !strncmp(p + 1, flag, n) &&
		    (p[n + 1] == ' ' || p[n + 1] == '\n' || !p[n + 1]))
			return true;
	}
	return false;
}

/* "pti=on|off pcid=on|off" as Linux chose them, then the boot words that
 * are switches (everything but console, quiet and our own options). */
static void describe_config(void)
{
	struct utsname u;
	char buf[4096], *save = NULL;
	int n;

	uname(&u);
	/* PTI from the CPU flags Linux set: "pti" is X86_FEATURE_PTI, set also
	 * when pti=on forces it on a CPU the meltdown file calls "Not
	 * affected" (Bochs's and QEMU's). */
	static char cpuinfo[32768];

	read_file("/proc/cpuinfo", cpuinfo, sizeof(cpuinfo));
	const char *pti = has_flag(cpuinfo, "pti") ? "on" : "off";
	const char *pcid = has_flag(cpuinfo, "pcid") ? "on" : "off";

	n = snprintf(config, sizeof(config), "linux %s pti=%s pcid=%s", u.release, pti, pcid);
	snprintf(buf, sizeof(buf), "%s", cmdline);
	for (char *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		if (!strcmp(w, "--"))
			break; /* the rest is init's arguments */
		if (!strncmp(w, "console=", 8) || !strcmp(w, "quiet") ||
		    !strncmp(w, "lbench.", 7) || !strncmp(w, "BOOT_IMAGE=", 11) || strchr(w, '"'))
			continue;
		if (n < (int)sizeof(config))
			n += snprintf(config + n, sizeof(config) - n, " %s", w);
	}
}

void lb_init(void)
{
	cpu_set_t set;
	const char *v;

	read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	detect_platform();
	/* The affinity of init is every online CPU: count it before pinning. */
	CPU_ZERO(&set);
	lb_ncpus = sched_getaffinity(0, sizeof(set), &set) ? 1 : CPU_COUNT(&set);
	if (lb_ncpus > LB_MAX_CPUS)
		lb_ncpus = LB_MAX_CPUS;
	lb_pin(0);
	pw_probe();
	calibrate_tsc();
	describe_config();
	target_cycles = !strcmp(platform, "bochs") ? 200000 : (uint64_t)(tsc_khz * 2);
	if ((v = opt("lbench.target_us")))
		target_cycles = (uint64_t)(tsc_khz * atof(v) / 1000);
	if ((v = opt("lbench.target_cycles")))
		target_cycles = strtoull(v, NULL, 0);
	if ((v = opt("lbench.batches")))
		batches = atoi(v) < 3 ? 3 : atoi(v) > 1000 ? 1000 : atoi(v);
	lb_note("lbench: %s, platform %s, %d CPUs, TSC %.0f kHz, batch >= %llu cycles, %d batches%s",
		config, platform, lb_ncpus, tsc_khz, (unsigned long long)target_cycles, batches,
		pw_present ? ", page walks counted (PCID-faithful Bochs)" : "");
}

bool lb_wanted(const char *name)
{
	const char *sel = opt("lbench.only");
	char buf[256], *save = NULL;

	if (!sel || !strcmp(sel, "all"))
		return true;
	snprintf(buf, sizeof(buf), "%s", sel);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!fnmatch(w, name, 0))
			return true;
	}
	return false;
}

void lb_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

void lb_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		lb_note("cannot pin to CPU %d", cpu);
		lb_errors++;
	}
}

long lb_futex(volatile uint32_t *word, int op, uint32_t val)
{
	return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void read_events(uint64_t *out)
{
	static char buf[1 << 16];

	read_file("/proc/interrupts", buf, sizeof(buf));
	for (size_t e = 0; e < NR_EVENTS; e++) {
		char *p = strstr(buf, events[e].row);

		out[e] = 0;
		if (!p)
			continue;
		p += strlen(events[e].row);
		for (;;) {
			char *end;
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			out[e] += v;
			p = end;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank on the sorted samples. */
static double pct(const double *s, int n, int p)
{
	return s[(n - 1) * p / 100 + ((n - 1) * p % 100 >= 50)];
}

int lb_run(const struct lb_op *op)
{
	uint64_t per = op->ops_per_iter ? op->ops_per_iter : 1;
	uint64_t cap = op->max_iters ? op->max_iters : LB_MAX_ITERS;
	uint64_t n = 1, c, ev0[NR_EVENTS], ev1[NR_EVENTS], pw0 = 0, pw1 = 0;
	double s[1000];

	/* Calibrate as ours does (user/bench/bench.c bench_measure): double
	 * until a batch reaches the target and a second of the same size
	 * confirms it (the smaller counts). Stopping at the first let a cold
	 * first batch end the doubling: every as_ring ran one lap a batch, the
	 * ping-pong one round trip under QEMU (found in review). */
	for (;;) {
		if ((c = op->run(op->ctx, n)) == LB_FAILED)
			goto failed;
		if (c >= target_cycles) {
			uint64_t again = op->run(op->ctx, n);

			if (again == LB_FAILED)
				goto failed;
			c = again < c ? again : c;
		}
		if (c >= target_cycles || n >= cap)
			break;
		n *= 2;
	}
	for (int w = 0; w < LB_WARMUP; w++) {
		if (op->run(op->ctx, n) == LB_FAILED)
			goto failed;
	}
	read_events(ev0);
	if (pw_present)
		pw0 = pw_walks();
	for (int b = 0; b < batches; b++) {
		if ((c = op->run(op->ctx, n)) == LB_FAILED)
			goto failed;
		s[b] = (double)c / (n * per);
	}
	if (pw_present)
		pw1 = pw_walks();
	read_events(ev1);
	qsort(s, batches, sizeof(s[0]), cmp_double);

	double ns = 1e6 / tsc_khz, ops = (double)n * per * batches;
	double med = pct(s, batches, 50), p10 = pct(s, batches, 10), p90 = pct(s, batches, 90);

	printf("BENCH {\"name\":\"%s\",\"unit\":\"ns\",\"median\":%.2f,\"p10\":%.2f,\"p90\":%.2f,"
	       "\"iters\":%llu,\"batches\":%d,\"cpus\":%d,\"cycles\":%.0f,\"cycles_p10\":%.0f,"
	       "\"cycles_p90\":%.0f,\"platform\":\"%s\",\"clock\":\"%s\",%s%s%s"
	       "\"config\":\"%s%s%s\",\"events\":{",
	       op->name, med * ns, p10 * ns, p90 * ns, (unsigned long long)ops, batches, lb_ncpus,
	       med, p10, p90, platform, clock_kind, op->mechanism ? "\"mechanism\":\"" : "",
	       op->mechanism ? op->mechanism : "", op->mechanism ? "\"," : "", config,
	       op->note ? " " : "", op->note ? op->note : "");
	for (size_t e = 0; e < NR_EVENTS; e++)
		printf("%s\"%s\":%.2f", e ? "," : "", events[e].name, (ev1[e] - ev0[e]) / ops);
	if (pw_present)
		printf(",\"page_walks\":%.2f", (pw1 - pw0) / ops);
	printf("}}\n");
	fflush(stdout);
	return 0;
failed:
	lb_note("%s failed", op->name);
	lb_errors++;
	return -1;
}

void lb_finish(void)
{
	const char *verdict = lb_errors ? "fail" : "pass";

	/* The verdict line as this kernel's (kernel/machine.c): STX first. */
	printf("LBENCH DONE errors=%d\n\x02@@UKERNEL-EXIT %s@@\n", lb_errors, verdict);
	fflush(stdout);
	/* Run by hand (not as init): nothing to power off. */
	if (getpid() != 1)
		exit(lb_errors ? 1 : 0);
	/* The console is interrupt driven: wait until the UART sent it all
	 * before the emulator is told to exit. */
	tcdrain(STDOUT_FILENO);
	usleep(100000);
	/* QEMU's isa-debug-exit (runner.py): exit status (v << 1) | 1. */
	if ((!strcmp(platform, "qemu") || !strcmp(platform, "kvm")) && ioperm(0xf4, 4, 1) == 0)
		outl(lb_errors ? 0x11 : 0x10, 0xf4);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
