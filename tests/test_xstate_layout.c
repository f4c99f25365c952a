// uses: arch/x86/xstate_layout.c tools/cpuid_dump.c
/*
 * XSAVE layouts (arch/x86/xstate_layout.c) checked against real CPUID
 * dumps (../shared/data/cpuid, relative to the repository root where the
 * tests run), hand-computed golden layouts, the validation rules, and the
 * dump parser (tools/cpuid_dump.c) on malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "arch/x86/xstate_layout.h"
#include "tools/cpuid_dump.h"

#define DUMP_DIR "../shared/data/cpuid"
#define SPR_W9	 DUMP_DIR "/sapphire-rapids-w9-3475x.txt"
#define SPR_W7	 DUMP_DIR "/sapphire-rapids-w7-2475x.txt"
#define SKX	 DUMP_DIR "/skylake-platinum-8180.txt"
#define ICX	 DUMP_DIR "/icelake-platinum-8351n.txt"

static void load_cpuid(const char *path, struct xstate_cpuid *c)
{
	struct cpuid_dump d;
	char err[256];

	if (cpuid_dump_load(&d, path, err, sizeof(err)))
		fail_msg("%s", err);
	xstate_cpuid_read(c, cpuid_dump_cpuid, &d);
	cpuid_dump_free(&d);
	assert_true(c->xsave);
}

/* ---- invariants of any computed layout ---- */

static void check_compacted(const struct xstate_layout *l, const struct xstate_cpuid *c)
{
	uint64_t used = l->xcr0 | l->xss;
	uint32_t end = XSTATE_HDR_END;

	assert_int_equal(l->cmp_offset[XFEAT_X87], 0);
	assert_int_equal(l->cmp_offset[XFEAT_SSE], 160);
	for (unsigned i = 2; i < XSTATE_MAX; i++) {
		if (!(used & XFEAT_BIT(i)))
			continue;
		uint32_t off = l->cmp_offset[i];

		assert_true(off >= XSTATE_HDR_END);
		assert_true(off >= end); /* increasing, no overlap */
		if (c->comp[i].align64) {
			assert_int_equal(off % 64, 0);
			assert_true(off - end < 64); /* only the alignment gap */
		} else {
			assert_int_equal(off, end); /* packed */
		}
		end = off + l->size[i];
	}
	assert_int_equal(l->cmp_size, end);
}

static void check_standard(const struct xstate_layout *l, const struct xstate_cpuid *c)
{
	uint32_t max_end = XSTATE_HDR_END;

	for (unsigned i = 2; i < XSTATE_MAX; i++) {
		if (!(l->xcr0 & XFEAT_BIT(i)))
			continue;
		uint32_t off = l->std_offset[i], end = off + l->size[i];

		assert_int_equal(off, c->comp[i].offset);
		assert_true(off >= XSTATE_HDR_END);
		for (unsigned j = i + 1; j < XSTATE_MAX; j++) /* no overlap */
			if (l->xcr0 & XFEAT_BIT(j))
				assert_true(end <= l->std_offset[j] ||
					    l->std_offset[j] + l->size[j] <= off);
		max_end = end > max_end ? end : max_end;
	}
	assert_int_equal(l->std_size, max_end);
}

static void check_layout(const struct xstate_layout *l, const struct xstate_cpuid *c)
{
	for (unsigned i = 0; i < XSTATE_MAX; i++) {
		bool on = ((l->xcr0 | l->xss) >> i) & 1;

		assert_int_equal(l->size[i], !on      ? 0
					     : i == 0 ? 160
					     : i == 1 ? 256
						      : c->comp[i].size);
		if (l->xss & XFEAT_BIT(i))
			assert_int_equal(l->std_offset[i], 0);
	}
	check_standard(l, c);
	check_compacted(l, c);
}

/* ---- (a) every dump against its own CPUID sizes ---- */

static void print_mask(uint64_t m)
{
	print_message(" 0x%llx (", (unsigned long long)m);
	for (unsigned i = 0, n = 0; i < XSTATE_MAX; i++)
		if (m & XFEAT_BIT(i))
			print_message("%s%s", n++ ? " " : "", xstate_comp_name(i));
	print_message(")");
}

/* All IA32_XSS subsets that give xcr0 the compacted size (0xD,1).EBX. */
static unsigned find_xss(const struct xstate_cpuid *c, uint64_t xcr0)
{
	struct xstate_layout l;
	const char *why;
	unsigned matches = 0;

	for (uint64_t s = c->sup_mask;; s = (s - 1) & c->sup_mask) {
		assert_int_equal(xstate_layout_compute(c, xcr0, s, &l, &why), 0);
		check_layout(&l, c);
		if (l.cmp_size == c->cur_cmp_size) {
			if (!matches++) {
				print_message("  XCR0");
				print_mask(xcr0);
				print_message(" with XSS");
			}
			print_mask(s);
		}
		if (!s)
			break;
	}
	if (matches)
		print_message("\n");
	return matches;
}

/*
 * Which XCR0 (a valid subset of the supported user bits whose standard size
 * is (0xD,0).EBX) and which IA32_XSS (a subset of the supported supervisor
 * bits) the dumped OS may have set: those whose compacted size is
 * (0xD,1).EBX. Both masks have few bits, so try them all.
 */
static unsigned find_os_choice(const struct xstate_cpuid *c)
{
	uint64_t uopt = c->user_mask & ~3ull;
	struct xstate_layout l;
	const char *why;
	unsigned matches = 0;

	for (uint64_t u = uopt;; u = (u - 1) & uopt) {
		if (xstate_layout_compute(c, u | 3, 0, &l, &why) == 0 &&
		    l.std_size == c->cur_std_size)
			matches += find_xss(c, u | 3);
		if (!u)
			break;
	}
	return matches;
}

