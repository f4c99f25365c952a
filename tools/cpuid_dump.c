/*
 * CPUID dump files (host only; see cpuid_dump.h for the formats). The input
 * is user-supplied: every line is checked, every error names file:line,
 * nothing here aborts. A record is kept only once the whole line parsed.
 */
#include "tools/cpuid_dump.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CPUID_DUMP_MAX_RECS 4096 /* a full dump of one CPU is ~100 records */

#define HWLOC_HEADER	  "# mask e[abcd]x => e[abcd]x"
#define HWLOC_MASK_EAX	  (1u << 0)
#define HWLOC_MASK_ECX	  (1u << 2)
#define HWLOC_MASK_ALL	  0xfu
#define HWLOC_RECORD_HINT "<mask> <eax> <ebx> <ecx> <edx> => <eax> <ebx> <ecx> <edx>"
#define LIBCPUID_REC_HINT "CPUID <leaf>: EAX-EBX-ECX-EDX"

enum line_kind { LINE_SKIP, LINE_RECORD, LINE_SECTION, LINE_END, LINE_BAD };
enum dump_format { FMT_UNKNOWN, FMT_LIBCPUID, FMT_HWLOC };

struct parser {
	const char *path;
	unsigned long lineno;
	char *err;
	size_t errlen;
	enum dump_format format; /* of the first record; the others must match */
};

static const char *const reg_names[4] = { "EAX", "EBX", "ECX", "EDX" };

static __attribute__((format(printf, 2, 3))) int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!p->errlen)
		return -1;
	if (p->lineno)
		n = snprintf(p->err, p->errlen, "%s:%lu: ", p->path, p->lineno);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->path);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Between min and max hex digits at *s; advances *s. */
