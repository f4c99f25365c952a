/*
 * printf-style formatting into a bounded buffer, shared by the kernel, the
 * user library and host tests. Supports the flags "-0+ #", width and
 * precision (also "*"), the length modifiers hh h l ll z t j and the
 * conversions d i u x X o p s c %. Floating point is not supported (the
 * kernel is built with -mgeneral-regs-only).
 */
#pragma once

#include <stdarg.h>
#include "lib/compiler.h"

#ifdef HOST_TEST
#define vsnprintf k_vsnprintf
#define snprintf  k_snprintf
#endif

/* Returns the length the full output would have; writes at most size bytes
 * including the terminating NUL (always terminated when size > 0). */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/*
 * Runs of consecutive values (in the order given) as ranges: 0 1 2 3 8 9
 * -> "0-3,8-9". Always NUL-terminated when size > 0; when the list does not
 * fit, it ends in ",..." after the runs that do. Returns the length.
 */
size_t fmt_ranges(char *buf, size_t size, const uint32_t *v, uint32_t n);
