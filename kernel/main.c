/*
 * Boot order (DESIGN.md "Boot order"):
 *
 *   boot/boot.S (32-bit, long mode, higher half)
 *   -> kernel_main: per-CPU GS, early IDT, COM1
 *   -> multiboot2 tags, command line, CPU features
 *   -> memory map, kernel page tables, ACPI, NUMA, frames, heap
 *   -> per-CPU area, GDT/TSS/IST, framebuffer console
 *   -> TSC, local APIC, boot report
 *   -> kernel tests (ktest=) and the exit verdict, or the main job
 */
#include "kernel/bootinfo.h"
#include "kernel/multiboot2.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/ktest.h"
#include "kernel/machine.h"
#include "kernel/fbcon.h"
#include "kernel/boot_report.h"
#include "kernel/selfcheck.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/cpu_setup.h"
#include "arch/x86/desc.h"
#include "arch/x86/trap.h"
#include "arch/x86/serial.h"
#include "arch/x86/acpi.h"
#include "arch/x86/apic.h"
#include "arch/x86/tsc.h"
#include "arch/x86/smpboot.h"
#include "kernel/smp.h"
#include "kernel/timer.h"
#include "mm/memmap.h"
#include "mm/kpaging.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "mm/numa.h"

#define MB2_BOOT_MAGIC 0x36d76289

static const char *ktest_sel = "none";
KSWITCH_STRING_QUIET(ktest_sel, "ktest", "in-kernel tests to run: all, none, or names");

void kernel_main(uint32_t magic, uint32_t info_pa);

static void console_from_spcr(void)
{
	uint16_t port;

	if (acpi_spcr_port(&port) && port != serial_port()) {
		pr_info("serial: SPCR names the console UART at port %#x", port);
		serial_init(port);
	}
}

static void run_tests_and_exit(void)
{
	kputs("KTAP version 1\n1..1\n");
	int failed = ktest_run(ktest_sel);

	kprintf("%s 1 kernel\n", failed ? "not ok" : "ok");
	machine_exit(failed == 0);
}

void kernel_main(uint32_t magic, uint32_t info_pa)
{
	percpu_early_init();
	idt_init();
	gdt_tss_init(this_cpu(), false);
	serial_init(0x3f8);
	pr_info("ukernel: booting");
	if (magic != MB2_BOOT_MAGIC)
		panic("not started by a multiboot2 loader (magic %#x)", magic);

	bootinfo_init(info_pa);
	cmdline_apply(boot_info_parsed.cmdline);
	cpu_detect();
	cpu_setup_bsp();

	memmap_init(&boot_info_parsed);
	kpaging_init();
	acpi_init(&boot_info_parsed);
	console_from_spcr();
	numa_finalize();
	frame_init();
	kpaging_frames_ready();
	kheap_init();

	percpu_bsp_switch();
	gdt_tss_init(this_cpu(), true);
	cpu_map_idt();
	fbcon_init(&boot_info_parsed);

	tsc_init();
	apic_init_bsp();
	numa_bind_cpu(0, this_cpu()->entry.apic_id);
	this_cpu()->shared.online = 1;
	smp_call_init();
	timer_init();
	timer_cpu_init();
	irq_enable();
	smp_boot_aps();

	boot_report_print();
	selfcheck_run_boot();

	if (ktest_selected_any(ktest_sel))
		run_tests_and_exit();
	pr_info("boot complete; nothing else to run yet");
	machine_exit(true);
}
