/*
 * PCID allocator (see pcid.h; DESIGN.md "PCID allocator").
 *
 * Each CPU keeps nr_asids slots of {ctx_id, tlb_gen, kgen, user_stale}.
 * Switching to an mm reuses its slot when present and flushes only if the
 * slot is behind (mm/tlb.c); otherwise it takes an empty slot or evicts a
 * round-robin victim and loads CR3 without the no-flush bit. asids= sets
 * the slot count, from 1 up to MAX_ASIDS (what PTI's user bit leaves), so
 * that the 6 Linux chose can be measured against more address spaces.
 *
 * pcid=model: CR4.PCIDE stays 0 and the hardware CR3 gets only the root
 * (every write flushes, as it must on such a CPU); the logical CR3 value,
 * with PCID and no-flush bit, goes to the coherence checker (mm/tlbcheck.c)
 * through arch_write_cr3(), which holds the protocol to PCID semantics.
 */
#include "mm/pcid.h"
#include "mm/mm.h"
#include "mm/pti.h"
#include "mm/kheap.h"
#include "lib/string.h"
#include "lib/cmdline.h"
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "arch/cpu.h"
#include "arch/mmu.h"

int pcid_mode;
KSWITCH_ENUM(pcid_mode, "pcid", "PCIDs: auto, on, off, or model (protocol without hardware PCID)",
	     "auto", "on", "off", "model");
int nr_asids = 6;
KSWITCH_INT(nr_asids, "asids", "PCID slots per CPU", 1, MAX_ASIDS);

static const char *const names[] = { "auto", "on", "off", "model" };

const char *pcid_mode_name(void)
{
	return names[pcid_mode];
}

void pcid_init(void)
{
	if (pcid_mode == PCID_AUTO)
		pcid_mode = arch_mmu_has_pcid() ? PCID_ON : PCID_MODEL;
	if (pcid_mode == PCID_ON && !arch_mmu_has_pcid()) {
		pr_warn("pcid: pcid=on but the CPU has no PCID; using pcid=model");
		pcid_mode = PCID_MODEL;
	}
	pcid_hw = pcid_mode == PCID_ON;
	invpcid_hw = pcid_hw && arch_mmu_has_invpcid();
	if (pcid_mode == PCID_OFF)
		nr_asids = 1;
	pr_info("pcid: %s, %d slot%s per CPU%s", pcid_mode_name(), nr_asids,
		nr_asids == 1 ? "" : "s",
		pcid_mode == PCID_MODEL ? " (hardware CR3 writes flush; the checker keeps PCID "
					  "semantics)"
					: "");
}

void pcid_init_cpu(void)
{
	struct cpu_tlb *t = kmalloc(sizeof(*t));

	BUG_ON(!t);
	t->nr = (uint32_t)nr_asids;
	t->slots = kmalloc(sizeof(struct asid_slot) * t->nr);
	BUG_ON(!t->slots);
	memset(t->slots, 0, sizeof(struct asid_slot) * t->nr); /* empty, no cached CR3 */
	t->cur = 0;
	t->prev = 0;
	this_cpu_write(entry.user_cr3_keep, 0);
	t->next_victim = 0;
	this_cpu_write(kgen_seen, 0);
	this_cpu_write(tlb, t);
	if (pcid_hw) {
		/* CR4.PCIDE may only be set while CR3[11:0] is 0 (SDM Vol. 3A
		 * 4.10.1): the boot CR3 has PCID 0. */
		arch_enable_pcid();
	}
}

uint64_t cr3_kernel_value(const struct mm *mm, uint32_t slot, bool noflush)
{
	if (pcid_mode == PCID_OFF)
		return mm->root;
	return mm->root | slot_kpcid(slot) | (noflush ? CR3_NOFLUSH : 0);
}

uint64_t cr3_user_value(const struct mm *mm, uint32_t slot, bool noflush)
{
	if (pcid_mode == PCID_OFF)
		return mm->user_root;
	return mm->user_root | slot_upcid(slot) | (noflush ? CR3_NOFLUSH : 0);
}

void pcid_load_cr3(const struct mm *mm, uint32_t slot, bool flush)
{
	/* The entry code's copy (PTI: loaded at every entry from user mode)
	 * always keeps the PCID's entries; this load flushes when asked. */
	struct cpu_tlb *ts = this_tlb();
	struct asid_slot *s = &ts->slots[slot];

	if (unlikely(s->cr3_root != mm->root)) {
		/* user_root is root + 4 KiB or 0 (pti=off) for every mm, so
		 * the values follow from root, slot and the boot switches. */
		s->cr3_root = mm->root;
		s->kcr3 = cr3_kernel_value(mm, slot, true);
		s->kcr3_hw = cr3_hw_value(s->kcr3);
		s->ucr3_keep =
			pti_enabled && pcid_mode != PCID_OFF && !tlbcheck_enabled && mm->user_root
				? cr3_hw_value(cr3_user_value(mm, slot, true))
				: 0;
	}
	this_cpu_write(entry.kernel_cr3, s->kcr3_hw);
	this_cpu_write(entry.user_cr3_keep, s->user_stale ? 0 : s->ucr3_keep); /* queue empty */
	/* cr3_kernel_value(mm, slot, !flush): the no-flush bit is the only
	 * difference (and pcid=off never sets it). */
	arch_write_cr3(flush ? s->kcr3 & ~CR3_NOFLUSH : s->kcr3);
}

uint64_t cr3_hw_value(uint64_t logical)
{
	return pcid_hw ? logical : logical & CR3_ADDR_MASK;
}