static void check_dump(const char *path)
{
	struct xstate_cpuid c;
	struct xstate_layout l;
	const char *why = "unset";

	print_message("%s\n", path);
	load_cpuid(path, &c);
	/* A fixed CPU property: the standard size for every supported user bit. */
	assert_int_equal(xstate_layout_compute(&c, c.user_mask, 0, &l, &why), 0);
	assert_null(why);
	check_layout(&l, &c);
	assert_int_equal(l.std_size, c.max_std_size);
	/*
	 * (0xD,0).EBX equals it only where the dumped OS enabled every user
	 * bit: true of the Sapphire Rapids dumps, not of the Ice Lake and
	 * Skylake ones (EBX 0xa80, ECX 0xa88: PKRU was off). Only report it.
	 */
	print_message("  XCR0 = all supported: std %u, (0xD,0).EBX %u%s\n", l.std_size,
		      c.cur_std_size, l.std_size == c.cur_std_size ? "" : " (OS had fewer bits)");
	assert_true(find_os_choice(&c) > 0);
	/* The kernel's own choices are valid layouts too. */
	for (int pasid = 0; pasid < 2; pasid++) {
		assert_int_equal(xstate_layout_compute(&c, xstate_choose_xcr0(&c),
						       xstate_choose_xss(&c, pasid), &l, &why),
				 0);
		check_layout(&l, &c);
	}
}

static void test_all_dumps(void **state)
{
	(void)state;
	DIR *dir = opendir(DUMP_DIR);
	struct dirent *e;
	unsigned n = 0;
	char path[512];

	if (!dir)
		fail_msg("cannot open %s (tests run from the repository root)", DUMP_DIR);
	while ((e = readdir(dir))) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue; /* README.md, . and .. */
		snprintf(path, sizeof(path), "%s/%s", DUMP_DIR, e->d_name);
		check_dump(path);
		n++;
	}
	closedir(dir);
	assert_true(n > 0);
}

/* ---- (b) golden layouts, computed by hand from the dumps ---- */

struct golden {
	unsigned comp;
	uint32_t size, std_offset, cmp_offset;
};

static void check_golden(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss,
			 const struct golden *g, size_t n, uint32_t std_size, uint32_t cmp_size)
{
	struct xstate_layout l;
	const char *why;
	uint64_t seen = 0;

	assert_int_equal(xstate_layout_compute(c, xcr0, xss, &l, &why), 0);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(l.size[g[k].comp], g[k].size);
		assert_int_equal(l.std_offset[g[k].comp], g[k].std_offset);
		assert_int_equal(l.cmp_offset[g[k].comp], g[k].cmp_offset);
		seen |= XFEAT_BIT(g[k].comp);
	}
	assert_int_equal(seen, xcr0 | xss);
	assert_int_equal(l.std_size, std_size);
	assert_int_equal(l.cmp_size, cmp_size);
}

/*
 * Sapphire Rapids (w9-3475X and w7-2475X have the same leaf 0xD):
 * user_mask 0x602e7, sup_mask 0xdd00, so the kernel takes
 * XCR0 = x87 sse avx opmask zmm_hi256 hi16_zmm tilecfg tiledata = 0x600e7
 * (not PKRU), IA32_XSS = 0 or PASID (0x400).
 *   comp        size (EAX)   std (EBX)     compacted, xss = 0
 *   avx          0x100 256   0x240  576    576 (first)
 *   opmask        0x40  64   0x440 1088    576 + 256 = 832
 *   zmm_hi256    0x200 512   0x480 1152    832 + 64 = 896
 *   hi16_zmm     0x400 1024  0x680 1664    896 + 512 = 1408
 *   tilecfg       0x40  64   0xac0 2752    1408 + 1024 = 2432 = 38 * 64, aligned
 *   tiledata    0x2000 8192  0xb00 2816    2432 + 64 = 2496 = 39 * 64, aligned
 * std size = 2816 + 8192 = 11008 (= (0xD,0).ECX 0x2b00);
 * compacted size = 2496 + 8192 = 10688.
 */
static const struct golden spr_user[] = {
	{ XFEAT_X87, 160, 0, 0 },
	{ XFEAT_SSE, 256, 160, 160 },
	{ XFEAT_AVX, 256, 576, 576 },
	{ XFEAT_OPMASK, 64, 1088, 832 },
	{ XFEAT_ZMM_HI256, 512, 1152, 896 },
	{ XFEAT_HI16_ZMM, 1024, 1664, 1408 },
	{ XFEAT_TILECFG, 64, 2752, 2432 },
	{ XFEAT_TILEDATA, 8192, 2816, 2496 },
};

/*
 * Same with IA32_XSS = PASID (bit 10: size 8, ECX 1 = supervisor, not aligned):
 *   pasid       after hi16_zmm: 1408 + 1024 = 2432
 *   tilecfg     2432 + 8 = 2440, aligned up to 2496 (39 * 64)
 *   tiledata    2496 + 64 = 2560 = 40 * 64
 * compacted size = 2560 + 8192 = 10752; std unchanged (PASID is not in it).
 */
static const struct golden spr_pasid[] = {
	{ XFEAT_X87, 160, 0, 0 },
	{ XFEAT_SSE, 256, 160, 160 },
	{ XFEAT_AVX, 256, 576, 576 },
	{ XFEAT_OPMASK, 64, 1088, 832 },
	{ XFEAT_ZMM_HI256, 512, 1152, 896 },
	{ XFEAT_HI16_ZMM, 1024, 1664, 1408 },
	{ XFEAT_PASID, 8, 0, 2432 },
	{ XFEAT_TILECFG, 64, 2752, 2496 },
	{ XFEAT_TILEDATA, 8192, 2816, 2560 },
};

