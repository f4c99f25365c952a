/*
 * XSAVE area layouts from CPUID leaf 0xD. Pure: the kernel (arch/x86/xstate.c),
 * the host tool (tools/xstate_layout_main.c) and the host tests (tests/) share it.
 *
 * Glossary (SDM Vol. 1 13.2, 13.4)
 *   component i   a state component; bit i of XCR0 (user) or IA32_XSS
 *                 (supervisor). 0 x87 and 1 SSE live in the 512-byte legacy
 *                 region (x87 taken as bytes 0..159, SSE as 160..415; MXCSR
 *                 at 24 is SSE state too, SDM Vol. 1 13.4.1); the 64-byte
 *                 XSAVE header follows at 512.
 *   standard      the format of XSAVE/XSAVEOPT (and XRSTOR): component i >= 2
 *                 at the fixed offset CPUID.(0xD,i).EBX; user components only.
 *   compacted     the format of XSAVEC/XSAVES: components i >= 2 that are set
 *                 in XCOMP_BV (= XCR0 | IA32_XSS for the kernel's buffers),
 *                 in increasing i, from offset 576, each 64-byte aligned if
 *                 CPUID.(0xD,i).ECX bit 1 says so (SDM Vol. 1 13.4.3).
 */
#pragma once

#include "lib/compiler.h"

#define XSTATE_MAX	   32 /* components 0..31 (leaf 0xD subleaves 2..31) */
#define XSTATE_LEGACY_SIZE 512
#define XSTATE_HDR_SIZE	   64
#define XSTATE_HDR_END	   (XSTATE_LEGACY_SIZE + XSTATE_HDR_SIZE) /* 576 */

/* Component numbers (SDM Vol. 1 13.1, Table 13-1). */
enum {
	XFEAT_X87 = 0,
	XFEAT_SSE = 1,
	XFEAT_AVX = 2,
	XFEAT_BNDREGS = 3,
	XFEAT_BNDCSR = 4,
	XFEAT_OPMASK = 5,
	XFEAT_ZMM_HI256 = 6,
	XFEAT_HI16_ZMM = 7,
	XFEAT_PT = 8,
	XFEAT_PKRU = 9,
	XFEAT_PASID = 10,
	XFEAT_CET_U = 11,
	XFEAT_CET_S = 12,
	XFEAT_HDC = 13,
	XFEAT_UINTR = 14,
	XFEAT_LBR = 15,
	XFEAT_HWP = 16,
	XFEAT_TILECFG = 17,
	XFEAT_TILEDATA = 18,
};

#define XFEAT_BIT(i) (1ull << (i))
#define XFEAT_AVX512 \
	(XFEAT_BIT(XFEAT_OPMASK) | XFEAT_BIT(XFEAT_ZMM_HI256) | XFEAT_BIT(XFEAT_HI16_ZMM))
#define XFEAT_AMX (XFEAT_BIT(XFEAT_TILECFG) | XFEAT_BIT(XFEAT_TILEDATA))

/* CPUID.(0xD,1).EAX: instruction support. */
#define XSTATE_HAS_XSAVEOPT (1u << 0)
#define XSTATE_HAS_XSAVEC   (1u << 1)
#define XSTATE_HAS_XGETBV1  (1u << 2)
#define XSTATE_HAS_XSAVES   (1u << 3)
#define XSTATE_HAS_XFD	    (1u << 4)

