/*
 * PASID self-test: the switch_mm path against the real IA32_PASID MSR.
 *
 * Neither emulator has ENQCMD, so everywhere but on real hardware
 * (Sapphire Rapids and later) the PASID protocol runs on a per-CPU shadow
 * of the MSR (kernel/pasid.c). This test is what checks, on the first boot
 * of a real machine, that the MSR side works: with interrupts off, on the
 * CPU under test,
 *   1. IA32_PASID (MSR 0xD93; SDM Vol. 4, Table 2-2; present when
 *      CPUID.(EAX=7,ECX=0):ECX[29] ENQCMD is 1) reads and writes without
 *      #GP, and holds what the per-CPU cache (pasid_msr) says;
 *   2. through arch_pasid_switch_mm(), as switch_mm() calls it, PASID
 *      0xfffff, then 1, then none is loaded: after each, the MSR
 *      reads back bit 31 (valid) | PASID, or 0;
 *   3. loading the same value again writes nothing (counted as avoided);
 *   4. the value the CPU held before is loaded back the same way.
 * At boot it runs on the boot CPU (pasid_selftest_boot, from pasid_init);
 * the ktest pasid_msr_selftest runs it on every online CPU. Without ENQCMD
 * both report "skipped: no ENQCMD"; with pasid=xstate, "skipped: pasid=xstate"
 * (switch_mm does not load the PASID then).
 */
#include "kernel/pasid.h"
#include "kernel/percpu_area.h"
#include "kernel/counters.h"
#include "lib/printk.h"
#include "lib/fmt.h"
#include "kernel/ktest.h"
#include "kernel/smp.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"

enum { ST_NOT_RUN, ST_SKIPPED, ST_PASSED, ST_FAILED };

static int boot_result;
static char boot_detail[128];

/* Steps 1-4 on this CPU, interrupts off. NULL on success, else what failed
 * (formatted into buf). */
static const char *roundtrip(char *buf, size_t size)
{
	static const uint32_t probes[] = { (1u << PASID_BITS) - 1, 1, 0 };
	uint64_t saved, got;

	if (!rdmsr_safe(MSR_PASID, &saved))
		return "IA32_PASID is not readable (#GP)";
	if (!wrmsr_safe(MSR_PASID, saved))
		return "IA32_PASID is not writable (#GP)";
	if (saved != this_cpu_read(pasid_msr)) {
		snprintf(buf, size, "IA32_PASID holds %#lx, the per-CPU cache says %#lx", saved,
			 this_cpu_read(pasid_msr));
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		arch_pasid_switch_mm(arch_pasid_value(probes[i]));
		got = rdmsr(MSR_PASID);
		if (got != arch_pasid_value(probes[i]) || this_cpu_read(pasid_msr) != got) {
			snprintf(buf, size,
				 "switch_mm loaded PASID %#x: MSR reads %#lx, cache %#lx",
				 probes[i], got, this_cpu_read(pasid_msr));
			return buf;
		}
	}
	uint64_t avoided = this_cpu_read(counters[CNT_PASID_WRITE_AVOIDED]);

	/* the same again: no write */
	arch_pasid_switch_mm(arch_pasid_value(probes[ARRAY_SIZE(probes) - 1]));
	if (this_cpu_read(counters[CNT_PASID_WRITE_AVOIDED]) != avoided + 1)
		return "loading an unchanged PASID wrote the MSR";
	arch_pasid_switch_mm(saved);
	if (rdmsr(MSR_PASID) != saved)
		return "the previous IA32_PASID value did not come back";
	return NULL;
}

static const char *skip_reason(void)
{
	if (!cpu_has(FEAT_ENQCMD))
		return "no ENQCMD";
	if (pasid_mode != PASID_MSR)
		return "pasid=xstate";
	return NULL;
}

void pasid_selftest_boot(void)
{
	const char *why = skip_reason();

	if (why) {
		boot_result = ST_SKIPPED;
		snprintf(boot_detail, sizeof(boot_detail), "%s", why);
	} else {
		uint64_t f = irq_save();

		why = roundtrip(boot_detail, sizeof(boot_detail));
		irq_restore(f);
		boot_result = why ? ST_FAILED : ST_PASSED;
		snprintf(boot_detail, sizeof(boot_detail), "%s",
			 why ? why
			     : "0x800fffff, 0x80000001, 0 loaded through switch_mm and read back");
	}
	pasid_selftest_print();
}

void pasid_selftest_print(void)
{
	static const char *const names[] = { "not run", "skipped", "passed", "FAILED" };

	printk(boot_result == ST_FAILED ? LOG_ERR : LOG_INFO, "pasid: self-test %s: %s",
	       names[boot_result], boot_detail);
}

struct cpu_result {
	const char *err;
	char buf[128];
};

static void roundtrip_ipi(void *arg)
{
	struct cpu_result *r = arg;

	r->err = roundtrip(r->buf, sizeof(r->buf));
}

KTEST(pasid_msr_selftest)
{
	const char *why = skip_reason();

	KT_EXPECT(t, boot_result != ST_NOT_RUN && boot_result != ST_FAILED);
	if (why) {
		KT_EXPECT_EQ(t, boot_result, ST_SKIPPED);
		ktest_skip(t, why);
		return;
	}
	for (uint32_t c = 0; c < nr_cpus_online; c++) {
		struct cpu_result r = { 0 };

		smp_call(c, roundtrip_ipi, &r, true); /* on c, interrupts off */
		if (!KT_EXPECT(t, r.err == NULL))
			ktest_note("cpu %u: %s", c, r.err);
	}
}