static void check_spr(const char *path)
{
	struct xstate_cpuid c;

	load_cpuid(path, &c);
	assert_int_equal(c.user_mask, 0x602e7);
	assert_int_equal(c.sup_mask, 0xdd00);
	assert_int_equal(c.insns, 0x1f);
	assert_int_equal(xstate_choose_xcr0(&c), 0x600e7);
	assert_int_equal(xstate_choose_xss(&c, false), 0);
	assert_int_equal(xstate_choose_xss(&c, true), 0x400);
	check_golden(&c, 0x600e7, 0, spr_user, ARRAY_SIZE(spr_user), 11008, 10688);
	check_golden(&c, 0x600e7, 0x400, spr_pasid, ARRAY_SIZE(spr_pasid), 11008, 10752);
}

/*
 * One reading of the dumped OS's (0xD,1).EBX = 0x2a80 = 10880: XCR0 all
 * user bits 0x602e7, IA32_XSS = PT (bit 8, 128 bytes, not aligned):
 *   hi16_zmm ends 1408 + 1024 = 2432; pt 2432 + 128 = 2560; pkru 2560 + 8
 *   = 2568; tilecfg aligned up to 2624 (41 * 64), + 64 = 2688; tiledata
 *   2688 (42 * 64) + 8192 = 10880.
 */
static void check_spr_os(const char *path)
{
	struct xstate_cpuid c;
	struct xstate_layout l;
	const char *why;

	load_cpuid(path, &c);
	assert_int_equal(xstate_layout_compute(&c, 0x602e7, 0x100, &l, &why), 0);
	assert_int_equal(l.cmp_offset[XFEAT_PT], 2432);
	assert_int_equal(l.cmp_offset[XFEAT_PKRU], 2560);
	assert_int_equal(l.cmp_offset[XFEAT_TILECFG], 2624);
	assert_int_equal(l.cmp_offset[XFEAT_TILEDATA], 2688);
	assert_int_equal(l.cmp_size, 10880);
	assert_int_equal(l.cmp_size, c.cur_cmp_size);
	assert_int_equal(l.std_size, c.cur_std_size);
}

static void test_golden_sapphire_rapids(void **state)
{
	(void)state;
	check_spr(SPR_W9);
	check_spr(SPR_W7);
	check_spr_os(SPR_W9);
	check_spr_os(SPR_W7);
}

/*
 * Skylake-SP 8180: user_mask 0x2ff (MPX 3, 4 and PKRU 9 too), sup_mask
 * 0x100 (PT only, no PASID), so XCR0 = 0xe7 and IA32_XSS = 0 either way.
 *   comp        size        std            compacted
 *   avx         256         0x240  576     576
 *   opmask       64         0x440 1088     576 + 256 = 832
 *   zmm_hi256   512         0x480 1152     832 + 64 = 896
 *   hi16_zmm   1024         0x680 1664     896 + 512 = 1408
 * std size = 1664 + 1024 = 2688 (0xa80; ECX 0xa88 adds PKRU 0xa80 + 8);
 * compacted size = 1408 + 1024 = 2432. Ice Lake-SP 8351N: the same.
 */
static const struct golden skx_user[] = {
	{ XFEAT_X87, 160, 0, 0 },
	{ XFEAT_SSE, 256, 160, 160 },
	{ XFEAT_AVX, 256, 576, 576 },
	{ XFEAT_OPMASK, 64, 1088, 832 },
	{ XFEAT_ZMM_HI256, 512, 1152, 896 },
	{ XFEAT_HI16_ZMM, 1024, 1664, 1408 },
};

static void check_skx(const char *path, uint64_t user_mask)
{
	struct xstate_cpuid c;

	load_cpuid(path, &c);
	assert_int_equal(c.user_mask, user_mask);
	assert_int_equal(c.sup_mask, 0x100);
	assert_int_equal(xstate_choose_xcr0(&c), 0xe7);
	assert_int_equal(xstate_choose_xss(&c, false), 0);
	assert_int_equal(xstate_choose_xss(&c, true), 0);
	check_golden(&c, 0xe7, 0, skx_user, ARRAY_SIZE(skx_user), 2688, 2432);
}

/*
 * The dumped OSes' sizes, (0xD,0).EBX = 0xa80 = 2688 and (0xD,1).EBX =
 * 0xa00 = 2560: PKRU (0xa80 + 8) was off, as 2688 is hi16_zmm's end. On
 * Ice Lake only XCR0 0xe7 with IA32_XSS = PT fits: 2432 + 128 = 2560. On
 * Skylake MPX fits too, with IA32_XSS = 0: avx 576 + 256 = 832, bndregs
 * 832 + 64 = 896, bndcsr 896 + 64 = 960, opmask 960 + 64 = 1024,
 * zmm_hi256 1024 + 512 = 1536, hi16_zmm 1536 + 1024 = 2560.
 */
static void check_skx_os(const char *path, uint64_t xcr0, uint64_t xss)
{
	struct xstate_cpuid c;
	struct xstate_layout l;
	const char *why;

	load_cpuid(path, &c);
	assert_int_equal(xstate_layout_compute(&c, xcr0, xss, &l, &why), 0);
	assert_int_equal(l.std_size, 2688);
	assert_int_equal(l.std_size, c.cur_std_size);
	assert_int_equal(l.cmp_size, 2560);
	assert_int_equal(l.cmp_size, c.cur_cmp_size);
}

