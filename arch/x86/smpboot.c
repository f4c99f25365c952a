/*
 * AP start-up (SDM Vol. 3A 9.4.4.1, "Typical AP initialization sequence";
 * boot/trampoline.S for the real-mode side).
 *
 * CPU numbering: the BSP is CPU 0; the other enabled MADT entries get 1, 2,
 * ... in table order. An entry the kernel cannot drive (an APIC ID above
 * 255 in xAPIC mode, more CPUs than NR_CPUS) is reported and skipped.
 *
 * First every AP gets its per-CPU area and idle stack and an INIT; after
 * one 10 ms wait, the APs are started one at a time (they share the
 * trampoline's parameter block): fill the block, SIPI, wait 200 us, SIPI
 * again unless the AP already answered, then wait for it to come online.
 * An AP that does not answer within the timeout is reported and left out;
 * the others still start.
 *
 * A late AP (a virtual CPU the host did not run for the whole timeout)
 * must not run afterwards: the next AP's start refills the shared block,
 * and a late one read the next AP's stack and per-CPU area (found in
 * review: "cpu 3 expected APIC ID 3, reads 2", then a stack-protector
 * panic). So each start is claimed once, by compare-and-swap on ap_claim:
 * the AP, first thing in C, from "cpu k waited for" to "cpu k runs"; the
 * BSP, at its timeout, from the same value to "abandoned". An AP that
 * loses halts before it touches anything shared; the BSP that wins sends
 * the AP an INIT (back to waiting for a SIPI, which only its own start
 * would send) and waits 10 ms before it refills the block. A BSP that
 * loses waits for the AP it now knows runs. Row smp-late-ap
 * (ap_wait_us=1).
 */
#include "arch/x86/smpboot.h"
#include "arch/x86/apic.h"
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/x86/cpu_setup.h"
#include "arch/x86/desc.h"
#include "arch/mmu.h"
#include "lib/cpumask.h"
#include "lib/printk.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "lib/fmt.h"
#include "lib/time.h"
#include "lib/cmdline.h"
#include "arch/trap.h"
#include "arch/fpu.h"
#include "arch/entry.h"
#include "arch/ipi.h"
#include "arch/mem.h"
#include "arch/layout.h"
#include "arch/pgtable.h"

struct tramp_params {
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad0;
	uint32_t pm_off;
	uint16_t pm_sel;
	uint16_t pad1;
	uint32_t lm_off;
	uint16_t lm_sel;
	uint16_t pad2;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t efer;
	uint64_t stack;
	uint64_t percpu;
	uint64_t reserved0;
	uint64_t entry64;
	uint64_t reserved1;
	uint64_t gdt[4];
} __packed;
_Static_assert(offsetof(struct tramp_params, pm_off) == 8, "trampoline.S P_PM_ENTRY");
_Static_assert(offsetof(struct tramp_params, lm_off) == 16, "trampoline.S P_LM_ENTRY");
_Static_assert(offsetof(struct tramp_params, cr3) == 24, "trampoline.S P_CR3");
_Static_assert(offsetof(struct tramp_params, stack) == 48, "trampoline.S P_STACK");
_Static_assert(offsetof(struct tramp_params, entry64) == 72, "trampoline.S P_ENTRY64");
_Static_assert(offsetof(struct tramp_params, gdt) == 88, "trampoline.S P_GDT");

extern const char trampoline_start[], trampoline_end[], trampoline_params[];
extern const char trampoline_pm[], trampoline_lm[];
extern const char ap_start64[];

#define TRAMP_PAGES 4 /* code+params, PML4, PDPT, PD */

static int smp_max_cpus = NR_CPUS;
KSWITCH_INT(smp_max_cpus, "maxcpus", "start at most this many CPUs", 1, NR_CPUS);
/* How long the BSP waits for an AP after its second SIPI (1 s; tests make
 * APs late with a shorter wait). */
static int ap_wait_us = 1000000;
KSWITCH_INT(ap_wait_us, "ap_wait_us", "how long to wait for an AP to start (us)", 1, 10000000);

/* The start in progress: k (cpu k waited for), k | AP_CLAIM_RUNS (it runs)
 * or AP_CLAIM_ABANDONED (the BSP gave up on it). */
#define AP_CLAIM_RUNS	   0x40000000
#define AP_CLAIM_ABANDONED -2
static int32_t ap_claim = AP_CLAIM_ABANDONED;

