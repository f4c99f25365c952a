/*
 * I/O APIC driver (see ioapic.h). Intel 82093AA datasheet; ACPI 6.5
 * 5.2.12.3 (I/O APIC structure), 5.2.12.5 (interrupt source override).
 *
 * Registers: IOREGSEL at +0x00 selects, IOWIN at +0x10 reads or writes.
 * Register 0x01 (version) bits 23:16 give the highest redirection entry;
 * entry n is registers 0x10 + 2n (low) and 0x11 + 2n (high: destination
 * APIC ID in bits 63:56).
 *
 * The select-then-access pair is not atomic: every access holds ioapic_lock
 * with interrupts off (masking runs in interrupt handlers). The entries
 * are masked at boot; only IRQ objects unmask them.
 *
 * Trigger mode: every routed line is level-triggered. The user-driver
 * protocol masks a line when it fires and unmasks it when the driver
 * acknowledges; an edge that arrives while an entry is masked is dropped
 * (82093AA 3.2.4 "edge-sensitive interrupts signaled on a masked pin are
 * ignored", and QEMU models that), so with edge triggering a device that
 * asserts again before the acknowledgement (a 16550 refilled by its
 * driver does, at once) would never interrupt again. Level triggering
 * delivers on unmask while the line is still asserted. The ISA convention
 * (edge, active high) comes from the 8259's sharing rules; the 16550's
 * INTR output itself is a level.
 */
#include "arch/x86/ioapic.h"
#include "arch/x86/acpi.h"
#include "arch/x86/acpi_tables.h"
#include "arch/x86/cpu.h"
#include "arch/pgtable.h"
#include "arch/mem.h"
#include "lib/printk.h"
#include "lib/spinlock.h"

#define IOREGSEL  0
#define IOWIN	  4 /* in 32-bit words */
#define IOAPICVER 0x01
#define REDTBL(n) (0x10 + 2 * (n))

#define RTE_MASKED    (1u << 16)
#define RTE_LEVEL     (1u << 15)
#define RTE_ACTIVE_LO (1u << 13)

struct ioapic {
	volatile uint32_t *mmio;
	uint32_t gsi_base, nr_pins;
};

static struct ioapic ioapics[MADT_MAX_IOAPICS];
static uint32_t nr_ioapics;
/* Guards IOREGSEL/IOWIN of every I/O APIC; taken with interrupts off. */
static struct spinlock ioapic_lock = SPINLOCK_INIT("ioapic");

static uint32_t reg_read(struct ioapic *a, uint32_t reg)
{
	a->mmio[IOREGSEL] = reg;
	return a->mmio[IOWIN];
}

static void reg_write(struct ioapic *a, uint32_t reg, uint32_t v)
{
	a->mmio[IOREGSEL] = reg;
	a->mmio[IOWIN] = v;
}

static struct ioapic *ioapic_of(uint32_t gsi, uint32_t *pin)
{
	for (uint32_t i = 0; i < nr_ioapics; i++) {
		struct ioapic *a = &ioapics[i];

		if (gsi >= a->gsi_base && gsi - a->gsi_base < a->nr_pins) {
			*pin = gsi - a->gsi_base;
			return a;
		}
	}
	return NULL;
}

void ioapic_init(void)
{
	const struct madt_info *m = acpi_madt();

	if (!m || !m->nr_ioapics) {
		pr_info("ioapic: none in the MADT; no user IRQ lines");
		return;
	}
	for (uint32_t i = 0; i < m->nr_ioapics && i < MADT_MAX_IOAPICS; i++) {
		struct ioapic *a = &ioapics[nr_ioapics];

		a->mmio = arch_mem.map_mmio(m->ioapics[i].addr, 4096, PTE_CACHE_UC);
		if (!a->mmio)
			continue;
		a->gsi_base = m->ioapics[i].gsi_base;
		a->nr_pins = ((reg_read(a, IOAPICVER) >> 16) & 0xff) + 1;
		for (uint32_t p = 0; p < a->nr_pins; p++) {
			reg_write(a, REDTBL(p) + 1, 0);
			reg_write(a, REDTBL(p), RTE_MASKED);
		}
		pr_info("ioapic: id %u at %#x, GSIs %u-%u, all masked", m->ioapics[i].id,
			m->ioapics[i].addr, a->gsi_base, a->gsi_base + a->nr_pins - 1);
		nr_ioapics++;
	}
}

uint32_t ioapic_line_to_gsi(uint32_t line, bool *active_low)
{
	const struct madt_info *m = acpi_madt();

	*active_low = line >= 16;
	if (line >= 16 || !m)
		return line;
	for (uint32_t i = 0; i < m->nr_isos && i < MADT_MAX_ISOS; i++) {
		if (m->isos[i].bus == 0 && m->isos[i].source == line) {
			/* MPS INTI flags: polarity bits 1:0, 3 = active low. */
			*active_low = (m->isos[i].flags & 3) == 3;
			return m->isos[i].gsi;
		}
	}
	return line;
}

bool ioapic_gsi_valid(uint32_t gsi)
{
	uint32_t pin;

	return ioapic_of(gsi, &pin) != NULL;
}

void ioapic_route(uint32_t gsi, uint8_t vector, bool active_low, uint32_t apic_id)
{
	uint32_t pin;
	struct ioapic *a = ioapic_of(gsi, &pin);

	if (!a)
		return;
	uint64_t f = spin_lock_irqsave(&ioapic_lock);

	reg_write(a, REDTBL(pin), RTE_MASKED);
	reg_write(a, REDTBL(pin) + 1, (apic_id & 0xff) << 24);
	reg_write(a, REDTBL(pin),
		  RTE_MASKED | RTE_LEVEL | (active_low ? RTE_ACTIVE_LO : 0) | vector);
	spin_unlock_irqrestore(&ioapic_lock, f);
}

static void set_mask(uint32_t gsi, bool masked)
{
	uint32_t pin;
	struct ioapic *a = ioapic_of(gsi, &pin);

	if (!a)
		return;
	uint64_t f = spin_lock_irqsave(&ioapic_lock);
	uint32_t lo = reg_read(a, REDTBL(pin));

	reg_write(a, REDTBL(pin), masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
	spin_unlock_irqrestore(&ioapic_lock, f);
}

void ioapic_mask(uint32_t gsi)
{
	set_mask(gsi, true);
}

void ioapic_unmask(uint32_t gsi)
{
	set_mask(gsi, false);
}
