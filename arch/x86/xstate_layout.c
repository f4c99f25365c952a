/*
 * XSAVE area layouts: pure arithmetic on CPUID leaf 0xD (see xstate_layout.h
 * for the glossary). No hardware access, no libc: compiled into the
 * freestanding kernel and into the host tool and tests alike.
 *
 * Facts relied on (Intel SDM Vol. 1 unless noted)
 *   13.2    CPUID.(0xD,0):EDX:EAX = supported XCR0 bits, .ECX = standard size
 *           for all of them, .EBX = standard size for the XCR0 currently set;
 *           CPUID.(0xD,1).EAX = instructions, :EDX:ECX = supported IA32_XSS
 *           bits, .EBX = compacted size for the XCR0 | IA32_XSS currently set;
 *           CPUID.(0xD,i), i >= 2: EAX size, EBX standard offset (0 for
 *           supervisor components), ECX bit 0 supervisor, bit 1 64-byte
 *           aligned when compacted, bit 2 XFD-capable. Subleaves 0 and 1 do
 *           not describe components 0 and 1: their places are fixed.
 *   13.3    IA32_XSS exists only where XSAVES does (CPUID.(0xD,1).EAX[3]).
 *   13.4.1  legacy region: x87 and SSE state in bytes 0..511 in both
 *           formats; the 64-byte XSAVE header at 512, always written, so the
 *           smallest area is 576 bytes (CPUID.(0xD,0).EBX is 576 when
 *           XCR0 = 3).
 *   13.4.3  compacted extended region: components i >= 2 set in XCOMP_BV,
 *           in increasing i, the first at 576, each one right after the
 *           previous, rounded up to 64 first if its align64 bit is set.
 *   Vol. 3A 2.6  XSETBV faults on XCR0 without x87, with AVX but not SSE,
 *           with AVX-512 but not AVX, or with only part of the MPX (3, 4),
 *           AVX-512 (5, 6, 7) or AMX (17, 18) groups.
 */
#include "arch/x86/xstate_layout.h"

#define CPUID_1_ECX_XSAVE (1u << 26) /* SDM Vol. 2A, CPUID leaf 1 */
#define CPUID_0D_ECX_SUP  (1u << 0)
#define CPUID_0D_ECX_A64  (1u << 1)
#define CPUID_0D_ECX_XFD  (1u << 2)

#define X87_SIZE   160 /* SDM Vol. 1 13.4.1: bytes 0..159 */
#define SSE_OFFSET 160
#define SSE_SIZE   256 /* XMM0..15 at 160..415 */

#define XFEAT_LEGACY (XFEAT_BIT(XFEAT_X87) | XFEAT_BIT(XFEAT_SSE))
#define XFEAT_MPX    (XFEAT_BIT(XFEAT_BNDREGS) | XFEAT_BIT(XFEAT_BNDCSR))
#define XFEAT_ALL    (XFEAT_BIT(XSTATE_MAX) - 1) /* what comp[] can describe */

static void cpuid_clear(struct xstate_cpuid *c)
{
	c->xsave = false;
	c->user_mask = c->sup_mask = 0;
	c->insns = c->max_std_size = c->cur_std_size = c->cur_cmp_size = 0;
	for (unsigned i = 0; i < XSTATE_MAX; i++)
		c->comp[i] = (struct xstate_comp){ 0 };
}

/* Components 0 and 1: fixed places in the legacy region. */
static void cpuid_set_legacy(struct xstate_cpuid *c)
{
	c->comp[XFEAT_X87] = (struct xstate_comp){ .size = X87_SIZE, .offset = 0 };
	c->comp[XFEAT_SSE] = (struct xstate_comp){ .size = SSE_SIZE, .offset = SSE_OFFSET };
}

void xstate_cpuid_read(struct xstate_cpuid *c, cpuid_fn fn, void *ctx)
{
	uint32_t r[4];

	cpuid_clear(c);
	cpuid_set_legacy(c);
	/* Above the maximum basic leaf, Intel CPUs answer with another leaf. */
	fn(0, 0, r, ctx);
	if (r[0] < 0xd)
		return;
	fn(1, 0, r, ctx);
	c->xsave = (r[2] & CPUID_1_ECX_XSAVE) != 0;
	if (!c->xsave)
		return;
	fn(0xd, 0, r, ctx);
	c->user_mask = r[0] | (uint64_t)r[3] << 32;
	c->cur_std_size = r[1];
	c->max_std_size = r[2];
	fn(0xd, 1, r, ctx);
	c->insns = r[0];
	c->cur_cmp_size = r[1];
	if (c->insns & XSTATE_HAS_XSAVES)
		c->sup_mask = r[2] | (uint64_t)r[3] << 32;
	for (unsigned i = 2; i < XSTATE_MAX; i++) {
		fn(0xd, i, r, ctx);
		c->comp[i].size = r[0];
		c->comp[i].offset = r[1];
		c->comp[i].supervisor = (r[2] & CPUID_0D_ECX_SUP) != 0;
		c->comp[i].align64 = (r[2] & CPUID_0D_ECX_A64) != 0;
		c->comp[i].xfd = (r[2] & CPUID_0D_ECX_XFD) != 0;
	}
}

