/*
 * ACPI table parsers (see acpi_tables.h). Fields are read with memcpy-style
 * helpers: tables are byte-packed and entries may be unaligned.
 */
#include "arch/x86/acpi_tables.h"
#include "lib/string.h"

static uint8_t rd8(const uint8_t *p, size_t off)
{
	return p[off];
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

bool acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

const char *acpi_parse_rsdp(const void *rsdp, size_t avail, uint64_t *root, bool *is_xsdt)
{
	const uint8_t *p = rsdp;

	if (avail < 20)
		return "RSDP truncated (under 20 bytes)";
	if (memcmp(p, "RSD PTR ", 8))
		return "RSDP signature mismatch";
	if (!acpi_checksum_ok(p, 20))
		return "RSDP checksum (first 20 bytes) bad";
	uint8_t rev = rd8(p, 15);

	if (rev >= 2) {
		if (avail < 36)
			return "ACPI 2.0 RSDP truncated (under 36 bytes)";
		uint32_t len = rd32(p, 20);

		if (len < 36 || len > avail)
			return "RSDP length field out of range";
		if (!acpi_checksum_ok(p, len))
			return "RSDP extended checksum bad";
		uint64_t x = rd64(p, 24);

		if (x) {
			*root = x;
			*is_xsdt = true;
			return NULL;
		}
	}
	*root = rd32(p, 16);
	*is_xsdt = false;
	if (!*root)
		return "RSDP names no root table";
	return NULL;
}

const char *acpi_check_sdt(const void *table, size_t avail, const char *sig)
{
	const uint8_t *p = table;

	if (avail < sizeof(struct acpi_header))
		return "table truncated (shorter than its header)";
	if (sig && memcmp(p, sig, 4))
		return "signature mismatch";
	uint32_t len = rd32(p, 4);

	if (len < sizeof(struct acpi_header))
		return "length field smaller than the header";
	if (len > avail)
		return "table truncated (length field exceeds the data)";
	if (!acpi_checksum_ok(p, len))
		return "checksum bad";
	return NULL;
}

uint32_t acpi_root_count(const struct acpi_header *root, bool is_xsdt)
{
	return (root->length - (uint32_t)sizeof(*root)) / (is_xsdt ? 8 : 4);
}

uint64_t acpi_root_entry(const struct acpi_header *root, bool is_xsdt, uint32_t i)
{
	const uint8_t *p = (const uint8_t *)root + sizeof(*root);

	return is_xsdt ? rd64(p, (size_t)i * 8) : rd32(p, (size_t)i * 4);
}

#define MADT_ENABLED	    (1u << 0) /* Local (x2)APIC flags, ACPI 6.5 Table 5.23 */
#define MADT_ONLINE_CAPABLE (1u << 1)

/*
 * A processor entry. Placeholders (neither Enabled nor Online Capable: the
 * processor cannot be used, ACPI 6.5 5.2.12.2) are counted and dropped
 * before anything else: firmware lists them with APIC ID 0 or 0xFF, and one
 * taken as the first listing of an ID would make a real processor's entry
 * with that ID look like a duplicate.
 */
static void madt_add_cpu(struct madt_info *m, uint32_t apic_id, uint32_t uid, uint32_t flags,
			 bool x2)
{
	if (!(flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE))) {
		m->disabled++;
		return;
	}
	/* The broadcast ID names every CPU: an INIT sent to "it" resets the
	 * boot CPU too (regression test_madt_broadcast_id_dropped; found in
	 * review, where QEMU reset). No CPU has it. */
	if (apic_id == (x2 ? 0xffffffffu : 0xffu)) {
		m->broadcast++;
		return;
	}
	for (uint32_t i = 0; i < m->nr_cpus; i++) {
		if (m->cpus[i].apic_id == apic_id) {
			m->duplicates++;
			return;
		}
	}
	if (m->nr_cpus == MADT_MAX_CPUS)
		return;
	m->cpus[m->nr_cpus++] = (struct madt_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.enabled = flags & MADT_ENABLED,
		.online_capable = (flags & MADT_ONLINE_CAPABLE) != 0,
		.x2apic_entry = x2,
	};
}

/* Every NMI entry is counted; the first MADT_MAX_NMIS are kept. */
static void madt_add_nmi(struct madt_info *m, uint32_t uid, uint8_t lint, uint16_t flags, bool x2)
{
	if (m->nr_nmis < MADT_MAX_NMIS) {
		m->nmis[m->nr_nmis].uid = uid;
		m->nmis[m->nr_nmis].lint = lint;
		m->nmis[m->nr_nmis].flags = flags;
		m->nmis[m->nr_nmis].x2apic = x2;
	}
	m->nr_nmis++;
}