static void test_golden_skylake_icelake(void **state)
{
	(void)state;
	check_skx(SKX, 0x2ff);
	check_skx(ICX, 0x2e7);
	check_skx_os(ICX, 0xe7, 0x100);
	check_skx_os(SKX, 0xe7, 0x100);
	check_skx_os(SKX, 0xff, 0);
}

/* x87|SSE alone: legacy region and header only, 576 in both formats. */
static void test_legacy_only(void **state)
{
	(void)state;
	struct xstate_cpuid c;
	struct xstate_layout l;
	const char *why;

	load_cpuid(SPR_W9, &c);
	assert_int_equal(xstate_layout_compute(&c, 3, 0, &l, &why), 0);
	assert_int_equal(l.std_size, 576);
	assert_int_equal(l.cmp_size, 576);
	/* Supervisor state alone still starts at 576: PT (bit 8) is 128 bytes. */
	assert_int_equal(xstate_layout_compute(&c, 3, XFEAT_BIT(XFEAT_PT), &l, &why), 0);
	assert_int_equal(l.cmp_offset[XFEAT_PT], 576);
	assert_int_equal(l.cmp_size, 576 + 128);
	assert_int_equal(l.std_size, 576);
}

/* ---- (c) validation ---- */

static void expect_invalid(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss)
{
	struct xstate_layout l;
	const char *why = NULL;

	assert_int_equal(xstate_layout_compute(c, xcr0, xss, &l, &why), -1);
	assert_non_null(why);
	assert_int_equal(l.std_size, 0);
	assert_int_equal(l.cmp_size, 0);
	assert_int_equal(xstate_layout_compute(c, xcr0, xss, &l, NULL), -1);
}

static void test_validation(void **state)
{
	(void)state;
	struct xstate_cpuid c;

	load_cpuid(SPR_W9, &c);
	expect_invalid(&c, XFEAT_BIT(XFEAT_SSE), 0);			    /* no x87 */
	expect_invalid(&c, XFEAT_BIT(XFEAT_X87), 0);			    /* no SSE */
	expect_invalid(&c, XFEAT_BIT(XFEAT_X87) | XFEAT_BIT(XFEAT_AVX), 0); /* AVX, no SSE */
	expect_invalid(&c, 3 | XFEAT_BIT(XFEAT_BNDREGS) | XFEAT_BIT(XFEAT_BNDCSR), 0); /* no MPX */
	expect_invalid(&c, 3 | XFEAT_BIT(20), 0);	   /* unsupported */
	expect_invalid(&c, 3 | XFEAT_BIT(40), 0);	   /* beyond 31 */
	expect_invalid(&c, 3 | XFEAT_BIT(XFEAT_PASID), 0); /* supervisor in xcr0 */
	expect_invalid(&c, 3, XFEAT_BIT(XFEAT_AVX));	   /* user in xss */
	expect_invalid(&c, 3, XFEAT_BIT(XFEAT_X87));
	expect_invalid(&c, 3, XFEAT_BIT(XFEAT_HDC));	     /* unsupported in xss */
	expect_invalid(&c, 3 | XFEAT_BIT(XFEAT_TILECFG), 0); /* half AMX */
	expect_invalid(&c, 3 | XFEAT_BIT(XFEAT_TILEDATA), 0);
	expect_invalid(&c, 7 | XFEAT_BIT(XFEAT_OPMASK), 0); /* part of AVX-512 */
	expect_invalid(&c, 7 | XFEAT_BIT(XFEAT_OPMASK) | XFEAT_BIT(XFEAT_HI16_ZMM), 0);
	expect_invalid(&c, 3 | XFEAT_AVX512, 0); /* AVX-512 without AVX */

	/* Skylake has MPX: both halves are fine, one is not. */
	load_cpuid(SKX, &c);
	struct xstate_layout l;
	const char *why;

	assert_int_equal(xstate_layout_compute(&c, 0x1f, 0, &l, &why), 0);
	assert_int_equal(l.std_size, 0x400 + 0x40); /* BNDCSR at 0x400, 64 bytes */
	expect_invalid(&c, 7 | XFEAT_BIT(XFEAT_BNDREGS), 0);
	expect_invalid(&c, 7 | XFEAT_BIT(XFEAT_BNDCSR), 0);
	expect_invalid(&c, 3, XFEAT_BIT(XFEAT_PASID)); /* no PASID here */
}

/* A CPUID that claims components it does not describe. */
static void test_validation_bad_cpuid(void **state)
{
	(void)state;
	struct xstate_cpuid c;
	struct xstate_layout l;
	const char *why;

	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_AVX].size = 0; /* supported, no size */
	expect_invalid(&c, 7, 0);
	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_AVX].offset = 0; /* user component, no standard offset */
	expect_invalid(&c, 7, 0);
	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_PASID].size = 0;
	expect_invalid(&c, 3, XFEAT_BIT(XFEAT_PASID));
	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_PASID].supervisor = false; /* masks and ECX bit 0 disagree */
	expect_invalid(&c, 3, XFEAT_BIT(XFEAT_PASID));
	/* Sizes beyond 4 GiB are refused, not wrapped. */
	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_TILEDATA].size = 0xffffff00u;
	expect_invalid(&c, 3 | XFEAT_AMX, 0);
	/* Sanity: the untouched CPUID is fine. */
	load_cpuid(SPR_W9, &c);
	assert_int_equal(xstate_layout_compute(&c, 7, XFEAT_BIT(XFEAT_PASID), &l, &why), 0);
	assert_null(why);
}

