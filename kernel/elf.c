/*
 * ELF64 validation and loading (see elf.h). Field layouts: System V ABI,
 * ELF-64 Object File Format 1.5.
 */
#include "kernel/elf.h"
#include "kernel/string.h"
#include "mm/layout.h"

#define PT_LOAD 1
#define PF_X	1
#define PF_W	2
#define PF_R	4

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");

#define MIN_VADDR  0x10000ull
#define MAX_MEMORY (1ull << 30)

static bool add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

const char *elf_validate(const void *data, uint64_t size, struct elf_image *img)
{
	struct elf64_ehdr eh;
	uint64_t total = 0;

	memset(img, 0, sizeof(*img));
	if (size < sizeof(eh))
		return "file shorter than the ELF header";
	memcpy(&eh, data, sizeof(eh));
	if (memcmp(eh.ident, "\177ELF", 4))
		return "not an ELF file (bad magic)";
	if (eh.ident[4] != 2)
		return "not a 64-bit ELF file";
	if (eh.ident[5] != 1)
		return "not little-endian";
	if (eh.ident[6] != 1 || eh.version != 1)
		return "unknown ELF version";
	if (eh.type != 2)
		return "not an executable (ET_EXEC)";
	if (eh.machine != 62)
		return "not an x86-64 executable";
	if (eh.phentsize != sizeof(struct elf64_phdr))
		return "unexpected program header size";
	if (eh.phnum == 0)
		return "no program headers";
	uint64_t ph_end;

	if (add_overflows(eh.phoff, (uint64_t)eh.phnum * sizeof(struct elf64_phdr), &ph_end) ||
	    ph_end > size)
		return "program headers run past the end of the file";

	for (uint32_t i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		uint64_t end, vend;

		memcpy(&ph, (const uint8_t *)data + eh.phoff + (uint64_t)i * sizeof(ph),
		       sizeof(ph));
		if (ph.type != PT_LOAD)
			continue;
		if (img->nr_segments == ELF_MAX_SEGMENTS)
			return "too many loadable segments";
		if (ph.filesz > ph.memsz)
			return "segment file size exceeds its memory size";
		if (add_overflows(ph.offset, ph.filesz, &end) || end > size)
			return "segment data runs past the end of the file";
		if (add_overflows(ph.vaddr, ph.memsz, &vend) || vend > USER_TOP ||
		    ph.vaddr < MIN_VADDR)
			return "segment outside user space";
		if (ph.align > 1 && (ph.align & (ph.align - 1)))
			return "segment alignment not a power of two";
		if ((ph.vaddr - ph.offset) % PAGE_SIZE)
			return "segment offset and address disagree modulo the page size";
		if ((ph.flags & PF_W) && (ph.flags & PF_X))
			return "segment is writable and executable";
		if (ph.memsz == 0)
			continue;
		total += ALIGN_UP(vend, PAGE_SIZE) - ALIGN_DOWN(ph.vaddr, PAGE_SIZE);
		if (total > MAX_MEMORY)
			return "segments need more than 1 GiB";
		uint64_t lo = ALIGN_DOWN(ph.vaddr, PAGE_SIZE), hi = ALIGN_UP(vend, PAGE_SIZE);

		for (uint32_t j = 0; j < img->nr_segments; j++) {
			const struct elf_segment *o = &img->seg[j];
			uint64_t olo = ALIGN_DOWN(o->vaddr, PAGE_SIZE);
			uint64_t ohi = ALIGN_UP(o->vaddr + o->memsz, PAGE_SIZE);

			if (lo < ohi && olo < hi)
				return "segments overlap";
		}
		struct elf_segment *s = &img->seg[img->nr_segments++];

		s->vaddr = ph.vaddr;
		s->memsz = ph.memsz;
		s->offset = ph.offset;
		s->filesz = ph.filesz;
		s->prot = 1 | ((ph.flags & PF_W) ? 2 : 0) | ((ph.flags & PF_X) ? 4 : 0);
	}
	if (!img->nr_segments)
		return "no loadable segments";
	for (uint32_t j = 0; j < img->nr_segments; j++) {
		const struct elf_segment *s = &img->seg[j];

		if ((s->prot & 4) && eh.entry >= s->vaddr && eh.entry < s->vaddr + s->memsz) {
			img->entry = eh.entry;
			return NULL;
		}
	}
	return "entry point not in an executable segment";
}

#ifndef HOST_TEST
#include "mm/mm.h"
#include "kernel/errno.h"

int elf_load(struct mm *mm, const void *data, const struct elf_image *img)
{
	for (uint32_t i = 0; i < img->nr_segments; i++) {
		const struct elf_segment *s = &img->seg[i];
		uint64_t start = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
		uint64_t end = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
		int err = mm_map(mm, &start, end - start, s->prot, MAP_FIXED | MAP_POPULATE);

		if (err)
			return err;
		err = mm_populate_copy(mm, s->vaddr, (const uint8_t *)data + s->offset, s->filesz);
		if (err)
			return err;
	}
	return 0;
}
#endif
