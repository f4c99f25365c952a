/*
 * ACPI glue (see acpi.h): finds tables in physical memory, maps them, runs
 * the pure parsers in acpi_tables.c, keeps the results.
 *
 * Tables may live in RAM (direct-mapped) or in regions the memory map calls
 * reserved (then they are mapped on demand through ioremap, write-back).
 * A fault-injection switch (acpi_inject=) corrupts a copy of a table before
 * parsing so that the fallback paths are tested on every emulator.
 *
 * Several SRATs (firmware does ship a second, malformed one): the first
 * valid one is used, whatever comes after it; each other one is reported
 * with its problem, and the boot report names the SRAT in use. The same
 * for the MADT, FADT, HPET and SPCR: the first valid one.
 */
#include "arch/x86/acpi.h"
#include "arch/x86/cpufeature.h"
#include "lib/printk.h"
#include "lib/string.h"
#include "lib/fmt.h"
#include "lib/cmdline.h"
#include "arch/mem.h"
#include "arch/pgtable.h"

#define ACPI_MAX_TABLE (1u << 20)

static int acpi_inject;
KSWITCH_ENUM(acpi_inject, "acpi_inject", "corrupt a table to test fallbacks (testing only)", "none",
	     "madt_checksum", "madt_truncate", "madt_entry", "rsdp", "root_pointers");
#define INJECT_ROOT_POINTERS 5

static struct madt_info madt;
static bool have_madt;
static struct fadt_info fadt;
static bool have_fadt;
static uint64_t hpet_base;
static volatile uint64_t *hpet_regs;
static struct spcr_info spcr;
static bool have_spcr;
static struct srat_info srat;
static uint8_t slit_dist[ACPI_MAX_LOCALITIES][ACPI_MAX_LOCALITIES];
static uint32_t slit_n;
static bool have_srat;
static paddr_t srat_pa;
static uint32_t nr_tables, nr_tables_seen; /* recorded (at most 64), and all */
static char table_sigs[64][5];
static const char *rsdp_error;
static char rsdp_oem[7];

static const void *acpi_map(paddr_t pa, uint64_t len)
{
	return arch_mem.map_firmware(pa, len);
}

/* Whether this CPU can address [pa, pa + len): a table pointer from
 * broken firmware past the physical address width (a mapping of it has
 * reserved bits set and faults at its first read) or whose end wraps is
 * refused, not mapped (regression row acpi-root-bad-pointers). */
static bool pa_range_ok(uint64_t pa, uint64_t len)
{
	uint64_t top = 1ull << boot_cpu.phys_addr_bits;

	return pa < top && len <= top - pa;
}

/* Maps a whole SDT at pa; *avail is how much may be read. NULL if pa
 * cannot hold one (pa_range_ok). */
static const void *map_table(paddr_t pa, size_t *avail)
{
	if (!pa_range_ok(pa, sizeof(struct acpi_header)))
		return NULL;
	const struct acpi_header *h = acpi_map(pa, sizeof(*h));
	uint32_t len = h->length;

	if (len < sizeof(*h) || len > ACPI_MAX_TABLE || !pa_range_ok(pa, len)) {
		*avail = sizeof(*h);
		return h;
	}
	*avail = len;
	return acpi_map(pa, len);
}

/* Corrupts a private copy of the table when acpi_inject asks for it. */
static const void *maybe_inject(const void *t, size_t *avail)
{
	static uint8_t copy[64 * 1024];

	if (acpi_inject < 1 || acpi_inject > 3 || *avail > sizeof(copy))
		return t;
	memcpy(copy, t, *avail);
	switch (acpi_inject) {
	case 1: /* madt_checksum */
		copy[*avail - 1] ^= 0x5a;
		break;
	case 2: /* madt_truncate: the data ends before the length field says */
		*avail = *avail / 2;
		break;
	case 3: { /* madt_entry: an entry claims to run past the table */
		copy[44 + 1] = 0xff;
		uint8_t sum = 0;

		copy[9] = 0;
		for (size_t i = 0; i < *avail; i++)
			sum = (uint8_t)(sum + copy[i]);
		copy[9] = (uint8_t)-sum;
		break;
	}
	}
	pr_warn("acpi: acpi_inject: corrupting the MADT on purpose (fault injection)");
	return copy;
}