/* Which component a CPUID description error is about, and the choice
 * leaving out what CPUID enumerates without a size. */
static void test_xstate_bad_comp_named(void **state)
{
	(void)state;
	struct xstate_cpuid c;

	load_cpuid(SPR_W9, &c);
	assert_int_equal(xstate_layout_bad_comp(&c, 0x600e7, 0x400), -1);
	assert_int_equal(xstate_cpuid_unsized(&c), 0);
	c.comp[XFEAT_AVX].size = 0;
	assert_int_equal(xstate_layout_bad_comp(&c, 7, 0), XFEAT_AVX);
	assert_int_equal(xstate_cpuid_unsized(&c), XFEAT_BIT(XFEAT_AVX));
	assert_int_equal(xstate_choose_xcr0(&c), 0x60003); /* no AVX, so no AVX-512 */
	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_TILEDATA].offset = 0;
	assert_int_equal(xstate_layout_bad_comp(&c, 3 | XFEAT_AMX, 0), XFEAT_TILEDATA);
	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_PASID].size = 0;
	assert_int_equal(xstate_layout_bad_comp(&c, 3, XFEAT_BIT(XFEAT_PASID)), XFEAT_PASID);
	assert_int_equal(xstate_choose_xss(&c, true), 0);
	load_cpuid(SPR_W9, &c);
	c.comp[XFEAT_PASID].supervisor = false;
	assert_int_equal(xstate_layout_bad_comp(&c, 3, XFEAT_BIT(XFEAT_PASID)), XFEAT_PASID);
	/* Errors that are not about one component's description name none. */
	assert_int_equal(xstate_layout_bad_comp(&c, 3 | XFEAT_BIT(40), 0), -1);
}

/* ---- choice and names ---- */

static void test_choose_partial_groups(void **state)
{
	(void)state;
	struct xstate_cpuid c;

	load_cpuid(SPR_W9, &c);
	c.user_mask &= ~XFEAT_BIT(XFEAT_TILECFG); /* half of AMX: not taken */
	assert_int_equal(xstate_choose_xcr0(&c), 0xe7);
	c.user_mask &= ~XFEAT_BIT(XFEAT_HI16_ZMM); /* part of AVX-512: not taken */
	assert_int_equal(xstate_choose_xcr0(&c), 0x7);
	load_cpuid(SPR_W9, &c);
	c.user_mask &= ~XFEAT_BIT(XFEAT_AVX); /* AVX-512 needs AVX; AMX does not */
	assert_int_equal(xstate_choose_xcr0(&c), 0x60003);
}

static void test_comp_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		"x87",	    "sse", "avx",  "bndregs", "bndcsr",	  "opmask", "zmm_hi256",
		"hi16_zmm", "pt",  "pkru", "pasid",   "cet_u",	  "cet_s",  "hdc",
		"uintr",    "lbr", "hwp",  "tilecfg", "tiledata",
	};

	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(xstate_comp_name(i), want[i]);
	assert_null(xstate_comp_name(19));
	assert_null(xstate_comp_name(31));
	assert_null(xstate_comp_name(~0u));
}

/* xstate_cpuid_read on a CPU whose leaves say "no XSAVE" or "no XSAVES". */
struct fake_cpu {
	uint32_t max_leaf, leaf1_ecx, d1_eax;
};

static void fake_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4], void *ctx)
{
	const struct fake_cpu *f = ctx;

	regs[0] = regs[1] = regs[2] = regs[3] = 0;
	if (leaf == 0)
		regs[0] = f->max_leaf;
	else if (leaf == 1)
		regs[2] = f->leaf1_ecx;
	else if (leaf == 0xd && subleaf == 0)
		regs[0] = 7, regs[1] = regs[2] = 832;
	else if (leaf == 0xd && subleaf == 1)
		regs[0] = f->d1_eax, regs[2] = 0x100;
	else if (leaf == 0xd && subleaf == 2)
		regs[0] = 256, regs[1] = 576;
}

static void test_cpuid_read(void **state)
{
	(void)state;
	struct xstate_cpuid c;
	struct fake_cpu f = { 0xd, 1u << 26, XSTATE_HAS_XSAVES };

	xstate_cpuid_read(&c, fake_cpuid, &f);
	assert_true(c.xsave);
	assert_int_equal(c.user_mask, 7);
	assert_int_equal(c.sup_mask, 0x100);
	assert_int_equal(c.comp[XFEAT_AVX].offset, 576);
	assert_int_equal(c.comp[XFEAT_X87].size, 160);
	assert_int_equal(c.comp[XFEAT_SSE].size, 256);
	assert_int_equal(c.comp[XFEAT_SSE].offset, 160);
	f.d1_eax = 0; /* no XSAVES: no IA32_XSS */
	xstate_cpuid_read(&c, fake_cpuid, &f);
	assert_int_equal(c.sup_mask, 0);
	f.leaf1_ecx = 0; /* no XSAVE */
	xstate_cpuid_read(&c, fake_cpuid, &f);
	assert_false(c.xsave);
	assert_int_equal(c.user_mask, 0);
	f.leaf1_ecx = 1u << 26;
	f.max_leaf = 0xb; /* leaf 0xD not there */
	xstate_cpuid_read(&c, fake_cpuid, &f);
	assert_false(c.xsave);
	assert_int_equal(c.user_mask, 0);
}

/* ---- (d) the dump parser ---- */

