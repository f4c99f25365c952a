/*
 * xstate-layout: print the XSAVE area layouts (standard and compacted) that
 * arch/x86/xstate_layout.c computes from another machine's CPUID dump.
 *
 *   xstate-layout <dump-file> [--xcr0 HEX] [--xss HEX] [--pasid]
 *
 * The dump is libcpuid's cpuid_tool format or a file hwloc-gather-cpuid
 * wrote (a pu<N> file, or its standard output); a file with several CPUs is
 * read for the first (tools/cpuid_dump.h). Without --xcr0/--xss it takes
 * the kernel's own choice (xstate_choose_xcr0, xstate_choose_xss with
 * want_pasid = --pasid). It checks the layout maths against the one size in
 * the dump that is a fixed CPU property, CPUID.(0xD,0).ECX (standard size
 * for all supported user bits); the (0xD,0).EBX and (0xD,1).EBX sizes
 * depend on what the dumped OS had set and are only shown.
 *
 * A dump that enumerates a component (in CPUID.(0xD,0).EDX:EAX or
 * (0xD,1).EDX:ECX) but gives it no size in (0xD,i).EAX contradicts itself:
 * each such component is named on stderr, the layout printed is the one the
 * kernel would use without it, and the exit status is 1. Every error about
 * one component names it ("component 9 (pkru)").
 *
 * Exit status: 0, 1 on bad input (unreadable or self-contradictory dump,
 * an impossible choice) or a size mismatch, 2 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/xstate_layout.h"
#include "tools/cpuid_dump.h"

struct opts {
	const char *path;
	bool have_xcr0, have_xss, pasid;
	uint64_t xcr0, xss;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: xstate-layout <dump-file> [--xcr0 HEX] [--xss HEX] [--pasid]\n"
		   "  dump-file: libcpuid's cpuid_tool format, or a pu<N> file (or the\n"
		   "  standard output) of hwloc-gather-cpuid; the first CPU is read\n"
		   "  default XCR0/IA32_XSS: the kernel's choice; --pasid adds PASID to\n"
		   "  the default IA32_XSS (pasid=xstate) and cannot be used with --xss\n");
}

/* "602e7" or "0x602E7": 1..16 hex digits, nothing else. */
static bool parse_hex64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (unsigned)((*s | 0x20) - 'a' + 10);
		else
			return false;
		if (n == 16)
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return n > 0;
}

/* "--xcr0 HEX" or "--xcr0=HEX"; advances *i past what it used. */
static int parse_hex_opt(int argc, char **argv, int *i, const char *name, uint64_t *out)
{
	const char *arg = argv[*i];
	size_t len = strlen(name);
	const char *val;

	if (arg[len] == '=')
		val = arg + len + 1;
	else if (*i + 1 < argc)
		val = argv[++*i];
	else {
		fprintf(stderr, "xstate-layout: %s needs a hex value\n", name);
		return -1;
	}
	if (!parse_hex64(val, out)) {
		fprintf(stderr, "xstate-layout: bad hex value for %s: '%s'\n", name, val);
		return -1;
	}
	return 0;
}

static bool is_opt(const char *arg, const char *name)
{
	size_t len = strlen(name);

	return strncmp(arg, name, len) == 0 && (arg[len] == '\0' || arg[len] == '=');
}

static int parse_one(int argc, char **argv, int *i, struct opts *o)
{
	const char *arg = argv[*i];

	if (is_opt(arg, "--xcr0")) {
		o->have_xcr0 = true;
		return parse_hex_opt(argc, argv, i, "--xcr0", &o->xcr0);
	}
	if (is_opt(arg, "--xss")) {
		o->have_xss = true;
		return parse_hex_opt(argc, argv, i, "--xss", &o->xss);
	}
	if (strcmp(arg, "--pasid") == 0) {
		o->pasid = true;
		return 0;
	}
	if (arg[0] == '-' || o->path) {
		fprintf(stderr, "xstate-layout: unexpected argument '%s'\n", arg);
		return -1;
	}
	o->path = arg;
	return 0;
}

/* 0, 1 for --help, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
		if (parse_one(argc, argv, &i, o))
			return -1;
	}
	if (!o->path) {
		fprintf(stderr, "xstate-layout: no dump file given\n");
		return -1;
	}
	if (o->pasid && o->have_xss) {
		fprintf(stderr, "xstate-layout: --pasid and --xss exclude each other\n");
		return -1;
	}
	return 0;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* "  2816   0xb00": decimal and hex, in the table's two columns. */
