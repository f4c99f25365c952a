/*
 * Per-CPU control registers (see cpu_setup.h).
 *
 * Values are computed once on the boot CPU from the feature flags and the
 * boot switches, and every CPU loads the same ones, so that all CPUs agree.
 * UEFI may have left any CR4 bit set; we write complete values.
 */
#include "arch/x86/cpu_setup.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/desc.h"
#include "mm/kpaging.h"
#include "mm/pgtable.h"
#include "kernel/printk.h"

#define IDT_ALIAS (ENTRY_AREA_BASE + 0x1000)

/* PAT entries (SDM Vol. 3A 12.12.2): PA0 WB, PA1 WC, PA2 UC-, PA3 UC,
 * PA4 WB, PA5 WP, PA6 UC-, PA7 UC. PTE_CACHE_WC selects PA1 (PWT only). */
#define PAT_VALUE 0x0007050600070106ull

static uint64_t cr4_base;

static void load_common(void)
{
	uint64_t cr0 = read_cr0();

	cr0 |= CR0_WP | CR0_NE | CR0_MP;
	cr0 &= ~(CR0_EM | CR0_TS | CR0_CD | CR0_NW | CR0_AM);
	write_cr0(cr0);
	/* Keep PGE as kpaging set it: toggling it would flush globals. */
	write_cr4(cr4_base | (read_cr4() & CR4_PGE));
	uint64_t efer = rdmsr(MSR_EFER);

	if (cpu_has(FEAT_NX))
		efer |= EFER_NXE;
	wrmsr(MSR_EFER, efer);
	if (cpu_has(FEAT_PAT))
		wrmsr(MSR_PAT, PAT_VALUE);
}

void cpu_setup_bsp(void)
{
	cr4_base = CR4_PAE;
	if (cpu_has(FEAT_FXSR))
		cr4_base |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (cpu_has(FEAT_FSGSBASE))
		cr4_base |= CR4_FSGSBASE;
	load_common();
}

void cpu_setup_ap(void)
{
	load_common();
}

void cpu_map_idt(void)
{
	kmap_page(IDT_ALIAS, virt_to_phys(idt_page()), cpu_has(FEAT_NX) ? PTE_NX : 0);
	idt_move_to_entry_area((void *)IDT_ALIAS);
}
