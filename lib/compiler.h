/*
 * Compiler helpers shared by the kernel, the user library and host tests.
 * Nothing here touches hardware; every header that wants these includes
 * this one directly.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __packed       __attribute__((packed))
#define __aligned(n)   __attribute__((aligned(n)))
#define __noreturn     __attribute__((noreturn))
#define __section(s)   __attribute__((section(s)))
#define __used	       __attribute__((used))
#define __unused       __attribute__((unused))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define __noinline __attribute__((noinline))

#define ARRAY_SIZE(a)	   (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	   (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a)   ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a)   (((x) & ((__typeof__(x))(a)-1)) == 0)
#define MIN(a, b)	   ((a) < (b) ? (a) : (b))
#define MAX(a, b)	   ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* A compiler-only barrier: orders nothing on the CPU. */
#define barrier() __asm__ __volatile__("" ::: "memory")

/*
 * Single-copy-atomic accesses to a naturally aligned word that another CPU
 * (or an interrupt) may access concurrently. They order nothing by
 * themselves; pair them with an explicit barrier where ordering matters.
 */
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Population count without libgcc (the kernel does not link it). */
static inline unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)
