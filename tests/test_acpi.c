// uses: arch/x86/acpi_tables.c lib/string.c
/*
 * ACPI parsers against fixture tables: a QEMU-like MADT, a large-machine
 * MADT with x2APIC IDs above 255, and malformed ones (truncated, bad
 * checksum, bad entry length) that must be rejected without reading past
 * the data. Also RSDP, FADT, HPET, SPCR, SRAT and SLIT.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/compiler.h"
#include "arch/x86/acpi_tables.h"
#include "tests/acpi_builder.h"

static struct tbl t;
static struct madt_info m;

/* The MADT QEMU's q35 machine builds for -smp 4. */
static void build_qemu_madt(void)
{
	tbl_begin(&t, "APIC", 3);
	tbl_u32(&t, 0xfee00000);
	tbl_u32(&t, 1); /* PCAT_COMPAT */
	for (uint8_t i = 0; i < 4; i++)
		madt_lapic(&t, i, i, 1);
	madt_ioapic(&t, 0, 0xfec00000, 0);
	madt_iso(&t, 0, 2, 0);
	madt_iso(&t, 5, 5, 0xd);
	madt_iso(&t, 9, 9, 0xd);
	madt_iso(&t, 10, 10, 0xd);
	madt_iso(&t, 11, 11, 0xd);
	madt_nmi(&t, 0xff, 0, 1);
	tbl_end(&t);
}

static void test_madt_qemu(void **state)
{
	(void)state;
	build_qemu_madt();
	assert_null(acpi_parse_madt(t.b, t.len, &m));
	assert_int_equal(m.lapic_addr, 0xfee00000);
	assert_true(m.pcat_compat);
	assert_int_equal(m.nr_cpus, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(m.cpus[i].apic_id, i);
		assert_true(m.cpus[i].enabled);
	}
	assert_int_equal(m.nr_ioapics, 1);
	assert_int_equal(m.ioapics[0].addr, 0xfec00000);
	assert_int_equal(m.nr_isos, 5);
	assert_int_equal(m.isos[0].gsi, 2);
	assert_int_equal(m.nr_nmis, 1);
	assert_int_equal(m.nmis[0].uid, 0xffffffffu);
	assert_int_equal(m.nmis[0].lint, 1);
}

/* 288 CPUs: IDs 0..254 as local APIC entries, the rest as x2APIC entries,
 * some listed twice (firmware does that), one disabled, one online-capable. */
static void test_madt_large_x2apic(void **state)
{
	(void)state;
	tbl_begin(&t, "APIC", 5);
	tbl_u32(&t, 0xfee00000);
	tbl_u32(&t, 0);
	for (uint32_t i = 0; i < 255; i++)
		madt_lapic(&t, (uint8_t)i, (uint8_t)i, 1);
	for (uint32_t i = 250; i < 288; i++)
		madt_x2apic(&t, i, i == 287 ? 2 : (i == 286 ? 0 : 1), i);
	madt_x2nmi(&t, 0xffffffff, 1);
	tbl_end(&t);
	assert_null(acpi_parse_madt(t.b, t.len, &m));
	assert_int_equal(m.nr_cpus, 287); /* 286 is neither enabled nor online capable */
	assert_int_equal(m.disabled, 1);
	assert_int_equal(m.duplicates, 5);
	assert_int_equal(m.cpus[286].apic_id, 287);
	assert_true(m.cpus[286].x2apic_entry);
	assert_false(m.cpus[286].enabled);
	assert_true(m.cpus[286].online_capable);
	assert_int_equal(m.cpus[285].apic_id, 285);
	assert_true(m.cpus[300 - 20].enabled);
	assert_int_equal(m.nr_nmis, 1);
	assert_true(m.nmis[0].x2apic);
}

/* Regression test_madt_broadcast_id_dropped (found in review): an enabled
 * entry with the broadcast ID (0xff in a local APIC entry, 0xffffffff in
 * an x2APIC one) was kept as a CPU, and starting "it" sent INIT to every
 * CPU, the boot CPU too (QEMU reset). Both are dropped and counted. */