static paddr_t tramp_base;
static volatile int32_t ap_alive = -1;
uint64_t smp_boot_ns;
uint32_t smp_failed;

static struct smp_boot_ops boot_ops; /* the kernel's, from smp_boot_aps */

struct cpu_slot {
	uint32_t apic_id;
};
static struct cpu_slot *cpu_slots; /* nr_cpus entries */

static paddr_t find_tramp_base(void)
{
	/* The first MiB is reserved from the frame allocator as a whole; pick
	 * pages there that the firmware reported as usable RAM. */
	for (paddr_t pa = 0x8000; pa + TRAMP_PAGES * PAGE_SIZE <= 0x9f000; pa += PAGE_SIZE) {
		if (arch_mem.is_ram(pa, TRAMP_PAGES * PAGE_SIZE))
			return pa;
	}
	return 0;
}

static void build_tramp_tables(void)
{
	pte_t *pml4 = phys_to_virt(tramp_base + 0x1000);
	pte_t *pdpt = phys_to_virt(tramp_base + 0x2000);
	pte_t *pd = phys_to_virt(tramp_base + 0x3000);
	const pte_t *kpml4 = pt_table(boot_ops.kernel_root);

	memset(pml4, 0, 3 * PAGE_SIZE);
	for (int i = 256; i < 512; i++)
		pml4[i] = kpml4[i];
	pml4[0] = (tramp_base + 0x2000) | PTE_P | PTE_W;
	pdpt[0] = (tramp_base + 0x3000) | PTE_P | PTE_W;
	pd[0] = 0 | PTE_P | PTE_W | PTE_PS; /* identity 0..2 MiB */
}

static void fill_params(struct percpu *pc, uint64_t stack_top)
{
	struct tramp_params *p = phys_to_virt(tramp_base + (trampoline_params - trampoline_start));
	uint32_t base = (uint32_t)tramp_base;

	p->gdt[0] = 0;
	p->gdt[1] = 0x00cf9a000000ffffull; /* 0x08: 32-bit code */
	p->gdt[2] = 0x00cf92000000ffffull; /* 0x10: data */
	p->gdt[3] = 0x00af9a000000ffffull; /* 0x18: 64-bit code */
	p->gdt_limit = sizeof(p->gdt) - 1;
	p->gdt_base = base + (uint32_t)(trampoline_params - trampoline_start) +
		      (uint32_t)offsetof(struct tramp_params, gdt);
	p->pm_off = base + (uint32_t)(trampoline_pm - trampoline_start);
	p->pm_sel = 0x08;
	p->lm_off = base + (uint32_t)(trampoline_lm - trampoline_start);
	p->lm_sel = 0x18;
	p->cr3 = tramp_base + 0x1000;
	p->cr4 = CR4_PAE;
	p->efer = EFER_LME | (cpu_has(FEAT_NX) ? EFER_NXE : 0);
	p->stack = stack_top;
	p->percpu = (uint64_t)pc;
	p->entry64 = (uint64_t)ap_start64;
}

/* This CPU's APIC ID from CPUID (its APIC may not be set up yet): the
 * x2APIC ID of leaf 0xB where the leaf is there, else the initial one. */
static uint32_t cpuid_apic_id(void)
{
	if (cpuid(0).eax >= 0xb) {
		struct cpuid_regs r = cpuid_count(0xb, 0);

		if (r.ebx)
			return r.edx;
	}
	return cpuid(1).ebx >> 24;
}

