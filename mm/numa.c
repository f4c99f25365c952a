/*
 * NUMA node table (see numa.h).
 *
 * SRAT gives proximity domains; we renumber them densely as nodes 0..n-1 in
 * the order they appear. A node's range is the hull of its memory affinity
 * entries (enough for zone placement; holes are reserved in the frame
 * table). Without SRAT there is one node.
 *
 * SLIT distances are indexed by proximity domain (ACPI 6.5, 5.2.17: the
 * locality number is the proximity domain); numa_distance() takes nodes and
 * translates.
 */
#include "mm/numa.h"
#include "mm/memmap.h"
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/fmt.h"
#include "mm/kheap.h"

#define MAX_APIC_MAP 4096

struct numa_node {
	uint32_t proximity;
	paddr_t start, end;
	uint32_t nr_cpus;
};

static struct numa_node nodes[MAX_NUMA_NODES];
static uint32_t nr_nodes;
static bool from_srat, srat_refused;
static uint8_t cpu_node[NR_CPUS];
static struct {
	uint32_t apic_id;
	uint8_t node;
} apic_map[MAX_APIC_MAP];
static uint32_t nr_apic_map;
static uint8_t distance[MAX_NUMA_NODES][MAX_NUMA_NODES];

static int node_for_proximity(uint32_t prox, bool create)
{
	for (uint32_t i = 0; i < nr_nodes; i++) {
		if (nodes[i].proximity == prox)
			return (int)i;
	}
	if (!create || nr_nodes == MAX_NUMA_NODES)
		return -1;
	nodes[nr_nodes] = (struct numa_node){ .proximity = prox, .start = ~0ull, .end = 0 };
	return (int)nr_nodes++;
}

void numa_add_memory(uint32_t prox, paddr_t start, paddr_t end)
{
	int n = node_for_proximity(prox, true);

	if (n < 0 || end <= start)
		return;
	from_srat = true;
	if (start < nodes[n].start)
		nodes[n].start = start;
	if (end > nodes[n].end)
		nodes[n].end = end;
}

void numa_add_cpu_apic(uint32_t prox, uint32_t apic_id)
{
	int n = node_for_proximity(prox, true);

	if (n < 0 || nr_apic_map == MAX_APIC_MAP)
		return;
	apic_map[nr_apic_map].apic_id = apic_id;
	apic_map[nr_apic_map].node = (uint8_t)n;
	nr_apic_map++;
}

static bool have_slit;

void numa_set_distance(uint32_t from, uint32_t to, uint8_t d)
{
	if (from < MAX_NUMA_NODES && to < MAX_NUMA_NODES) {
		distance[from][to] = d;
		have_slit = true;
	}
}

uint8_t numa_distance(uint32_t from, uint32_t to)
{
	if (from >= numa_nr_nodes() || to >= numa_nr_nodes())
		return 0;
	uint32_t pf = nodes[from].proximity, pt = nodes[to].proximity;

	if (pf < MAX_NUMA_NODES && pt < MAX_NUMA_NODES && distance[pf][pt])
		return distance[pf][pt];
	return from == to ? 10 : 20;
}

void numa_finalize(void)
{
	/* Drop nodes that have CPUs only (memoryless) from the zone list by
	 * giving them an empty range; with no SRAT memory at all, one node. */
	if (!from_srat || !nr_nodes) {
		nr_nodes = 1;
		nodes[0] = (struct numa_node){ .proximity = 0, .start = 0, .end = memmap.ram_top };
		from_srat = false;
		return;
	}
	for (uint32_t i = 0; i < nr_nodes; i++) {
		if (nodes[i].start > nodes[i].end)
			nodes[i].start = nodes[i].end = 0;
	}
	/* A node is one range (its hull): a node whose memory lies on both
	 * sides of another's cannot be one, and the frame allocator panicked
	 * on it ("node 2's memory surrounds node 1's"; found in review,
	 * regression row acpi-srat-interleaved). Valid ACPI, so run as one
	 * node, saying why. */
	for (uint32_t i = 0; i < nr_nodes; i++) {
		for (uint32_t j = 0; j < nr_nodes; j++) {
			if (i == j || nodes[j].start == nodes[j].end)
				continue;
			if (nodes[i].start < nodes[j].start && nodes[i].end > nodes[j].end) {
				pr_warn("numa: node %u's memory (SRAT) lies on both sides of node "
					"%u's; running as one node",
					i, j);
				nr_nodes = 1;
				nr_apic_map = 0;
				nodes[0] = (struct numa_node){ .proximity = 0,
							       .start = 0,
							       .end = memmap.ram_top };
				from_srat = false;
				srat_refused = true;
				return;
			}
		}
	}
	/* The first node also owns memory below its SRAT start (low memory
	 * is often left out of SRAT). */
	nodes[0].start = 0;
}

