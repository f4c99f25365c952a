/*
 * ELF64 program loading: validation is pure (host-tested against malformed
 * files and real toolchain output); loading maps the validated segments
 * into an address space.
 */
#pragma once

#include "lib/compiler.h"

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	uint32_t prot; /* PROT_READ | PROT_WRITE | PROT_EXEC */
};

struct elf_image {
	uint64_t entry;
	uint32_t nr_segments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/*
 * Validates every header and segment of a static ELF64 x86-64 executable of
 * size bytes. Returns NULL and fills img, or an error message. Refused:
 * truncated headers or program headers, wrong class/endianness/machine/
 * type, segments that run past the file, filesz > memsz, addresses outside
 * user space or below 64 KiB, overlapping segments, writable-and-executable
 * segments, an entry point outside an executable segment, more than
 * ELF_MAX_SEGMENTS loadable segments, or more than 1 GiB of memory; a
 * dynamically linked file (PT_INTERP or PT_DYNAMIC), PT_SHLIB, a
 * PT_GNU_STACK asking for an executable stack, and more than one PT_TLS or
 * one whose template is not inside a loadable segment (elf.c lists every
 * program header type and what happens to it).
 */
const char *elf_validate(const void *data, uint64_t size, struct elf_image *img);

struct mm;
/* Map img's segments (data from the file) into mm. 0 or -errno. */
int elf_load(struct mm *mm, const void *data, const struct elf_image *img);