static char *write_temp(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_xstate_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Load text; expect failure naming path:line (line 0: just path). */
static void expect_load_error(const char *text, size_t len, unsigned line)
{
	char *path = write_temp(text, len);
	char err[256], want[128];
	struct cpuid_dump d;

	assert_int_equal(cpuid_dump_load(&d, path, err, sizeof(err)), -1);
	cpuid_dump_free(&d);
	if (line)
		snprintf(want, sizeof(want), "%s:%u: ", path, line);
	else
		snprintf(want, sizeof(want), "%s: ", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, want);
	unlink(path);
}

static void test_parser_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"CPUID 0000000D: 000602E7-00002B00-00002B00", /* three registers */
		"CPUID 0000000D 000602E7-00002B00-00002B00-00000000",
		"CPUID 0000000D: 000602E7-00002B00-00002B00-0000000G",
		"CPUID 0000000D: 000602E7-00002B00-00002B00-000000000",
		"CPUID 0000000D: 000602E7 00002B00 00002B00 00000000",
		"CPUID D: 000602E7-00002B00-00002B00-00000000",
		"CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL ]",
		"CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 0Z]",
		"CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 01",
		"CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 123456789]",
		"CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 trailing",
		"CPUID 0000000D:",
		"CPUID",
		"CPUIX 0000000D: 000602E7-00002B00-00002B00-00000000",
		"basic_cpuid[0]=00000016 756e6547 6c65746e 49656e69",
		"hello world",
		/* a repeat of line 1's leaf and subleaf */
		"CPUID 00000000: 00000016-756E6547-6C65746E-49656E69 [SL 00]",
	};
	char buf[256];

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int n = snprintf(buf, sizeof(buf),
				 "CPUID 00000000: 00000016-756E6547-6C65746E-49656E69\n%s\n",
				 bad[i]);

		expect_load_error(buf, (size_t)n, 2);
	}
	/* A NUL byte, a huge line, a binary-looking file: errors, not crashes. */
	static const char nul[] = "# ok\nCPUID 00000000: 00000016-756E6547-6C65746E-\0049656E69\n";

	expect_load_error(nul, sizeof(nul) - 1, 2);
	size_t big = 200000;
	char *huge = malloc(big + 1);

	assert_non_null(huge);
	memset(huge, 'A', big);
	huge[big] = '\n';
	expect_load_error(huge, big + 1, 1);
	free(huge);
}

