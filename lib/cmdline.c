/*
 * Boot switch parsing (see cmdline.h). The parser is pure; the kernel glue
 * at the bottom walks the .switches section.
 */
#include "lib/cmdline.h"
#include "lib/string.h"
#include "lib/fmt.h"

static bool parse_i64(const char *s, size_t len, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (len && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i++;
	}
	if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static bool token_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !strncmp(s, word, len);
}

static bool parse_bool(const char *v, size_t len, int *out)
{
	static const char *const yes[] = { "on", "1", "yes", "true" };
	static const char *const no[] = { "off", "0", "no", "false" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (token_eq(v, len, yes[i])) {
			*out = 1;
			return true;
		}
		if (token_eq(v, len, no[i])) {
			*out = 0;
			return true;
		}
	}
	return false;
}

struct strbuf {
	char *buf;
	size_t size, used;
};

static const char *strbuf_add(struct strbuf *sb, const char *s, size_t len)
{
	if (sb->used + len + 1 > sb->size)
		return NULL;
	char *p = sb->buf + sb->used;

	memcpy(p, s, len);
	p[len] = '\0';
	sb->used += len + 1;
	return p;
}

/* Applies one value; returns a warning message or NULL. */
static const char *apply_value(struct kswitch *s, const char *v, size_t vlen, bool bare,
			       struct strbuf *sb)
{
	switch (s->type) {
	case SW_BOOL: {
		int b = 1;

		if (!bare && !parse_bool(v, vlen, &b))
			return "expects on or off";
		*(bool *)s->var = b;
		return NULL;
	}
	case SW_INT: {
		int64_t x;

		if (bare || !parse_i64(v, vlen, &x))
			return "expects a number";
		if (x < s->min || x > s->max)
			return "value out of range";
		*(int *)s->var = (int)x;
		return NULL;
	}
	case SW_ENUM:
		if (bare)
			return "expects a value";
		for (int i = 0; s->choices[i]; i++) {
			if (token_eq(v, vlen, s->choices[i])) {
				*(int *)s->var = i;
				return NULL;
			}
		}
		return "unknown choice";
	case SW_STRING: {
		const char *copy = strbuf_add(sb, bare ? "" : v, bare ? 0 : vlen);

		if (!copy)
			return "command line too long";
		*(const char **)s->var = copy;
		return NULL;
	}
	}
	return "bad switch type";
}

int cmdline_parse(const char *cmdline, struct kswitch *sw, size_t n, char *strbuf,
		  size_t strbuf_size, cmdline_warn_fn warn)
{
	struct strbuf sb = { strbuf, strbuf_size, 0 };
	int warnings = 0;
	const char *p = cmdline;
	bool first = true;

	while (p && *p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *tok = p;

		while (*p && *p != ' ' && *p != '\t')
			p++;
		size_t len = (size_t)(p - tok);

		/* Some loaders pass the kernel's own path as the first word. */
		if (first && tok[0] == '/') {
			first = false;
			continue;
		}
		first = false;

		const char *eq = memchr(tok, '=', len);
		size_t klen = eq ? (size_t)(eq - tok) : len;
		const char *val = eq ? eq + 1 : tok + len;
		size_t vlen = eq ? len - klen - 1 : 0;
		char key[48], value[80];

		strlcpy(key, "", sizeof(key));
		if (klen < sizeof(key)) {
			memcpy(key, tok, klen);
			key[klen] = '\0';
		}
		size_t vcopy = vlen < sizeof(value) - 1 ? vlen : sizeof(value) - 1;

		memcpy(value, val, vcopy);
		value[vcopy] = '\0';

		struct kswitch *s = NULL;

		for (size_t i = 0; i < n; i++) {
			if (token_eq(tok, klen, sw[i].name)) {
				s = &sw[i];
				break;
			}
		}
		if (!s) {
			warn("unknown switch", key, value);
			warnings++;
			continue;
		}
		const char *msg = apply_value(s, val, vlen, !eq, &sb);

		if (msg) {
			warn(msg, key, value);
			warnings++;
		} else {
			s->given = true;
		}
	}
	return warnings;
}

int kswitch_value(const struct kswitch *s)
{
	return s->type == SW_BOOL ? *(const bool *)s->var : *(const int *)s->var;
}

int kswitch_format(const struct kswitch *s, char *buf, size_t size)
{
	switch (s->type) {
	case SW_BOOL:
		return snprintf(buf, size, "%s=%s", s->name, kswitch_value(s) ? "on" : "off");
	case SW_INT:
		return snprintf(buf, size, "%s=%d", s->name, kswitch_value(s));
	case SW_ENUM:
		return snprintf(buf, size, "%s=%s", s->name, s->choices[kswitch_value(s)]);
	case SW_STRING: {
		const char *v = *(const char **)s->var;

		return snprintf(buf, size, "%s=%s", s->name, v ? v : "");
	}
	}
	return 0;
}