static void test_madt_broadcast_id_dropped(void **state)
{
	(void)state;
	tbl_begin(&t, "APIC", 5);
	tbl_u32(&t, 0xfee00000);
	tbl_u32(&t, 0);
	madt_lapic(&t, 0, 0, 1);
	madt_lapic(&t, 1, 0xff, 1);
	madt_x2apic(&t, 0xffffffffu, 1, 2);
	madt_x2apic(&t, 300, 1, 3);
	tbl_end(&t);
	assert_null(acpi_parse_madt(t.b, t.len, &m));
	assert_int_equal(m.nr_cpus, 2);
	assert_int_equal(m.broadcast, 2);
	assert_int_equal(m.cpus[0].apic_id, 0);
	assert_int_equal(m.cpus[1].apic_id, 300);
}

static void test_madt_bad_checksum(void **state)
{
	(void)state;
	build_qemu_madt();
	t.b[50] ^= 1;
	assert_string_equal(acpi_parse_madt(t.b, t.len, &m), "checksum bad");
	assert_int_equal(m.nr_cpus, 0);
}

static void test_madt_truncated(void **state)
{
	(void)state;
	build_qemu_madt();
	/* The data ends before the length field says: never read past it. */
	for (size_t avail = 0; avail < t.len; avail++) {
		uint8_t *copy = malloc(avail ? avail : 1);

		memcpy(copy, t.b, avail);
		assert_non_null(acpi_parse_madt(copy, avail, &m));
		free(copy);
	}
}

static void test_madt_entry_overruns(void **state)
{
	(void)state;
	build_qemu_madt();
	t.b[44 + 1] = 200; /* first entry claims 200 bytes */
	tbl_end(&t);
	assert_string_equal(acpi_parse_madt(t.b, t.len, &m), "MADT entry length out of range");
	build_qemu_madt();
	t.b[44 + 1] = 1; /* zero-progress entry */
	tbl_end(&t);
	assert_string_equal(acpi_parse_madt(t.b, t.len, &m), "MADT entry length out of range");
	build_qemu_madt();
	t.b[44 + 1] = 4; /* local APIC entry too short for its fields */
	tbl_end(&t);
	assert_string_equal(acpi_parse_madt(t.b, t.len, &m), "MADT local APIC entry too short");
}

static void test_madt_wrong_signature(void **state)
{
	(void)state;
	build_qemu_madt();
	memcpy(t.b, "APIX", 4);
	tbl_end(&t);
	assert_string_equal(acpi_parse_madt(t.b, t.len, &m), "signature mismatch");
}

static void test_rsdp(void **state)
{
	(void)state;
	uint8_t r[36] = { 0 };
	uint64_t root;
	bool x;

	memcpy(r, "RSD PTR ", 8);
	r[15] = 0;
	uint32_t rsdt = 0x7fe1000;

	memcpy(r + 16, &rsdt, 4);
	uint8_t sum = 0;

	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + r[i]);
	r[8] = (uint8_t)-sum;
	assert_null(acpi_parse_rsdp(r, 20, &root, &x));
	assert_int_equal(root, 0x7fe1000);
	assert_false(x);
	assert_non_null(acpi_parse_rsdp(r, 19, &root, &x));
	r[8] ^= 1;
	assert_string_equal(acpi_parse_rsdp(r, 20, &root, &x),
			    "RSDP checksum (first 20 bytes) bad");
	r[8] ^= 1;

	/* ACPI 2.0: XSDT preferred. */
	r[15] = 2;
	r[8] = 0;
	sum = 0;
	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + r[i]);
	r[8] = (uint8_t)-sum;
	uint32_t len = 36;
	uint64_t xsdt = 0x100002000ull;

	memcpy(r + 20, &len, 4);
	memcpy(r + 24, &xsdt, 8);
	sum = 0;
	for (int i = 0; i < 36; i++)
		sum = (uint8_t)(sum + r[i]);
	r[32] = (uint8_t)-sum;
	assert_null(acpi_parse_rsdp(r, 36, &root, &x));
	assert_true(x);
	assert_int_equal(root, xsdt);
	assert_non_null(acpi_parse_rsdp(r, 30, &root, &x));
}

