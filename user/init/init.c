/*
 * init: the first process. Runs the user-level tests (utest=all|names) as
 * one child process each and reports them as the KTAP suite "user", then
 * the benchmarks (bench=all|names). Its exit code is the verdict the
 * kernel reports: 0 when everything passed.
 */
#include "user/lib/ulib.h"
#include "user/utest/list.h"

#define NAME_ENTRY(n) #n,
static const char *const tests[] = { UTEST_LIST(NAME_ENTRY) };
#define NR_TESTS (sizeof(tests) / sizeof(tests[0]))

static bool wanted(const char *sel, const char *name)
{
	size_t len = strlen(name);

	if (!strcmp(sel, "all"))
		return true;
	for (const char *p = sel; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if ((n == len && !strncmp(p, name, n)) ||
		    (n && p[n - 1] == '*' && !strncmp(p, name, n - 1)))
			return true;
		p += n + (end ? 1 : 0);
	}
	return false;
}

/* Names given explicitly without a wildcard that are not in the list (the
 * helper roles meant for one boot, like tlb_inject_workload) run too. */
#define MAX_RUN 64

static int pick(const char *sel, const char **out)
{
	int n = 0;

	for (size_t t = 0; t < NR_TESTS && n < MAX_RUN; t++) {
		if (wanted(sel, tests[t]))
			out[n++] = tests[t];
	}
	static char names[1024];

	strlcpy(names, sel, sizeof(names));
	for (char *p = names; *p && n < MAX_RUN;) {
		char *end = strchr(p, ',');

		if (end)
			*end = '\0';
		bool known = !strcmp(p, "all") || strchr(p, '*');

		for (size_t t = 0; t < NR_TESTS && !known; t++)
			known = !strcmp(tests[t], p);
		if (!known && *p)
			out[n++] = p;
		p = end ? end + 1 : p + strlen(p);
	}
	return n;
}

static int run_tests(const char *sel)
{
	static const char *run[MAX_RUN];
	int n = pick(sel, run), failed = 0, i = 0;

	printf("    KTAP version 1\n    # Subtest: user\n    1..%d\n", n);
	for (int t = 0; t < n; t++) {
		int code = -1;

		uint64_t t0 = clock_ns();
		int pid = spawn("utest", run[t]);

		if (pid < 0 || wait_pid(pid, &code))
			printf("        # could not run %s (spawn: %d)\n", run[t], pid);
		uint64_t us = (clock_ns() - t0) / 1000;

		i++;
		if (code == 0) {
			printf("    ok %d %s # %lu us\n", i, run[t], us);
		} else if (code == 3) {
			printf("    ok %d %s # SKIP (see the note above)\n", i, run[t]);
		} else {
			printf("    not ok %d %s # exit code %d\n", i, run[t], code);
			failed++;
		}
	}
	return failed;
}

int main(const char *arg)
{
	char sel[1024];
	int failed = 0;

	if (arg_get(arg, "utest", sel, sizeof(sel)) && strcmp(sel, "none"))
		failed += run_tests(sel);
	if (arg_get(arg, "bench", sel, sizeof(sel)) && strcmp(sel, "none")) {
		char barg[200];
		int code = -1;

		snprintf(barg, sizeof(barg), "%s", sel);
		int pid = spawn("bench", barg);

		if (pid < 0 || wait_pid(pid, &code) || code) {
			printf("init: bench failed (spawn %d, exit %d)\n", pid, code);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
