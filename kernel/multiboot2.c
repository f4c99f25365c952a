/*
 * Multiboot2 tag parser (see multiboot2.h). The layout follows the
 * Multiboot2 specification, section 3.6: a header {total_size, reserved},
 * then 8-byte aligned tags {type, size, payload}, ending with type 0.
 */
#include "kernel/multiboot2.h"
#include "lib/string.h"

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_mmap_entry {
	uint64_t base, len;
	uint32_t type, reserved;
};

struct mb2_fb_tag {
	uint32_t type, size;
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, fb_type;
	uint16_t reserved;
	/* for RGB: red_pos, red_size, green_pos, green_size, blue_pos, blue_size */
	uint8_t color[6];
} __packed;

static void parse_mmap(const uint8_t *p, uint32_t size, struct boot_info *bi)
{
	if (size < 16) {
		bi->warnings++;
		return;
	}
	uint32_t esize = *(const uint32_t *)(p + 8);

	if (esize < sizeof(struct mb2_mmap_entry)) {
		bi->warnings++;
		return;
	}
	/* esize <= size - off, not off + esize <= size: an entry size near
	 * 2^32 wrapped the sum (regression test_mmap_entry_size_wraps). */
	for (uint32_t off = 16; esize <= size - off; off += esize) {
		const struct mb2_mmap_entry *e = (const void *)(p + off);

		if (bi->nr_mmap == BOOT_MAX_MMAP) {
			bi->warnings++;
			return;
		}
		bi->mmap[bi->nr_mmap++] = (struct mem_region){ e->base, e->len, e->type };
	}
}

static void parse_module(const uint8_t *p, uint32_t size, struct boot_info *bi)
{
	if (size < 17 || bi->nr_modules == BOOT_MAX_MODULES || p[size - 1] != '\0') {
		bi->warnings++;
		return;
	}
	struct boot_module *m = &bi->modules[bi->nr_modules];
	uint32_t start = *(const uint32_t *)(p + 8), end = *(const uint32_t *)(p + 12);

	if (end < start) {
		bi->warnings++;
		return;
	}
	m->start = start;
	m->end = end;
	m->cmdline = (const char *)(p + 16);
	/* Name: the last path component of the first word. */
	const char *s = m->cmdline, *word_end = s;

	while (*word_end && *word_end != ' ')
		word_end++;
	const char *base = word_end;

	while (base > s && base[-1] != '/')
		base--;
	size_t n = (size_t)(word_end - base);

	if (n >= sizeof(m->name))
		n = sizeof(m->name) - 1;
	memcpy(m->name, base, n);
	m->name[n] = '\0';
	bi->nr_modules++;
}

static void parse_fb(const uint8_t *p, uint32_t size, struct boot_info *bi)
{
	const struct mb2_fb_tag *t = (const void *)p;

	if (size < 31) {
		bi->warnings++;
		return;
	}
	bi->has_fb = true;
	bi->fb.addr = t->addr;
	bi->fb.pitch = t->pitch;
	bi->fb.width = t->width;
	bi->fb.height = t->height;
	bi->fb.bpp = t->bpp;
	bi->fb.type = t->fb_type;
	if (t->fb_type == 1 && size >= offsetof(struct mb2_fb_tag, color) + 6) {
		bi->fb.red_pos = t->color[0];
		bi->fb.red_size = t->color[1];
		bi->fb.green_pos = t->color[2];
		bi->fb.green_size = t->color[3];
		bi->fb.blue_pos = t->color[4];
		bi->fb.blue_size = t->color[5];
	}
}

static bool cstring_ok(const uint8_t *p, uint32_t size)
{
	return size > 8 && p[size - 1] == '\0';
}

bool mb2_parse(const void *info, struct boot_info *bi)
{
	const uint8_t *base = info;
	uint32_t total = *(const uint32_t *)base;

	memset(bi, 0, sizeof(*bi));
	bi->cmdline = "";
	if (total < 16 || total > (64u << 20))
		return false;

	for (uint32_t off = 8; off + 8 <= total;) {
		const struct mb2_tag *tag = (const void *)(base + off);
		const uint8_t *p = base + off;

		/* tag->size > total - off (off + 8 <= total), not off +
		 * tag->size > total: a size near 2^32 wrapped the sum, and the
		 * parse looped or read past the block (regression
		 * test_tag_size_wraps, tests/test_multiboot2.c). */
		if (tag->size < 8 || tag->size > total - off) {
			bi->warnings++;
			return off > 8; /* truncated: keep what parsed so far */
		}
		switch (tag->type) {
		case MB2_TAG_END:
			return true;
		case MB2_TAG_CMDLINE:
			if (cstring_ok(p, tag->size))
				bi->cmdline = (const char *)(p + 8);
			else
				bi->warnings++;
			break;
		case MB2_TAG_LOADER:
			if (cstring_ok(p, tag->size))
				bi->loader = (const char *)(p + 8);
			break;
		case MB2_TAG_MODULE:
			parse_module(p, tag->size, bi);
			break;
		case MB2_TAG_MMAP:
			parse_mmap(p, tag->size, bi);
			break;
		case MB2_TAG_FRAMEBUFFER:
			parse_fb(p, tag->size, bi);
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			/* Prefer the ACPI 2.0+ RSDP when both are given. */
			if (tag->size > 8 && (!bi->rsdp || tag->type == MB2_TAG_ACPI_NEW)) {
				bi->rsdp = p + 8;
				bi->rsdp_len = tag->size - 8;
				bi->rsdp_v2 = tag->type == MB2_TAG_ACPI_NEW;
			}
			break;
		case MB2_TAG_EFI64:
			bi->efi = true;
			if (tag->size >= 16)
				bi->efi_system_table = *(const uint64_t *)(p + 8);
			break;
		case MB2_TAG_EFI32:
			bi->efi = true;
			break;
		case MB2_TAG_EFI_MMAP:
			if (tag->size >= 16) {
				uint32_t dsize = *(const uint32_t *)(p + 8);

				if (dsize >= 40) {
					bi->efi = true;
					bi->efi_desc_size = dsize;
					bi->efi_mmap = p + 16;
					bi->nr_efi_mmap = (tag->size - 16) / dsize;
				} else {
					bi->warnings++;
				}
			}
			break;
		default:
			break;
		}
		off += ALIGN_UP(tag->size, 8u);
	}
	bi->warnings++; /* no end tag */
	return true;
}

