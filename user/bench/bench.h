/*
 * The benchmark suite (../shared/BENCHMARKS.md): one process, "bench", run
 * by init with the bench= list; helper processes are the same program
 * started with a role name ("role_ipc_server ...").
 *
 * Measurement (bench.c): the measuring thread is pinned; an operation's
 * iteration count is doubled until two batches of one size in a row last
 * the target time (2 ms of TSC; 200,000 TSC ticks under Bochs, where a tick
 * is an instruction), then two warm-up batches and BATCHES timed ones
 * follow. Each batch gives one TSC-cycles-per-operation sample; the line
 * reports the median, p10 and p90 of those samples, and the kernel's
 * counters summed over all CPUs, read around each timed batch only (setup
 * and teardown are not counted; what the two reads add themselves is
 * subtracted), divided by the operations measured. Timings are reported,
 * never asserted.
 */
#pragma once

#include "user/lib/ulib.h"

#define BENCH_MAX_CPUS 64

struct bench_op {
	const char *name;
	/* Run n iterations; timed. */
	void (*run)(void *ctx, uint64_t n);
	/* Optional, around each batch, not timed (page_fault maps there). */
	void (*setup)(void *ctx, uint64_t n);
	void (*teardown)(void *ctx, uint64_t n);
	void *ctx;
	uint64_t ops_per_iter; /* operations in one iteration (0 means 1) */
	uint64_t max_iters;    /* calibration cap (0: none) */
	int cpus_used;	       /* CPUs the benchmark keeps busy */
	uint64_t irqs_per_op;  /* hardware interrupts an operation is made of */
	const char *unit;      /* "ns" unless set */
};

/* Fixed point: values are hundredths. */
struct bench_result {
	uint64_t cyc[3]; /* p10, median, p90 TSC cycles per op, x100 */
	uint64_t ops;	 /* operations measured in the timed batches */
	int batches;
	uint64_t *events; /* per-op counter deltas x100, bench_nr_events() */
};

/* Measure without printing (results stay valid until the next call). */
int bench_measure(const struct bench_op *op, struct bench_result *r);
/* Print a BENCH line; extra is more JSON fields ("\"k\":v,...") or NULL. */
void bench_print(const struct bench_op *op, const struct bench_result *r, const char *extra);
/* Both. Returns 0, or -1 if the operation could not be measured. */
int bench_run(const struct bench_op *op);

/* "12.34" from hundredths; buf holds 32 bytes. */
const char *bench_x100(char *buf, uint64_t v);

/* A note in the log, not a result ("# ..."). */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Operations the suite could not run because something broke. */
extern int bench_errors;

/* Threads of this process spinning in user mode on CPUs 1..t, each reading
 * *page in a loop (the caller is pinned to CPU 0). */
void spin_start(int t, volatile uint8_t *page);
void spin_stop(void);
/* Threads of this process on CPUs 1..t that touched *page and then block
 * in the kernel: their CPUs idle (lazily keeping this mm). */
void idle_start(int t, volatile uint8_t *page);
void idle_stop(void);

/* Start "bench <role> <args>" and return its pid. */
int bench_spawn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* bench_spawn giving the child handle h as its SPAWN_HANDLE(0): how is
 * SPAWN_MOVE (the handle goes, every right) or the rights of a copy. */
int bench_spawn_h(int h, uint32_t how, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Vector registers: 0 none, 1 AVX (16 YMM), 2 AVX-512 (32 ZMM, 8 masks). */
int vec_level(void);
void vec_dirty(int level, uint64_t seed);

/* The benchmarks, by file. */
void bench_basic(const char *sel);
void bench_mm(const char *sel);
void bench_ring(const char *sel);
void bench_wake(const char *sel);
void bench_shm(const char *sel);
void bench_irq(const char *sel, int res); /* res: the hardware resource, or -1 */
bool bench_wanted(const char *sel, const char *name);

/* Roles. */
void role_ipc_server(const char *arg);
void role_ring(const char *arg);
void role_shm_reader(const char *arg);
void role_irq_server(const char *arg);
