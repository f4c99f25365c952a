/*
 * CPU topology from CPUID: which bits of an x2APIC ID name the thread, the
 * core and the package (socket), and the counts over the CPUs that are
 * online.
 *
 * Glossary (SDM Vol. 2A CPUID leaf 0x1F "V2 Extended Topology Enumeration"
 * and leaf 0xB; Vol. 3A 10.9 "Programming considerations for hardware
 * multi-threading capable processors")
 *   level      one subleaf of 0x1F/0xB: ECX[15:8] its type (1 SMT, 2 core,
 *              3 module, 4 tile, 5 die), EAX[4:0] the number of APIC ID
 *              bits below the next level up; a subleaf with EBX[15:0] = 0
 *              ends the list.
 *   smt_shift  APIC ID >> smt_shift names the core (0: no SMT level).
 *   pkg_shift  APIC ID >> pkg_shift names the package: the shift of the
 *              last level.
 * Leaf 0x1F is preferred (it lists the levels between core and package);
 * without it leaf 0xB, and without either only the legacy leaf 1 count.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/x86/cpu.h"

struct cpu_topology {
	uint32_t smt_shift, pkg_shift;
	const char *source; /* "CPUID leaf 0x1f", "CPUID leaf 0xb", "CPUID leaf 1" */
};

struct topology_counts {
	uint32_t sockets, cores, threads;
};

/* Pure (host-tested): the shifts from the subleaves of 0x1F or 0xB;
 * false if subleaf 0 is invalid. */
bool topology_from_leaves(const struct cpuid_regs *sub, uint32_t n, struct cpu_topology *out);
/* Pure: distinct packages and cores among n APIC IDs. */
void topology_count(const struct cpu_topology *t, const uint32_t *apic_ids, uint32_t n,
		    struct topology_counts *out);

extern struct cpu_topology cpu_topology;

/* Boot CPU: read CPUID into cpu_topology. */
void topology_detect(void);
/* "topology: 2 sockets, 16 cores, 32 threads (...)" over the online CPUs. */
void topology_print(void);