/* All of group or none of it. */
static bool group_partial(uint64_t mask, uint64_t group)
{
	return (mask & group) != 0 && (mask & group) != group;
}

/* The XSETBV rules on XCR0 (SDM Vol. 3A 2.6). */
static const char *check_xcr0_rules(uint64_t xcr0)
{
	if (!(xcr0 & XFEAT_BIT(XFEAT_X87)))
		return "xcr0 lacks x87";
	/* XSETBV wants SSE only under AVX; the kernel always takes it. */
	if (!(xcr0 & XFEAT_BIT(XFEAT_SSE)))
		return (xcr0 & XFEAT_BIT(XFEAT_AVX)) ? "AVX without SSE" : "xcr0 lacks SSE";
	if ((xcr0 & XFEAT_AVX512) && !(xcr0 & XFEAT_BIT(XFEAT_AVX)))
		return "AVX-512 without AVX";
	if (group_partial(xcr0, XFEAT_MPX))
		return "MPX needs both BNDREGS and BNDCSR";
	if (group_partial(xcr0, XFEAT_AVX512))
		return "AVX-512 needs all of opmask, ZMM_Hi256 and Hi16_ZMM";
	if (group_partial(xcr0, XFEAT_AMX))
		return "AMX needs both TILECFG and TILEDATA";
	return NULL;
}

typedef const char *(*comp_check_fn)(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss,
				     unsigned i);

/* Component i against leaf 0xD's ECX bit 0 (supervisor or user). */
static const char *comp_kind_error(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss,
				   unsigned i)
{
	if ((xcr0 & XFEAT_BIT(i)) && c->comp[i].supervisor)
		return "CPUID marks an xcr0 component supervisor";
	if ((xss & XFEAT_BIT(i)) && !c->comp[i].supervisor)
		return "CPUID marks an xss component user";
	return NULL;
}

/* The size and standard offset CPUID must give component i if it is used. */
static const char *comp_size_error(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss,
				   unsigned i)
{
	if (!((xcr0 | xss) & XFEAT_BIT(i)))
		return NULL;
	if (c->comp[i].size == 0)
		return "CPUID gives an enabled component no size";
	if ((xcr0 & XFEAT_BIT(i)) && c->comp[i].offset < XSTATE_HDR_END)
		return "CPUID gives a user component no standard offset";
	return NULL;
}

/* The first component i >= 2 that check finds wrong: its error, i in *bad. */
static const char *first_comp_error(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss,
				    comp_check_fn check, int *bad)
{
	for (unsigned i = 2; i < XSTATE_MAX; i++) {
		const char *err = check(c, xcr0, xss, i);

		if (err) {
			*bad = (int)i;
			return err;
		}
	}
	return NULL;
}

/* Which bits may go where: the CPU's two masks and leaf 0xD's ECX bit 0. */
static const char *check_masks(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss)
{
	int bad;

	if ((xcr0 | xss) & ~XFEAT_ALL)
		return "component beyond 31";
	if (xcr0 & c->sup_mask)
		return "supervisor component in xcr0";
	if (xcr0 & ~c->user_mask)
		return "xcr0 bit the CPU does not support";
	if (xss & c->user_mask)
		return "user component in xss";
	if (xss & ~c->sup_mask)
		return "xss bit the CPU does not support";
	return first_comp_error(c, xcr0, xss, comp_kind_error, &bad);
}

/* Sizes and standard offsets CPUID must give for the components used. */
static const char *check_comps(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss)
{
	int bad;

	return first_comp_error(c, xcr0, xss, comp_size_error, &bad);
}

int xstate_layout_bad_comp(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss)
{
	int bad = -1;

	if ((xcr0 | xss) & ~XFEAT_ALL)
		return -1;
	if (!first_comp_error(c, xcr0, xss, comp_kind_error, &bad))
		first_comp_error(c, xcr0, xss, comp_size_error, &bad);
	return bad;
}

uint64_t xstate_cpuid_unsized(const struct xstate_cpuid *c)
{
	uint64_t bad = 0;

	for (unsigned i = 2; i < XSTATE_MAX; i++)
		if (((c->user_mask | c->sup_mask) & XFEAT_BIT(i)) && c->comp[i].size == 0)
			bad |= XFEAT_BIT(i);
	return bad;
}

static void layout_clear(struct xstate_layout *l, uint64_t xcr0, uint64_t xss)
{
	l->xcr0 = xcr0;
	l->xss = xss;
	l->std_size = l->cmp_size = 0;
	for (unsigned i = 0; i < XSTATE_MAX; i++)
		l->size[i] = l->std_offset[i] = l->cmp_offset[i] = 0;
}

static uint32_t comp_size(const struct xstate_cpuid *c, unsigned i)
{
	if (i == XFEAT_X87)
		return X87_SIZE;
	if (i == XFEAT_SSE)
		return SSE_SIZE;
	return c->comp[i].size;
}

