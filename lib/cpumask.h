/*
 * CPU sets as bitmaps of NR_CPUS bits. Iteration stops at nr_cpus (the CPUs
 * actually present), so the cost follows the machine, not the build limit.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/percpu.h"

struct cpumask {
	uint64_t bits[NR_CPUS / 64];
};

static inline void cpumask_clear_all(struct cpumask *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(m->bits); i++)
		m->bits[i] = 0;
}

static inline void cpumask_set(struct cpumask *m, uint32_t cpu)
{
	__atomic_fetch_or(&m->bits[cpu / 64], 1ull << (cpu % 64), __ATOMIC_RELAXED);
}

static inline void cpumask_clear(struct cpumask *m, uint32_t cpu)
{
	__atomic_fetch_and(&m->bits[cpu / 64], ~(1ull << (cpu % 64)), __ATOMIC_RELAXED);
}

/* One BT with a memory operand: with the bit offset in a register the CPU
 * finds the word itself (SDM Vol. 2A BT: a bit string), one instruction
 * where the load, the shift and the indexed load of the word cost three
 * more (Linux's variable_test_bit() is the same). Volatile, as the relaxed
 * atomic load of the word it replaces: read once, where it stands. */
static inline bool cpumask_test(const struct cpumask *m, uint32_t cpu)
{
	bool set;

	__asm__ __volatile__("btq %2, %1" : "=@ccc"(set) : "m"(m->bits), "r"((uint64_t)cpu));
	return set;
}

/* Next set CPU at or after cpu, or nr_cpus when none. */
static inline uint32_t cpumask_next(const struct cpumask *m, uint32_t cpu)
{
	while (cpu < nr_cpus) {
		uint64_t w = __atomic_load_n(&m->bits[cpu / 64], __ATOMIC_RELAXED) >> (cpu % 64);

		if (w)
			return cpu + (uint32_t)__builtin_ctzll(w) < nr_cpus
				       ? cpu + (uint32_t)__builtin_ctzll(w)
				       : nr_cpus;
		cpu = (cpu | 63) + 1;
	}
	return nr_cpus;
}

#define for_each_cpu_in(cpu, mask) \
	for ((cpu) = cpumask_next(mask, 0); (cpu) < nr_cpus; (cpu) = cpumask_next(mask, (cpu) + 1))

static inline uint32_t cpumask_weight(const struct cpumask *m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < DIV_ROUND_UP(nr_cpus, 64); i++)
		n += popcount64(m->bits[i]);
	return n;
}

extern struct cpumask cpu_online_mask;
