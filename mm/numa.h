/*
 * NUMA topology: nodes as physical address ranges and the node of each CPU,
 * from ACPI SRAT (arch/x86/acpi_tables.c) when present; otherwise one node holding
 * all memory and all CPUs.
 */
#pragma once

#include "lib/compiler.h"
#include "arch/layout.h"

#define MAX_NUMA_NODES 16

uint32_t numa_nr_nodes(void);
paddr_t numa_node_start(uint32_t node);
paddr_t numa_node_end(uint32_t node);
int numa_cpu_node(uint32_t cpu);
int numa_node_of_pa(paddr_t pa);

/* Filled by SRAT parsing before frame_init(). */
void numa_add_memory(uint32_t proximity, paddr_t start, paddr_t end);
void numa_add_cpu_apic(uint32_t proximity, uint32_t apic_id);
void numa_finalize(void);
void numa_bind_cpu(uint32_t cpu, uint32_t apic_id);
void numa_print(void);
void numa_set_distance(uint32_t from, uint32_t to, uint8_t d);
uint8_t numa_distance(uint32_t from, uint32_t to);
