/*
 * utest: runs one user-level test or helper role, named by the first word
 * of its argument; the rest of the argument goes to the test.
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"

int ut_failures, ut_checks;

void ut_fail(const char *file, int line, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ut_failures++;
	printf("        # %s:%d: %s\n", file, line, buf);
}

void ut_note(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("        # %s\n", buf);
}

int start_child(const char *role_and_args)
{
	return spawn("utest", role_and_args);
}

int start_child_h(const char *role_and_args, int h, uint32_t how)
{
	struct spawn_handle sh = { h, how };

	return spawn_h("utest", role_and_args, &sh, 1);
}

int run_child(const char *role_and_args)
{
	int code = -1;
	int pid = start_child(role_and_args);

	if (pid < 0 || wait_pid(pid, &code))
		return -1;
	return code;
}

uint64_t ut_param(const char *arg, const char *key, uint64_t dflt)
{
	static char cmdline[1024];
	char v[32];
	const char *p = v;

	if (!arg_get(arg, key, v, sizeof(v))) {
		kinfo(KINFO_CMDLINE, cmdline, sizeof(cmdline));
		if (!arg_get(cmdline, key, v, sizeof(v)))
			return dflt;
	}
	return arg_u64(&p);
}

bool ut_cpu_has(const char *name)
{
	return sys_test(SYST_CPU_HAS, (long)name, (long)strlen(name), 0) == 1;
}

uint64_t counter(const char *name)
{
	uint64_t v[128];
	int i = counter_index(name);
	int n = counters_read(v, 128, -1);

	return i >= 0 && i < n ? v[i] : 0;
}

static volatile int spinners_quit;
static uint32_t spinners_running;

static void spinner_fn(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&spinners_running, 1, __ATOMIC_RELAXED);
	while (!spinners_quit)
		cpu_relax();
}

void spinners_start(int k, int *tids)
{
	spinners_quit = 0;
	spinners_running = 0;
	set_affinity(0, 0);
	for (int i = 0; i < k; i++) {
		tids[i] = thread_create(spinner_fn, NULL);
		set_affinity(tids[i], i + 1);
	}
	while (__atomic_load_n(&spinners_running, __ATOMIC_RELAXED) < (uint32_t)k)
		sleep_ns(1000000);
}

void spinners_stop(int k, const int *tids)
{
	spinners_quit = 1;
	for (int i = 0; i < k; i++)
		thread_join(tids[i], NULL);
}

struct entry {
	const char *name;
	void (*fn)(const char *arg);
	bool role;
};

#define UTEST_ENTRY(n) { #n, t_##n, false },
#define ROLE_ENTRY(n)  { #n, t_##n, true },
static const struct entry entries[] = { UTEST_LIST(UTEST_ENTRY) ROLE_LIST(ROLE_ENTRY) };

int main(const char *arg)
{
	char name[64];
	const char *rest = strchr(arg, ' ');
	size_t n = rest ? (size_t)(rest - arg) : strlen(arg);

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, arg, n);
	name[n] = '\0';
	rest = rest ? rest + 1 : "";
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		if (strcmp(entries[i].name, name))
			continue;
		entries[i].fn(rest);
		if (entries[i].role && strcmp(name, "tlb_inject_workload"))
			return 0;
		if (!ut_checks)
			printf("        # %s made no checks\n", name);
		return ut_failures || !ut_checks ? 1 : 0;
	}
	printf("utest: no test or role named '%s'\n", name);
	return 2;
}
