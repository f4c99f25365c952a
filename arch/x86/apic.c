/*
 * Local APIC driver (see apic.h). SDM Vol. 3A chapter 11.
 *
 * Register access: in x2APIC mode register r (xAPIC MMIO offset) is MSR
 * 0x800 + r/16, and the ICR is one 64-bit MSR write (no delivery-status
 * polling, SDM 11.12.9). In xAPIC mode the ICR is two 32-bit writes, high
 * half first; we wait for the previous IPI's delivery status before writing.
 *
 * Timer: TSC-deadline mode when CPUID offers it (one MSR write arms it),
 * else one-shot mode with the APIC timer's rate measured against the TSC.
 */
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpufeature.h"
#include "arch/trap.h"
#include "arch/x86/acpi.h"
#include "arch/mem.h"
#include "arch/pgtable.h"
#include "lib/cmdline.h"
#include "lib/percpu.h"
#include "lib/printk.h"
#include "lib/fmt.h"
#include "lib/panic.h"
#include "lib/time.h"
#include "lib/trace.h"
#include "arch/ipi.h"
#include "include/uapi/counter_ids.h"

#define APIC_ID		0x020
#define APIC_VERSION	0x030
#define APIC_TPR	0x080
#define APIC_PPR	0x0a0
#define APIC_EOI	0x0b0
#define APIC_LDR	0x0d0
#define APIC_DFR	0x0e0
#define APIC_SVR	0x0f0
#define APIC_ISR	0x100 /* eight registers, 0x10 apart */
#define APIC_IRR	0x200
#define APIC_ESR	0x280
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define APIC_LVT_TIMER	0x320
#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_LVT_ERROR	0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR	0x390
#define APIC_TIMER_DIV	0x3e0

#define APIC_BASE_ENABLE   (1ull << 11)
#define APIC_BASE_X2APIC   (1ull << 10)
#define APIC_SVR_ENABLE	   (1u << 8)
#define LVT_MASKED	   (1u << 16)
#define LVT_TIMER_ONESHOT  (0u << 17)
#define LVT_TIMER_DEADLINE (2u << 17)
#define ICR_PENDING	   (1u << 12)
#define ICR_LEVEL_ASSERT   (1u << 14)
#define ICR_ALL_BUT_SELF   (3u << 18)

enum apic_mode apic_mode;
static volatile uint32_t *xapic_mmio;
static int apic_switch; /* 0 auto, 1 x2apic, 2 xapic */
KSWITCH_ENUM(apic_switch, "apic", "local APIC mode", "auto", "x2apic", "xapic");
static bool timer_deadline;
static uint64_t apic_timer_khz; /* one-shot mode: APIC timer ticks per ms */
static uint32_t apic_errors;

static uint32_t apic_read(uint32_t reg)
{
	if (apic_mode == APIC_MODE_X2APIC)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + reg / 16);
	return xapic_mmio[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (apic_mode == APIC_MODE_X2APIC)
		wrmsr(MSR_X2APIC_BASE + reg / 16, v);
	else
		xapic_mmio[reg / 4] = v;
}

const char *apic_mode_name(void)
{
	switch (apic_mode) {
	case APIC_MODE_X2APIC:
		return "x2apic";
	case APIC_MODE_XAPIC:
		return "xapic";
	default:
		return "none";
	}
}

uint32_t apic_read_id(void)
{
	if (apic_mode == APIC_MODE_X2APIC)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + APIC_ID / 16);
	return apic_read(APIC_ID) >> 24;
}

/* In-service and pending vectors, the task and processor priorities: a
 * vector left in service (no EOI) blocks its priority class and every
 * class below it, which looks like interrupts off but is not. */
void apic_print_state(void)
{
	char isr[96] = "", irr[96] = "";
	size_t ni = 0, nr = 0;

	if (apic_mode == APIC_MODE_NONE)
		return;
	for (uint32_t i = 0; i < 8; i++) {
		uint32_t in = apic_read(APIC_ISR + i * 0x10), pend = apic_read(APIC_IRR + i * 0x10);

		for (uint32_t b = 0; b < 32; b++) {
			if ((in >> b & 1) && ni < sizeof(isr) - 8)
				ni += (size_t)snprintf(isr + ni, sizeof(isr) - ni, " %#x",
						       i * 32 + b);
			if ((pend >> b & 1) && nr < sizeof(irr) - 8)
				nr += (size_t)snprintf(irr + nr, sizeof(irr) - nr, " %#x",
						       i * 32 + b);
		}
	}
	kprintf("  APIC TPR %#x PPR %#x in service:%s pending:%s\n", apic_read(APIC_TPR),
		apic_read(APIC_PPR), ni ? isr : " none", nr ? irr : " none");
}

