/*
 * Boot order (DESIGN.md "Boot order"):
 *
 *   boot/boot.S (32-bit, long mode, higher half)
 *   -> kernel_main: per-CPU GS, early IDT, COM1
 *   -> multiboot2 tags, command line, CPU features
 *   -> memory map, kernel page tables, ACPI, NUMA, frames, heap
 *   -> per-CPU area, GDT/TSS/IST, framebuffer console
 *   -> TSC, local APIC, extended state, scheduler, APs
 *   -> boot report and self-check
 *   -> kmain (a kernel thread): kernel tests, then the first user process
 *      (init) with the user tests and benchmarks the command line asks for,
 *      then the verdict. The boot context becomes CPU 0's idle task.
 */
#include "kernel/bootinfo.h"
#include "kernel/multiboot2.h"
#include "lib/cmdline.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "kernel/percpu_area.h"
#include "kernel/ktest.h"
#include "kernel/machine.h"
#include "kernel/nmi.h"
#include "kernel/lockup.h"
#include "arch/switch.h"
#include "arch/static_branch.h"
#include "arch/entry.h"
#include "arch/mem.h"
#include "kernel/fbcon.h"
#include "kernel/boot_report.h"
#include "kernel/selfcheck.h"
#include "kernel/stackprot.h"
#include "kernel/ubsan.h"
#include "kernel/smp.h"
#include "kernel/timer.h"
#include "kernel/proc.h"
#include "kernel/ipc.h"
#include "kernel/shm.h"
#include "kernel/irq_obj.h"
#include "kernel/ioport.h"
#include "kernel/futex.h"
#include "lib/string.h"
#include "kernel/counters.h"
#include "lib/fmt.h"
#include "kernel/trace.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/cpu_setup.h"
#include "arch/x86/desc.h"
#include "arch/trap.h"
#include "arch/x86/serial.h"
#include "arch/x86/acpi.h"
#include "arch/x86/apic.h"
#include "arch/x86/tsc.h"
#include "arch/x86/smpboot.h"
#include "arch/fpu.h"
#include "arch/x86/topology.h"
#include "arch/x86/emu_tlb.h"
#include "mm/kflush.h"
#include "mm/vmalloc.h"
#include "mm/memmap.h"
#include "mm/kpaging.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "mm/numa.h"
#include "mm/mm.h"
#include "mm/tlb.h"
#include "kernel/pasid.h"
#include "mm/pti.h"
#include "mm/tlbcheck.h"
#include "sched/task.h"
#include "sched/idle.h"
#include "kernel/entry_work.h"
#include "kernel/syscall_test.h"

#define MB2_BOOT_MAGIC 0x36d76289

static const char *ktest_sel = "none";
KSWITCH_STRING_QUIET(ktest_sel, "ktest", "in-kernel tests to run: all, none, or names");
static const char *utest_sel = "none";
KSWITCH_STRING_QUIET(utest_sel, "utest", "user-level tests init runs: all, none, or names");
/* Read by the user test syscall_fuzz from the command line (KINFO_CMDLINE). */
static const char *fuzz_seed = "", *fuzz_calls = "", *fuzz_rounds = "";
KSWITCH_STRING_QUIET(fuzz_seed, "fuzz_seed", "syscall_fuzz: the seed to replay");
KSWITCH_STRING_QUIET(fuzz_calls, "fuzz_calls", "syscall_fuzz: calls in all");
KSWITCH_STRING_QUIET(fuzz_rounds, "fuzz_rounds", "syscall_fuzz: child processes");
static const char *hfuzz_seed = "", *hfuzz_ops = "";
KSWITCH_STRING_QUIET(hfuzz_seed, "hfuzz_seed", "handle_fuzz: the seed to replay");
KSWITCH_STRING_QUIET(hfuzz_ops, "hfuzz_ops", "handle_fuzz: handle operations in all");
static bool stats_at_exit;
KSWITCH_BOOL(stats_at_exit, "stats", "print every non-zero counter before exit");
static const char *bench_sel = "none";
KSWITCH_STRING_QUIET(bench_sel, "bench", "benchmarks init runs: all, none, or names");

void kernel_main(uint32_t magic, uint32_t info_pa);

static void console_from_spcr(void)
{
	uint16_t port;

	if (acpi_spcr_port(&port) && port != serial_port()) {
		pr_info("serial: SPCR names the console UART at port %#x", port);
		serial_init(port);
	}
}

static bool selected(const char *sel)
{
	return sel && *sel && strcmp(sel, "none");
}

