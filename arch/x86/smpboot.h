#pragma once

#include "lib/compiler.h"

/* Start every enabled CPU the MADT lists (see smpboot.c). */
void smp_boot_aps(void);
void smp_print_cpus(void);
void smp_call_cpu_init(uint32_t cpu);

extern uint64_t smp_boot_ns; /* time to start all APs */
extern uint32_t smp_failed;  /* CPUs listed but not started */
