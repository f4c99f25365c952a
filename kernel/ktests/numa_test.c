/*
 * Memory placement tests:
 *   numa_nodes_found     the nodes SRAT describes (expect_nodes=), each
 *                        with memory and CPUs when the boot says so
 *   numa_alloc_local     a frame allocated on a CPU comes from that CPU's
 *                        node, counted as local; one asked for from another
 *                        node is counted as remote
 *   frame_high_memory    with RAM above 4 GiB: the allocator hands out a
 *                        frame there and the direct map reaches it
 */
#include "kernel/ktest.h"
#include "arch/ipi.h"
#include "lib/percpu.h"
#include "lib/cmdline.h"
#include "include/uapi/counter_ids.h"
#include "lib/string.h"
#include "arch/cpu.h"
#include "mm/frame.h"
#include "mm/memmap.h"
#include "mm/numa.h"

static int expect_nodes;
KSWITCH_INT(expect_nodes, "expect_nodes", "tests: NUMA nodes that must be found (0 = unchecked)", 0,
	    MAX_NUMA_NODES);

KTEST(numa_nodes_found)
{
	uint32_t with_cpus = 0;

	if (expect_nodes)
		KT_EXPECT_EQ(t, numa_nr_nodes(), (uint32_t)expect_nodes);
	for (uint32_t c = 0; c < nr_cpus_online; c++) {
		KT_EXPECT(t, (uint32_t)numa_cpu_node(c) < numa_nr_nodes());
		if (numa_cpu_node(c) == (int)numa_nr_nodes() - 1)
			with_cpus++;
	}
	/* The last node has CPUs and memory of its own (with several nodes,
	 * the one the placement tests below depend on). */
	KT_EXPECT(t, with_cpus > 0);
	KT_EXPECT(t, numa_node_end(numa_nr_nodes() - 1) > numa_node_start(numa_nr_nodes() - 1));
	for (uint32_t n = 0; n < numa_nr_nodes(); n++)
		KT_EXPECT_EQ(t, numa_distance(n, n), 10);
	ktest_note("%u node(s), %u CPU(s) on node %u", numa_nr_nodes(), with_cpus,
		   numa_nr_nodes() - 1);
}

struct local_probe {
	paddr_t pa;
	int node;
	uint64_t local_before, local_after;
};

static void probe_alloc(void *arg)
{
	struct local_probe *p = arg;

	p->node = numa_cpu_node(this_cpu_id());
	p->local_before = this_cpu_read(counters[CNT_FRAME_LOCAL]);
	p->pa = frame_alloc(0, FA_NOWARN);
	p->local_after = this_cpu_read(counters[CNT_FRAME_LOCAL]);
}

KTEST(numa_alloc_local)
{
	uint32_t checked = 0, nodes_seen = 0, per_node[MAX_NUMA_NODES] = { 0 };

	/* Two CPUs per node are enough; more only lengthen the test. */
	for (uint32_t c = 0; c < nr_cpus_online; c++) {
		int node = numa_cpu_node(c);
		struct local_probe p = { 0 };

		if (per_node[node] == 2)
			continue;
		smp_call(c, probe_alloc, &p, true); /* runs it on c, interrupts off */
		if (!KT_EXPECT(t, p.pa != 0))
			continue;
		KT_EXPECT_EQ(t, p.node, node);
		KT_EXPECT_EQ(t, numa_node_of_pa(p.pa), node);
		KT_EXPECT_EQ(t, (int)pa_to_frame(p.pa)->node, node);
		KT_EXPECT_EQ(t, p.local_after, p.local_before + 1);
		if (node != 0 || c == nr_cpus_online - 1)
			ktest_note("cpu %u (node %d) allocated %#lx on node %d", c, node, p.pa,
				   numa_node_of_pa(p.pa));
		frame_free(p.pa, 0);
		nodes_seen += !per_node[node]++;
		checked++;
	}
	if (numa_nr_nodes() > 1) {
		/* From here, another node's memory on purpose: remote.
		 * Interrupts off: the counter read is this CPU's. */
		uint64_t f = irq_save();
		int other = (numa_cpu_node(this_cpu_id()) + 1) % (int)numa_nr_nodes();
		uint64_t before = this_cpu_read(counters[CNT_FRAME_REMOTE]);
		paddr_t pa = frame_alloc_node(0, FA_NOWARN, other);
		uint64_t after = this_cpu_read(counters[CNT_FRAME_REMOTE]);

		irq_restore(f);
		if (KT_EXPECT(t, pa != 0)) {
			KT_EXPECT_EQ(t, numa_node_of_pa(pa), other);
			KT_EXPECT_EQ(t, after, before + 1);
			frame_free(pa, 0);
		}
	}
	ktest_note("%u CPUs on %u nodes allocated locally", checked, nodes_seen);
}

KTEST(frame_high_memory)
{
	const paddr_t four_g = 1ull << 32;
	paddr_t chain = 0, found = 0;
	uint32_t blocks = 0;

	if (!memmap.ram_above_4g) {
		ktest_skip(t, "no RAM above 4 GiB");
		return;
	}
	/* Take 4 MiB blocks until one lies above 4 GiB; they are chained
	 * through their first word (the direct map must reach them all). */
	while (!found) {
		paddr_t pa = frame_alloc(BUDDY_ORDERS - 1, FA_NOWARN);

		if (!pa)
			break;
		*(paddr_t *)phys_to_virt(pa) = chain;
		chain = pa;
		blocks++;
		if (pa >= four_g)
			found = pa;
	}
	if (KT_EXPECT(t, found != 0)) {
		uint64_t *last = phys_to_virt(found + (4ull << 20) - 8);

		WRITE_ONCE(*last, 0x5eedf00d5eedf00dull);
		KT_EXPECT_EQ(t, READ_ONCE(*last), 0x5eedf00d5eedf00dull);
		KT_EXPECT(t, frame_is_ram(found));
		KT_EXPECT_EQ(t, (int)pa_to_frame(found)->node, numa_node_of_pa(found));
		ktest_note("allocated and used %#lx above 4 GiB (after %u blocks)", found, blocks);
	}
	while (chain) {
		paddr_t next = *(paddr_t *)phys_to_virt(chain);

		frame_free(chain, BUDDY_ORDERS - 1);
		chain = next;
	}
}
