/*
 * Local APIC in x2APIC mode (MSRs, 32-bit APIC IDs) or xAPIC mode (MMIO,
 * 8-bit IDs). apic=x2apic|xapic|auto chooses; firmware that hands over in
 * x2APIC mode keeps it (leaving x2APIC needs a disable/re-enable cycle that
 * loses state, SDM Vol. 3A 11.12.5, and breaks with APIC IDs > 255).
 */
#pragma once

#include "lib/compiler.h"

enum apic_mode { APIC_MODE_NONE, APIC_MODE_XAPIC, APIC_MODE_X2APIC };

extern enum apic_mode apic_mode;

void apic_init_bsp(void);
void apic_init_ap(void);
uint32_t apic_read_id(void);
void apic_eoi(void);
/* Print this CPU's TPR, PPR and in-service and pending vectors. */
void apic_print_state(void);
const char *apic_mode_name(void);

/* Delivery modes for apic_send_ipi (ICR bits 10:8). */
#define APIC_DM_FIXED 0x000
#define APIC_DM_NMI   0x400
#define APIC_DM_INIT  0x500
#define APIC_DM_SIPI  0x600

void apic_send_ipi_apic_id(uint32_t apic_id, uint32_t vector, uint32_t mode);
void apic_send_ipi(uint32_t cpu, uint8_t vector);
void apic_send_nmi(uint32_t cpu);
/* All CPUs but this one (ICR shorthand). */
void apic_send_ipi_all_but_self(uint8_t vector);

/* LAPIC timer: arm a one-shot interrupt at an absolute TSC value. */
void apic_timer_init(void);
void apic_timer_arm_tsc(uint64_t deadline_tsc);
const char *apic_timer_mode_name(void);
uint32_t apic_error_count(void);
