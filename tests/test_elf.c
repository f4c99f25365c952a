// uses: kernel/elf.c lib/string.c
/*
 * ELF validation: a good image and one file per rule it enforces, then real
 * toolchain output built at test time (gcc -static, -static-pie, -no-pie,
 * -c, -z execstack) and real executables from /usr/bin, which the loader
 * must accept (static) or refuse naming the reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
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

#define PT_DYNAMIC	2
#define PT_INTERP	3
#define PT_SHLIB	5
#define PT_TLS		7
#define PT_GNU_STACK	0x6474e551u
#define MSG_INTERP	"dynamically linked: PT_INTERP names a program interpreter"
#define MSG_DYNAMIC	"dynamically linked: PT_DYNAMIC present"
#define MSG_EXECSTACK	"PT_GNU_STACK asks for an executable stack"
#define MSG_NOT_ET_EXEC "not an executable (ET_EXEC)"

/* good() plus one more program header (the fixture has room for it); the
 * message must start with msg. */
static void good_plus(struct phdr extra)
{
	good();
	ph[eh->phnum++] = extra;
}

#define BAD_EXTRA(extra, msg)                                                     \
	do {                                                                      \
		good_plus(extra);                                                 \
		const char *e = check();                                          \
		if (!e || strncmp(e, msg, strlen(msg)))                           \
			fail_msg("%s: got \"%s\"", #extra, e ? e : "(accepted)"); \
	} while (0)

static void test_elf_refuses_pt_interp(void **state)
{
	(void)state;
	BAD_EXTRA(((struct phdr){ PT_INTERP, 4, 0x1000, 0x400000, 0, 28, 28, 1 }), MSG_INTERP);
}

static void test_elf_refuses_pt_dynamic(void **state)
{
	(void)state;
	BAD_EXTRA(((struct phdr){ PT_DYNAMIC, 6, 0x2000, 0x402000, 0, 0x100, 0x100, 8 }),
		  MSG_DYNAMIC);
}

static void test_elf_refuses_pt_shlib(void **state)
{
	(void)state;
	BAD_EXTRA(((struct phdr){ PT_SHLIB, 4, 0, 0, 0, 0, 0, 0 }),
		  "PT_SHLIB present (reserved: the file does not conform to the ABI)");
}

static void test_elf_refuses_exec_stack(void **state)
{
	(void)state;
	BAD_EXTRA(((struct phdr){ PT_GNU_STACK, 7, 0, 0, 0, 0, 0, 16 }), MSG_EXECSTACK);
	/* A non-executable stack request is fine, and so is none at all. */
	good_plus((struct phdr){ PT_GNU_STACK, 6, 0, 0, 0, 0, 0, 16 });
	assert_null(check());
}

/* TLS: the template must lie in a loaded segment, once, with sane sizes. */
static void test_elf_checks_pt_tls(void **state)
{
	(void)state;
	good_plus((struct phdr){ PT_TLS, 4, 0x2000, 0x402000, 0, 0x20, 0x68, 8 });
	assert_null(check());
	BAD_EXTRA(((struct phdr){ PT_TLS, 4, 0x2000, 0x409000, 0, 0x20, 0x68, 8 }),
		  "PT_TLS template outside the loadable segments");
	BAD_EXTRA(((struct phdr){ PT_TLS, 4, 0x2000, 0x402000, 0, 0x80, 0x68, 8 }),
		  "PT_TLS file size exceeds its memory size");
	BAD_EXTRA(((struct phdr){ PT_TLS, 4, 0x3ff0, 0x402000, 0, 0x20, 0x68, 8 }),
		  "PT_TLS data runs past the end of the file");
	BAD_EXTRA(((struct phdr){ PT_TLS, 4, 0x2000, 0x402000, 0, 0x20, 0x68, 12 }),
		  "PT_TLS alignment not a power of two");
	good_plus((struct phdr){ PT_TLS, 4, 0x2000, 0x402000, 0, 0x20, 0x68, 8 });
	ph[eh->phnum++] = (struct phdr){ PT_TLS, 4, 0x2000, 0x402000, 0, 0x20, 0x68, 8 };
	const char *e = check();

	assert_non_null(e);
	assert_string_equal(e, "more than one PT_TLS");
}

/* ---- real toolchain output, built at test time ---- */

static char dir[] = "/tmp/test_elf_XXXXXX";

static const char *const hello_c =
	"#include <stdio.h>\n"
	"__thread int tls_var = 3;\n"
	"int main(void) { printf(\"hello %d\\n\", tls_var); return 0; }\n";

static int build_all(void **state)
{
	static const char *const builds[][2] = {
		{ "static", "-static" },
		{ "static_pie", "-static-pie" },
		{ "no_pie", "-no-pie" },
		{ "reloc.o", "-c" },
		{ "execstack", "-static -z execstack" },
	};
	char path[128], cmd[512];
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/hello.c", dir);
	f = fopen(path, "w");
	if (!f || fputs(hello_c, f) < 0 || fclose(f))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(builds); i++) {
		snprintf(cmd, sizeof(cmd), "gcc -O1 %s -o %s/%s %s", builds[i][1], dir,
			 builds[i][0], path);
		if (system(cmd)) {
			fprintf(stderr, "test_elf: '%s' failed\n", cmd);
			return -1;
		}
	}
	return 0;
}