static void test_parser_missing_empty(void **state)
{
	(void)state;
	struct cpuid_dump d;
	char err[256];

	assert_int_equal(cpuid_dump_load(&d, "/nonexistent/dump.txt", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dump.txt"));
	cpuid_dump_free(&d);
	expect_load_error("", 0, 0);
	expect_load_error("# comments only\n\n   \n", strlen("# comments only\n\n   \n"), 0);
	/* A too-small error buffer is truncated, never overrun. */
	assert_int_equal(cpuid_dump_load(&d, "/nonexistent/dump.txt", err, 4), -1);
	assert_true(strlen(err) < 4);
	cpuid_dump_free(&d);
	assert_int_equal(cpuid_dump_load(&d, "/nonexistent/dump.txt", NULL, 0), -1);
	cpuid_dump_free(&d);
}

static void test_parser_accepts(void **state)
{
	(void)state;
	static const char text[] =
		"# comment\r\n"
		"\r\n"
		"------[ CPUID Registers / Logical CPU #0 ]------\r\n"
		"CPUID 00000000: 00000020-756E6547-6C65746E-49656E69 [GenuineIntel]\r\n"
		"  CPUID 00000001: 000806f8-00800800-7FFEFBFF-BFEBFBFF\r\n"
		"CPUID 0000000D: 0000001F-00002A80-0000DD00-00000000 [SL 01] [SSE]\r\n"
		"CPUID 0000000D: 00000008-00000000-00000001-00000000 [SL 0A]\r\n"
		"CPUID 80000006: 00000000-00000000-08007040-00000000 [L2: 2048 KB] / L3: 0 KB]\r\n"
		"00 01 02 0A\r\n"
		"------[ CPUID Registers / Logical CPU #1 ]------\r\n"
		"CPUID 00000000: 11111111-11111111-11111111-11111111\r\n"
		"garbage that is never read\r\n";
	char *path = write_temp(text, sizeof(text) - 1);
	struct cpuid_dump d;
	char err[256];
	uint32_t r[4];

	if (cpuid_dump_load(&d, path, err, sizeof(err)))
		fail_msg("%s", err);
	unlink(path);
	assert_int_equal(d.n, 5);
	assert_true(cpuid_dump_find(&d, 0, 0, r));
	assert_int_equal(r[0], 0x20); /* CPU #0's, not CPU #1's */
	assert_true(cpuid_dump_find(&d, 1, 0, r));
	assert_int_equal(r[0], 0x806f8);
	assert_false(d.recs[1].has_subleaf);
	assert_true(cpuid_dump_find(&d, 0xd, 0xa, r));
	assert_int_equal(r[0], 8);
	assert_int_equal(r[2], 1);
	assert_true(cpuid_dump_find(&d, 0x80000006, 0, r));
	assert_int_equal(r[2], 0x08007040);
	/* Omitted subleaves read as zeros, as on the CPU. */
	r[0] = r[1] = r[2] = r[3] = 0xdead;
	assert_false(cpuid_dump_find(&d, 0xd, 0xb, r));
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	r[0] = 0xdead;
	cpuid_dump_cpuid(0x1234, 7, r, &d);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	cpuid_dump_free(&d);

	/* A line of dashes ends the raw data (libcpuid .test files). */
	static const char test_file[] = "CPUID 00000000: 00000020-756E6547-6C65746E-49656E69\n"
					"-----------------------------------------\n"
					"family=6 model=143\n";

	path = write_temp(test_file, sizeof(test_file) - 1);
	assert_int_equal(cpuid_dump_load(&d, path, err, sizeof(err)), 0);
	assert_int_equal(d.n, 1);
	cpuid_dump_free(&d);
	unlink(path);
}

/* ---- (e) hwloc-gather-cpuid dumps and the tool itself ---- */

#ifndef XSTATE_LAYOUT_TOOL
#define XSTATE_LAYOUT_TOOL "build/host/xstate-layout"
#endif
#define HWLOC_DIR  "tests/data/cpuid"
#define HWLOC_PU0  HWLOC_DIR "/hwloc-pu0"
#define HWLOC_2CPU HWLOC_DIR "/hwloc-stdout-2cpus"

/*
 * d written out again in libcpuid's format or in hwloc-gather-cpuid's
 * ("<mask> <eax> <ebx> <ecx> <edx> => <eax> <ebx> <ecx> <edx>", mask 5 when
 * ECX is an input, else 1), with (0xD,9) all zero if zero_d9. Returns a
 * temporary path (static; the caller unlinks it).
 */
static char *write_dump(const struct cpuid_dump *d, bool hwloc, bool zero_d9)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_xstate_dump_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	if (hwloc)
		fprintf(f, "# mask e[abcd]x => e[abcd]x\n");
	for (size_t i = 0; i < d->n; i++) {
		const struct cpuid_rec *r = &d->recs[i];
		uint32_t z[4] = { 0, 0, 0, 0 };
		const uint32_t *o = zero_d9 && r->leaf == 0xd && r->subleaf == 9 ? z : r->regs;

		if (hwloc)
			fprintf(f, "%x %x 0 %x 0 => %x %x %x %x\n", r->has_subleaf ? 5 : 1, r->leaf,
				r->subleaf, o[0], o[1], o[2], o[3]);
		else
			fprintf(f, "CPUID %08X: %08X-%08X-%08X-%08X [SL %02X]\n", r->leaf, o[0],
				o[1], o[2], o[3], r->subleaf);
	}
	fclose(f);
	return path;
}

static void load_dump(const char *path, struct cpuid_dump *d)
{
	char err[256];

	if (cpuid_dump_load(d, path, err, sizeof(err)))
		fail_msg("%s", err);
}

/* Run the tool; its exit status, stdout and stderr (static buffers). */
static int run_tool(const char *args, char **out, char **err)
{
	static char obuf[16384], ebuf[4096];
	char cmd[512];
	int st;
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s %s >/tmp/test_xstate_tool.out 2>/tmp/test_xstate_tool.err",
		 XSTATE_LAYOUT_TOOL, args);
	st = system(cmd);
	f = fopen("/tmp/test_xstate_tool.out", "r");
	assert_non_null(f);
	n = fread(obuf, 1, sizeof(obuf) - 1, f);
	obuf[n] = '\0';
	fclose(f);
	f = fopen("/tmp/test_xstate_tool.err", "r");
	assert_non_null(f);
	n = fread(ebuf, 1, sizeof(ebuf) - 1, f);
	ebuf[n] = '\0';
	fclose(f);
	unlink("/tmp/test_xstate_tool.out");
	unlink("/tmp/test_xstate_tool.err");
	*out = obuf;
	*err = ebuf;
	print_message("  $ xstate-layout %s: exit %d\n%s", args, WEXITSTATUS(st), ebuf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_in(const char *text, const char *what, const char *where)
{
	if (!strstr(text, what))
		fail_msg("\"%s\" not in the tool's %s:\n%s", what, where, text);
}

/*
 * hwloc-gather-cpuid's own output (hwloc 2.9.0, Debian 12, on a 2-vCPU AMD
 * EPYC guest: tests/data/cpuid/README.md): a pu<N> file, and the real
 * Sapphire Rapids dump rewritten in that format, which must read exactly
 * as the original does.
 */
static void test_xstate_tool_hwloc_format(void **state)
{
	(void)state;
	struct xstate_cpuid c, c2;
	struct cpuid_dump d;
	char *out, *err, args[256];

	load_cpuid(HWLOC_PU0, &c);
	assert_int_equal(c.user_mask, 0x207); /* x87 sse avx pkru */
	assert_int_equal(c.sup_mask, 0x1800); /* cet_u cet_s */
	assert_int_equal(c.max_std_size, 0x988);
	assert_int_equal(c.comp[XFEAT_PKRU].size, 8);
	assert_int_equal(c.comp[XFEAT_PKRU].offset, 0x980);
	assert_int_equal(c.comp[XFEAT_CET_S].size, 0x18);
	assert_true(c.comp[XFEAT_CET_S].supervisor);

	load_dump(SPR_W9, &d);
	char *path = write_dump(&d, true, false);

	cpuid_dump_free(&d);
	load_cpuid(SPR_W9, &c);
	load_cpuid(path, &c2);
	assert_memory_equal(&c, &c2, sizeof(c));
	snprintf(args, sizeof(args), "%s", path);
	int st = run_tool(args, &out, &err);

	unlink(path);
	assert_int_equal(st, 0);
	expect_in(out, "standard size  (XSAVE/XSAVEOPT; XCR0):         11008", "output");
	expect_in(out, "compacted size (XSAVEC/XSAVES; XCR0 | XSS):   10688", "output");
	assert_int_equal(run_tool(HWLOC_PU0, &out, &err), 0);
	expect_in(out, ": match", "output");
}

/* Several CPUs in one file: hwloc-gather-cpuid -c N - run for each CPU
 * (its progress lines and warnings included), or pu files concatenated.
 * The first CPU is read, as with libcpuid dumps. */
static void test_xstate_tool_hwloc_several_cpus(void **state)
{
	(void)state;
	struct cpuid_dump d;
	uint32_t r[4];
	char *out, *err;

	load_dump(HWLOC_2CPU, &d);
	assert_true(cpuid_dump_find(&d, 1, 0, r));
	assert_int_equal(r[1] >> 24, 0); /* CPU 0's initial APIC ID, not CPU 1's */
	assert_true(cpuid_dump_find(&d, 0xd, 9, r));
	assert_int_equal(r[0], 8);
	cpuid_dump_free(&d);
	assert_int_equal(run_tool(HWLOC_2CPU, &out, &err), 0);
	expect_in(out, ": match", "output");

	static char text[16384];
	FILE *f = fopen(HWLOC_PU0, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) / 2, f);
	fclose(f);
	memcpy(text + n, text, n); /* cat pu0 pu0 */
	char *path = write_temp(text, 2 * n);

	load_dump(path, &d);
	unlink(path);
	assert_true(cpuid_dump_find(&d, 0xd, 0, r));
	assert_int_equal(r[0], 0x207);
	cpuid_dump_free(&d);
}

static void test_xstate_tool_hwloc_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"5 d 0 9 0 => 8 980 0",		  /* three outputs */
		"5 d 0 9 0 = 8 980 0 0",	  /* no "=>" */
		"5 d 0 9 => 8 980 0 0",		  /* three inputs */
		"4 d 0 9 0 => 8 980 0 0",	  /* EAX not an input */
		"15 d 0 9 0 => 8 980 0 0",	  /* mask beyond EDX */
		"5 d 0 9 0 => 8 980 0 0 0",	  /* trailing register */
		"5 d 0 9 0 => 123456789 980 0 0", /* nine digits */
		"5 d 0 9 0 => 8 98g 0 0",
		"5 d 0 0 0 => 207 988 988 0", /* repeats line 2's (0xD,0) */
		"CPUID 0000000D: 00000008-00000A80-00000000-00000000 [SL 09]", /* mixed formats */
	};
	char buf[256];

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		int n = snprintf(buf, sizeof(buf),
				 "# mask e[abcd]x => e[abcd]x\n5 d 0 0 0 => 207 988 988 0\n%s\n",
				 bad[i]);

		expect_load_error(buf, (size_t)n, 3);
	}
	/* The directory hwloc-gather-cpuid writes, instead of one of its files. */
	struct cpuid_dump d;
	char err[256];

	assert_int_equal(cpuid_dump_load(&d, HWLOC_DIR, err, sizeof(err)), -1);
	cpuid_dump_free(&d);
	expect_in(err, "give one of its pu<N> files", "error");
}

