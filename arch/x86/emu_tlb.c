/*
 * Probe for the patched Bochs's TLB model (see emu_tlb.h).
 */
#include "arch/x86/emu_tlb.h"
#include "arch/x86/cpu.h"
#include "lib/printk.h"

bool emu_tlb_present;

void emu_tlb_init(void)
{
	uint64_t id = 0, cfg = 0, ncpus = 0;

	if (!rdmsr_safe(EMU_TLB_MSR_ID, &id) || id != EMU_TLB_MAGIC) {
		pr_info("emutlb: none (no PCID-faithful emulator; page walks not counted)");
		return;
	}
	rdmsr_safe(EMU_TLB_MSR_CONFIG, &cfg);
	rdmsr_safe(EMU_TLB_MSR_NCPUS, &ncpus);
	emu_tlb_present = true;
	pr_info("emutlb: PCID-faithful Bochs, %lu CPUs: STLB %u entries %u-way, PSC %u entries "
		"%u-way, speculative walks %s%s",
		ncpus, EMU_TLB_CONFIG_ENTRIES(cfg), EMU_TLB_CONFIG_WAYS(cfg),
		(uint32_t)(cfg >> 32) & 0xffff, (uint32_t)(cfg >> 48) & 0xff,
		(cfg >> 56) & 1 ? "on" : "off",
		(cfg >> 57) & 1 ? "" : " (model off: stock behaviour)");
}

uint64_t emu_tlb_config(void)
{
	uint64_t cfg = 0;

	rdmsr_safe(EMU_TLB_MSR_CONFIG, &cfg);
	return cfg;
}

bool emu_tlb_set_config(uint64_t config)
{
	return wrmsr_safe(EMU_TLB_MSR_CONFIG, config);
}