/* What leaf 0xD says (and leaf 1 ECX bit 26, XSAVE). */
struct xstate_cpuid {
	bool xsave;	       /* CPUID.1:ECX.XSAVE[bit 26] */
	uint64_t user_mask;    /* CPUID.(0xD,0):EDX:EAX, XCR0 bits supported */
	uint64_t sup_mask;     /* CPUID.(0xD,1):EDX:ECX, IA32_XSS bits supported */
	uint32_t insns;	       /* CPUID.(0xD,1).EAX, XSTATE_HAS_* */
	uint32_t max_std_size; /* CPUID.(0xD,0).ECX: standard size, all user bits */
	uint32_t cur_std_size; /* CPUID.(0xD,0).EBX: for the XCR0 set when read */
	uint32_t cur_cmp_size; /* CPUID.(0xD,1).EBX: for XCR0 | XSS set when read */
	struct xstate_comp {
		uint32_t size;	 /* CPUID.(0xD,i).EAX */
		uint32_t offset; /* CPUID.(0xD,i).EBX, standard format (user only) */
		bool supervisor; /* ECX bit 0 */
		bool align64;	 /* ECX bit 1: 64-byte aligned when compacted */
		bool xfd;	 /* ECX bit 2: XFD can arm it */
	} comp[XSTATE_MAX];	 /* entries 0 and 1: the legacy region */
};

/* Both formats for one choice of XCR0 and IA32_XSS. */
struct xstate_layout {
	uint64_t xcr0, xss;
	uint32_t size[XSTATE_MAX];	 /* bytes of each enabled component */
	uint32_t std_offset[XSTATE_MAX]; /* standard format (XCR0 components) */
	uint32_t std_size;		 /* standard format, XCR0 components */
	uint32_t cmp_offset[XSTATE_MAX]; /* compacted format, XCR0 | XSS */
	uint32_t cmp_size;		 /* compacted format, XCR0 | XSS */
};

/* One CPUID query: regs = {EAX, EBX, ECX, EDX} of (leaf, subleaf). */
typedef void (*cpuid_fn)(uint32_t leaf, uint32_t subleaf, uint32_t regs[4], void *ctx);

/* Read leaf 1 and leaf 0xD through fn. */
void xstate_cpuid_read(struct xstate_cpuid *c, cpuid_fn fn, void *ctx);

/*
 * Compute the layouts for xcr0 and xss. Returns 0 (*why = NULL), or -1 with
 * *why saying what is wrong (xcr0 lacks x87 or SSE, a bit the CPU does not
 * support or beyond component 31, a supervisor bit in xcr0 or a user bit in
 * xss, AVX without SSE, AVX-512 without AVX, an incomplete MPX, AVX-512 or
 * AMX group (XSETBV rules, SDM Vol. 3A 2.6), a component CPUID gives no size
 * or, for a user one, no standard offset, a layout beyond 4 GiB). why may be
 * NULL.
 */
int xstate_layout_compute(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss,
			  struct xstate_layout *l, const char **why);

/*
 * The component a failed xstate_layout_compute() for the same arguments
 * blames when its error is about one component's CPUID description (kind,
 * size or standard offset): that component's number, else -1.
 */
int xstate_layout_bad_comp(const struct xstate_cpuid *c, uint64_t xcr0, uint64_t xss);

/*
 * Components i >= 2 that leaf 0xD enumerates (in user_mask or sup_mask) but
 * whose CPUID.(0xD,i).EAX size is 0: a CPUID (or a dump of one) that
 * contradicts itself. The kernel's choice never takes them.
 */
uint64_t xstate_cpuid_unsized(const struct xstate_cpuid *c);

/*
 * The kernel's choice: XCR0 = x87, SSE, and AVX, AVX-512 and AMX where the
 * CPU supports all of their components (AVX-512 only with AVX, as XSETBV
 * requires; AMX depends on neither AVX nor AVX-512, but is taken only with
 * both of its components); never MPX or PKRU. IA32_XSS = PASID if supported
 * and want_pasid (pasid=xstate), nothing else: the kernel manages no other
 * supervisor state. A component CPUID enumerates without a size
 * (xstate_cpuid_unsized) counts as unsupported.
 */
uint64_t xstate_choose_xcr0(const struct xstate_cpuid *c);
uint64_t xstate_choose_xss(const struct xstate_cpuid *c, bool want_pasid);

/* "x87", "sse", "avx", ..., "tiledata"; "comp<i>" style for unnamed ones
 * is the caller's business: returns NULL for those. */
const char *xstate_comp_name(unsigned i);
