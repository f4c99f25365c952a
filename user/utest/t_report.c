/*
 * The boot report, retrieved the way a user on real hardware can
 * (SYS_KINFO, KINFO_BOOT_REPORT; README "Booting"):
 *   boot_report_via_kinfo  the whole report comes back, markers first and
 *                          last, with every section the README promises
 *                          and the CPU and node counts this boot has
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"

static char report[32 * 1024];

static bool has(const char *needle)
{
	bool ok = ut_find(report, needle) != NULL;

	if (!ok)
		ut_note("boot report lacks \"%s\"", needle);
	return ok;
}

static long boot_switch(const char *name)
{
	return sys_test(SYST_SWITCH, (long)name, (long)strlen(name), 0);
}

void t_boot_report_via_kinfo(const char *arg)
{
	static const char *const sections[] = {
		"firmware: ",	     "loader: ",	 "command line: ", "cpu: ",
		"cpu features: ",    "topology: ",	 "paging: ",	   "xstate: ",
		"memmap: from the ", "memory: ",	 "numa: ",	   "acpi: tables: ",
		"timer: TSC ",	     "tsc" /* source */, "boot switches",  "pasid: self-test",
	};
	char want[96], small[16];
	int n = kinfo(KINFO_BOOT_REPORT, report, sizeof(report));

	(void)arg;
	T_EXPECT(n > 0);
	T_EQ(n, strlen(report));
	const char *start = ut_find(report, "===== BOOT REPORT =====");
	const char *end = ut_find(report, "===== END BOOT REPORT =====");

	T_EXPECT(start && end && start < end);
	T_EXPECT(!ut_find(report, "KTAP version")); /* the report only, not the log */
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		T_EXPECT(has(sections[i]));
	snprintf(want, sizeof(want), "cpus: %d online (", nr_cpus());
	T_EXPECT(has(want));
	snprintf(want, sizeof(want), ", %d threads (CPUID leaf ", nr_cpus());
	T_EXPECT(has(want));
	long nodes = boot_switch("expect_nodes");

	if (nodes > 0) {
		snprintf(want, sizeof(want), "numa: %ld node%s (from SRAT)", nodes,
			 nodes == 1 ? "" : "s");
		T_EXPECT(has(want));
	}
	/* A short buffer: the start of it, terminated. */
	T_EQ(kinfo(KINFO_BOOT_REPORT, small, sizeof(small)), sizeof(small) - 1);
	T_EQ(small[sizeof(small) - 1], 0);
	T_EXPECT(!strncmp(small, report, sizeof(small) - 1));
	T_EQ(kinfo(KINFO_BOOT_REPORT + 100, small, sizeof(small)), -22); /* -EINVAL */
}

/*
 * With idle_report_s=1..5 (matrix row qemu-idle-report), sleep past it with
 * every CPU idle: the kernel must list every task (tools/matrix.py expects
 * the report, with this thread blocked in its sleep).
 */
void t_idle_watchdog_reports(const char *arg)
{
	long s = sys_test(SYST_SWITCH, (long)"idle_report_s", 13, 0);

	(void)arg;
	if (s < 1 || s > 5) {
		ut_note("SKIP: needs idle_report_s=1..5 on the command line (idle_report_s=%ld)",
			s);
		exit(3);
	}
	sleep_ns((uint64_t)s * 1000000000 + 1500000000);
	ut_note("slept %ld.5 s with every CPU idle", s + 1);
	T_EXPECT(1); /* the verdict is the report on the console */
}
