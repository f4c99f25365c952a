/*
 * Builds ACPI tables in memory for the host tests: a header, entries, then
 * the length and checksum fixed up, exactly as firmware lays them out.
 */
#pragma once

#include <stdint.h>
#include <string.h>

struct tbl {
	uint8_t b[65536];
	size_t len;
};

static inline void tbl_begin(struct tbl *t, const char *sig, uint8_t rev)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	t->b[8] = rev;
	memcpy(t->b + 10, "UKTEST", 6);
	memcpy(t->b + 16, "FIXTURE ", 8);
	t->len = 36;
}

static inline void tbl_put(struct tbl *t, const void *p, size_t n)
{
	memcpy(t->b + t->len, p, n);
	t->len += n;
}

static inline void tbl_u8(struct tbl *t, uint8_t v)
{
	tbl_put(t, &v, 1);
}
static inline void tbl_u16(struct tbl *t, uint16_t v)
{
	tbl_put(t, &v, 2);
}
static inline void tbl_u32(struct tbl *t, uint32_t v)
{
	tbl_put(t, &v, 4);
}
static inline void tbl_u64(struct tbl *t, uint64_t v)
{
	tbl_put(t, &v, 8);
}

static inline void tbl_end(struct tbl *t)
{
	uint32_t len = (uint32_t)t->len;
	uint8_t sum = 0;

	memcpy(t->b + 4, &len, 4);
	t->b[9] = 0;
	for (size_t i = 0; i < t->len; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)-sum;
}

/* MADT entries. */
static inline void madt_lapic(struct tbl *t, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	tbl_u8(t, 0);
	tbl_u8(t, 8);
	tbl_u8(t, uid);
	tbl_u8(t, apic_id);
	tbl_u32(t, flags);
}

static inline void madt_ioapic(struct tbl *t, uint8_t id, uint32_t addr, uint32_t gsi)
{
	tbl_u8(t, 1);
	tbl_u8(t, 12);
	tbl_u8(t, id);
	tbl_u8(t, 0);
	tbl_u32(t, addr);
	tbl_u32(t, gsi);
}

static inline void madt_iso(struct tbl *t, uint8_t src, uint32_t gsi, uint16_t flags)
{
	tbl_u8(t, 2);
	tbl_u8(t, 10);
	tbl_u8(t, 0);
	tbl_u8(t, src);
	tbl_u32(t, gsi);
	tbl_u16(t, flags);
}

static inline void madt_nmi(struct tbl *t, uint8_t uid, uint16_t flags, uint8_t lint)
{
	tbl_u8(t, 4);
	tbl_u8(t, 6);
	tbl_u8(t, uid);
	tbl_u16(t, flags);
	tbl_u8(t, lint);
}

static inline void madt_x2apic(struct tbl *t, uint32_t apic_id, uint32_t flags, uint32_t uid)
{
	tbl_u8(t, 9);
	tbl_u8(t, 16);
	tbl_u16(t, 0);
	tbl_u32(t, apic_id);
	tbl_u32(t, flags);
	tbl_u32(t, uid);
}

static inline void madt_x2nmi(struct tbl *t, uint32_t uid, uint8_t lint)
{
	tbl_u8(t, 10);
	tbl_u8(t, 12);
	tbl_u16(t, 5);
	tbl_u32(t, uid);
	tbl_u8(t, lint);
	tbl_u8(t, 0);
	tbl_u8(t, 0);
	tbl_u8(t, 0);
}