static void test_fadt_and_hpet(void **state)
{
	(void)state;
	struct fadt_info f;
	uint64_t base = 0;

	tbl_begin(&t, "FACP", 6);
	t.len = 276;
	uint32_t port = 0x608, flags = 1u << 8;

	memcpy(t.b + 76, &port, 4);
	t.b[91] = 4;
	memcpy(t.b + 112, &flags, 4);
	tbl_end(&t);
	assert_null(acpi_parse_fadt(t.b, t.len, &f));
	assert_int_equal(f.pm_timer_port, 0x608);
	assert_true(f.pm_timer_32bit);
	t.len = 100;
	tbl_end(&t);
	assert_non_null(acpi_parse_fadt(t.b, t.len, &f));

	tbl_begin(&t, "HPET", 1);
	tbl_u32(&t, 0x8086a201);
	tbl_u8(&t, 0);
	tbl_u8(&t, 64);
	tbl_u8(&t, 0);
	tbl_u8(&t, 0);
	tbl_u64(&t, 0xfed00000);
	tbl_u8(&t, 0);
	tbl_u16(&t, 0);
	tbl_u8(&t, 0);
	tbl_end(&t);
	assert_null(acpi_parse_hpet(t.b, t.len, &base));
	assert_int_equal(base, 0xfed00000);
}

static void test_spcr(void **state)
{
	(void)state;
	struct spcr_info s;

	tbl_begin(&t, "SPCR", 2);
	t.len = 80;
	t.b[36] = 0; /* 16550 */
	t.b[40] = 1; /* I/O space */
	uint64_t port = 0x2f8;

	memcpy(t.b + 44, &port, 8);
	t.b[58] = 7;
	tbl_end(&t);
	assert_null(acpi_parse_spcr(t.b, t.len, &s));
	assert_int_equal(s.address, 0x2f8);
	assert_int_equal(s.space, 1);
	assert_int_equal(s.baud, 115200);
}

static void test_srat_slit(void **state)
{
	(void)state;
	static struct srat_info s;
	uint8_t d[16];
	uint32_t n;

	tbl_begin(&t, "SRAT", 3);
	tbl_u32(&t, 1);
	tbl_u64(&t, 0);
	/* x2APIC affinity: CPU 300 in domain 1 */
	tbl_u8(&t, 2);
	tbl_u8(&t, 24);
	tbl_u16(&t, 0);
	tbl_u32(&t, 1);
	tbl_u32(&t, 300);
	tbl_u32(&t, 1);
	tbl_u32(&t, 0);
	tbl_u32(&t, 0);
	/* memory affinity: 4 GiB at 4 GiB in domain 1 */
	tbl_u8(&t, 1);
	tbl_u8(&t, 40);
	tbl_u32(&t, 1);
	tbl_u16(&t, 0);
	tbl_u64(&t, 1ull << 32);
	tbl_u64(&t, 1ull << 32);
	tbl_u32(&t, 0);
	tbl_u32(&t, 1);
	tbl_u64(&t, 0);
	/* disabled memory entry: ignored */
	tbl_u8(&t, 1);
	tbl_u8(&t, 40);
	tbl_u32(&t, 2);
	tbl_u16(&t, 0);
	tbl_u64(&t, 0);
	tbl_u64(&t, 0);
	tbl_u32(&t, 0);
	tbl_u32(&t, 0);
	tbl_u64(&t, 0);
	tbl_end(&t);
	assert_null(acpi_parse_srat(t.b, t.len, &s));
	assert_int_equal(s.nr_cpus, 1);
	assert_int_equal(s.cpus[0].apic_id, 300);
	assert_int_equal(s.cpus[0].proximity, 1);
	assert_int_equal(s.nr_mem, 1);
	assert_int_equal(s.mem[0].base, 1ull << 32);

	tbl_begin(&t, "SLIT", 1);
	tbl_u64(&t, 2);
	tbl_u8(&t, 10);
	tbl_u8(&t, 21);
	tbl_u8(&t, 21);
	tbl_u8(&t, 10);
	tbl_end(&t);
	assert_null(acpi_parse_slit(t.b, t.len, &n, d, sizeof(d)));
	assert_int_equal(n, 2);
	assert_int_equal(d[1], 21);
	memset(t.b + 36, 0xff, 8); /* absurd locality count */
	tbl_end(&t);
	assert_non_null(acpi_parse_slit(t.b, t.len, &n, d, sizeof(d)));
}