void apic_eoi(void)
{
	if (apic_mode != APIC_MODE_NONE)
		apic_write(APIC_EOI, 0);
}

static void apic_error_irq(struct trap_frame *tf)
{
	(void)tf;
	apic_write(APIC_ESR, 0);
	uint32_t esr = apic_read(APIC_ESR);

	apic_errors++;
	pr_warn("apic: error interrupt, ESR %#x", esr);
}

/* Mask the legacy 8259 PICs after moving their vectors out of the exception
 * range. Only where they exist: the MADT's PCAT_COMPAT flag (ACPI 6.5,
 * 5.2.12.1) says so; without a MADT we cannot tell and mask them anyway. */
static void pic_disable(void)
{
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, VEC_LEGACY_BASE);
	outb(0xa1, VEC_LEGACY_BASE + 8);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static void apic_enable_local(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (apic_mode == APIC_MODE_X2APIC) {
		/* From xAPIC or disabled, enable xAPIC first, then x2APIC
		 * (SDM 11.12.5: the transition must go through xAPIC). */
		if (!(base & APIC_BASE_ENABLE)) {
			base |= APIC_BASE_ENABLE;
			wrmsr(MSR_APIC_BASE, base);
		}
		if (!(base & APIC_BASE_X2APIC))
			wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
	} else if (!(base & APIC_BASE_ENABLE)) {
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	}
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, LVT_MASKED);
	apic_write(APIC_LVT_ERROR, VEC_APIC_ERROR);
	apic_write(APIC_ESR, 0);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
	this_cpu()->entry.apic_id = apic_read_id();
}

void apic_init_bsp(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	bool fw_x2apic = (base & APIC_BASE_ENABLE) && (base & APIC_BASE_X2APIC);

	if (!cpu_has(FEAT_APIC) && !fw_x2apic)
		panic("apic: this CPU has no local APIC");
	if (fw_x2apic) {
		apic_mode = APIC_MODE_X2APIC;
		if (apic_switch == 2)
			pr_warn("apic: firmware enabled x2APIC; apic=xapic ignored (cannot go back)");
	} else if (apic_switch == 2 || !cpu_has(FEAT_X2APIC)) {
		if (apic_switch == 1)
			pr_warn("apic: apic=x2apic but the CPU has no x2APIC; using xAPIC");
		apic_mode = APIC_MODE_XAPIC;
	} else {
		apic_mode = APIC_MODE_X2APIC;
	}
	if (apic_mode == APIC_MODE_XAPIC)
		xapic_mmio = arch_mem.map_mmio(base & 0xffffff000ull, 4096, PTE_CACHE_UC);
	if (!acpi_madt() || acpi_madt()->pcat_compat)
		pic_disable();
	else
		pr_info("apic: MADT says no 8259 PICs; not touching ports 0x20/0xa0");
	irq_register(VEC_APIC_ERROR, apic_error_irq);
	apic_enable_local();
	pr_info("apic: %s mode%s, BSP APIC ID %u", apic_mode_name(),
		fw_x2apic ? " (enabled by firmware)" : "", this_cpu()->entry.apic_id);
}

void apic_init_ap(void)
{
	apic_enable_local();
}