const char *acpi_parse_madt(const void *table, size_t avail, struct madt_info *m)
{
	const uint8_t *p = table;
	const char *err = acpi_check_sdt(table, avail, "APIC");

	memset(m, 0, sizeof(*m));
	if (err)
		return err;
	uint32_t len = rd32(p, 4);

	if (len < 44)
		return "MADT shorter than its fixed fields";
	m->lapic_addr = rd32(p, 36);
	m->pcat_compat = rd32(p, 40) & 1;

	for (uint32_t off = 44; off < len;) {
		if (len - off < 2)
			return "MADT entry header truncated";
		uint8_t type = rd8(p, off), elen = rd8(p, off + 1);

		if (elen < 2 || elen > len - off)
			return "MADT entry length out of range";
		const uint8_t *e = p + off;

		switch (type) {
		case 0: /* processor local APIC */
			if (elen < 8)
				return "MADT local APIC entry too short";
			madt_add_cpu(m, rd8(e, 3), rd8(e, 2), rd32(e, 4), false);
			break;
		case 1: /* I/O APIC */
			if (elen < 12)
				return "MADT I/O APIC entry too short";
			if (m->nr_ioapics < MADT_MAX_IOAPICS) {
				m->ioapics[m->nr_ioapics].id = rd8(e, 2);
				m->ioapics[m->nr_ioapics].addr = rd32(e, 4);
				m->ioapics[m->nr_ioapics].gsi_base = rd32(e, 8);
				m->nr_ioapics++;
			}
			break;
		case 2: /* interrupt source override */
			if (elen < 10)
				return "MADT interrupt override entry too short";
			if (m->nr_isos < MADT_MAX_ISOS) {
				m->isos[m->nr_isos].bus = rd8(e, 2);
				m->isos[m->nr_isos].source = rd8(e, 3);
				m->isos[m->nr_isos].gsi = rd32(e, 4);
				m->isos[m->nr_isos].flags = rd16(e, 8);
				m->nr_isos++;
			}
			break;
		case 4: /* local APIC NMI */
			if (elen < 6)
				return "MADT local APIC NMI entry too short";
			madt_add_nmi(m, rd8(e, 2) == 0xff ? 0xffffffffu : rd8(e, 2), rd8(e, 5),
				     rd16(e, 3), false);
			break;
		case 5: /* local APIC address override */
			if (elen < 12)
				return "MADT APIC address override too short";
			m->lapic_addr = rd64(e, 4);
			break;
		case 9: /* processor local x2APIC */
			if (elen < 16)
				return "MADT local x2APIC entry too short";
			madt_add_cpu(m, rd32(e, 4), rd32(e, 12), rd32(e, 8), true);
			break;
		case 10: /* local x2APIC NMI */
			if (elen < 12)
				return "MADT local x2APIC NMI entry too short";
			madt_add_nmi(m, rd32(e, 4), rd8(e, 8), rd16(e, 2), true);
			break;
		default:
			m->skipped++;
			break;
		}
		off += elen;
	}
	return NULL;
}

const char *acpi_parse_fadt(const void *table, size_t avail, struct fadt_info *f)
{
	const uint8_t *p = table;
	const char *err = acpi_check_sdt(table, avail, "FACP");

	memset(f, 0, sizeof(*f));
	if (err)
		return err;
	uint32_t len = rd32(p, 4);

	if (len < 116)
		return "FADT too short for the PM timer fields";
	f->pm_timer_port = (uint16_t)rd32(p, 76);
	if (rd8(p, 91) < 4)
		f->pm_timer_port = 0;
	f->flags = rd32(p, 112);
	f->pm_timer_32bit = f->flags & (1u << 8);
	f->hw_reduced = f->flags & (1u << 20);
	if (len >= 111)
		f->boot_arch = rd16(p, 109);
	if (len >= 220 && !f->pm_timer_port) {
		/* X_PM_TMR_BLK (GAS at 208), if it is in I/O space. */
		if (rd8(p, 208) == 1)
			f->pm_timer_port = (uint16_t)rd64(p, 212);
	}
	return NULL;
}

const char *acpi_parse_spcr(const void *table, size_t avail, struct spcr_info *s)
{
	const uint8_t *p = table;
	const char *err = acpi_check_sdt(table, avail, "SPCR");

	memset(s, 0, sizeof(*s));
	if (err)
		return err;
	if (rd32(p, 4) < 80)
		return "SPCR too short";
	s->interface_type = rd8(p, 36);
	s->space = rd8(p, 40);
	s->address = rd64(p, 44);
	static const uint32_t bauds[8] = { 0, 0, 0, 9600, 19200, 0, 57600, 115200 };

	s->baud = bauds[rd8(p, 58) & 7];
	return NULL;
}

