/*
 * syscall_fuzz, shared between its three files: t_fuzz.c (the test: child
 * processes, worker threads, the checks and the leak check; the design is
 * described there), fuzz_args.c (hostile argument values) and fuzz_calls.c
 * (one call of each kind, and how often each is drawn).
 */
#pragma once

#include "user/utest/utest.h"
#include "user/lib/syscall.h"

#define USER_TOP_    0x0000800000000000ull
#define KADDR_MIN    0xffff800000000000ull
#define WINDOW	     0x0000500000000000ull /* map/unmap/protect playground */
#define WINDOW_SIZE  (256ull << 20)
#define ARENA_PAGES  4
#define ARENA_SIZE   (ARENA_PAGES * PAGE_SIZE)
#define MAX_WORKERS  16
#define MAX_KEPT     8
#define ENOSYS_	     38
#define EXIT_KILLED_ 137 /* EXIT_KILLED_BASE + 9 (kernel/proc.h) */

struct rng {
	uint64_t s;
};

/* One worker's state: its generator, its scratch arena (the pages after it
 * are a hole: map() leaves one), what it created and may destroy. */
struct worker {
	struct rng r;
	uint8_t *arena;
	int pids[MAX_KEPT], tids[MAX_KEPT];
	uint64_t maps[MAX_KEPT][2];
	uint64_t calls;
	uint64_t cycles[NR_SYSCALLS + 1]; /* per call number; the last: unknown */
	volatile uint64_t cur_nr, cur_a0; /* for the hang report */
	int failures;
	int index;
};

/* One child's run: parameters and shared objects, set up before its workers
 * start; each worker then writes only its own w[] entry, and done. */
struct fuzz_run {
	uint64_t seed, calls_each;
	int nworkers, parent;
	const char *text; /* a read-only page of dots, a hole after it */
	int handles[2];
	bool trace_on;
	uint32_t done; /* workers finished (futex word) */
	struct worker w[MAX_WORKERS];
};

extern struct fuzz_run fz;

static inline uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static inline uint64_t below(struct rng *r, uint64_t n)
{
	return rnd(r) % n;
}

/* A value that looks like a kernel address (negative errnos excluded). */
static inline bool kernel_looking(uint64_t v)
{
	return v >= KADDR_MIN && v < (uint64_t)-4095;
}

/* Count a failure and print the first five of a worker. */
void fuzz_fail(struct worker *w, const char *what, uint64_t nr, uint64_t v);

/* Argument values (fuzz_args.c). */
uint64_t bad_ptr(struct rng *r);
uint64_t any_ptr(struct worker *w);
uint64_t any_len(struct rng *r);
uint64_t any_int(struct rng *r);
uint64_t vm_addr(struct worker *w, uint64_t *len);
uint64_t bad_handle(struct rng *r);
uint64_t clean_word(struct rng *r);

/* Calls (fuzz_calls.c): one call of number nr with generated arguments;
 * pick_init() then fuzz_pick() draws the numbers by their weights. */
long fuzz_one(struct worker *w, uint64_t nr);
void pick_init(void);
uint64_t fuzz_pick(struct rng *r);
