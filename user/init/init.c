/*
 * init: the first process. Runs the user-level tests (utest=all|names) as
 * one child process each and reports them as the KTAP suite "user", then
 * the benchmarks (bench=all|names). Its exit code is the verdict the
 * kernel reports: 0 when everything passed.
 *
 * Devices: the kernel gives init the hardware resource at SPAWN_HANDLE(0)
 * (kernel/irq_obj.c). Init makes COM1's port range and IRQ 4 from it and
 * starts the user-level serial driver (user/serial/serial.c) with them,
 * keeping receive copies of the driver's two endpoints so that they
 * outlive a driver and a restarted one serves the same clients. Tests
 * named serial_*, irq_* and ioport_* get the resource and the driver's
 * handles (struct dev_handles' order); the benchmarks get the resource.
 */
#include "user/lib/ulib.h"
#include "user/utest/list.h"
#include "lib/select.h"

static struct {
	int res, svc_recv, svc_send, ctl_recv, ctl_send;
} dev = { -1, -1, -1, -1, -1 };

static uint32_t hello_done; /* futex */

static void serial_hello(void *arg)
{
	const char hello[] = "init: hello through the user-level serial driver\n";

	(void)arg;
	serial_write(dev.svc_send, hello, sizeof(hello) - 1);
	/* Release: pairs with the acquire load in serial_start(). */
	__atomic_store_n(&hello_done, 1, __ATOMIC_RELEASE);
	futex_wake(&hello_done, 1);
}

static void serial_start(void)
{
	int ports = ioport_create(dev.res, 0x3f8, 8), irq = irq_create(dev.res, 4);

	dev.svc_recv = ep_pair(&dev.svc_send);
	dev.ctl_recv = ep_pair(&dev.ctl_send);
	if (ports < 0 || irq < 0 || dev.svc_recv < 0 || dev.ctl_recv < 0) {
		printf("init: no user-level serial driver (ports %d, irq %d, endpoints %d %d)\n",
		       ports, irq, dev.svc_recv, dev.ctl_recv);
		return;
	}
	struct spawn_handle hs[4] = { { ports, SPAWN_MOVE },
				      { irq, SPAWN_MOVE },
				      { dev.svc_recv, R_RECV },
				      { dev.ctl_recv, R_RECV } };
	int pid = spawn_h("serial", "", hs, 4);

	if (pid < 0) {
		printf("init: cannot start the serial driver: %d\n", pid);
		return;
	}
	/* From a thread: init must not wait on a driver that failed (the
	 * endpoint lives on in init's hands, so a call would wait forever). */
	thread_create(serial_hello, NULL);
	/* Wait for it (at most 5 s), so that its line is out before the
	 * kernel console prints ours: the two share the UART byte by byte. */
	/* Acquire: pairs with serial_hello()'s release store. */
	for (int i = 0; i < 50 && !__atomic_load_n(&hello_done, __ATOMIC_ACQUIRE); i++)
		futex_wait(&hello_done, 0, 100000000);
	if (!hello_done)
		printf("init: the serial driver did not answer in 5 s\n");
}

static bool wants_devices(const char *name)
{
	return !strncmp(name, "serial_", 7) || !strncmp(name, "irq_", 4) ||
	       !strncmp(name, "ioport_", 7);
}

static int spawn_test(const char *name)
{
	/* The order tests find them in: user/utest/utest.h (DEV_*). */
	struct spawn_handle hs[4] = {
		{ dev.res, 0 }, { dev.svc_send, 0 }, { dev.svc_recv, 0 }, { dev.ctl_send, 0 }
	};

	/* Every test program gets the hardware resource (the test hooks that
	 * reach beyond a process need it: include/uapi/test.h); the device
	 * tests the serial driver's endpoints too. What they spawn gets
	 * nothing unless they pass it on. */
	if (dev.res < 0)
		return spawn("utest", name);
	if (dev.svc_send < 0 || !wants_devices(name))
		return spawn_h("utest", name, hs, 1);
	return spawn_h("utest", name, hs, 4);
}

#define NAME_ENTRY(n) #n,
static const char *const tests[] = { UTEST_LIST(NAME_ENTRY) };
#define NR_TESTS (sizeof(tests) / sizeof(tests[0]))

/* The tests utest= selects (lib/select.h), in list order. Names given
 * explicitly without a wildcard that are not in the list (the helper roles
 * meant for one boot, like tlb_inject_workload) run too, after them. */
#define MAX_RUN 128
_Static_assert(NR_TESTS <= MAX_RUN, "utest=all must run every test: raise MAX_RUN");

static int pick(const char *sel, const char **out)
{
	int n = 0;

	for (size_t t = 0; t < NR_TESTS && n < MAX_RUN; t++) {
		if (select_wanted(sel, tests[t], false))
			out[n++] = tests[t];
	}
	static char names[1024];

	strlcpy(names, sel, sizeof(names));
	for (char *p = names; *p && n < MAX_RUN;) {
		char *end = strchr(p, ',');

		if (end)
			*end = '\0';
		bool known = !strcmp(p, "all") || strchr(p, '*') || *p == '-';

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
		int pid = spawn_test(run[t]);

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

int main(const char *arg, uint64_t arg_len, uint64_t nr_handles)
{
	char sel[1024];
	int failed = 0;

	(void)arg_len;
	if (nr_handles >= 1 && HANDLE_INFO_TYPE(handle_info(SPAWN_HANDLE(0))) == KOBJ_HWRES) {
		dev.res = SPAWN_HANDLE(0);
		/* userial=off on the kernel command line: no driver (the planted
		 * stale-read rows, where its start-up's thread and stack churn
		 * would meet the plant first) */
		static char cmdline[1024];

		kinfo(KINFO_CMDLINE, cmdline, sizeof(cmdline));
		if (!arg_get(cmdline, "userial", sel, sizeof(sel)) || strcmp(sel, "off"))
			serial_start();
	}

	if (arg_get(arg, "utest", sel, sizeof(sel)) && strcmp(sel, "none"))
		failed += run_tests(sel);
	if (arg_get(arg, "bench", sel, sizeof(sel)) && strcmp(sel, "none")) {
		char barg[200];
		int code = -1;

		snprintf(barg, sizeof(barg), "%s", sel);
		struct spawn_handle hs = { dev.res, 0 };
		int pid = dev.res < 0 ? spawn("bench", barg) : spawn_h("bench", barg, &hs, 1);

		if (pid < 0 || wait_pid(pid, &code) || code) {
			printf("init: bench failed (spawn %d, exit %d)\n", pid, code);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
