/*
 * TSC frequency (see tsc.h).
 *
 * CPUID 0x15: TSC/crystal ratio EBX/EAX and crystal Hz in ECX (SDM Vol. 3B
 * 18.7.3); when ECX is 0 the crystal is not enumerated and we fall back.
 * CPUID 0x16 EAX: processor base frequency in MHz, which equals the TSC rate
 * on the parts that report it without 0x15's crystal.
 *
 * Calibration measures TSC ticks over a fixed interval of a reference timer:
 * the ACPI PM timer (3.579545 MHz, 24 or 32 bits), the HPET (period from its
 * capabilities register) or, last, PIT channel 2 in one-shot mode. None of
 * them has to exist (servers may lack PIT and HPET); the first one present
 * is used.
 */
#include "arch/x86/tsc.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/acpi.h"
#include "lib/time.h"
#include "lib/printk.h"

#define PIT_HZ	    1193182u
#define PM_TIMER_HZ 3579545u

static uint64_t from_cpuid(const char **src)
{
	if (boot_cpu.max_leaf >= 0x15) {
		struct cpuid_regs r = cpuid(0x15);

		if (r.eax && r.ebx && r.ecx) {
			*src = "CPUID 0x15";
			return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
		}
	}
	if (boot_cpu.max_leaf >= 0x16) {
		struct cpuid_regs r = cpuid(0x16);

		if (r.eax & 0xffff) {
			*src = "CPUID 0x16";
			return (uint64_t)(r.eax & 0xffff) * 1000;
		}
	}
	return 0;
}

/* PIT channel 2, gate through port 0x61, mode 0: counts down once. */
static uint64_t calibrate_pit(void)
{
	const uint32_t ms = 20;
	uint32_t count = PIT_HZ * ms / 1000;

	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	/* Restart the count by toggling the gate. */
	uint8_t v = inb(0x61);

	outb(0x61, (uint8_t)(v & ~0x01));
	outb(0x61, (uint8_t)(v | 0x01));
	uint64_t t0 = rdtsc();
	uint64_t guard = 0;

	while (!(inb(0x61) & 0x20)) {
		if (++guard > 100000000)
			return 0; /* no PIT answering */
	}
	uint64_t t1 = rdtsc();

	return (t1 - t0) / ms;
}

static uint64_t calibrate_pm_timer(uint16_t port, bool bits32)
{
	const uint32_t ticks = PM_TIMER_HZ / 50; /* 20 ms */
	uint32_t mask = bits32 ? 0xffffffffu : 0xffffffu;
	uint32_t start = inl(port) & mask;
	uint64_t t0 = rdtsc();
	uint64_t guard = 0;

	for (;;) {
		uint32_t now = inl(port) & mask;

		if (((now - start) & mask) >= ticks)
			break;
		if (++guard > 100000000)
			return 0;
	}
	uint64_t t1 = rdtsc();

	return (t1 - t0) * PM_TIMER_HZ / ticks / 1000;
}

static uint64_t calibrate_hpet(void)
{
	volatile uint64_t *hpet = acpi_hpet_regs();

	if (!hpet)
		return 0;
	uint64_t period_fs = hpet[0] >> 32; /* capabilities: counter period in fs */

	if (!period_fs || period_fs > 100000000)
		return 0;
	hpet[2] |= 1;				       /* general configuration: ENABLE_CNF */
	uint64_t want = 20000000000000ull / period_fs; /* 20 ms in HPET ticks */
	uint64_t start = hpet[30];
	uint64_t t0 = rdtsc();
	uint64_t guard = 0;

	/* Bounded, as the PM timer's and the PIT's waits: a counter that does
	 * not run (a table pointing at RAM, or at nothing) must not hang the
	 * boot (found in review, by reading). */
	while (hpet[30] - start < want) {
		if (++guard > 100000000)
			return 0;
		cpu_relax();
	}
	uint64_t t1 = rdtsc();

	return (t1 - t0) * 1000000000000ull / (want * period_fs);
}

void tsc_init(void)
{
	const char *src = NULL;
	uint64_t khz = from_cpuid(&src);

	if (!khz) {
		uint16_t port;
		bool bits32;

		if (acpi_pm_timer(&port, &bits32) && (khz = calibrate_pm_timer(port, bits32)))
			src = "ACPI PM timer";
		else if ((khz = calibrate_hpet()))
			src = "HPET";
		else if ((khz = calibrate_pit()))
			src = "PIT";
	}
	if (!khz) {
		khz = 2000000;
		src = "guess (no reference timer)";
	}
	time_set_tsc_khz(khz, src);
	pr_info("tsc: %lu.%03lu MHz from %s%s", khz / 1000, khz % 1000, src,
		cpu_has(FEAT_INVTSC) ? ", invariant" : "");
}