/* An SRAT at pa: the first valid one is taken, later ones only checked. */
static void handle_srat(const struct acpi_header *h, size_t avail, paddr_t pa)
{
	const char *err = have_srat ? acpi_check_srat(h, avail) : acpi_parse_srat(h, avail, &srat);

	if (err && have_srat)
		pr_err("acpi: SRAT at %#lx is invalid: %s; skipped, the SRAT at %#lx stays in use",
		       pa, err, srat_pa);
	else if (err)
		pr_err("acpi: SRAT at %#lx is invalid: %s; skipped", pa, err);
	else if (have_srat)
		pr_warn("acpi: second SRAT at %#lx ignored: the first valid one, at %#lx, is used",
			pa, srat_pa);
	else {
		have_srat = true;
		srat_pa = pa;
	}
}

static void handle_table(paddr_t pa)
{
	size_t avail;
	const struct acpi_header *h = map_table(pa, &avail);

	if (!h) {
		pr_warn("acpi: a table pointer, %#lx, is past the %u-bit physical address space; "
			"skipped",
			pa, boot_cpu.phys_addr_bits);
		return;
	}
	const char *err = acpi_check_sdt(h, avail, NULL);
	char sig[5];

	memcpy(sig, h->sig, 4);
	sig[4] = '\0';
	if (nr_tables < ARRAY_SIZE(table_sigs)) {
		/* For the log: a byte that is not printable ASCII as '?'. */
		for (int i = 0; i < 4; i++)
			table_sigs[nr_tables][i] = sig[i] >= 0x20 && sig[i] < 0x7f ? sig[i] : '?';
		table_sigs[nr_tables][4] = '\0';
		nr_tables++;
	}
	nr_tables_seen++;
	/* One MADT, FADT, HPET and SPCR: the first valid one is used, as
	 * for the SRAT (a later one replaced it, and a malformed later MADT
	 * left the kernel on one CPU; regression row acpi-second-madt, found
	 * in review). */
	if ((!strcmp(sig, "APIC") && have_madt) || (!strcmp(sig, "FACP") && have_fadt) ||
	    (!strcmp(sig, "HPET") && hpet_base) || (!strcmp(sig, "SPCR") && have_spcr)) {
		pr_warn("acpi: another %s at %#lx; the first valid one is used", sig, pa);
		return;
	}
	if (!strcmp(sig, "APIC")) {
		const void *t = maybe_inject(h, &avail);

		err = acpi_parse_madt(t, avail, &madt);
		have_madt = !err;
		if (err) {
			pr_err("acpi: MADT at %#lx is invalid: %s; ignoring it (one CPU, no I/O APIC)",
			       pa, err);
			memset(&madt, 0, sizeof(madt));
		}
		return;
	}
	if (err) {
		pr_err("acpi: table %s at %#lx is invalid: %s; skipped", sig, pa, err);
		return;
	}
	if (!strcmp(sig, "FACP")) {
		err = acpi_parse_fadt(h, avail, &fadt);
		have_fadt = !err;
	} else if (!strcmp(sig, "HPET")) {
		err = acpi_parse_hpet(h, avail, &hpet_base);
	} else if (!strcmp(sig, "SPCR")) {
		err = acpi_parse_spcr(h, avail, &spcr);
		have_spcr = !err;
	} else if (!strcmp(sig, "SRAT")) {
		handle_srat(h, avail, pa);
		return;
	} else if (!strcmp(sig, "SLIT")) {
		uint8_t dist[ACPI_MAX_LOCALITIES * ACPI_MAX_LOCALITIES]; /* parsed, then merged */
		uint32_t n;

		err = acpi_parse_slit(h, avail, &n, dist, sizeof(dist));
		if (!err) {
			for (uint32_t i = 0; i < n; i++)
				for (uint32_t j = 0; j < n; j++)
					slit_dist[i][j] = dist[i * n + j];
			if (n > slit_n)
				slit_n = n;
		}
	}
	if (err)
		pr_err("acpi: %s at %#lx: %s; skipped", sig, pa, err);
}

/* Walks the root table, calling fn for each entry; false if unusable. */
static bool for_each_table(const void *rsdp, uint32_t rsdp_len, void (*fn)(paddr_t))
{
	uint64_t root_pa;
	bool xsdt;
	size_t avail;

	if (!rsdp) {
		rsdp_error = "the boot loader passed no RSDP";
		return false;
	}
	uint8_t rsdp_copy[64];
	size_t rlen = MIN(rsdp_len, sizeof(rsdp_copy));

	memcpy(rsdp_copy, rsdp, rlen);
	if (rlen >= 15)
		memcpy(rsdp_oem, rsdp_copy + 9, 6);
	if (acpi_inject == 4)
		rsdp_copy[8] ^= 0xff; /* checksum now wrong */
	rsdp_error = acpi_parse_rsdp(rsdp_copy, rlen, &root_pa, &xsdt);
	if (rsdp_error)
		return false;
	const struct acpi_header *root = map_table(root_pa, &avail);
	const char *err = root ? acpi_check_sdt(root, avail, xsdt ? "XSDT" : "RSDT")
			       : "the root table's address is past the physical address space";

	if (err) {
		rsdp_error = err;
		return false;
	}
	uint32_t n = acpi_root_count(root, xsdt);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = acpi_root_entry(root, xsdt, i);

		if (pa)
			fn(pa);
	}
	if (acpi_inject == INJECT_ROOT_POINTERS) {
		/* Two more entries, as broken firmware lists them: past the
		 * physical address width, and at the top of the address space
		 * (its end wraps). */
		pr_warn("acpi: acpi_inject: two bad table pointers on purpose (fault injection)");
		fn(1ull << 52);
		fn(~0ull - 8);
	}
	return true;
}

