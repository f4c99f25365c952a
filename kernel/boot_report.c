/*
 * Boot report (see boot_report.h).
 */
#include "arch/fpu.h"
#include "kernel/boot_report.h"
#include "kernel/bootinfo.h"
#include "lib/printk.h"
#include "kernel/multiboot2.h"
#include "lib/cmdline.h"
#include "lib/time.h"
#include "kernel/percpu_area.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/apic.h"
#include "arch/x86/acpi.h"
#include "arch/x86/smpboot.h"
#include "kernel/timer.h"
#include "mm/memmap.h"
#include "mm/frame.h"
#include "mm/numa.h"
#include "kernel/pasid.h"
#include "arch/x86/topology.h"
#include "arch/x86/cpu.h"

/* 32 KiB holds the report of a 1024-CPU machine: the per-CPU lines are
 * compressed to ranges there. */
static char report[32 * 1024];
static size_t report_len;

const char *boot_report_text(void)
{
	return report;
}

/* Paging depth: boot/boot.S enters long mode with CR4 = PAE only, so
 * 5-level paging is never on (README "5-level paging"). */
static void paging_print(void)
{
	pr_info("paging: %d-level (CR4.LA57 %s), CPU %s LA57", read_cr4() & CR4_LA57 ? 5 : 4,
		read_cr4() & CR4_LA57 ? "set" : "clear", cpu_has(FEAT_LA57) ? "has" : "lacks");
}

void boot_report_print(void)
{
	const struct boot_info *bi = &boot_info_parsed;

	printk_capture_begin(report, sizeof(report));
	pr_info("===== BOOT REPORT =====");
	pr_info("firmware: %s, loader: %s", bi->efi ? "UEFI" : "BIOS",
		bi->loader ? bi->loader : "unknown");
	pr_info("command line: %s", *bi->cmdline ? bi->cmdline : "(empty)");
	cpu_print();
	topology_print();
	paging_print();
	xstate_print();
	memmap_print_source();
	bootinfo_print_efi_types(bi);
	memmap_print();
	numa_print();
	acpi_print();
	pr_info("timer: TSC %lu kHz (%s), local APIC %s, %s tick at %d Hz", tsc_khz, tsc_source,
		apic_mode_name(), apic_timer_mode_name(), tick_hz);
	smp_print_cpus();
	pasid_selftest_print();
	if (smp_failed)
		pr_warn("cpus: %u listed CPU(s) could not be started", smp_failed);
	pr_info("smp: APs started in %lu us", smp_boot_ns / 1000);
	if (bi->has_fb)
		pr_info("framebuffer: %ux%u, %u bpp, type %u at %#lx", bi->fb.width, bi->fb.height,
			bi->fb.bpp, bi->fb.type, bi->fb.addr);
	for (uint32_t i = 0; i < bi->nr_modules; i++)
		pr_info("module %u: %s (%lu bytes)", i, bi->modules[i].name,
			bi->modules[i].end - bi->modules[i].start);
	if (bi->warnings)
		pr_warn("multiboot2: %u malformed tag(s) skipped", bi->warnings);
	cmdline_print();
	pr_info("===== END BOOT REPORT =====");
	report_len = printk_capture_end();
	if (report_len == sizeof(report) - 1)
		pr_warn("boot report: longer than %zu bytes; KINFO_BOOT_REPORT has the start",
			sizeof(report));
}
