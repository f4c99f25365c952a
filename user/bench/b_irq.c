/*
 * irq_to_user (BENCHMARKS.md): a device interrupt until the user-level
 * driver holding it runs.
 *
 * The interrupt: a self-IPI on the vector of an IRQ object bound to a line
 * no device drives (SYST_IRQ_RAISE; kernel/irq_obj.c), taken by the same
 * handler as the I/O APIC's delivery: mask the line, count, wake the
 * holder. Why not a real device: the only one a user driver holds is COM1,
 * whose transmitter interrupt would put a byte in the serial log per
 * operation and whose timing under emulation depends on the chardev; a
 * self-IPI is exact under Bochs (a path length) and repeatable anywhere.
 * What it leaves out: the I/O APIC's own delivery (a bus message, no
 * instructions) and the EOI broadcast to it (one more LAPIC write).
 *
 * One operation, both processes pinned to CPU 0: the bench process reads
 * the TSC and raises the interrupt (a system call); the handler wakes the
 * server (role_irq_server, a process of its own holding the IRQ handle)
 * blocked in irq_wait; the bench process yields until the server has run:
 * the server reads the TSC, bumps a shared counter, acknowledges
 * (irq_ack: the line unmasked) and waits again. The line's cycles and
 * events are per round trip; to_user_cycles (median, p10, p90) is the
 * raise to the server's first user instruction after irq_wait, the
 * benchmark's definition (under Bochs with one CPU: instructions).
 */
#include "user/bench/bench.h"
#include "include/uapi/test.h"

struct irq_page {
	volatile uint64_t seq, t_user;
};

#define LAT_MAX 4096

struct irq_ctx {
	int irq;
	struct irq_page *pg;
	uint64_t lat[LAT_MAX];
	uint64_t nlat;
	bool broken;
};

/* role_irq_server: SPAWN_HANDLE(0) the IRQ (R_ACK), (1) the shared page. */
void role_irq_server(const char *arg)
{
	(void)arg;
	set_affinity(0, 0);
	struct irq_page *pg = mo_map(SPAWN_HANDLE(1), NULL, UPROT_READ | UPROT_WRITE);

	if (MAP_FAILED(pg))
		exit(3);
	for (;;) {
		if (irq_wait(SPAWN_HANDLE(0), 0) < 1)
			exit(4);
		pg->t_user = rdtsc();
		/* Release: t_user before seq; pairs with irq_run's acquire loads. */
		__atomic_store_n(&pg->seq, pg->seq + 1, __ATOMIC_RELEASE);
		irq_ack(SPAWN_HANDLE(0));
	}
}

static void irq_run(void *ctx, uint64_t n)
{
	struct irq_ctx *c = ctx;

	for (uint64_t i = 0; i < n; i++) {
		/* Acquire (both loads): the server's t_user is read after the
		 * seq it published with it; pairs with its release store. */
		uint64_t s = __atomic_load_n(&c->pg->seq, __ATOMIC_ACQUIRE);
		uint64_t t0 = rdtsc();

		if (sys_test(SYST_IRQ_RAISE, c->irq, 0, 0))
			c->broken = true;
		/* Acquire: see above; pairs with role_irq_server()'s release
		 * store of seq. */
		for (int spin = 0; __atomic_load_n(&c->pg->seq, __ATOMIC_ACQUIRE) == s; spin++) {
			yield();
			if (spin > 1000000) {
				c->broken = true;
				return;
			}
		}
		c->lat[c->nlat++ % LAT_MAX] = c->pg->t_user - t0;
	}
}

static uint64_t pick(uint64_t *v, uint64_t n, uint64_t num, uint64_t den)
{
	for (uint64_t i = 1; i < n; i++) { /* insertion sort: n <= LAT_MAX */
		uint64_t x = v[i], j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n ? v[(n - 1) * num / den] : 0;
}

static void irq_to_user(int res)
{
	static struct irq_ctx c;
	static const int lines[] = { 3, 5, 10, 11, 9 };
	int line = -1, mo = mo_create(1), pid = -1;

	c.irq = -1;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && c.irq < 0; i++) {
		c.irq = irq_create(res, lines[i]);
		line = lines[i];
	}
	c.pg = mo < 0 ? NULL : mo_map(mo, NULL, UPROT_READ | UPROT_WRITE);
	if (c.irq < 0 || !c.pg || MAP_FAILED(c.pg)) {
		bench_note("irq_to_user: no spare IRQ line or no memory (irq %d, mo %d)", c.irq,
			   mo);
		bench_errors++;
		return;
	}
	struct spawn_handle hs[2] = { { c.irq, R_ACK | R_XFER },
				      { mo, R_MAP_READ | R_MAP_WRITE | R_XFER } };

	pid = spawn_h("bench", "role_irq_server ", hs, 2);
	/* Warm up (the server's start-up is no part of an operation, and
	 * would stop the calibration at one operation per batch). */
	if (pid > 0)
		irq_run(&c, 16);
	struct bench_op op = { .name = "irq_to_user", .run = irq_run, .ctx = &c, .irqs_per_op = 1 };
	struct bench_result r;

	if (pid > 0 && !bench_measure(&op, &r) && !c.broken) {
		char extra[160];
		uint64_t n = c.nlat < LAT_MAX ? c.nlat : LAT_MAX;
		uint64_t p10 = pick(c.lat, n, 1, 10), med = pick(c.lat, n, 1, 2),
			 p90 = pick(c.lat, n, 9, 10);

		snprintf(extra, sizeof(extra),
			 "\"to_user_cycles\":%lu,\"to_user_cycles_p10\":%lu,"
			 "\"to_user_cycles_p90\":%lu,\"line\":%d",
			 med, p10, p90, line);
		bench_print(&op, &r, extra);
	} else {
		bench_note("irq_to_user: the server did not run (pid %d)", pid);
		bench_errors++;
	}
	if (pid > 0) {
		kill_pid(pid);
		wait_pid(pid, NULL);
	}
	unmap(c.pg, PAGE_SIZE);
	handle_close(mo);
	handle_close(c.irq);
}

void bench_irq(const char *sel, int res)
{
	if (!bench_wanted(sel, "irq_to_user"))
		return;
	if (res < 0) {
		bench_note("irq_to_user: no hardware resource handle from init; skipped");
		return;
	}
	irq_to_user(res);
}
