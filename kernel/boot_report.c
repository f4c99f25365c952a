/*
 * Boot report (see boot_report.h).
 */
#include "arch/x86/xstate.h"
#include "kernel/boot_report.h"
#include "kernel/printk.h"
#include "kernel/multiboot2.h"
#include "kernel/cmdline.h"
#include "kernel/time.h"
#include "kernel/percpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/apic.h"
#include "arch/x86/acpi.h"
#include "arch/x86/smpboot.h"
#include "kernel/timer.h"
#include "mm/memmap.h"
#include "mm/frame.h"
#include "mm/numa.h"

void boot_report_print(void)
{
	const struct boot_info *bi = &boot_info_parsed;

	pr_info("===== BOOT REPORT =====");
	pr_info("firmware: %s, loader: %s", bi->efi ? "UEFI" : "BIOS",
		bi->loader ? bi->loader : "unknown");
	pr_info("command line: %s", *bi->cmdline ? bi->cmdline : "(empty)");
	cpu_print();
	xstate_print();
	memmap_print();
	numa_print();
	acpi_print();
	pr_info("timer: TSC %lu kHz (%s), local APIC %s, %s tick at %d Hz", tsc_khz, tsc_source,
		apic_mode_name(), apic_timer_mode_name(), tick_hz);
	smp_print_cpus();
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
}
