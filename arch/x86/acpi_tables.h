/*
 * ACPI table parsing, pure and host-tested (tests/test_acpi.c).
 *
 * Every parser is given the bytes it may read (avail) and never reads past
 * them: a table's own length field is checked against avail, and every
 * sub-structure's length against what remains. A malformed table yields an
 * error string; the caller reports it and falls back.
 *
 * MADT processor entries: placeholders (neither Enabled nor Online Capable,
 * listed by firmware with APIC ID 0 or 0xFF) are dropped and counted before
 * duplicate APIC IDs are looked for, so that none can hide a real
 * processor. SRAT: the whole table is checked before anything is written,
 * so a malformed second SRAT leaves one parsed before it intact.
 *
 * Table layouts: ACPI 6.5 specification, sections 5.2.5 (RSDP), 5.2.6
 * (header), 5.2.9 (FADT), 5.2.12 (MADT), 5.2.16 (SRAT), 5.2.17 (SLIT); SPCR
 * and HPET from their Microsoft/Intel specifications.
 */
#pragma once

#include "lib/compiler.h"

struct acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header is 36 bytes");

bool acpi_checksum_ok(const void *p, size_t len);

/* RSDP: returns NULL on success (root table address and kind filled). */
const char *acpi_parse_rsdp(const void *rsdp, size_t avail, uint64_t *root, bool *is_xsdt);
/* Any SDT: signature (NULL = any), length within avail, checksum. */
const char *acpi_check_sdt(const void *table, size_t avail, const char *sig);
/* Entry i of an RSDT/XSDT (already checked); returns the count. */
uint32_t acpi_root_count(const struct acpi_header *root, bool is_xsdt);
uint64_t acpi_root_entry(const struct acpi_header *root, bool is_xsdt, uint32_t i);

#define MADT_MAX_CPUS	 4096
#define MADT_MAX_IOAPICS 16
#define MADT_MAX_ISOS	 32
#define MADT_MAX_NMIS	 16

struct madt_cpu {
	uint32_t apic_id;
	uint32_t uid;
	bool enabled; /* usable now */
	bool online_capable;
	bool x2apic_entry; /* came from a type 9 entry */
};

struct madt_info {
	uint64_t lapic_addr;
	bool pcat_compat; /* flags bit 0: dual 8259s present */
	uint32_t nr_cpus;
	struct madt_cpu cpus[MADT_MAX_CPUS];
	uint32_t nr_ioapics;
	struct {
		uint32_t id, addr, gsi_base;
	} ioapics[MADT_MAX_IOAPICS];
	uint32_t nr_isos;
	struct {
		uint8_t bus, source;
		uint32_t gsi;
		uint16_t flags;
	} isos[MADT_MAX_ISOS];
	uint32_t nr_nmis; /* NMI entries in the table, all of them */
	struct {
		uint32_t uid; /* 0xff / 0xffffffff: all processors */
		uint8_t lint;
		uint16_t flags;
		bool x2apic;
	} nmis[MADT_MAX_NMIS]; /* the first MADT_MAX_NMIS of them */
	uint32_t skipped;      /* unknown entry types (fine) */
	uint32_t duplicates;   /* same APIC ID listed twice (ignored) */
	uint32_t disabled;     /* placeholders: not enabled, not online capable */
	uint32_t broadcast;    /* the broadcast ID (0xff; x2APIC 0xffffffff): dropped */
};

/* How many of m->nmis[] hold an entry. */
static inline uint32_t madt_nmis_kept(const struct madt_info *m)
{
	return m->nr_nmis < MADT_MAX_NMIS ? m->nr_nmis : MADT_MAX_NMIS;
}

/* Returns NULL on success; on error, what was parsed before it is kept. */
const char *acpi_parse_madt(const void *table, size_t avail, struct madt_info *out);

struct fadt_info {
	uint16_t pm_timer_port;
	bool pm_timer_32bit;
	uint16_t boot_arch; /* IA-PC boot architecture flags */
	uint32_t flags;
	bool hw_reduced;
};
const char *acpi_parse_fadt(const void *table, size_t avail, struct fadt_info *out);

struct spcr_info {
	uint8_t interface_type;
	uint8_t space; /* GAS address space: 0 memory, 1 I/O */
	uint64_t address;
	uint32_t baud;
};
const char *acpi_parse_spcr(const void *table, size_t avail, struct spcr_info *out);

const char *acpi_parse_hpet(const void *table, size_t avail, uint64_t *base);

#define SRAT_MAX_MEM  64
#define SRAT_MAX_CPUS 4096
struct srat_info {
	uint32_t nr_mem;
	struct {
		uint32_t proximity;
		uint64_t base, len;
		bool hotplug;
	} mem[SRAT_MAX_MEM];
	uint32_t nr_cpus;
	struct {
		uint32_t proximity, apic_id;
	} cpus[SRAT_MAX_CPUS];
};
/* On error *out is left as it was (nothing is written before the whole
 * table checked out). acpi_check_srat checks without parsing. */
const char *acpi_parse_srat(const void *table, size_t avail, struct srat_info *out);
const char *acpi_check_srat(const void *table, size_t avail);

/* SLIT: n localities, distances row-major in out (n*n <= out_size). */
const char *acpi_parse_slit(const void *table, size_t avail, uint32_t *n, uint8_t *out,
			    size_t out_size);