void ap_main(struct percpu *pc);
void ap_main(struct percpu *pc)
{
	int32_t want = (int32_t)pc->entry.cpu_id;

	/* The block names the CPU it was filled for: an AP that read it
	 * after it was refilled for another (late, and the INIT not yet
	 * taken) is not that CPU, and halts (found in review of the claim
	 * below, which alone would let it take the other's start). */
	if ((uint32_t)want >= nr_cpus || cpuid_apic_id() != cpu_slots[want].apic_id)
		for (;;)
			__asm__ __volatile__("cli; hlt");
	/* Claim our start before anything shared (above). Acquire: the BSP's
	 * stores for this start are ours; pairs with its release of ap_claim
	 * in start_ap(). */
	if (!__atomic_compare_exchange_n(&ap_claim, &want, want | AP_CLAIM_RUNS, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		for (;;)
			__asm__ __volatile__("cli; hlt");
	wrmsr(MSR_GS_BASE, (uint64_t)pc); /* this CPU's area (prepare_cpu made it) */
	arch_write_cr3(boot_ops.kernel_root);
	gdt_tss_init(pc, true);
	idt_load();
	cpu_setup_ap();
	apic_init_ap();
	uint32_t cpu = pc->entry.cpu_id;

	if (pc->entry.apic_id != cpu_slots[cpu].apic_id)
		pr_warn("smp: cpu %u expected APIC ID %u, reads %u", cpu, cpu_slots[cpu].apic_id,
			pc->entry.apic_id);
	xstate_init_cpu();
	/* The CPU runs: the generic per-CPU bring-up the kernel handed to
	 * smp_boot_aps() takes over and ends in the idle loop, after
	 * arch_ap_online(). */
	boot_ops.ap_main(cpu);
	panic("smp: cpu %u returned from the kernel's AP bring-up", cpu);
}

void arch_ap_online(uint32_t cpu)
{
	/* Release: everything this CPU set up is visible to the BSP, which
	 * waits for ap_alive before starting the next AP. Pairs with the
	 * acquire load in wait_alive(). */
	__atomic_store_n(&ap_alive, (int32_t)cpu, __ATOMIC_RELEASE);
}

static bool wait_alive(uint32_t cpu, uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_khz / 1000;

	/* Acquire: pairs with the release store in arch_ap_online(). */
	while (__atomic_load_n(&ap_alive, __ATOMIC_ACQUIRE) != (int32_t)cpu) {
		if (rdtsc() > end)
			return false;
		cpu_relax();
	}
	return true;
}

/* Phase 1 for one AP: its memory, then INIT (the AP then waits for SIPI). */
static uint64_t prepare_ap(uint32_t cpu)
{
	uint32_t apic_id = cpu_slots[cpu].apic_id;
	uint64_t stack_top = boot_ops.prepare_cpu(cpu, apic_id);

	if (!stack_top)
		return 0;
	smp_call_cpu_init(cpu);
	apic_send_ipi_apic_id(apic_id, 0, APIC_DM_INIT);
	return stack_top;
}

/* Phase 2: SIPI, a second SIPI if the first was missed, wait for online. */
static bool start_ap(uint32_t cpu, uint64_t stack_top)
{
	uint32_t apic_id = cpu_slots[cpu].apic_id;

	fill_params(percpu_of(cpu), stack_top);
	/* Release: the block and the AP's memory before the AP can claim
	 * this start (pairs with the acquire CAS in ap_main()). */
	__atomic_store_n(&ap_claim, (int32_t)cpu, __ATOMIC_RELEASE);
	apic_send_ipi_apic_id(apic_id, (uint32_t)(tramp_base >> 12), APIC_DM_SIPI);
	if (wait_alive(cpu, 200))
		return true;
	apic_send_ipi_apic_id(apic_id, (uint32_t)(tramp_base >> 12), APIC_DM_SIPI);
	/* Emulators can be slow to start a CPU: allow a generous second. */
	if (wait_alive(cpu, (uint64_t)ap_wait_us))
		return true;
	int32_t want = (int32_t)cpu;

	/* Full barrier: our abandonment and the AP's claim are ordered (the
	 * same CAS in ap_main() is the pair). */
	if (!__atomic_compare_exchange_n(&ap_claim, &want, AP_CLAIM_ABANDONED, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		/* It claimed its start: it runs, and comes online soon. */
		return wait_alive(cpu, 10000000);
	/* Stop it wherever it is (before its claim: nothing shared touched,
	 * or halted after losing it) before the block is refilled. */
	apic_send_ipi_apic_id(apic_id, 0, APIC_DM_INIT);
	udelay(10000);
	return false;
}

static void collect_cpus(const struct madt_info *m)
{
	uint32_t bsp_apic = this_cpu()->entry.apic_id;
	uint32_t n = 1;

	for (uint32_t i = 0; i < m->nr_cpus; i++) {
		const struct madt_cpu *c = &m->cpus[i];

		if (!c->enabled || c->apic_id == bsp_apic)
			continue;
		/* 255 too: xAPIC's broadcast ID (an x2APIC entry may list it). */
		if (apic_mode == APIC_MODE_XAPIC && c->apic_id >= 255) {
			pr_err("smp: APIC ID %u needs x2APIC mode; that CPU is left out",
			       c->apic_id);
			smp_failed++;
			continue;
		}
		if (n >= (uint32_t)smp_max_cpus) {
			pr_warn("smp: %u more CPUs listed than maxcpus=%d allows", m->nr_cpus - i,
				smp_max_cpus);
			break;
		}
		n++;
	}
	nr_cpus = n;
	cpu_slots = arch_mem.alloc(sizeof(*cpu_slots) * n);
	BUG_ON(!cpu_slots);
	cpu_slots[0].apic_id = bsp_apic;
	n = 1;
	for (uint32_t i = 0; i < m->nr_cpus && n < nr_cpus; i++) {
		const struct madt_cpu *c = &m->cpus[i];

		if (!c->enabled || c->apic_id == bsp_apic)
			continue;
		if (apic_mode == APIC_MODE_XAPIC && c->apic_id >= 255)
			continue;
		cpu_slots[n++].apic_id = c->apic_id;
	}
}

void smp_boot_aps(const struct smp_boot_ops *ops)
{
	boot_ops = *ops;
	const struct madt_info *m = acpi_madt();

	cpumask_set(&cpu_online_mask, 0);
	if (!m) {
		pr_warn("smp: no valid MADT; running on the boot CPU only");
		nr_cpus = 1;
		cpu_slots = arch_mem.alloc(sizeof(*cpu_slots));
		BUG_ON(!cpu_slots);
		cpu_slots[0].apic_id = this_cpu()->entry.apic_id;
		smp_call_cpu_init(0);
		return;
	}
	collect_cpus(m);
	/* Call slots are sized by nr_cpus, known only now. */
	smp_call_cpu_init(0);
	if (nr_cpus == 1)
		return;
	tramp_base = find_tramp_base();
	if (!tramp_base) {
		pr_err("smp: no free low memory for the AP trampoline; one CPU only");
		nr_cpus = 1;
		return;
	}
	memcpy(phys_to_virt(tramp_base), trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	build_tramp_tables();

	uint64_t t0 = time_ns();
	uint64_t *stacks = arch_mem.alloc(sizeof(uint64_t) * nr_cpus);

	BUG_ON(!stacks);
	/* INIT every AP first and wait the SDM's 10 ms once, not per CPU. */
	for (uint32_t cpu = 1; cpu < nr_cpus; cpu++)
		stacks[cpu] = prepare_ap(cpu);
	udelay(10000);
	/* The parameter block is shared: start the APs one at a time. */
	for (uint32_t cpu = 1; cpu < nr_cpus; cpu++) {
		if (!stacks[cpu] || !start_ap(cpu, stacks[cpu])) {
			pr_err("smp: cpu %u (APIC ID %u) did not start; left out", cpu,
			       cpu_slots[cpu].apic_id);
			smp_failed++;
		}
	}
	arch_mem.free(stacks);
	smp_boot_ns = time_ns() - t0;
	pr_info("smp: %u of %u CPUs online; APs started in %lu.%03lu ms", nr_cpus_online, nr_cpus,
		smp_boot_ns / 1000000, (smp_boot_ns / 1000) % 1000);
}

void smp_print_cpus(void)
{
	uint32_t *ids = arch_mem.alloc(sizeof(uint32_t) * nr_cpus);
	char line[100];
	size_t used = 0;

	for (uint32_t c = 0; ids && c < nr_cpus; c++)
		ids[c] = cpu_slots[c].apic_id;
	/* Compressed (0-111,128-239) for the many-CPU machines; the full
	 * cpu:apic list below only for small ones or with a CPU missing. */
	bool listed = ids != NULL;

	if (listed)
		fmt_ranges(line, sizeof(line), ids, nr_cpus);
	arch_mem.free(ids);
	pr_info("cpus: %u online (%s), APIC IDs %s", nr_cpus_online, apic_mode_name(),
		listed ? line : "?");
	if (nr_cpus > 32 && nr_cpus_online == nr_cpus)
		return;
	for (uint32_t c = 0; c < nr_cpus; c++) {
		struct percpu *pc = percpu_of(c);
		bool on = pc && READ_ONCE(pc->shared.online);

		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%u:%u%s",
					 used ? " " : "", c, cpu_slots[c].apic_id,
					 on ? "" : "(off)");
		if (used > 70 || c == nr_cpus - 1) {
			pr_info("  %s", line);
			used = 0;
		}
	}
}