uint32_t numa_nr_nodes(void)
{
	return nr_nodes ? nr_nodes : 1;
}

paddr_t numa_node_start(uint32_t node)
{
	return nr_nodes ? nodes[node].start : 0;
}

paddr_t numa_node_end(uint32_t node)
{
	return nr_nodes ? nodes[node].end : memmap.ram_top;
}

void numa_bind_cpu(uint32_t cpu, uint32_t apic_id)
{
	uint8_t node = 0;

	for (uint32_t i = 0; i < nr_apic_map; i++) {
		if (apic_map[i].apic_id == apic_id) {
			node = apic_map[i].node;
			break;
		}
	}
	cpu_node[cpu] = node;
	if (node < nr_nodes)
		nodes[node].nr_cpus++;
}

int numa_cpu_node(uint32_t cpu)
{
	return cpu < NR_CPUS ? cpu_node[cpu] : 0;
}

int numa_node_of_pa(paddr_t pa)
{
	for (uint32_t i = 0; i < numa_nr_nodes(); i++) {
		if (pa >= numa_node_start(i) && pa < numa_node_end(i))
			return (int)i;
	}
	return 0;
}

/* Usable RAM (memmap) inside node n's range. */
static uint64_t node_ram_bytes(uint32_t n)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < memmap.nr_ram; i++) {
		paddr_t a = MAX(memmap.ram[i].start, numa_node_start(n));
		paddr_t b = MIN(memmap.ram[i].end, numa_node_end(n));

		if (a < b)
			sum += b - a;
	}
	return sum;
}

static void print_node(uint32_t n, uint32_t *cpus)
{
	uint32_t k = 0;
	char list[96];

	for (uint32_t c = 0; c < nr_cpus; c++) {
		if (percpu_of(c) && READ_ONCE(percpu_of(c)->shared.online) && cpu_node[c] == n)
			cpus[k++] = c;
	}
	fmt_ranges(list, sizeof(list), cpus, k);
	pr_info("  node %u: proximity %u, memory %#lx-%#lx (%lu MiB usable), %u cpus: %s", n,
		nodes[n].proximity, numa_node_start(n), numa_node_end(n), node_ram_bytes(n) >> 20,
		k, k ? list : "none");
}

void numa_print(void)
{
	uint32_t *cpus = kmalloc(sizeof(uint32_t) * nr_cpus);

	pr_info("numa: %u node%s (%s)", numa_nr_nodes(), numa_nr_nodes() == 1 ? "" : "s",
		from_srat      ? "from SRAT"
		: srat_refused ? "the SRAT's nodes interleave: one node"
			       : "no SRAT: one node");
	for (uint32_t i = 0; i < numa_nr_nodes() && cpus; i++)
		print_node(i, cpus);
	kfree(cpus);
	if (numa_nr_nodes() == 1)
		return;
	pr_info("numa: distances (%s):", have_slit ? "from SLIT" : "no SLIT: 10 local, 20 remote");
	for (uint32_t i = 0; i < numa_nr_nodes(); i++) {
		char row[4 * MAX_NUMA_NODES + 1];
		size_t used = 0;

		for (uint32_t j = 0; j < numa_nr_nodes(); j++)
			used += (size_t)snprintf(row + used, sizeof(row) - used, " %3u",
						 numa_distance(i, j));
		pr_info("  node %u:%s", i, row);
	}
}
