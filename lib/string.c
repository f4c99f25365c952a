/*
 * Freestanding string and memory helpers (see string.h).
 *
 * memcpy/memset use "rep movsb/stosb" in the kernel: short, correct for any
 * alignment, and fast on CPUs with ERMS. Host builds use plain loops so
 * that the sanitizers see every access.
 */
#include "lib/string.h"

void *memcpy(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__) && !defined(HOST_TEST)
	void *ret = dst;

	__asm__ __volatile__("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return ret;
#else
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
#endif
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void clear_pages(void *dst, size_t bytes)
{
#if defined(__x86_64__) && !defined(HOST_TEST)
	/* 8 bytes a store: REP STOSQ, as kernels clear pages on CPUs without
	 * fast short REP STOSB (SDM Vol. 1 7.3.9.3; Bochs counts one
	 * instruction per iteration, so a byte loop was 4096 per page). */
	size_t q = bytes / 8;

	__asm__ __volatile__("rep stosq" : "+D"(dst), "+c"(q) : "a"(0ul) : "memory");
#else
	memset(dst, 0, bytes);
#endif
}

void fill_words(void *dst, uint64_t v, size_t words)
{
#if defined(__x86_64__) && !defined(HOST_TEST)
	/* REP STOSQ, for the reason clear_pages gives. */
	__asm__ __volatile__("rep stosq" : "+D"(dst), "+c"(words) : "a"(v) : "memory");
#else
	uint64_t *d = dst;

	while (words--)
		*d++ = v;
#endif
}

void *memset(void *dst, int c, size_t n)
{
#if defined(__x86_64__) && !defined(HOST_TEST)
	void *ret = dst;

	__asm__ __volatile__("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
	return ret;
#else
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
#endif
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	}
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
