/*
 * Freestanding string and memory helpers, shared by the kernel, the user
 * library and the host tests (where they are compiled under the k_ prefix
 * so they do not collide with the host libc).
 */
#pragma once

#include "lib/compiler.h"

#ifdef HOST_TEST
#define memcpy	k_memcpy
#define memmove k_memmove
#define memset	k_memset
#define memcmp	k_memcmp
#define memchr	k_memchr
#define strlen	k_strlen
#define strnlen k_strnlen
#define strcmp	k_strcmp
#define strncmp k_strncmp
#define strchr	k_strchr
#define strlcpy k_strlcpy
#endif

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
/* Zero whole pages (bytes a multiple of 8, dst 8-byte aligned). */
void clear_pages(void *dst, size_t bytes);
/* Store v into `words` 8-byte words at dst (8-byte aligned). */
void fill_words(void *dst, uint64_t v, size_t words);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
