/*
 * In-kernel test runner (see ktest.h). Output is KTAP version 1 (Linux
 * Documentation/dev-tools/ktap.rst): the kernel suite is one subtest of the
 * boot's top-level plan, so that user-level suites can follow it.
 */
#include "kernel/ktest.h"
#include "lib/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/time.h"
#include "lib/cmdline.h"
#include "lib/select.h"
#include "lib/cpumask.h"
#include "sched/task.h"

extern struct ktest *__ktest_start[], *__ktest_end[];

/* A wildcard or "all" never selects a death test; its full name does. */
static bool selected(const struct ktest *t, const char *sel)
{
	return select_wanted(sel, t->name, !strncmp(t->name, "death_", 6));
}

bool ktest_selected_any(const char *sel)
{
	for (struct ktest *const *t = __ktest_start; t < __ktest_end; t++) {
		if (selected(*t, sel))
			return true;
	}
	return false;
}

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->failures++;
	kprintf("        # %s: %s:%d: %s\n", t->name, file, line, msg);
}

void ktest_skip(struct ktest *t, const char *reason)
{
	t->skipped = true;
	t->skip_reason = reason;
}

void ktest_note(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kprintf("        # %s\n", msg);
}

/* Tests run in name order, whatever the link order. */
static void sort_tests(void)
{
	struct ktest **v = (struct ktest **)__ktest_start;
	size_t n = (size_t)(__ktest_end - __ktest_start);

	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && strcmp(v[j - 1]->name, v[j]->name) > 0; j--) {
			struct ktest *x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	}
}

/* ktest_cpu: -1, or the CPU the tests start on (tools/matrix.py's
 * lockup-call-unanswered-from-cpu1 starts the death tests away from CPU 0,
 * where the balancer may put kmain anyway). */
static int ktest_cpu = -1;
KSWITCH_INT_QUIET(ktest_cpu, "ktest_cpu", "CPU the in-kernel tests start on (-1: any)", -1,
		  NR_CPUS - 1);

int ktest_move_to_cpu(uint32_t cpu)
{
	struct cpumask only;

	if (cpu >= NR_CPUS)
		return -1;
	cpumask_clear_all(&only);
	cpumask_set(&only, cpu);
	/* Running elsewhere, we move at our next switch (sched/balance.c). */
	if (sched_set_affinity(current_task(), &only))
		return -1;
	while (this_cpu_id() != cpu)
		sched_yield();
	return 0;
}

int ktest_run(const char *sel)
{
	uint32_t n = 0, i = 0;
	int failed = 0;
	struct cpumask saved = current_task()->affinity;

	if (ktest_cpu >= 0 && ktest_move_to_cpu((uint32_t)ktest_cpu))
		pr_warn("ktest: ktest_cpu=%d is not an online CPU; the tests run where they are",
			ktest_cpu);
	sort_tests();
	for (struct ktest *const *t = __ktest_start; t < __ktest_end; t++)
		n += selected(*t, sel);
	kprintf("    KTAP version 1\n    # Subtest: kernel\n    1..%u\n", n);
	for (struct ktest *const *tp = __ktest_start; tp < __ktest_end; tp++) {
		struct ktest *t = *tp;

		if (!selected(t, sel))
			continue;
		i++;
		t->failures = 0;
		t->checks = 0;
		t->skipped = false;
		uint64_t t0 = time_ns();

		t->fn(t);
		uint64_t us = (time_ns() - t0) / 1000;

		if (t->skipped)
			kprintf("    ok %u %s # SKIP %s\n", i, t->name, t->skip_reason);
		else if (t->failures || !t->checks)
			kprintf("    not ok %u %s%s\n", i, t->name,
				t->checks ? "" : " # no checks were made");
		else
			kprintf("    ok %u %s # %u checks, %lu us\n", i, t->name, t->checks, us);
		failed += !t->skipped && (t->failures || !t->checks);
	}
	sched_set_affinity(current_task(), &saved);
	return failed;
}
