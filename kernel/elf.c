/*
 * ELF64 validation and loading (see elf.h). Field layouts: System V ABI,
 * ELF-64 Object File Format 1.5 and gABI 4.1 "Program Header"; the GNU
 * header types (PT_GNU_STACK and friends) as binutils' include/elf/common.h
 * numbers them.
 *
 * Only static ET_EXEC files load. Program headers, by type:
 *   PT_LOAD        checked one by one (elf.h) and mapped by elf_load()
 *   PT_INTERP      refused: the file is dynamically linked; without its
 *   PT_DYNAMIC     interpreter and libraries it would fault in user mode on
 *                  its first library call
 *   PT_SHLIB       refused: reserved, a file with one does not conform
 *   PT_TLS         checked, not acted on: at most one, sane sizes, its
 *                  template inside a loaded segment; the thread pointer is
 *                  the program's runtime's business (FSGSBASE), as on Linux
 *   PT_GNU_STACK   refused when it asks for an executable stack (PF_X):
 *                  user stacks are never executable; no PT_GNU_STACK at all
 *                  means a non-executable stack as well
 *   anything else  (PT_NULL, PT_NOTE, PT_PHDR, PT_GNU_EH_FRAME,
 *                  PT_GNU_RELRO, PT_GNU_PROPERTY, other OS- or processor-
 *                  specific types) ignored: nothing to load or refuse
 */
#include "kernel/elf.h"
#include "lib/string.h"
#include "arch/layout.h"

#define PT_LOAD	     1
#define PT_DYNAMIC   2
#define PT_INTERP    3
#define PT_SHLIB     5
#define PT_TLS	     7
#define PT_GNU_STACK 0x6474e551u
#define PF_X	     1
#define PF_W	     2
#define PF_R	     4

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

/* What the walk over the program headers carries from one to the next. */
struct elf_walk {
	uint64_t size;	       /* of the file */
	uint64_t total;	       /* bytes of memory the loaded segments need */
	uint32_t nr_tls;       /* PT_TLS headers seen */
	struct elf64_phdr tls; /* the first one */
};

static bool add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

static bool is_pow2_or_0(uint64_t align)
{
	return (align & (align - 1)) == 0;
}

/* The ELF header and the program header table's place in the file. */
static const char *check_ehdr(const struct elf64_ehdr *eh, uint64_t size)
{
	uint64_t ph_end;

	if (memcmp(eh->ident, "\177ELF", 4))
		return "not an ELF file (bad magic)";
	if (eh->ident[4] != 2)
		return "not a 64-bit ELF file";
	if (eh->ident[5] != 1)
		return "not little-endian";
	if (eh->ident[6] != 1 || eh->version != 1)
		return "unknown ELF version";
	if (eh->type != 2)
		return "not an executable (ET_EXEC)";
	if (eh->machine != 62)
		return "not an x86-64 executable";
	if (eh->phentsize != sizeof(struct elf64_phdr))
		return "unexpected program header size";
	if (eh->phnum == 0)
		return "no program headers";
	if (add_overflows(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf64_phdr), &ph_end) ||
	    ph_end > size)
		return "program headers run past the end of the file";
	return NULL;
}

/* Page-granular overlap of [lo, hi) with a segment already taken. */
static bool overlaps_taken(const struct elf_image *img, uint64_t lo, uint64_t hi)
{
	for (uint32_t j = 0; j < img->nr_segments; j++) {
		const struct elf_segment *o = &img->seg[j];
		uint64_t olo = ALIGN_DOWN(o->vaddr, PAGE_SIZE);
		uint64_t ohi = ALIGN_UP(o->vaddr + o->memsz, PAGE_SIZE);

		if (lo < ohi && olo < hi)
			return true;
	}
	return false;
}

