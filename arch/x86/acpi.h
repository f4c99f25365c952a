/*
 * ACPI discovery: RSDP (from either multiboot2 tag) -> XSDT/RSDT -> MADT,
 * FADT, HPET, SPCR, SRAT, SLIT. Every table is validated (length, checksum)
 * before use; a bad one is reported and skipped, and the kernel falls back
 * (no MADT: one CPU; no FADT: no PM timer; no SPCR: COM1).
 *
 * ACPI registers nothing above the arch: what the SRAT and SLIT say is
 * returned (acpi_numa) for the boot order to hand to mm's NUMA
 * (kernel/main.c numa_from_acpi).
 */
#pragma once

#include "lib/compiler.h"
#include "arch/x86/acpi_tables.h"

/* Parse the tables the RSDP (a copy the loader passed, rsdp_len bytes;
 * NULL: none) leads to. */
void acpi_init(const void *rsdp, uint32_t rsdp_len);

/* Localities a SLIT may describe (mm/numa.h MAX_NUMA_NODES, checked where
 * the two meet, kernel/main.c). */
#define ACPI_MAX_LOCALITIES 16

struct acpi_numa {
	/* The SRAT's memory ranges and CPUs; NULL if there is no valid SRAT. */
	const struct srat_info *srat;
	/* The SLIT's distances, dist[from][to] for from, to < slit_n; 0 if no
	 * valid SLIT. Two SLITs: the later one's entries win, as if each had
	 * been applied in table order. */
	uint32_t slit_n;
	const uint8_t (*dist)[ACPI_MAX_LOCALITIES];
};
/* After acpi_init: what the SRAT and SLIT said. */
void acpi_numa(struct acpi_numa *out);
/* NULL if there is no valid MADT. */
const struct madt_info *acpi_madt(void);
bool acpi_pm_timer(uint16_t *port, bool *bits32);
volatile uint64_t *acpi_hpet_regs(void);
/* The console UART's I/O port from SPCR, if described. */
bool acpi_spcr_port(uint16_t *port);
void acpi_print(void);
/* The RSDP's OEM ID equals oem (6 characters). */
bool acpi_oem_is(const char *oem);
