/*
 * CPU topology (see topology.h).
 */
#include "arch/x86/topology.h"

#define LEVEL_SMT 1

bool topology_from_leaves(const struct cpuid_regs *sub, uint32_t n, struct cpu_topology *out)
{
	out->smt_shift = 0;
	out->pkg_shift = 0;
	if (!n || !(sub[0].ebx & 0xffff) || !((sub[0].ecx >> 8) & 0xff))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t type = (sub[i].ecx >> 8) & 0xff;

		if (!(sub[i].ebx & 0xffff) || !type)
			break;
		if (type == LEVEL_SMT)
			out->smt_shift = sub[i].eax & 0x1f;
		out->pkg_shift = sub[i].eax & 0x1f;
	}
	return true;
}

/* True if key(ids[i]) occurred among ids[0..i-1]. */
static bool seen_before(const uint32_t *ids, uint32_t i, uint32_t shift)
{
	for (uint32_t j = 0; j < i; j++) {
		if (ids[j] >> shift == ids[i] >> shift)
			return true;
	}
	return false;
}

void topology_count(const struct cpu_topology *t, const uint32_t *ids, uint32_t n,
		    struct topology_counts *out)
{
	*out = (struct topology_counts){ .threads = n };
	/* Quadratic, but only at boot: 1024 CPUs are half a million compares. */
	for (uint32_t i = 0; i < n; i++) {
		out->sockets += !seen_before(ids, i, t->pkg_shift);
		out->cores += !seen_before(ids, i, t->smt_shift);
	}
}

#ifndef HOST_TEST
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "arch/mem.h"

#define MAX_LEVELS 8

struct cpu_topology cpu_topology;

void topology_detect(void)
{
	uint32_t max = cpuid(0).eax;
	struct cpuid_regs sub[MAX_LEVELS];
	static const uint32_t leaves[] = { 0x1f, 0xb };

	for (uint32_t l = 0; l < ARRAY_SIZE(leaves); l++) {
		if (max < leaves[l])
			continue;
		for (uint32_t i = 0; i < MAX_LEVELS; i++)
			sub[i] = cpuid_count(leaves[l], i);
		if (topology_from_leaves(sub, MAX_LEVELS, &cpu_topology)) {
			cpu_topology.source = l == 0 ? "CPUID leaf 0x1f" : "CPUID leaf 0xb";
			return;
		}
	}
	/* Leaf 1 EBX[23:16]: addressable logical processors per package. */
	uint32_t per_pkg = (cpuid(1).ebx >> 16) & 0xff, shift = 0;

	while ((1u << shift) < per_pkg)
		shift++;
	cpu_topology = (struct cpu_topology){ 0, shift, "CPUID leaf 1" };
}

void topology_print(void)
{
	uint32_t *ids = arch_mem.alloc(sizeof(uint32_t) * nr_cpus);
	uint32_t n = 0;
	struct topology_counts c;

	if (!ids) {
		pr_warn("topology: no memory to count");
		return;
	}
	for (uint32_t cpu = 0; cpu < nr_cpus; cpu++) {
		struct percpu *pc = percpu_of(cpu);

		if (pc && READ_ONCE(pc->shared.online))
			ids[n++] = pc->entry.apic_id;
	}
	topology_count(&cpu_topology, ids, n, &c);
	arch_mem.free(ids);
	pr_info("topology: %u socket%s, %u cores, %u threads (%s: SMT shift %u, package shift %u)",
		c.sockets, c.sockets == 1 ? "" : "s", c.cores, c.threads, cpu_topology.source,
		cpu_topology.smt_shift, cpu_topology.pkg_shift);
}
#endif
