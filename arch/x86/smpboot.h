#pragma once

#include "lib/compiler.h"

/* Start every enabled CPU the MADT lists (see smpboot.c); each, once its
 * arch state is up, runs generic_ap_main (the kernel's per-CPU bring-up,
 * kernel/main.c kernel_ap_main), which calls arch_ap_online() and never
 * returns. */
void smp_boot_aps(void (*generic_ap_main)(uint32_t cpu));
void smp_print_cpus(void);

extern uint64_t smp_boot_ns; /* time to start all APs */
extern uint32_t smp_failed;  /* CPUs listed but not started */