/* One PT_LOAD: checked, then added to img (unless it is empty). */
static const char *take_load(const struct elf64_phdr *ph, struct elf_walk *w, struct elf_image *img)
{
	uint64_t end, vend;

	if (img->nr_segments == ELF_MAX_SEGMENTS)
		return "too many loadable segments";
	if (ph->filesz > ph->memsz)
		return "segment file size exceeds its memory size";
	if (add_overflows(ph->offset, ph->filesz, &end) || end > w->size)
		return "segment data runs past the end of the file";
	if (add_overflows(ph->vaddr, ph->memsz, &vend) || vend > USER_TOP || ph->vaddr < MIN_VADDR)
		return "segment outside user space";
	if (!is_pow2_or_0(ph->align))
		return "segment alignment not a power of two";
	if ((ph->vaddr - ph->offset) % PAGE_SIZE)
		return "segment offset and address disagree modulo the page size";
	if ((ph->flags & PF_W) && (ph->flags & PF_X))
		return "segment is writable and executable";
	if (ph->memsz == 0)
		return NULL;
	uint64_t lo = ALIGN_DOWN(ph->vaddr, PAGE_SIZE), hi = ALIGN_UP(vend, PAGE_SIZE);

	w->total += hi - lo;
	if (w->total > MAX_MEMORY)
		return "segments need more than 1 GiB";
	if (overlaps_taken(img, lo, hi))
		return "segments overlap";
	img->seg[img->nr_segments++] = (struct elf_segment){
		.vaddr = ph->vaddr,
		.memsz = ph->memsz,
		.offset = ph->offset,
		.filesz = ph->filesz,
		.prot = 1 | ((ph->flags & PF_W) ? 2 : 0) | ((ph->flags & PF_X) ? 4 : 0),
	};
	return NULL;
}

/* Every header but PT_LOAD: refused, remembered (PT_TLS) or ignored. */
static const char *check_other(const struct elf64_phdr *ph, struct elf_walk *w)
{
	switch (ph->type) {
	case PT_INTERP:
		return "dynamically linked: PT_INTERP names a program interpreter "
		       "(only static executables load)";
	case PT_DYNAMIC:
		return "dynamically linked: PT_DYNAMIC present (only static executables load)";
	case PT_SHLIB:
		return "PT_SHLIB present (reserved: the file does not conform to the ABI)";
	case PT_GNU_STACK:
		if (ph->flags & PF_X)
			return "PT_GNU_STACK asks for an executable stack "
			       "(user stacks are never executable)";
		return NULL;
	case PT_TLS:
		if (w->nr_tls++)
			return "more than one PT_TLS";
		w->tls = *ph;
		return NULL;
	default:
		return NULL;
	}
}

/* The TLS template: sizes, place in the file, inside a loaded segment. */
static const char *check_tls(const struct elf64_phdr *tls, const struct elf_walk *w,
			     const struct elf_image *img)
{
	uint64_t end, vend;

	if (tls->filesz > tls->memsz)
		return "PT_TLS file size exceeds its memory size";
	if (add_overflows(tls->offset, tls->filesz, &end) || end > w->size)
		return "PT_TLS data runs past the end of the file";
	if (!is_pow2_or_0(tls->align))
		return "PT_TLS alignment not a power of two";
	if (tls->filesz == 0)
		return NULL; /* .tbss only: no template to read */
	if (add_overflows(tls->vaddr, tls->filesz, &vend))
		return "PT_TLS template outside the loadable segments";
	for (uint32_t j = 0; j < img->nr_segments; j++) {
		const struct elf_segment *s = &img->seg[j];

		if (tls->vaddr >= s->vaddr && vend <= s->vaddr + s->memsz)
			return NULL;
	}
	return "PT_TLS template outside the loadable segments";
}

static const char *find_entry(uint64_t entry, struct elf_image *img)
{
	for (uint32_t j = 0; j < img->nr_segments; j++) {
		const struct elf_segment *s = &img->seg[j];

		if ((s->prot & 4) && entry >= s->vaddr && entry < s->vaddr + s->memsz) {
			img->entry = entry;
			return NULL;
		}
	}
	return "entry point not in an executable segment";
}

const char *elf_validate(const void *data, uint64_t size, struct elf_image *img)
{
	struct elf_walk w = { .size = size };
	struct elf64_ehdr eh;
	const char *err;

	memset(img, 0, sizeof(*img));
	if (size < sizeof(eh))
		return "file shorter than the ELF header";
	memcpy(&eh, data, sizeof(eh));
	err = check_ehdr(&eh, size);
	for (uint32_t i = 0; !err && i < eh.phnum; i++) {
		struct elf64_phdr ph;

		memcpy(&ph, (const uint8_t *)data + eh.phoff + (uint64_t)i * sizeof(ph),
		       sizeof(ph));
		err = ph.type == PT_LOAD ? take_load(&ph, &w, img) : check_other(&ph, &w);
	}
	if (err)
		return err;
	if (!img->nr_segments)
		return "no loadable segments";
	if (w.nr_tls && (err = check_tls(&w.tls, &w, img)))
		return err;
	return find_entry(eh.entry, img);
}

#ifndef HOST_TEST
#include "mm/mm.h"
#include "include/uapi/errno.h"

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