const char *acpi_parse_hpet(const void *table, size_t avail, uint64_t *base)
{
	const uint8_t *p = table;
	const char *err = acpi_check_sdt(table, avail, "HPET");

	if (err)
		return err;
	if (rd32(p, 4) < 56)
		return "HPET table too short";
	if (rd8(p, 40) != 0)
		return "HPET not in memory space";
	*base = rd64(p, 44);
	if (!*base)
		return "HPET base address is zero";
	return NULL;
}

/* One SRAT subtable (its length checked): recorded in s, or only checked
 * when s is NULL. */
static const char *srat_entry(const uint8_t *e, uint8_t type, uint8_t elen, struct srat_info *s)
{
	switch (type) {
	case 0: /* processor local APIC affinity */
		if (elen < 16)
			return "SRAT APIC affinity entry too short";
		if (s && (rd32(e, 4) & 1) && s->nr_cpus < SRAT_MAX_CPUS) {
			uint32_t prox = rd8(e, 2) | (uint32_t)rd8(e, 9) << 8 |
					(uint32_t)rd8(e, 10) << 16 | (uint32_t)rd8(e, 11) << 24;

			s->cpus[s->nr_cpus].proximity = prox;
			s->cpus[s->nr_cpus].apic_id = rd8(e, 3);
			s->nr_cpus++;
		}
		return NULL;
	case 1: /* memory affinity */
		if (elen < 40)
			return "SRAT memory affinity entry too short";
		if (s && (rd32(e, 28) & 1) && s->nr_mem < SRAT_MAX_MEM) {
			s->mem[s->nr_mem].proximity = rd32(e, 2);
			s->mem[s->nr_mem].base = rd64(e, 8);
			s->mem[s->nr_mem].len = rd64(e, 16);
			s->mem[s->nr_mem].hotplug = (rd32(e, 28) & 2) != 0;
			s->nr_mem++;
		}
		return NULL;
	case 2: /* processor local x2APIC affinity */
		if (elen < 24)
			return "SRAT x2APIC affinity entry too short";
		if (s && (rd32(e, 12) & 1) && s->nr_cpus < SRAT_MAX_CPUS) {
			s->cpus[s->nr_cpus].proximity = rd32(e, 4);
			s->cpus[s->nr_cpus].apic_id = rd32(e, 8);
			s->nr_cpus++;
		}
		return NULL;
	default:
		return NULL;
	}
}

/* Every subtable of the len-byte SRAT at p, into s (NULL: check only). */
static const char *srat_walk(const uint8_t *p, uint32_t len, struct srat_info *s)
{
	for (uint32_t off = 48; off < len;) {
		if (len - off < 2)
			return "SRAT subtable header truncated";
		uint8_t type = rd8(p, off), elen = rd8(p, off + 1);
		const char *err;

		if (elen == 0)
			return "SRAT subtable with length 0 (a firmware bug)";
		if (elen < 2)
			return "SRAT subtable with length 1 (a firmware bug)";
		if (elen > len - off)
			return "SRAT subtable runs past the end of the table";
		err = srat_entry(p + off, type, elen, s);
		if (err)
			return err;
		off += elen;
	}
	return NULL;
}

const char *acpi_check_srat(const void *table, size_t avail)
{
	const uint8_t *p = table;
	const char *err = acpi_check_sdt(table, avail, "SRAT");

	if (err)
		return err;
	if (rd32(p, 4) < 48)
		return "SRAT shorter than its fixed fields";
	return srat_walk(p, rd32(p, 4), NULL);
}

const char *acpi_parse_srat(const void *table, size_t avail, struct srat_info *s)
{
	const uint8_t *p = table;
	const char *err = acpi_check_srat(table, avail);

	if (err)
		return err; /* *s untouched: an SRAT accepted before stays whole */
	memset(s, 0, sizeof(*s));
	return srat_walk(p, rd32(p, 4), s);
}

const char *acpi_parse_slit(const void *table, size_t avail, uint32_t *n, uint8_t *out,
			    size_t out_size)
{
	const uint8_t *p = table;
	const char *err = acpi_check_sdt(table, avail, "SLIT");

	if (err)
		return err;
	uint32_t len = rd32(p, 4);

	if (len < 44)
		return "SLIT too short";
	uint64_t count = rd64(p, 36);

	if (count == 0 || count > 256 || 44 + count * count > len)
		return "SLIT locality count inconsistent with its length";
	if (count * count > out_size)
		return "SLIT larger than supported";
	*n = (uint32_t)count;
	memcpy(out, p + 44, count * count);
	return NULL;
}
