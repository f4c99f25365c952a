/*
 * Per-CPU control registers (see cpu_setup.h).
 *
 * Values are computed once on the boot CPU from the feature flags and the
 * boot switches, and every CPU loads the same ones, so that all CPUs agree.
 * UEFI may have left any CR4 bit set; we write complete values.
 *
 * Protections turned on where the CPU has them (SDM Vol. 3A 4.6):
 *   SMEP  the kernel never executes user pages
 *   SMAP  the kernel touches user pages only inside the user-copy routines
 *         (STAC/CLAC around them, arch/x86/usercopy.S)
 *   UMIP  user mode cannot read GDTR/IDTR/LDTR/TR (SGDT, SIDT, ...)
 *   NX    data is not executable (EFER.NXE)
 */
#include "arch/x86/cpu_setup.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/desc.h"
#include "lib/percpu.h"
#include "lib/cmdline.h"
#include "arch/mem.h"
#include "arch/mmu.h"
#include "arch/pgtable.h"
#include "lib/printk.h"
#include "lib/fmt.h"

#define IDT_ALIAS (ENTRY_AREA_BASE + 0x1000)

/* PAT entries (SDM Vol. 3A 12.12.2): PA0 WB, PA1 WC, PA2 UC-, PA3 UC,
 * PA4 WB, PA5 WP, PA6 UC-, PA7 UC. PTE_CACHE_WC selects PA1 (PWT only). */
#define PAT_VALUE 0x0007050600070106ull

/* SFMASK: RFLAGS bits cleared on SYSCALL: IF (interrupts stay off until the
 * entry code is on the kernel stack), DF, TF, AC (SMAP closed), NT; and
 * IOPL and VM, which no CPU enters with from 64-bit user mode but QEMU TCG
 * does (its SYSRET loads VM from R11, its lazily computed flags have put
 * garbage in RFLAGS): with VM set in the kernel, QEMU turns every CLI and
 * STI into a #GP and that #GP into a double fault (regression
 * syscall_entry_clears_vm, user/utest/t_entry.c). */
#define SFMASK_VALUE \
	(RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC | RFLAGS_NT | RFLAGS_IOPL | RFLAGS_VM)

extern const char syscall_entry[], syscall_entry_pti[];

uint8_t smap_enabled;
static bool smep_on = true, smap_on = true, umip_on = true;
KSWITCH_BOOL(smep_on, "smep", "supervisor-mode execution prevention");
KSWITCH_BOOL(smap_on, "smap", "supervisor-mode access prevention");
KSWITCH_BOOL(umip_on, "umip", "user-mode instruction prevention");

static uint64_t cr4_base;

static void load_common(void)
{
	uint64_t cr0 = read_cr0();

	cr0 |= CR0_WP | CR0_NE | CR0_MP;
	cr0 &= ~(CR0_EM | CR0_TS | CR0_CD | CR0_NW | CR0_AM);
	write_cr0(cr0);
	write_cr4(cr4_base | (arch_global_pages_on ? CR4_PGE : 0));
	uint64_t efer = rdmsr(MSR_EFER) | EFER_SCE;

	if (cpu_has(FEAT_NX))
		efer |= EFER_NXE;
	wrmsr(MSR_EFER, efer);
	if (cpu_has(FEAT_PAT))
		wrmsr(MSR_PAT, PAT_VALUE);
	/* SYSCALL: CS = STAR[47:32], SS = +8; SYSRET: SS = STAR[63:48] + 8,
	 * CS = STAR[63:48] + 16 (SDM Vol. 2B SYSCALL/SYSRET). */
	wrmsr(MSR_STAR, ((uint64_t)SEL_KDATA << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, SFMASK_VALUE);
}

bool arch_pti;

void arch_entry_set_pti(bool pti)
{
	arch_pti = pti;
	this_cpu_write(entry.pti_on, (uint64_t)pti);
	wrmsr(MSR_LSTAR, (uint64_t)(pti ? syscall_entry_pti : syscall_entry));
}

void cpu_setup_bsp(void)
{
	cr4_base = CR4_PAE;
	if (cpu_has(FEAT_FXSR))
		cr4_base |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (cpu_has(FEAT_FSGSBASE))
		cr4_base |= CR4_FSGSBASE;
	if (smep_on && cpu_has(FEAT_SMEP))
		cr4_base |= CR4_SMEP;
	if (smap_on && cpu_has(FEAT_SMAP)) {
		cr4_base |= CR4_SMAP;
		smap_enabled = 1;
	}
	if (umip_on && cpu_has(FEAT_UMIP))
		cr4_base |= CR4_UMIP;
	load_common();
}

void cpu_setup_ap(void)
{
	load_common();
}

void cpu_map_idt(void)
{
	arch_mem.map_page(IDT_ALIAS, virt_to_phys(idt_page()), cpu_has(FEAT_NX) ? PTE_NX : 0, true);
	idt_move_to_entry_area((void *)IDT_ALIAS);
}

const char *cpu_protections(void)
{
	static char buf[64];
	uint64_t cr4 = read_cr4();

	snprintf(buf, sizeof(buf), "%s%s%s%s%s", cr4 & CR4_SMEP ? "smep " : "",
		 cr4 & CR4_SMAP ? "smap " : "", cr4 & CR4_UMIP ? "umip " : "",
		 rdmsr(MSR_EFER) & EFER_NXE ? "nx " : "", read_cr0() & CR0_WP ? "wp" : "");
	return buf;
}

void arch_sync_core(void)
{
	if (cpu_has(FEAT_SERIALIZE))
		__asm__ __volatile__(".byte 0x0f, 0x01, 0xe8" ::: "memory"); /* SERIALIZE */
	else
		cpuid_count(0, 0); /* CPUID is serializing (SDM Vol. 3A 10.3) */
}
