/*
 * In-kernel tests, reported as KTAP over the console.
 *
 *     KTEST(buddy_merges_buddies)
 *     {
 *             KT_EXPECT(t, frames_free() > 0);
 *     }
 *
 * Tests sit in the .ktest linker section beside the code they test and run
 * at the end of boot when the command line selects them (ktest=all, or a
 * comma-separated list of names, each optionally ending in '*'). Tests whose
 * name starts with "death_" run only when named explicitly: they are meant
 * to crash the kernel, and the runner checks the crash report.
 */
#pragma once

#include "lib/compiler.h"

struct ktest;
typedef void (*ktest_fn)(struct ktest *t);

struct ktest {
	const char *name;
	ktest_fn fn;
	const char *file;
	/* Filled while running. */
	uint32_t failures;
	uint32_t checks;
	bool skipped;
	const char *skip_reason;
};

#define KTEST(name_)                                                                            \
	static void ktest_fn_##name_(struct ktest *t);                                          \
	static struct ktest __ktest_##name_ __used __section(".ktest.data")                     \
		__aligned(8) = { .name = #name_, .fn = ktest_fn_##name_, .file = __FILE__ };    \
	static struct ktest *__ktest_ptr_##name_ __used __section(".ktest") = &__ktest_##name_; \
	static void ktest_fn_##name_(struct ktest *t)

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...) __printf(4, 5);
void ktest_skip(struct ktest *t, const char *reason);
/* A diagnostic line ("# ...") in the KTAP output. */
void ktest_note(const char *fmt, ...) __printf(1, 2);

#define KT_EXPECT(t, cond)                                                       \
	({                                                                       \
		bool __ok = !!(cond);                                            \
		(t)->checks++;                                                   \
		if (unlikely(!__ok))                                             \
			ktest_fail(t, __FILE__, __LINE__, "expected %s", #cond); \
		__ok;                                                            \
	})

#define KT_EXPECT_EQ(t, a, b)                                                               \
	({                                                                                  \
		__typeof__(a) __a = (a);                                                    \
		__typeof__(b) __b = (b);                                                    \
		bool __ok = __a == __b;                                                     \
		(t)->checks++;                                                              \
		if (unlikely(!__ok))                                                        \
			ktest_fail(t, __FILE__, __LINE__, "%s == %s: %#lx != %#lx", #a, #b, \
				   (uint64_t)__a, (uint64_t)__b);                           \
		__ok;                                                                       \
	})

/* A check the rest of the test cannot go on without: fail and return. */
#define KT_ASSERT(t, cond)               \
	do {                             \
		if (!KT_EXPECT(t, cond)) \
			return;          \
	} while (0)

/* Runs the selected tests; returns the number that failed. Prints the KTAP
 * subtest block for suite "kernel". With ktest_cpu=N on the command line
 * the tests run on CPU N (by default wherever the balancer put kmain). */
int ktest_run(const char *selection);
/* Pin the calling thread to cpu and return 0 once it runs there (its
 * affinity stays that CPU alone); -1, and nothing changed, if cpu is not
 * online. */
int ktest_move_to_cpu(uint32_t cpu);
bool ktest_selected_any(const char *selection);