static void xapic_wait_idle(void)
{
	for (int i = 0; i < 1000000 && (apic_read(APIC_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

void apic_send_ipi_apic_id(uint32_t apic_id, uint32_t vector, uint32_t mode)
{
	uint32_t lo = vector | mode | ICR_LEVEL_ASSERT;

	if (apic_mode == APIC_MODE_X2APIC) {
		/* WRMSR to an x2APIC register is not serializing (SDM Vol. 3A
		 * 11.12.3): fence so the memory the IPI announces (call queue
		 * entries, flush requests) is visible before the IPI arrives.
		 * Pairs with the handler's loads after the interrupt. */
		mb();
		wrmsr(MSR_X2APIC_BASE + APIC_ICR_LO / 16, ((uint64_t)apic_id << 32) | lo);
		return;
	}
	uint64_t f = irq_save();

	xapic_wait_idle();
	apic_write(APIC_ICR_HI, apic_id << 24);
	apic_write(APIC_ICR_LO, lo);
	xapic_wait_idle();
	irq_restore(f);
}

void apic_send_ipi(uint32_t cpu, uint8_t vector)
{
	apic_send_ipi_apic_id(percpu_of(cpu)->entry.apic_id, vector, APIC_DM_FIXED);
}

void smp_send_resched(uint32_t cpu)
{
	this_cpu_inc(counters[CNT_IPI_SENT]);
	this_cpu_inc(counters[CNT_IPI_SENT_RESCHED]);
	trace(TR_IPI_SEND, TRIPI_RESCHED, cpu);
	apic_send_ipi(cpu, VEC_IPI_RESCHED);
}

void apic_send_nmi(uint32_t cpu)
{
	apic_send_ipi_apic_id(percpu_of(cpu)->entry.apic_id, 0, APIC_DM_NMI);
}

void apic_send_ipi_all_but_self(uint8_t vector)
{
	uint32_t lo = vector | APIC_DM_FIXED | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF;

	if (apic_mode == APIC_MODE_X2APIC) {
		/* As in apic_send_ipi_apic_id(): our stores before the ICR
		 * write (x2APIC ICR writes are not serializing). Pairs with
		 * the handler's loads after the interrupt on each target. */
		mb();
		wrmsr(MSR_X2APIC_BASE + APIC_ICR_LO / 16, lo);
		return;
	}
	uint64_t f = irq_save();

	xapic_wait_idle();
	apic_write(APIC_ICR_LO, lo);
	irq_restore(f);
}

uint32_t apic_error_count(void)
{
	return apic_errors;
}

/* ---- timer ---- */

static void timer_calibrate_oneshot(void)
{
	/* Count APIC timer ticks (divide by 16) over 10 ms of TSC time. */
	apic_write(APIC_TIMER_DIV, 0x3);
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
	apic_write(APIC_TIMER_INIT, 0xffffffff);
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < tsc_khz * 10)
		cpu_relax();
	uint32_t ticks = 0xffffffff - apic_read(APIC_TIMER_CUR);

	apic_write(APIC_TIMER_INIT, 0);
	apic_timer_khz = ticks / 10;
	if (!apic_timer_khz)
		apic_timer_khz = 1;
}

void apic_timer_init(void)
{
	bool bsp = this_cpu_id() == 0;

	if (bsp) {
		timer_deadline = cpu_has(FEAT_TSC_DEADLINE);
		if (!timer_deadline)
			timer_calibrate_oneshot();
		pr_info("apic: timer in %s mode%s", apic_timer_mode_name(),
			timer_deadline ? "" : " (calibrated against the TSC)");
	}
	if (timer_deadline) {
		apic_write(APIC_LVT_TIMER, LVT_TIMER_DEADLINE | VEC_TIMER);
		/* SDM 11.5.4.1: order the LVT write before the first deadline
		 * write. No pair: both are this CPU's own register writes. */
		mb();
	} else {
		apic_write(APIC_TIMER_DIV, 0x3);
		apic_write(APIC_LVT_TIMER, LVT_TIMER_ONESHOT | VEC_TIMER);
	}
}

const char *apic_timer_mode_name(void)
{
	return timer_deadline ? "TSC-deadline" : "one-shot";
}

void apic_timer_arm_tsc(uint64_t deadline)
{
	if (timer_deadline) {
		wrmsr(MSR_TSC_DEADLINE, deadline);
		return;
	}
	uint64_t now = rdtsc();
	uint64_t delta = deadline > now ? deadline - now : 1;
	uint64_t ticks = delta * apic_timer_khz / (tsc_khz ? tsc_khz : 1);

	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffff)
		ticks = 0xffffffff;
	apic_write(APIC_TIMER_INIT, (uint32_t)ticks);
}