void acpi_init(const void *rsdp, uint32_t rsdp_len)
{
	have_spcr = false;
	if (!for_each_table(rsdp, rsdp_len, handle_table)) {
		pr_err("acpi: no usable tables (%s); running on one CPU without ACPI", rsdp_error);
		return;
	}
	if (hpet_base)
		hpet_regs = arch_mem.map_mmio(hpet_base, 1024, PTE_CACHE_UC);
}

void acpi_numa(struct acpi_numa *out)
{
	out->srat = have_srat ? &srat : NULL;
	out->slit_n = slit_n;
	out->dist = slit_dist;
}

void acpi_print(void)
{
	/* Sixteen signatures a line (80 bytes): a server lists dozens of
	 * tables (SSDTs), and one line of 128 bytes held 25 (regression
	 * row acpi-many-tables: 27 tables overran it, "stack protector:
	 * stack smashed in acpi_print"; found in review). */
	enum { PER_LINE = 16 };
	char line[PER_LINE * 5 + 1];

	if (!nr_tables)
		pr_info("acpi: tables: (none)");
	for (uint32_t i = 0; i < nr_tables; i += PER_LINE) {
		size_t used = 0;

		for (uint32_t j = i; j < nr_tables && j < i + PER_LINE; j++) {
			if (used)
				line[used++] = ' ';
			memcpy(line + used, table_sigs[j], 4);
			used += 4;
		}
		line[used] = '\0';
		pr_info("acpi: tables%s: %s", i ? " (more)" : "", line);
	}
	if (nr_tables_seen > nr_tables)
		pr_info("acpi: tables: %u more not recorded", nr_tables_seen - nr_tables);
	if (have_madt)
		pr_info("acpi: MADT: %u CPUs listed (%u placeholders, %u duplicates dropped), "
			"%u I/O APIC, %u overrides, %u NMI entries%s",
			madt.nr_cpus, madt.disabled, madt.duplicates, madt.nr_ioapics, madt.nr_isos,
			madt.nr_nmis, madt.pcat_compat ? ", legacy PICs present" : "");
	if (madt.broadcast)
		pr_warn("acpi: MADT: %u CPU entries with the broadcast APIC ID dropped",
			madt.broadcast);
	if (have_srat)
		pr_info("acpi: SRAT at %#lx: %u CPUs, %u memory ranges", srat_pa, srat.nr_cpus,
			srat.nr_mem);
	if (have_fadt)
		pr_info("acpi: FADT: PM timer %s%#x%s%s", fadt.pm_timer_port ? "at port " : "none ",
			fadt.pm_timer_port, fadt.pm_timer_32bit ? " (32-bit)" : "",
			fadt.hw_reduced ? ", hardware-reduced ACPI" : "");
	if (hpet_base)
		pr_info("acpi: HPET at %#lx", hpet_base);
	if (have_spcr)
		pr_info("acpi: SPCR: console UART type %u in %s space at %#lx", spcr.interface_type,
			spcr.space == 1 ? "I/O" : "memory", spcr.address);
}

const struct madt_info *acpi_madt(void)
{
	return have_madt ? &madt : NULL;
}

bool acpi_pm_timer(uint16_t *port, bool *bits32)
{
	if (!have_fadt || !fadt.pm_timer_port)
		return false;
	*port = fadt.pm_timer_port;
	*bits32 = fadt.pm_timer_32bit;
	return true;
}

volatile uint64_t *acpi_hpet_regs(void)
{
	return hpet_regs;
}

bool acpi_spcr_port(uint16_t *port)
{
	if (!have_spcr || spcr.space != 1 || !spcr.address || spcr.address > 0xffff)
		return false;
	*port = (uint16_t)spcr.address;
	return true;
}

bool acpi_oem_is(const char *oem)
{
	return !strncmp(rsdp_oem, oem, 6);
}