static void fmt_offset(char *buf, size_t len, uint32_t off)
{
	char hex[16];

	snprintf(hex, sizeof(hex), "0x%x", off);
	snprintf(buf, len, "%6u %7s", off, hex);
}

/* "component 9 (pkru)", or "component 19" for one without a name. */
static const char *comp_label(unsigned i)
{
	static char buf[48];
	const char *name = xstate_comp_name(i);

	if (name)
		snprintf(buf, sizeof(buf), "component %u (%s)", i, name);
	else
		snprintf(buf, sizeof(buf), "component %u", i);
	return buf;
}

static void print_comp(const struct xstate_cpuid *c, const struct xstate_layout *l, unsigned i)
{
	const char *name = xstate_comp_name(i);
	bool sup = (l->xss >> i) & 1;
	char nbuf[16], std[32], cmp[32];

	if (!name) {
		snprintf(nbuf, sizeof(nbuf), "comp%u", i);
		name = nbuf;
	}
	if (sup)
		snprintf(std, sizeof(std), "%6s %7s", "-", "");
	else
		fmt_offset(std, sizeof(std), l->std_offset[i]);
	fmt_offset(cmp, sizeof(cmp), l->cmp_offset[i]);
	printf("%3u  %-10s %6u  %-7s  %-10s  %-3s  %s  %s\n", i, name, l->size[i],
	       yes_no(c->comp[i].align64), sup ? "supervisor" : "user", yes_no(c->comp[i].xfd), std,
	       cmp);
}

static void print_layout(const struct xstate_cpuid *c, const struct xstate_layout *l)
{
	printf("\n  #  name         size  align64  kind        xfd  std offset (hex)  cmp offset (hex)\n");
	for (unsigned i = 0; i < XSTATE_MAX; i++)
		if (((l->xcr0 | l->xss) >> i) & 1)
			print_comp(c, l, i);
	printf("\nstandard size  (XSAVE/XSAVEOPT; XCR0):        %6u (0x%x)\n", l->std_size,
	       l->std_size);
	printf("compacted size (XSAVEC/XSAVES; XCR0 | XSS):  %6u (0x%x)\n", l->cmp_size,
	       l->cmp_size);
	printf("instructions:  xsaveopt %s, xsavec %s, xsaves %s, xfd %s\n",
	       yes_no(c->insns & XSTATE_HAS_XSAVEOPT), yes_no(c->insns & XSTATE_HAS_XSAVEC),
	       yes_no(c->insns & XSTATE_HAS_XSAVES), yes_no(c->insns & XSTATE_HAS_XFD));
}

/* What CPUID says of component i, for an error naming it. */
static void print_comp_cpuid(FILE *f, const struct xstate_cpuid *c, int i)
{
	const struct xstate_comp *k = &c->comp[i];

	fprintf(f, "%s: CPUID.(0xD,%d) gives size %u, standard offset %u, %s%s%s\n",
		comp_label((unsigned)i), i, k->size, k->offset,
		k->supervisor ? "supervisor" : "user", k->align64 ? ", 64-byte aligned" : "",
		k->xfd ? ", XFD" : "");
}

/*
 * Components the dump enumerates without a size: each named on stderr.
 * Returns their mask (the kernel's choice leaves them out).
 */
static uint64_t report_contradictions(const struct xstate_cpuid *c, const char *path)
{
	uint64_t bad = xstate_cpuid_unsized(c);

	for (unsigned i = 2; i < XSTATE_MAX; i++) {
		const struct xstate_comp *k = &c->comp[i];
		bool zero = !k->size && !k->offset && !k->supervisor && !k->align64 && !k->xfd;

		if (!(bad & XFEAT_BIT(i)))
			continue;
		fprintf(stderr,
			"xstate-layout: %s: self-contradictory: CPUID.(0xD,%u).%s bit %u enumerates "
			"%s, but CPUID.(0xD,%u) %s; the kernel's choice leaves it out\n",
			path, (c->user_mask & XFEAT_BIT(i)) ? 0 : 1,
			(c->user_mask & XFEAT_BIT(i)) ? "EAX" : "ECX", i, comp_label(i), i,
			zero ? "is all zero (or missing from the dump)"
			     : "gives it no size (EAX = 0)");
	}
	return bad;
}