/*
 * Disabled placeholder entries as server firmware lists them for sockets
 * and threads that are not there: flags 0, APIC ID 0 (x2APIC structures,
 * listed here before the LAPIC ones) or 0xFF (LAPIC structures in the
 * middle). A placeholder must not count as the first listing of an ID that
 * a real, enabled processor has: the BSP (ID 0) and the x2APIC CPU with ID
 * 0xFF below must both stay.
 */
static void build_placeholder_madt(void)
{
	tbl_begin(&t, "APIC", 5);
	tbl_u32(&t, 0xfee00000);
	tbl_u32(&t, 1);
	madt_x2apic(&t, 0, 0, 0xfe); /* placeholder before the BSP's entry */
	madt_lapic(&t, 0, 0, 1);     /* BSP */
	madt_lapic(&t, 1, 2, 1);
	madt_lapic(&t, 2, 0xff, 0); /* placeholders in the middle */
	madt_lapic(&t, 3, 0xff, 0);
	madt_lapic(&t, 4, 4, 1);
	madt_x2apic(&t, 0xff, 1, 5); /* enabled, ID 0xFF after the 0xFF placeholders */
	madt_x2apic(&t, 0x100, 1, 6);
	madt_x2apic(&t, 0x102, 2, 7); /* hot-pluggable: online-capable, kept */
	madt_x2apic(&t, 0, 0, 0xff);  /* placeholder at the end */
	madt_ioapic(&t, 8, 0xfec00000, 0);
	madt_nmi(&t, 0xff, 5, 1);
	tbl_end(&t);
}

static void test_madt_disabled_placeholder_before_enabled(void **state)
{
	(void)state;
	static const uint32_t want[] = { 0, 2, 4, 0xff, 0x100, 0x102 };
	char missing[128] = "";
	size_t used = 0;

	build_placeholder_madt();
	assert_null(acpi_parse_madt(t.b, t.len, &m));
	for (uint32_t j = 0; j < ARRAY_SIZE(want); j++) {
		bool ok = false;

		for (uint32_t i = 0; i < m.nr_cpus; i++)
			if (m.cpus[i].apic_id == want[j])
				ok |= want[j] == 0x102 ? m.cpus[i].online_capable
						       : m.cpus[i].enabled;
		if (!ok)
			used += (size_t)snprintf(missing + used, sizeof(missing) - used, " %#x",
						 want[j]);
	}
	if (used)
		fail_msg("CPUs lost to a placeholder with the same APIC ID:%s (%u listed, %u "
			 "duplicates)",
			 missing, m.nr_cpus, m.duplicates);
	assert_int_equal(m.nr_cpus, ARRAY_SIZE(want));
	assert_int_equal(m.duplicates, 0);
	assert_int_equal(m.disabled, 4);
}

/*
 * One local APIC NMI entry per processor UID, as large servers' firmware
 * lists them (here 64 CPUs, LINT1, edge/high), plus an x2APIC NMI entry for
 * all processors: every one is counted, the first MADT_MAX_NMIS are kept.
 */