/* Run init with the user tests and benchmarks; returns its exit code. */
static int run_init(void)
{
	char arg[1024];
	int code = -1;

	if ((size_t)snprintf(arg, sizeof(arg), "utest=%s bench=%s", utest_sel, bench_sel) >=
	    sizeof(arg)) {
		pr_err("utest= and bench= lists are too long (at most %zu bytes)", sizeof(arg));
		return -1;
	}
	int pid = proc_spawn("init", arg, strlen(arg), NULL, NULL, 0);

	if (pid < 0) {
		pr_err("cannot start init: error %d", pid);
		return -1;
	}
	if (proc_wait((uint32_t)pid, &code)) {
		pr_err("lost init");
		return -1;
	}
	return code;
}

static void kmain(void *arg)
{
	bool ktests = ktest_selected_any(ktest_sel);
	bool user = selected(utest_sel) || selected(bench_sel);
	bool ok = true;
	int n = 0;

	(void)arg;
	if (ktests || selected(utest_sel))
		kprintf("KTAP version 1\n1..%d\n", ktests + selected(utest_sel));
	if (ktests) {
		int failed = ktest_run(ktest_sel);

		kprintf("%s %d kernel\n", failed ? "not ok" : "ok", ++n);
		ok = !failed;
	}
	if (user) {
		int code = run_init();

		if (selected(utest_sel))
			kprintf("%s %d user\n", code ? "not ok" : "ok", ++n);
		if (code) {
			pr_err("init exited with code %d", code);
			ok = false;
		}
	} else if (!ktests) {
		pr_info("boot complete; no tests or benchmarks requested");
	}
	if (tlbcheck_enabled)
		tlbcheck_print();
	if (stats_at_exit)
		counters_print();
	if (ubsan_reports()) {
		pr_err("ubsan: %u report(s) of undefined behaviour", ubsan_reports());
		ok = false;
	}
	machine_exit(ok && selfcheck_run_boot() == 0);
}

/* Each AP, once arch/x86/smpboot.c has set up its arch state: the generic
 * per-CPU bring-up, then the idle loop. */
static __noreturn void kernel_ap_main(uint32_t cpu)
{
	tlb_init_cpu();
	pti_init_cpu();
	trace_init_cpu();
	sched_init_cpu();
	timer_cpu_init();
	cpumask_set(&cpu_online_mask, cpu);
	/* Relaxed: a count, read after the BSP's acquire of the AP's alive
	 * flag (arch_ap_online) or racily by reports. */
	__atomic_fetch_add(&nr_cpus_online, 1, __ATOMIC_RELAXED);
	/* Release, as before the move. No pair: the boot CPU orders what we
	 * set up by its acquire of the alive flag arch_ap_online() stores
	 * next (wait_alive() in arch/x86/smpboot.c); the readers of this flag
	 * (kernel/nmi.c, kernel/lockup.c, arch/x86/topology.c, mm/numa.c, the
	 * boot report in arch/x86/smpboot.c) only test it with READ_ONCE and
	 * rely on nothing it orders. */
	__atomic_store_n(&this_cpu()->shared.online, 1, __ATOMIC_RELEASE);
	arch_ap_online(cpu);
	cpu_idle_loop();
}

/* What the firmware says of NUMA, handed to mm (ACPI itself registers
 * nothing above the arch): the SLIT's distances first, then the SRAT's
 * ranges and CPUs, the order in which ACPI used to apply them. */
_Static_assert(ACPI_MAX_LOCALITIES == MAX_NUMA_NODES, "a SLIT fits NUMA's distance table");
static void numa_from_acpi(void)
{
	struct acpi_numa a;

	acpi_numa(&a);
	for (uint32_t i = 0; i < a.slit_n; i++)
		for (uint32_t j = 0; j < a.slit_n; j++)
			numa_set_distance(i, j, a.dist[i][j]);
	if (!a.srat)
		return;
	for (uint32_t i = 0; i < a.srat->nr_mem; i++)
		numa_add_memory(a.srat->mem[i].proximity, a.srat->mem[i].base,
				a.srat->mem[i].base + a.srat->mem[i].len);
	for (uint32_t i = 0; i < a.srat->nr_cpus; i++)
		numa_add_cpu_apic(a.srat->cpus[i].proximity, a.srat->cpus[i].apic_id);
}

/* An AP's memory, before SMP start-up sends it INIT: its per-CPU area, its
 * NUMA node, its idle stack on that node (arch/x86/smpboot.h). */
#define AP_IDLE_STACK (16 * 1024)
static uint64_t prepare_ap_memory(uint32_t cpu, uint32_t apic_id)
{
	struct percpu *pc = percpu_area_create(cpu);

	pc->entry.apic_id = apic_id;
	numa_bind_cpu(cpu, apic_id);
	void *stack = kstack_alloc(AP_IDLE_STACK, numa_cpu_node(cpu));

	if (!stack) {
		pr_err("smp: no memory for cpu %u's stack", cpu);
		return 0;
	}
	return (uint64_t)stack + AP_IDLE_STACK;
}