/* (0xD,0).ECX against our standard size for all supported user bits. */
static int check_dump(const struct xstate_cpuid *c, uint64_t contradictions)
{
	struct xstate_layout all;
	const char *why;
	int ret = 0;

	if (contradictions) {
		printf("dump check:    skipped: the dump contradicts itself about XCR0/IA32_XSS "
		       "bits 0x%" PRIx64 " (see the errors)\n",
		       contradictions);
		ret = 1;
	} else if (xstate_layout_compute(c, c->user_mask, 0, &all, &why)) {
		int bad = xstate_layout_bad_comp(c, c->user_mask, 0);

		printf("dump check:    cannot lay out all supported user bits 0x%" PRIx64 ": %s\n",
		       c->user_mask, why);
		if (bad >= 0)
			print_comp_cpuid(stdout, c, bad);
		ret = 1;
	} else {
		ret = all.std_size != c->max_std_size;
		printf("dump check:    CPUID.(0xD,0).ECX = %u, standard size for all supported user "
		       "bits (0x%" PRIx64 ") = %u: %s\n",
		       c->max_std_size, c->user_mask, all.std_size, ret ? "MISMATCH" : "match");
	}
	printf("note:          CPUID.(0xD,0).EBX = %u and CPUID.(0xD,1).EBX = %u are the sizes for\n"
	       "               the XCR0 and IA32_XSS the dumped OS had set, not for this choice\n",
	       c->cur_std_size, c->cur_cmp_size);
	return ret;
}

/* Why compute failed, with the bits at fault when they are unsupported ones. */
static void report_bad_choice(const struct xstate_cpuid *c, const struct opts *o, const char *why)
{
	uint64_t bad_xcr0 = o->xcr0 & ~c->user_mask, bad_xss = o->xss & ~c->sup_mask;
	int bad = xstate_layout_bad_comp(c, o->xcr0, o->xss);

	fprintf(stderr, "xstate-layout: XCR0 0x%" PRIx64 ", IA32_XSS 0x%" PRIx64 ": %s%s%s\n",
		o->xcr0, o->xss, why, bad >= 0 ? ": " : "",
		bad >= 0 ? comp_label((unsigned)bad) : "");
	if (bad >= 0) {
		fprintf(stderr, "xstate-layout: ");
		print_comp_cpuid(stderr, c, bad);
	}
	if (bad_xcr0 || bad_xss)
		fprintf(stderr,
			"xstate-layout: bits outside the CPU's masks: XCR0 0x%" PRIx64
			", IA32_XSS 0x%" PRIx64 " (supported: XCR0 0x%" PRIx64
			", IA32_XSS 0x%" PRIx64 ")\n",
			bad_xcr0, bad_xss, c->user_mask, c->sup_mask);
}

static const char *xss_origin(const struct xstate_cpuid *c, const struct opts *o)
{
	if (o->have_xss)
		return "--xss";
	if (!o->pasid)
		return "kernel's choice";
	if (!(c->sup_mask & XFEAT_BIT(XFEAT_PASID)))
		return "kernel's choice, pasid=xstate, but no PASID state on this CPU";
	return "kernel's choice, pasid=xstate";
}

static int run(struct opts *o)
{
	struct cpuid_dump d;
	struct xstate_cpuid c;
	struct xstate_layout l;
	const char *why;
	char err[512];
	uint64_t contradictions;
	int ret = 1;

	if (cpuid_dump_load(&d, o->path, err, sizeof(err))) {
		fprintf(stderr, "xstate-layout: %s\n", err);
		goto out;
	}
	xstate_cpuid_read(&c, cpuid_dump_cpuid, &d);
	if (!c.xsave) {
		fprintf(stderr,
			"xstate-layout: %s: no XSAVE (CPUID.1:ECX[26] clear, or the "
			"maximum basic leaf is below 0xD)\n",
			o->path);
		goto out;
	}
	contradictions = report_contradictions(&c, o->path);
	if (!o->have_xcr0)
		o->xcr0 = xstate_choose_xcr0(&c);
	if (!o->have_xss)
		o->xss = xstate_choose_xss(&c, o->pasid);
	if (xstate_layout_compute(&c, o->xcr0, o->xss, &l, &why)) {
		report_bad_choice(&c, o, why);
		goto out;
	}
	printf("dump:          %s\n", o->path);
	printf("supported:     XCR0 0x%" PRIx64 ", IA32_XSS 0x%" PRIx64 "\n", c.user_mask,
	       c.sup_mask);
	printf("chosen:        XCR0 0x%" PRIx64 " (%s), IA32_XSS 0x%" PRIx64 " (%s)\n", o->xcr0,
	       o->have_xcr0 ? "--xcr0" : "kernel's choice", o->xss, xss_origin(&c, o));
	print_layout(&c, &l);
	ret = check_dump(&c, contradictions);
out:
	cpuid_dump_free(&d);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int r = parse_args(argc, argv, &o);

	if (r) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	return run(&o);
}