/*
 * CPUID.(0xD,0).EAX enumerates PKRU (bit 9) but (0xD,9) is all zero: the
 * dump contradicts itself. The tool names component 9 and still shows the
 * layout it would use without it (the kernel's choice does not take PKRU).
 * Real Sapphire Rapids leaves, in both formats.
 */
static void test_xstate_tool_component_9_zero(void **state)
{
	(void)state;
	struct cpuid_dump d;
	char *out, *err;

	char paths[2][64];

	load_dump(SPR_W9, &d);
	for (int hwloc = 0; hwloc < 2; hwloc++)
		strcpy(paths[hwloc], write_dump(&d, hwloc, true));
	cpuid_dump_free(&d);
	for (int hwloc = 0; hwloc < 2; hwloc++) {
		int st = run_tool(paths[hwloc], &out, &err);

		unlink(paths[hwloc]);
		assert_int_equal(st, 1);
		expect_in(err, "self-contradictory", "errors");
		expect_in(err, "component 9 (pkru)", "errors");
		expect_in(out, "standard size  (XSAVE/XSAVEOPT; XCR0):         11008", "output");
		expect_in(out, "compacted size (XSAVEC/XSAVES; XCR0 | XSS):   10688", "output");
	}
}

/* Asked for a component CPUID gives no size: the error names it. */
static void test_xstate_tool_names_unsized_component(void **state)
{
	(void)state;
	struct cpuid_dump d;
	char *out, *err, args[256];

	load_dump(SPR_W9, &d);
	char *path = write_dump(&d, false, true);

	cpuid_dump_free(&d);
	snprintf(args, sizeof(args), "%s --xcr0 0x602e7", path);
	int st = run_tool(args, &out, &err);

	unlink(path);
	assert_int_equal(st, 1);
	expect_in(err, "CPUID gives an enabled component no size: component 9 (pkru)", "errors");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_dumps),
		cmocka_unit_test(test_golden_sapphire_rapids),
		cmocka_unit_test(test_golden_skylake_icelake),
		cmocka_unit_test(test_legacy_only),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_validation_bad_cpuid),
		cmocka_unit_test(test_xstate_bad_comp_named),
		cmocka_unit_test(test_choose_partial_groups),
		cmocka_unit_test(test_comp_names),
		cmocka_unit_test(test_cpuid_read),
		cmocka_unit_test(test_parser_malformed),
		cmocka_unit_test(test_parser_missing_empty),
		cmocka_unit_test(test_parser_accepts),
		cmocka_unit_test(test_xstate_tool_hwloc_format),
		cmocka_unit_test(test_xstate_tool_hwloc_several_cpus),
		cmocka_unit_test(test_xstate_tool_hwloc_malformed),
		cmocka_unit_test(test_xstate_tool_component_9_zero),
		cmocka_unit_test(test_xstate_tool_names_unsized_component),
	};

	return cmocka_run_group_tests_name("xstate_layout", tests, NULL, NULL);
}