static bool parse_hex(const char **s, unsigned min, unsigned max, uint32_t *out)
{
	unsigned n = 0;
	uint32_t v = 0;

	while (n < max && hexval((*s)[n]) >= 0) {
		v = v << 4 | (uint32_t)hexval((*s)[n]);
		n++;
	}
	if (n < min || hexval((*s)[n]) >= 0)
		return false;
	*s += n;
	*out = v;
	return true;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "00 01 0A ...": one or more two-digit hex tokens and nothing else. */
static bool is_hex_byte_list(const char *s)
{
	unsigned tokens = 0;

	for (s = skip_space(s); *s; s = skip_space(s)) {
		if (hexval(s[0]) < 0 || hexval(s[1]) < 0 || (s[2] && s[2] != ' ' && s[2] != '\t'))
			return false;
		s += 2;
		tokens++;
	}
	return tokens > 0;
}

static bool is_dash_line(const char *s)
{
	size_t n = strspn(s, "-");

	return n >= 3 && *skip_space(s + n) == '\0';
}

/* hwloc-gather-cpuid's progress lines and warnings on its standard output. */
static bool is_hwloc_chatter(const char *s)
{
	return starts_with(s, "Gathering ") || starts_with(s, "Summary written to ") ||
	       starts_with(s, "WARNING: ");
}

static enum line_kind classify(const char *s)
{
	if (strcmp(s, HWLOC_HEADER) == 0 || starts_with(s, "Gathering CPUID of PU P#"))
		return LINE_SECTION;
	if (*s == '\0' || *s == '#' || is_hwloc_chatter(s))
		return LINE_SKIP;
	if (starts_with(s, "------["))
		return LINE_SECTION;
	if (is_dash_line(s))
		return LINE_END;
	if (is_hex_byte_list(s))
		return LINE_SKIP;
	return LINE_RECORD;
}

/* "[SL 0A]": *s is past "[SL ". */
static bool parse_subleaf(const char **s, uint32_t *subleaf)
{
	*s = skip_space(*s);
	if (!parse_hex(s, 1, 8, subleaf))
		return false;
	*s = skip_space(*s);
	return *(*s)++ == ']';
}

/* "CPUID 0000000D: 000602E7-00002B00-00002B00-00000000 [SL 00] [x87]" */
static int parse_libcpuid_record(struct parser *p, const char *s, struct cpuid_rec *r)
{
	if (!starts_with(s, "CPUID "))
		return fail(p, "not a CPUID record (expected \"" LIBCPUID_REC_HINT "\")");
	s = skip_space(s + 6);
	if (!parse_hex(&s, 8, 8, &r->leaf) || *s++ != ':')
		return fail(p, "expected an 8-digit hex leaf and ':'");
	s = skip_space(s);
	for (unsigned i = 0; i < 4; i++) {
		if (i && *s++ != '-')
			return fail(p, "expected '-' between registers");
		if (!parse_hex(&s, 8, 8, &r->regs[i]))
			return fail(p, "expected 8 hex digits for %s", reg_names[i]);
	}
	s = skip_space(s);
	r->subleaf = 0;
	r->has_subleaf = starts_with(s, "[SL ");
	if (r->has_subleaf) {
		s += 4;
		if (!parse_subleaf(&s, &r->subleaf))
			return fail(p, "malformed subleaf, expected \"[SL <hex>]\"");
		s = skip_space(s);
	}
	if (*s != '\0' && *s != '[')
		return fail(p, "unexpected text after the registers: \"%.20s\"", s);
	return 0;
}

/* One hwloc word: blanks, 1..8 hex digits, then a blank, '=' or the end. */
static bool parse_hwloc_word(const char **s, uint32_t *out)
{
	*s = skip_space(*s);
	if (!parse_hex(s, 1, 8, out))
		return false;
	return **s == '\0' || **s == ' ' || **s == '\t' || **s == '=';
}

/* Four registers into regs; false naming the first one missing in *bad. */
static bool parse_hwloc_regs(const char **s, uint32_t regs[4], const char **bad)
{
	for (unsigned i = 0; i < 4; i++) {
		if (!parse_hwloc_word(s, &regs[i])) {
			*bad = reg_names[i];
			return false;
		}
	}
	return true;
}

/* "5 d 0 9 0 => 8 a80 0 0" (hwloc-gather-cpuid; older versions wrote no
 * blank before "=>") */
static int parse_hwloc_record(struct parser *p, const char *s, struct cpuid_rec *r)
{
	uint32_t mask, in[4];
	const char *bad;

	if (!parse_hwloc_word(&s, &mask))
		return fail(p, "not a CPUID record (expected hwloc's \"" HWLOC_RECORD_HINT "\")");
	if (!parse_hwloc_regs(&s, in, &bad))
		return fail(p, "expected 1..8 hex digits for input %s", bad);
	s = skip_space(s);
	if (!starts_with(s, "=>"))
		return fail(p, "expected \"=>\" after the four input registers");
	s += 2;
	if (!parse_hwloc_regs(&s, r->regs, &bad))
		return fail(p, "expected 1..8 hex digits for output %s", bad);
	if (*skip_space(s) != '\0')
		return fail(p, "unexpected text after the registers: \"%.20s\"", skip_space(s));
	if (!(mask & HWLOC_MASK_EAX) || (mask & ~HWLOC_MASK_ALL))
		return fail(p, "input mask %x: bit 0 (EAX, the leaf) must be set, bits 0..3 only",
			    mask);
	r->leaf = in[0];
	r->has_subleaf = (mask & HWLOC_MASK_ECX) != 0;
	r->subleaf = r->has_subleaf ? in[2] : 0;
	return 0;
}

/* Which format a line looks like; FMT_UNKNOWN if neither. */
static enum dump_format record_format(const char *s)
{
	if (starts_with(s, "CPUID "))
		return FMT_LIBCPUID;
	if (hexval(s[0]) >= 0 && strstr(s, "=>"))
		return FMT_HWLOC;
	return FMT_UNKNOWN;
}

/* A record in either format; every record of a file in the same one. A line
 * like neither is judged as a record of the file's format. */
static int parse_record(struct parser *p, const char *s, struct cpuid_rec *r)
{
	enum dump_format f = record_format(s);

	if (f == FMT_UNKNOWN)
		f = p->format;
	if (f == FMT_UNKNOWN)
		return fail(p, "not a CPUID record (expected \"" LIBCPUID_REC_HINT
			       "\" or hwloc's \"" HWLOC_RECORD_HINT "\")");
	if (p->format != FMT_UNKNOWN && f != p->format)
		return fail(p, "%s record in a %s dump", f == FMT_HWLOC ? "hwloc" : "libcpuid",
			    p->format == FMT_HWLOC ? "hwloc" : "libcpuid");
	if (f == FMT_HWLOC ? parse_hwloc_record(p, s, r) : parse_libcpuid_record(p, s, r))
		return -1;
	p->format = f;
	return 0;
}

static int add_record(struct parser *p, struct cpuid_dump *d, const struct cpuid_rec *r)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->recs[i].leaf == r->leaf && d->recs[i].subleaf == r->subleaf)
			return fail(p, "leaf %08X subleaf %X appears twice", r->leaf, r->subleaf);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct cpuid_rec *recs;

		if (cap > CPUID_DUMP_MAX_RECS)
			return fail(p, "more than %d records", CPUID_DUMP_MAX_RECS);
		recs = realloc(d->recs, cap * sizeof(*recs));
		if (!recs)
			return fail(p, "out of memory");
		d->recs = recs;
		d->cap = cap;
	}
	d->recs[d->n++] = *r;
	return 0;
}