const char *mb2_mem_type_name(uint32_t type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE:
		return "usable";
	case MB2_MEM_RESERVED:
		return "reserved";
	case MB2_MEM_ACPI:
		return "ACPI data";
	case MB2_MEM_NVS:
		return "ACPI NVS";
	case MB2_MEM_BAD:
		return "bad RAM";
	default:
		return "unknown";
	}
}

uint32_t efi_type_to_mb2(uint32_t efi_type, uint64_t attr)
{
	if (attr & EFI_MEMORY_SP)
		return MB2_MEM_RESERVED; /* soft-reserved (HBM, CXL): not ours */
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return MB2_MEM_AVAILABLE; /* free once boot services have exited */
	case EFI_ACPI_RECLAIM_MEMORY:
		return MB2_MEM_ACPI;
	case EFI_ACPI_MEMORY_NVS:
		return MB2_MEM_NVS;
	case EFI_UNUSABLE_MEMORY:
		return MB2_MEM_BAD;
	default: /* runtime services, MMIO, reserved, PAL, persistent, unaccepted */
		return MB2_MEM_RESERVED;
	}
}

const char *efi_type_name(uint32_t t)
{
	static const char *const names[EFI_NR_TYPES] = {
		"reserved",	      "loader code",  "loader data",  "boot services code",
		"boot services data", "runtime code", "runtime data", "conventional",
		"unusable",	      "ACPI reclaim", "ACPI NVS",     "MMIO",
		"MMIO port space",    "PAL code",     "persistent",   "unaccepted",
	};

	return t < EFI_NR_TYPES ? names[t] : "unknown";
}

void efi_mmap_entry(const struct boot_info *bi, uint32_t i, uint32_t *type, uint64_t *base,
		    uint64_t *pages, uint64_t *attr)
{
	const uint8_t *d = (const uint8_t *)bi->efi_mmap + (uint64_t)i * bi->efi_desc_size;

	memcpy(type, d, 4);
	memcpy(base, d + 8, 8);
	memcpy(pages, d + 24, 8);
	memcpy(attr, d + 32, 8);
}

static uint32_t add_region(struct mem_region *out, uint32_t n, uint32_t max, uint64_t base,
			   uint64_t len, uint32_t type, uint32_t *dropped)
{
	struct mem_region *prev = n ? &out[n - 1] : NULL;

	if (prev && prev->type == type && prev->base + prev->len == base) {
		prev->len += len;
		return n;
	}
	if (n == max) {
		(*dropped)++;
		return n;
	}
	out[n] = (struct mem_region){ base, len, type };
	return n + 1;
}

uint32_t mb2_memory_regions(const struct boot_info *bi, struct mem_region *out, uint32_t max,
			    const char **source, uint32_t *dropped)
{
	uint32_t n = 0;

	*dropped = 0;
	if (!bi->nr_efi_mmap) {
		*source = "multiboot2 memory map (e820)";
		for (uint32_t i = 0; i < bi->nr_mmap; i++)
			n = add_region(out, n, max, bi->mmap[i].base, bi->mmap[i].len,
				       bi->mmap[i].type, dropped);
		return n;
	}
	*source = "EFI memory map";
	for (uint32_t i = 0; i < bi->nr_efi_mmap; i++) {
		uint32_t type;
		uint64_t base, pages, attr;

		efi_mmap_entry(bi, i, &type, &base, &pages, &attr);
		/* 2^52 pages is the whole 64-bit space: more is corrupt. */
		if (!pages || pages >= (1ull << 52) || base + (pages << 12) < base) {
			(*dropped)++;
			continue;
		}
		n = add_region(out, n, max, base, pages << 12, efi_type_to_mb2(type, attr),
			       dropped);
	}
	return n;
}