static void test_madt_nmi_entries_all_counted(void **state)
{
	(void)state;
	tbl_begin(&t, "APIC", 4);
	tbl_u32(&t, 0xfee00000);
	tbl_u32(&t, 1);
	for (uint32_t i = 0; i < 64; i++)
		madt_lapic(&t, (uint8_t)i, (uint8_t)i, 1);
	madt_ioapic(&t, 64, 0xfec00000, 0);
	for (uint32_t i = 0; i < 64; i++)
		madt_nmi(&t, (uint8_t)i, 5, 1);
	madt_x2nmi(&t, 0xffffffff, 1);
	tbl_end(&t);
	assert_null(acpi_parse_madt(t.b, t.len, &m));
	assert_int_equal(m.nr_cpus, 64);
	assert_int_equal(m.nr_nmis, 65);
	assert_int_equal(madt_nmis_kept(&m), MADT_MAX_NMIS);
	for (uint32_t i = 0; i < MADT_MAX_NMIS; i++) {
		assert_int_equal(m.nmis[i].uid, i);
		assert_int_equal(m.nmis[i].lint, 1);
	}
}

/* SRAT fixture: one x2APIC affinity entry (CPU apic in domain prox) and one
 * memory range per domain, as firmware builds it. */
static void build_srat(uint32_t apic, uint32_t prox)
{
	tbl_begin(&t, "SRAT", 3);
	tbl_u32(&t, 1);
	tbl_u64(&t, 0);
	tbl_u8(&t, 2);
	tbl_u8(&t, 24);
	tbl_u16(&t, 0);
	tbl_u32(&t, prox);
	tbl_u32(&t, apic);
	tbl_u32(&t, 1);
	tbl_u32(&t, 0);
	tbl_u32(&t, 0);
	tbl_u8(&t, 1);
	tbl_u8(&t, 40);
	tbl_u32(&t, prox);
	tbl_u16(&t, 0);
	tbl_u64(&t, (uint64_t)(prox + 1) << 32);
	tbl_u64(&t, 1ull << 32);
	tbl_u32(&t, 0);
	tbl_u32(&t, 1);
	tbl_u64(&t, 0);
}

/*
 * A second SRAT that is malformed (a zero-length subtable after good ones,
 * as shipped firmware has it) is refused, and the SRAT already accepted is
 * left exactly as it was: the parser writes nothing before the whole table
 * checked out.
 */
static void test_srat_malformed_second_keeps_first(void **state)
{
	(void)state;
	static struct srat_info s, copy;

	build_srat(300, 1);
	tbl_end(&t);
	assert_null(acpi_parse_srat(t.b, t.len, &s));
	assert_int_equal(s.nr_cpus, 1);
	assert_int_equal(s.nr_mem, 1);
	copy = s;

	build_srat(301, 2);
	tbl_u8(&t, 0); /* a processor affinity subtable whose length is 0 */
	tbl_u8(&t, 0);
	tbl_u8(&t, 0);
	tbl_u8(&t, 0);
	tbl_end(&t);
	const char *err = acpi_parse_srat(t.b, t.len, &s);

	assert_non_null(err);
	print_message("  second SRAT: %s\n", err);
	if (memcmp(&s, &copy, sizeof(s)))
		fail_msg("the malformed SRAT changed the accepted one: %u CPUs (first: APIC ID "
			 "%u in domain %u), %u ranges; was %u CPUs (APIC ID %u in domain %u), "
			 "%u ranges",
			 s.nr_cpus, s.cpus[0].apic_id, s.cpus[0].proximity, s.nr_mem, copy.nr_cpus,
			 copy.cpus[0].apic_id, copy.cpus[0].proximity, copy.nr_mem);
	assert_non_null(strstr(err, "length 0")); /* the error says what is wrong */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_madt_qemu),
		cmocka_unit_test(test_madt_large_x2apic),
		cmocka_unit_test(test_madt_broadcast_id_dropped),
		cmocka_unit_test(test_madt_bad_checksum),
		cmocka_unit_test(test_madt_truncated),
		cmocka_unit_test(test_madt_entry_overruns),
		cmocka_unit_test(test_madt_wrong_signature),
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_fadt_and_hpet),
		cmocka_unit_test(test_spcr),
		cmocka_unit_test(test_srat_slit),
		cmocka_unit_test(test_madt_disabled_placeholder_before_enabled),
		cmocka_unit_test(test_madt_nmi_entries_all_counted),
		cmocka_unit_test(test_srat_malformed_second_keeps_first),
	};
	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
