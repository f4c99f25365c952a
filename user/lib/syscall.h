/*
 * Raw system calls (ABI in include/uapi/syscalls.h).
 */
#pragma once

#include <stdint.h>
#include "include/uapi/syscalls.h"

static inline long syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
}

#define syscall0(n)		syscall6(n, 0, 0, 0, 0, 0, 0)
#define syscall1(n, a)		syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define syscall2(n, a, b)	syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define syscall3(n, a, b, c)	syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define syscall4(n, a, b, c, d) syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* IPC: message words travel in RSI, RDX, R10, R8 both ways; R9 is the
 * handle-transfer descriptor when handle has IPC_HANDLES (else ignored:
 * a plain call does not set it). */
static inline long ipc_syscall_x(long nr, long handle, uint64_t msg[4], uint64_t xfer)
{
	long ret;
	register uint64_t r10 __asm__("r10") = msg[2];
	register uint64_t r8 __asm__("r8") = msg[3];
	uint64_t m0 = msg[0], m1 = msg[1];

	if (__builtin_constant_p(xfer) && xfer == 0) {
		__asm__ __volatile__("syscall"
				     : "=a"(ret), "+S"(m0), "+d"(m1), "+r"(r10), "+r"(r8)
				     : "a"(nr), "D"(handle)
				     : "rcx", "r11", "r9", "memory");
	} else {
		register uint64_t r9 __asm__("r9") = xfer;

		__asm__ __volatile__("syscall"
				     : "=a"(ret), "+S"(m0), "+d"(m1), "+r"(r10), "+r"(r8), "+r"(r9)
				     : "a"(nr), "D"(handle)
				     : "rcx", "r11", "memory");
	}
	if (ret >= 0) {
		msg[0] = m0;
		msg[1] = m1;
		msg[2] = r10;
		msg[3] = r8;
	}
	return ret;
}

static inline long ipc_syscall(long nr, long handle, uint64_t msg[4])
{
	return ipc_syscall_x(nr, handle, msg, 0);
}
