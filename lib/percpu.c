/*
 * The per-CPU table and the CPU counts (lib/percpu.h), and the online mask
 * (lib/cpumask.h): data every floor reads. kernel/percpu_area.c fills the
 * table as it creates the areas; CPU start-up sets the counts and the mask.
 */
#include "lib/percpu.h"
#include "lib/cpumask.h"

struct percpu *percpu_ptrs[NR_CPUS];
uint32_t nr_cpus = 1;
uint32_t nr_cpus_online = 1;
struct cpumask cpu_online_mask;
