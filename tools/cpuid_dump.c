/*
 * CPUID dump files (host only; see cpuid_dump.h for the format). The input
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

#define CPUID_DUMP_MAX_RECS 4096 /* a full dump of one CPU is ~100 records */

enum line_kind { LINE_SKIP, LINE_RECORD, LINE_SECTION, LINE_END, LINE_BAD };

struct parser {
	const char *path;
	unsigned long lineno;
	char *err;
	size_t errlen;
};

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

static enum line_kind classify(const char *s)
{
	if (*s == '\0' || *s == '#')
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
static int parse_record(struct parser *p, const char *s, struct cpuid_rec *r)
{
	static const char *const reg_names[4] = { "EAX", "EBX", "ECX", "EDX" };

	if (!starts_with(s, "CPUID "))
		return fail(p, "not a CPUID record (expected \"CPUID <leaf>: EAX-EBX-ECX-EDX\")");
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

int cpuid_dump_load(struct cpuid_dump *d, const char *path, char *err, size_t errlen)
{
	struct parser p = { .path = path, .lineno = 0, .err = err, .errlen = errlen };
	FILE *f;
	int ret;

	d->recs = NULL;
	d->n = d->cap = 0;
	if (errlen)
		err[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return fail(&p, "cannot open: %s", strerror(errno));
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