/* Strip the line end and leading blanks; reject NUL bytes inside. */
static const char *clean_line(struct parser *p, char *line, ssize_t len)
{
	if (memchr(line, '\0', (size_t)len)) {
		fail(p, "NUL byte in line (binary file?)");
		return NULL;
	}
	while (len > 0 && isspace((unsigned char)line[len - 1])) /* \n, \r\n, blanks */
		line[--len] = '\0';
	return skip_space(line);
}

/* One line; 1 when the dump ends here, 0 to go on, -1 on error. */
static int parse_line(struct parser *p, struct cpuid_dump *d, const char *s)
{
	struct cpuid_rec r;

	switch (classify(s)) {
	case LINE_SKIP:
		return 0;
	case LINE_SECTION:
		return d->n ? 1 : 0; /* the next logical CPU: keep the first */
	case LINE_END:
		return 1;
	default:
		if (parse_record(p, s, &r) || add_record(p, d, &r))
			return -1;
		return 0;
	}
}

static int parse_stream(struct parser *p, struct cpuid_dump *d, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = 0;

	while (ret == 0 && (len = getline(&line, &cap, f)) >= 0) {
		const char *s;

		p->lineno++;
		s = clean_line(p, line, len);
		ret = s ? parse_line(p, d, s) : -1;
	}
	if (ret == 0 && ferror(f))
		ret = fail(p, "read error: %s", strerror(errno));
	free(line);
	if (ret < 0)
		return -1;
	p->lineno = 0;
	if (d->n == 0)
		return fail(p, "no CPUID records (empty or not a CPUID dump)");
	return 0;
}

static bool is_directory(FILE *f)
{
	struct stat st;

	return fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
}

int cpuid_dump_load(struct cpuid_dump *d, const char *path, char *err, size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen, .format = FMT_UNKNOWN };
	FILE *f;
	int ret;

	d->recs = NULL;
	d->n = d->cap = 0;
	if (errlen)
		err[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return fail(&p, "cannot open: %s", strerror(errno));
	if (is_directory(f)) {
		fclose(f);
		return fail(&p, "a directory (hwloc-gather-cpuid writes one file per CPU in it: "
				"give one of its pu<N> files)");
	}
	ret = parse_stream(&p, d, f);
	fclose(f);
	return ret;
}

void cpuid_dump_free(struct cpuid_dump *d)
{
	free(d->recs);
	d->recs = NULL;
	d->n = d->cap = 0;
}

bool cpuid_dump_find(const struct cpuid_dump *d, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->recs[i].leaf == leaf && d->recs[i].subleaf == subleaf) {
			memcpy(regs, d->recs[i].regs, sizeof(d->recs[i].regs));
			return true;
		}
	}
	memset(regs, 0, 4 * sizeof(regs[0]));
	return false;
}

void cpuid_dump_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4], void *ctx)
{
	cpuid_dump_find(ctx, leaf, subleaf, regs);
}
