/*
 * I/O APIC redirection entries (arch/x86/ioapic.c): the lines user-level
 * drivers hold through IRQ objects (kernel/irq_obj.c). The kernel's own
 * devices need none (the LAPIC timer and IPIs do not go through it).
 */
#pragma once

#include "lib/compiler.h"

/* Map every I/O APIC the MADT lists and mask every entry. */
void ioapic_init(void);
/* An ISA IRQ (0..15) to its GSI through the MADT's interrupt source
 * overrides; GSIs 16 and up are returned as they are. *active_low gets the
 * line's polarity (ISA: high unless overridden; GSIs >= 16: low, PCI). */
uint32_t ioapic_line_to_gsi(uint32_t line, bool *active_low);
/* GSI gsi exists on some I/O APIC. */
bool ioapic_gsi_valid(uint32_t gsi);
/* Program gsi to deliver vector, level-triggered, to the CPU with this
 * APIC ID (physical, fixed). The entry is left masked. */
void ioapic_route(uint32_t gsi, uint8_t vector, bool active_low, uint32_t apic_id);
void ioapic_mask(uint32_t gsi);
void ioapic_unmask(uint32_t gsi);
