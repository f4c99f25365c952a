/*
 * printf-style formatting (see fmt.h). Pure: no locks, no allocation, safe
 * from any context including NMI.
 */
#include "lib/fmt.h"
#include "lib/string.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters produced so far, including dropped ones */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

enum {
	F_LEFT = 1,
	F_ZERO = 2,
	F_PLUS = 4,
	F_SPACE = 8,
	F_ALT = 16,
};

static void put_number(struct out *o, unsigned long long v, bool negative, unsigned base,
		       bool upper, int flags, int width, int prec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	char sign = 0;
	const char *prefix = "";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (prec == 0 && n == 1 && tmp[0] == '0')
		n = 0;

	if (negative)
		sign = '-';
	else if (flags & F_PLUS)
		sign = '+';
	else if (flags & F_SPACE)
		sign = ' ';
	if (flags & F_ALT) {
		if (base == 16)
			prefix = upper ? "0X" : "0x";
		else if (base == 8)
			prefix = "0";
	}

	int zeros = prec > n ? prec - n : 0;
	int body = n + zeros + (sign ? 1 : 0) + (int)strlen(prefix);

	if (!(flags & F_LEFT) && (flags & F_ZERO) && prec < 0) {
		zeros += width > body ? width - body : 0;
		body = width > body ? width : body;
	}
	if (!(flags & F_LEFT))
		pad(o, ' ', width - body);
	if (sign)
		put(o, sign);
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (flags & F_LEFT)
		pad(o, ' ', width - body);
}

static void put_string(struct out *o, const char *s, int flags, int width, int prec)
{
	if (!s)
		s = "(null)";
	int n = (int)(prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));

	if (!(flags & F_LEFT))
		pad(o, ' ', width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (flags & F_LEFT)
		pad(o, ' ', width - n);
}

static int parse_flags(const char **fmt)
{
	int flags = 0;

	for (;; (*fmt)++) {
		switch (**fmt) {
		case '-':
			flags |= F_LEFT;
			break;
		case '0':
			flags |= F_ZERO;
			break;
		case '+':
			flags |= F_PLUS;
			break;
		case ' ':
			flags |= F_SPACE;
			break;
		case '#':
			flags |= F_ALT;
			break;
		default:
			return flags;
		}
	}
}

static int parse_int(const char **fmt, va_list *ap, int *flags)
{
	int v = 0;

	if (**fmt == '*') {
		(*fmt)++;
		v = va_arg(*ap, int);
		if (v < 0 && flags) {
			*flags |= F_LEFT;
			v = -v;
		}
		return v;
	}
	while (**fmt >= '0' && **fmt <= '9')
		v = v * 10 + (*(*fmt)++ - '0');
	return v;
}

/* Length modifier, as the number of bytes of the argument. */
static int parse_length(const char **fmt)
{
	switch (**fmt) {
	case 'h':
		(*fmt)++;
		if (**fmt == 'h') {
			(*fmt)++;
			return 1;
		}
		return 2;
	case 'l':
		(*fmt)++;
		if (**fmt == 'l')
			(*fmt)++;
		return 8;
	case 'z':
	case 't':
	case 'j':
		(*fmt)++;
		return 8;
	default:
		return 4;
	}
}

static unsigned long long get_unsigned(va_list *ap, int len)
{
	switch (len) {
	case 1:
		return (unsigned char)va_arg(*ap, unsigned int);
	case 2:
		return (unsigned short)va_arg(*ap, unsigned int);
	case 4:
		return va_arg(*ap, unsigned int);
	default:
		return va_arg(*ap, unsigned long long);
	}
}

static long long get_signed(va_list *ap, int len)
{
	switch (len) {
	case 1:
		return (signed char)va_arg(*ap, int);
	case 2:
		return (short)va_arg(*ap, int);
	case 4:
		return va_arg(*ap, int);
	default:
		return va_arg(*ap, long long);
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { buf, size, 0 };
	va_list ap;

	va_copy(ap, ap_in);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		int flags = parse_flags(&fmt);
		int width = parse_int(&fmt, &ap, &flags);
		int prec = -1;

		if (*fmt == '.') {
			fmt++;
			prec = parse_int(&fmt, &ap, NULL);
			if (prec < 0)
				prec = -1;
		}
		int len = parse_length(&fmt);
		char conv = *fmt ? *fmt++ : '\0';

		switch (conv) {
		case 'd':
		case 'i': {
			long long v = get_signed(&ap, len);
			unsigned long long mag =
				v < 0 ? -(unsigned long long)v : (unsigned long long)v;

			put_number(&o, mag, v < 0, 10, false, flags, width, prec);
			break;
		}
		case 'u':
			put_number(&o, get_unsigned(&ap, len), false, 10, false, flags, width,
				   prec);
			break;
		case 'x':
		case 'X':
			put_number(&o, get_unsigned(&ap, len), false, 16, conv == 'X', flags, width,
				   prec);
			break;
		case 'o':
			put_number(&o, get_unsigned(&ap, len), false, 8, false, flags, width, prec);
			break;
		case 'p':
			put_number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false,
				   flags | F_ALT, width, prec);
			break;
		case 's':
			put_string(&o, va_arg(ap, const char *), flags, width, prec);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);

			if (!(flags & F_LEFT))
				pad(&o, ' ', width - 1);
			put(&o, c);
			if (flags & F_LEFT)
				pad(&o, ' ', width - 1);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			break;
		default:
			/* Unknown conversion: print it verbatim so the bug is visible. */
			put(&o, '%');
			put(&o, conv);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

size_t fmt_ranges(char *buf, size_t size, const uint32_t *v, uint32_t n)
{
	static const char more[] = ",...";
	size_t used = 0;

	if (!size)
		return 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i;
		char piece[32];

		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		int len = j == i ? snprintf(piece, sizeof(piece), "%s%u", i ? "," : "", v[i])
				 : snprintf(piece, sizeof(piece), "%s%u-%u", i ? "," : "", v[i],
					    v[j]);
		/* Room for this piece, and for ",..." unless it is the last. */
		size_t need = (size_t)len + (j + 1 < n ? sizeof(more) - 1 : 0);

		if (used + need >= size) {
			if (used + sizeof(more) - 1 < size)
				used += (size_t)snprintf(buf + used, size - used, "%s", more);
			return used;
		}
		used += (size_t)snprintf(buf + used, size - used, "%s", piece);
		i = j + 1;
	}
	return used;
}
