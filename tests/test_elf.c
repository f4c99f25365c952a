// uses: kernel/elf.c kernel/string.c
/* ELF validation: a good image and one file per rule it enforces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <stdint.h>
#include "kernel/elf.h"

struct ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static uint8_t img[0x4000];
static struct ehdr *eh = (struct ehdr *)img;
static struct phdr *ph = (struct phdr *)(img + 64);
static struct elf_image out;

/* text RX at 0x400000 (file 0x1000..0x2000), data RW at 0x402000 */
static void good(void)
{
	memset(img, 0, sizeof(img));
	memcpy(eh->ident, "\177ELF", 4);
	eh->ident[4] = 2;
	eh->ident[5] = 1;
	eh->ident[6] = 1;
	eh->type = 2;
	eh->machine = 62;
	eh->version = 1;
	eh->entry = 0x400010;
	eh->phoff = 64;
	eh->phentsize = sizeof(struct phdr);
	eh->phnum = 2;
	ph[0] = (struct phdr){ 1, 5, 0x1000, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000 };
	ph[1] = (struct phdr){ 1, 6, 0x2000, 0x402000, 0x402000, 0x800, 0x3000, 0x1000 };
}

static const char *check(void)
{
	return elf_validate(img, sizeof(img), &out);
}

static void test_good(void **state)
{
	(void)state;
	good();
	assert_null(check());
	assert_int_equal(out.entry, 0x400010);
	assert_int_equal(out.nr_segments, 2);
	assert_int_equal(out.seg[0].prot, 5);
	assert_int_equal(out.seg[1].prot, 3);
	assert_int_equal(out.seg[1].memsz, 0x3000);
}

#define BAD(expr, msg)                                                           \
	do {                                                                     \
		good();                                                          \
		expr;                                                            \
		const char *e = check();                                         \
		if (!e || strcmp(e, msg))                                        \
			fail_msg("%s: got \"%s\"", #expr, e ? e : "(accepted)"); \
	} while (0)

static void test_each_rule(void **state)
{
	(void)state;
	assert_non_null(elf_validate(img, 40, &out));
	BAD(img[1] = 'X', "not an ELF file (bad magic)");
	BAD(eh->ident[4] = 1, "not a 64-bit ELF file");
	BAD(eh->ident[5] = 2, "not little-endian");
	BAD(eh->version = 2, "unknown ELF version");
	BAD(eh->type = 3, "not an executable (ET_EXEC)");
	BAD(eh->machine = 3, "not an x86-64 executable");
	BAD(eh->phentsize = 32, "unexpected program header size");
	BAD(eh->phnum = 0, "no program headers");
	BAD(eh->phoff = sizeof(img) - 10, "program headers run past the end of the file");
	BAD(eh->phoff = ~0ull - 8, "program headers run past the end of the file");
	BAD(ph[0].offset = sizeof(img), "segment data runs past the end of the file");
	BAD(ph[0].offset = ~0ull - 4, "segment data runs past the end of the file");
	BAD(ph[1].filesz = 0x4000, "segment file size exceeds its memory size");
	BAD(ph[0].vaddr = 0xffffffff80000000ull, "segment outside user space");
	BAD(ph[0].vaddr = 0x1000, "segment outside user space");
	BAD(ph[1].memsz = ~0ull - 0x1000, "segment outside user space");
	BAD(ph[0].align = 3, "segment alignment not a power of two");
	BAD(ph[0].vaddr = 0x400100, "segment offset and address disagree modulo the page size");
	BAD(ph[0].flags = 7, "segment is writable and executable");
	BAD(ph[1].memsz = 2ull << 30, "segments need more than 1 GiB");
	BAD(ph[1].vaddr = 0x400000, "segments overlap");
	BAD((ph[0].type = 4, ph[1].type = 4), "no loadable segments");
	BAD(eh->entry = 0x402000, "entry point not in an executable segment");
}

static void test_too_many_segments(void **state)
{
	(void)state;
	good();
	eh->phnum = 17;
	for (int i = 0; i < 17; i++)
		ph[i] = (struct phdr){ 1, 4,	0x1000, 0x500000 + (uint64_t)i * 0x1000,
				       0, 0x10, 0x10,	0x1000 };
	ph[0] = (struct phdr){ 1, 5, 0x1000, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000 };
	const char *e = check();

	assert_non_null(e);
	assert_string_equal(e, "too many loadable segments");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_each_rule),
		cmocka_unit_test(test_too_many_segments),
	};
	return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