/* Standard format: fixed offsets, size = end of the farthest, >= 576. */
static uint64_t layout_standard(const struct xstate_cpuid *c, struct xstate_layout *l)
{
	uint64_t end = XSTATE_HDR_END;

	for (unsigned i = 0; i < XSTATE_MAX; i++) {
		if (!(l->xcr0 & XFEAT_BIT(i)))
			continue;
		if (i == XFEAT_X87)
			l->std_offset[i] = 0;
		else if (i == XFEAT_SSE)
			l->std_offset[i] = SSE_OFFSET;
		else
			l->std_offset[i] = c->comp[i].offset;
		end = MAX(end, (uint64_t)l->std_offset[i] + l->size[i]);
	}
	return end;
}

/* Compacted format (SDM Vol. 1 13.4.3): packed from 576 in bit order. */
static uint64_t layout_compacted(const struct xstate_cpuid *c, struct xstate_layout *l)
{
	uint64_t used = l->xcr0 | l->xss;
	uint64_t end = XSTATE_HDR_END;

	l->cmp_offset[XFEAT_X87] = 0;
	l->cmp_offset[XFEAT_SSE] = SSE_OFFSET;
	for (unsigned i = 2; i < XSTATE_MAX; i++) {
		if (!(used & XFEAT_BIT(i)))
			continue;
		if (c->comp[i].align64)
			end = ALIGN_UP(end, 64);
		/* Truncated only when end > 4 GiB, which the caller rejects. */
		l->cmp_offset[i] = (uint32_t)end;
		end += l->size[i]; /* 30 sizes < 2^32 each: no 64-bit overflow */
	}
	return end;
}

/* Both formats for l->xcr0 and l->xss, already checked. */
static const char *layout_fill(const struct xstate_cpuid *c, struct xstate_layout *l)
{
	uint64_t std_end, cmp_end;

	for (unsigned i = 0; i < XSTATE_MAX; i++)
		if ((l->xcr0 | l->xss) & XFEAT_BIT(i))
			l->size[i] = comp_size(c, i);
	std_end = layout_standard(c, l);
	cmp_end = layout_compacted(c, l);
	if (std_end > UINT32_MAX || cmp_end > UINT32_MAX)
		return "layout beyond 4 GiB";
	l->std_size = (uint32_t)std_end;
	l->cmp_size = (uint32_t)cmp_end;
	return NULL;
}

int xstate_layout_compute(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss,
			  struct xstate_layout *l, const char **why)
{
	const char *err = check_masks(c, xcr0, xss);

	if (!err)
		err = check_xcr0_rules(xcr0);
	if (!err)
		err = check_comps(c, xcr0, xss);
	layout_clear(l, xcr0, xss);
	if (!err)
		err = layout_fill(c, l);
	if (err)
		layout_clear(l, xcr0, xss); /* no half-filled layout escapes */
	if (why)
		*why = err;
	return err ? -1 : 0;
}

uint64_t xstate_choose_xcr0(const struct xstate_cpuid *c)
{
	uint64_t usable = c->user_mask & ~xstate_cpuid_unsized(c);
	uint64_t xcr0 = XFEAT_LEGACY;

	if (usable & XFEAT_BIT(XFEAT_AVX))
		xcr0 |= XFEAT_BIT(XFEAT_AVX);
	if ((xcr0 & XFEAT_BIT(XFEAT_AVX)) && (usable & XFEAT_AVX512) == XFEAT_AVX512)
		xcr0 |= XFEAT_AVX512;
	if ((usable & XFEAT_AMX) == XFEAT_AMX)
		xcr0 |= XFEAT_AMX;
	return xcr0;
}

uint64_t xstate_choose_xss(const struct xstate_cpuid *c, bool want_pasid)
{
	uint64_t usable = c->sup_mask & ~xstate_cpuid_unsized(c);

	if (want_pasid && (usable & XFEAT_BIT(XFEAT_PASID)))
		return XFEAT_BIT(XFEAT_PASID);
	return 0;
}

const char *xstate_comp_name(unsigned i)
{
	static const char *const names[] = {
		[XFEAT_X87] = "x87",
		[XFEAT_SSE] = "sse",
		[XFEAT_AVX] = "avx",
		[XFEAT_BNDREGS] = "bndregs",
		[XFEAT_BNDCSR] = "bndcsr",
		[XFEAT_OPMASK] = "opmask",
		[XFEAT_ZMM_HI256] = "zmm_hi256",
		[XFEAT_HI16_ZMM] = "hi16_zmm",
		[XFEAT_PT] = "pt",
		[XFEAT_PKRU] = "pkru",
		[XFEAT_PASID] = "pasid",
		[XFEAT_CET_U] = "cet_u",
		[XFEAT_CET_S] = "cet_s",
		[XFEAT_HDC] = "hdc",
		[XFEAT_UINTR] = "uintr",
		[XFEAT_LBR] = "lbr",
		[XFEAT_HWP] = "hwp",
		[XFEAT_TILECFG] = "tilecfg",
		[XFEAT_TILEDATA] = "tiledata",
	};

	return i < ARRAY_SIZE(names) ? names[i] : NULL;
}
