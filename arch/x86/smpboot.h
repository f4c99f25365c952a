#pragma once

#include "lib/compiler.h"

/* What SMP start-up takes from the kernel (kernel/main.c smp_ops): the
 * arch starts CPUs, the memory they run on is given to it. */
struct smp_boot_ops {
	/* On the boot CPU, before an AP is sent INIT: create the AP's per-CPU
	 * area (entry.apic_id = apic_id), bind it to its NUMA node, and return
	 * the top of its idle stack; 0 if there is no memory for it. */
	uint64_t (*prepare_cpu)(uint32_t cpu, uint32_t apic_id);
	/* On the AP once its arch state is up: the kernel's per-CPU bring-up
	 * (kernel_ap_main), which calls arch_ap_online() and never returns. */
	void (*ap_main)(uint32_t cpu);
	/* The kernel's page-table root, which every AP loads (its upper half
	 * is copied into the trampoline's tables). */
	uint64_t kernel_root;
};

/* Start every enabled CPU the MADT lists (see smpboot.c). */
void smp_boot_aps(const struct smp_boot_ops *ops);
void smp_print_cpus(void);

extern uint64_t smp_boot_ns; /* time to start all APs */
extern uint32_t smp_failed;  /* CPUs listed but not started */