static int remove_all(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

/* elf_validate on a whole file; NULL means accepted. */
static const char *validate_file(const char *path, struct elf_image *img)
{
	static char err[256];
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	const char *e = elf_validate(buf, (uint64_t)len, img);

	free(buf);
	if (!e)
		return NULL;
	snprintf(err, sizeof(err), "%s", e);
	return err;
}

static const char *validate_built(const char *name, struct elf_image *img)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return validate_file(path, img);
}

/* e must start with want (the message may say more). */
static void expect_refusal(const char *what, const char *e, const char *want)
{
	print_message("  %-36s %s\n", what, e ? e : "(accepted)");
	if (!e || strncmp(e, want, strlen(want)))
		fail_msg("%s: got \"%s\", want \"%s...\"", what, e ? e : "(accepted)", want);
}

/* gcc -static: ET_EXEC, PT_TLS, PT_GNU_STACK RW, notes, RELRO: loads. */
static void test_elf_accepts_gcc_static(void **state)
{
	(void)state;
	const char *e = validate_built("static", &out);

	print_message("  %-36s %s\n", "gcc -static", e ? e : "(accepted)");
	assert_null(e);
	assert_int_equal(out.nr_segments, 4);
	assert_true(out.entry >= 0x400000);
}

static void test_elf_refuses_gcc_no_pie_dynamic(void **state)
{
	(void)state;
	expect_refusal("gcc -no-pie (dynamic ET_EXEC)", validate_built("no_pie", &out), MSG_INTERP);
}

static void test_elf_refuses_gcc_static_pie(void **state)
{
	(void)state;
	expect_refusal("gcc -static-pie (ET_DYN)", validate_built("static_pie", &out),
		       MSG_NOT_ET_EXEC);
}

static void test_elf_refuses_gcc_relocatable(void **state)
{
	(void)state;
	expect_refusal("gcc -c (ET_REL)", validate_built("reloc.o", &out), MSG_NOT_ET_EXEC);
}

static void test_elf_refuses_gcc_execstack(void **state)
{
	(void)state;
	expect_refusal("gcc -static -z execstack", validate_built("execstack", &out),
		       MSG_EXECSTACK);
}

/* The no-pie program with its PT_INTERP header blanked to PT_NULL. */
static void test_elf_refuses_gcc_pt_dynamic_without_interp(void **state)
{
	(void)state;
	static uint8_t buf[1 << 20];
	char path[128];
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "%s/no_pie", dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct ehdr *h = (struct ehdr *)buf;
	unsigned blanked = 0;

	for (unsigned i = 0; i < h->phnum; i++) {
		struct phdr *p = (struct phdr *)(buf + h->phoff) + i;

		if (p->type == PT_INTERP) {
			p->type = 0;
			blanked++;
		}
	}
	assert_int_equal(blanked, 1);
	const char *e = elf_validate(buf, len, &out);

	expect_refusal("gcc -no-pie, PT_INTERP blanked", e, MSG_DYNAMIC);
}

/* Executables the distribution ships: gcc and python3 are non-PIE dynamic
 * (ET_EXEC with PT_INTERP) on Debian 12, ls is PIE (ET_DYN). */
static void test_elf_refuses_usr_bin(void **state)
{
	(void)state;
	static const char *const files[][2] = {
		{ "/usr/bin/gcc", MSG_INTERP },
		{ "/usr/bin/python3", MSG_INTERP },
		{ "/usr/bin/ls", MSG_NOT_ET_EXEC },
	};

	static char real[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		assert_non_null(realpath(files[i][0], real));
		expect_refusal(real, validate_file(real, &out), files[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_each_rule),
		cmocka_unit_test(test_too_many_segments),
		cmocka_unit_test(test_elf_refuses_pt_interp),
		cmocka_unit_test(test_elf_refuses_pt_dynamic),
		cmocka_unit_test(test_elf_refuses_pt_shlib),
		cmocka_unit_test(test_elf_refuses_exec_stack),
		cmocka_unit_test(test_elf_checks_pt_tls),
		cmocka_unit_test(test_elf_accepts_gcc_static),
		cmocka_unit_test(test_elf_refuses_gcc_no_pie_dynamic),
		cmocka_unit_test(test_elf_refuses_gcc_static_pie),
		cmocka_unit_test(test_elf_refuses_gcc_relocatable),
		cmocka_unit_test(test_elf_refuses_gcc_execstack),
		cmocka_unit_test(test_elf_refuses_gcc_pt_dynamic_without_interp),
		cmocka_unit_test(test_elf_refuses_usr_bin),
	};
	return cmocka_run_group_tests_name("elf", tests, build_all, remove_all);
}
