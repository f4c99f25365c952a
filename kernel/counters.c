/*
 * Counter names and sums (see counters.h).
 */
#include "kernel/counters.h"
#include "kernel/percpu_area.h"
#include "lib/printk.h"
#include "lib/fmt.h"
#include "arch/x86/emu_tlb.h"
#include "arch/fpu.h"
#include "mm/pcid.h"
#include "mm/pti.h"

const char *const counter_names[NR_COUNTERS] = {
#define COUNTER_NAME(id, name) name,
	COUNTER_LIST(COUNTER_NAME)
#undef COUNTER_NAME
};

static uint64_t emu_walks(const struct percpu *pc, enum counter_id id)
{
	uint32_t apic = pc->entry.apic_id;

	if (!emu_tlb_present)
		return 0;
	if (id != CNT_PAGE_WALKS)
		return emu_tlb_read(apic, (enum emu_tlb_counter)(id - CNT_PAGE_WALKS_DATA_USER));
	return emu_tlb_read(apic, EMU_WALK_DATA_USER) + emu_tlb_read(apic, EMU_WALK_DATA_KERNEL) +
	       emu_tlb_read(apic, EMU_WALK_INSN_USER) + emu_tlb_read(apic, EMU_WALK_INSN_KERNEL);
}

_Static_assert(CNT_PAGE_WALKS_DATA_KERNEL - CNT_PAGE_WALKS_DATA_USER == EMU_WALK_DATA_KERNEL &&
		       CNT_PAGE_WALKS_INSN_USER - CNT_PAGE_WALKS_DATA_USER == EMU_WALK_INSN_USER &&
		       CNT_PAGE_WALKS_INSN_KERNEL - CNT_PAGE_WALKS_DATA_USER ==
			       EMU_WALK_INSN_KERNEL,
	       "the page-walk counters follow the emulator's order");

/* pti_cr3's writes counted elsewhere: the system calls' entries (with
 * PTI, one each) and their fast exits, and the paranoid entries' switches
 * to the kernel root (arch/x86/entry.S). In pti_cr3, cr3_write and
 * cr3_write_noflush. */
static uint64_t pti_cr3_uncounted(struct percpu *pc)
{
	uint64_t n = READ_ONCE(pc->entry.sysret_cr3_fast) + READ_ONCE(pc->entry.paranoid_cr3);

	if (pti_enabled)
		n += READ_ONCE(pc->counters[CNT_SYSCALL]);
	return n;
}

uint64_t counter_read(uint32_t cpu, enum counter_id id)
{
	struct percpu *pc = percpu_of(cpu);

	if (!pc)
		return 0;
	if (id >= CNT_PAGE_WALKS && id <= CNT_PAGE_WALKS_INSN_KERNEL)
		return emu_walks(pc, id);
	/* The inline address-space switch (mm/switch_mm.h load_mm_fast)
	 * counts its ASID hit and its no-flush CR3 write once, in
	 * mm_switch_fast (it runs only with PCIDs, hardware or model, whose
	 * logical CR3 writes arch_write_cr3() counts as no-flush too). */
	uint64_t mm_fast = READ_ONCE(pc->counters[CNT_MM_SWITCH_FAST]);

	if (id == CNT_ASID_HIT)
		return READ_ONCE(pc->counters[id]) + mm_fast;
	/* A fused IPC hand-over (kernel/ipc.c) is a fast-path one too. */
	if (id == CNT_IPC_FASTPATH)
		return READ_ONCE(pc->counters[id]) + READ_ONCE(pc->counters[CNT_IPC_FUSED]);
	/* The PTI entry and exit count their no-flush CR3 writes once, in
	 * pti_cr3 (mm/pti.h); the system call's entry not at all, being
	 * counted as a system call, its fast exit and the paranoid entries
	 * in their own words of the entry page (arch/x86/entry.S). They are
	 * CR3 writes and no-flush ones. Without PCIDs every CR3 write
	 * flushes: the entries' are then the only ones (the fast exits need a
	 * PCID), and not no-flush ones (regression
	 * cr3_noflush_counted_without_pcids). */
	if (id == CNT_PTI_CR3)
		return READ_ONCE(pc->counters[id]) + pti_cr3_uncounted(pc);
	if (id == CNT_CR3_WRITE || (id == CNT_CR3_WRITE_NOFLUSH && pcid_mode != PCID_OFF))
		return READ_ONCE(pc->counters[id]) + READ_ONCE(pc->counters[CNT_PTI_CR3]) +
		       pti_cr3_uncounted(pc) + mm_fast +
		       /* the paranoid exits' restores of the user root, each
			* a flushing write (arch/x86/include/arch/percpu.h) */
		       (id == CNT_CR3_WRITE ? READ_ONCE(pc->entry.paranoid_cr3) : 0);
	/* So does the inline XRSTORS exit (arch/fpu.h), in xrstor_inline: an
	 * XRSTORS, and where the kernel uses XFD one that found IA32_XFD
	 * as the task needs it (load_controls() counts those too). */
	if (id == CNT_XRSTOR || (id == CNT_XFD_WRITE_AVOIDED && READ_ONCE(xstate_has_xfd)))
		return READ_ONCE(pc->counters[id]) + READ_ONCE(pc->counters[CNT_XRSTOR_INLINE]);
	return READ_ONCE(pc->counters[id]);
}

uint64_t counter_sum(enum counter_id id)
{
	uint64_t n = 0;

	for (uint32_t c = 0; c < nr_cpus; c++)
		n += counter_read(c, id);
	return n;
}

void counters_print(void)
{
	char line[100];
	size_t used = 0;

	pr_info("counters (all CPUs):");
	for (int i = 0; i < NR_COUNTERS; i++) {
		uint64_t v = counter_sum((enum counter_id)i);

		if (!v)
			continue;
		if (used > 60) {
			pr_info("  %s", line);
			used = 0;
		}
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s=%lu",
					 used ? " " : "", counter_names[i], v);
	}
	if (used)
		pr_info("  %s", line);
}
