/*
 * lbench harness: the measurement and output half of the Linux port of the
 * benchmark suite (../shared/BENCHMARKS.md), run as /init of an initramfs.
 *
 * Measurement, as in user/bench: the measuring thread is pinned to CPU 0;
 * an operation's iteration count is doubled until one batch lasts the
 * target (2 ms of TSC; 200,000 TSC ticks under Bochs, where a tick is one
 * instruction), then two warm-up batches and lb_batches (>= 31) timed ones
 * follow. Each batch gives one TSC-cycles-per-operation sample; the BENCH
 * line reports their median, p10 and p90, converted to ns with the TSC
 * frequency calibrated against CLOCK_MONOTONIC. Events are deltas of
 * /proc/interrupts rows summed over CPUs (IPIs received, not sent), read
 * before and after the timed batches, per operation.
 *
 * Options come from /proc/cmdline (Linux passes dotted words to no one):
 *   lbench.platform=qemu|bochs|kvm|hw   platform and clock kind
 *   lbench.only=a,b*                    benchmarks to run (default all)
 *   lbench.target_us=N, lbench.target_cycles=N, lbench.batches=N
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define LB_MAX_CPUS 64
#define LB_FAILED   UINT64_MAX

struct lb_op {
	const char *name;
	/* Run n iterations; return the TSC cycles of the timed part, or
	 * LB_FAILED. Setup that must not be timed happens outside t0..t1. */
	uint64_t (*run)(void *ctx, uint64_t n);
	void *ctx;
	uint64_t ops_per_iter; /* operations in one iteration (0 means 1) */
	uint64_t max_iters;    /* calibration cap (0: none) */
	const char *note;      /* appended to config ("fpu=ymm16"), or NULL */
	const char *mechanism; /* what Linux does for it ("futex ping-pong"), or NULL */
};

extern int lb_ncpus;
extern int lb_errors;

void lb_init(void);
bool lb_wanted(const char *name);
/* Measure and print one BENCH line; -1 if the operation failed. */
int lb_run(const struct lb_op *op);
/* A note in the log, not a result ("# ..."). */
void lb_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report the verdict the way tools/runner.py reads it, then power off. */
void lb_finish(void) __attribute__((noreturn));

void lb_pin(int cpu);
long lb_futex(volatile uint32_t *word, int op, uint32_t val);

static inline uint64_t lb_rdtsc(void)
{
	uint32_t lo, hi;

	/* lfence: rdtsc is not ordered against earlier loads (SDM Vol. 2B
	 * RDTSC); the timed region starts after them. */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Vector registers: 0 none, 1 AVX (16 YMM), 2 AVX-512 (32 ZMM, 8 masks). */
int vec_level(void);
void vec_dirty(int level, uint64_t seed);

/* The benchmarks, by file. */
void bench_ipc(void); /* bench.c: syscall, ping-pongs, as_ring */
void bench_mm(void);  /* mm.c: shootdowns, page faults, membarrier */