/* What lib/panic.c needs from above it. */
static const struct panic_ops panic_ops = {
	.print_frame = trap_panic_print,
	.stop_other_cpus = nmi_stop_other_cpus,
	.exit_failure = machine_exit_failure,
	.readable = kernel_readable,
};

/* What the arch's trap, system-call and switch code calls above it
 * (arch/entry.h). */
static const struct entry_ops entry_hooks = {
	.do_syscall = syscall_dispatch,
	.do_syscall_pti = syscall_dispatch_pti,
	.finish_switch = sched_finish_switch,
	.exit_kernel_task = task_exit_kernel,
	.user_enter = user_enter_kernel_trap,
	.irq_enter_idle = irq_enter_from_idle,
	.return_to_user = prepare_return_to_user,
	.irq_exit = irq_exit_work,
	.do_nmi = nmi_handle,
	.resolve_fault = mm_handle_fault,
	.kill_fault = proc_kill_fault,
	.fault_catch = syscall_test_fault_catch,
	.current_ident = task_current_ident,
};

void kernel_main(uint32_t magic, uint32_t info_pa)
{
	/* First: every trap from here on may reach these. */
	arch_entry_init(&entry_hooks);
	arch_mem_init(&mm_arch_mem_ops);
	arch_mmu_check_init(&tlbcheck_mmu_ops); /* before tlbcheck= can be read */
	panic_set_ops(&panic_ops);
	percpu_early_init();
	idt_init();
	gdt_tss_init(this_cpu(), false);
	serial_init(0x3f8);
	pr_info("ukernel: booting");
	if (magic != MB2_BOOT_MAGIC)
		panic("not started by a multiboot2 loader (magic %#x)", magic);

	bootinfo_init(info_pa);
	cmdline_apply(boot_info_parsed.cmdline);
	if (tlbcheck_enabled) {
		/* The checker models the PTI entry's CR3 write: its own
		 * system call (kernel/syscall.c), so that the others never
		 * test the switch. Before the first system call (no user
		 * mode yet, one CPU). */
		struct entry_ops checked = entry_hooks;

		checked.do_syscall_pti = syscall_dispatch_pti_tlbcheck;
		arch_entry_init(&checked);
	}
	cpu_detect();
	spin_mode_init(cpu_has(FEAT_HYPERVISOR));
	spin_set_watchdog(lockup_check_spin);
	stackprot_init(); /* first after cpu_detect: kernel/stackprot.c */
	pr_info("stackprot: canary per boot from %s", stackprot_source());
	topology_detect();
	cpu_setup_bsp();

	bootinfo_memmap_init(&boot_info_parsed);
	pti_init();
	kpaging_init();
	acpi_init(boot_info_parsed.rsdp, boot_info_parsed.rsdp_len);
	numa_from_acpi();
	console_from_spcr();
	numa_finalize();
	frame_init();
	kpaging_frames_ready();
	kheap_init();
	pti_init_tables();

	percpu_bsp_switch();
	gdt_tss_init(this_cpu(), true);
	cpu_map_idt();
	fbcon_init(&boot_info_parsed);

	tsc_init();
	apic_init_bsp();
	numa_bind_cpu(0, this_cpu()->entry.apic_id);
	xstate_init_bsp();
	mm_init();
	tlb_init();
	emu_tlb_init(); /* the patched Bochs's TLB model, if it is there */
	pasid_init();
	tlb_init_cpu();
	pti_init_cpu();
	trace_init();
	arch_switch_init();
	/* Every flag a static branch tests is set by now (the boot switches
	 * and what the CPU and the inits above decided); one CPU, interrupts
	 * off, before the APs start. */
	static_branches_apply();
	proc_init();
	ipc_init();
	shm_init();
	irq_obj_init();
	ioport_init();
	futex_init();
	smp_call_init(kflush_check_ipi_arg);
	timer_init();
	sched_init();
	this_cpu()->shared.online = 1;
	timer_cpu_init();
	irq_enable();
	smp_boot_aps(&(struct smp_boot_ops){ .prepare_cpu = prepare_ap_memory,
					     .ap_main = kernel_ap_main,
					     .kernel_root = kernel_root });

	boot_report_print();
	selfcheck_run_boot();

	struct task *t = task_create("kmain", kmain, NULL, PRIO_HIGH);

	BUG_ON(!t);
	task_start(t, 0);
	cpu_idle_loop();
}
