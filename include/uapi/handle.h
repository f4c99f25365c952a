/*
 * Handles and rights (user ABI; kernel/handle.c has the protocol).
 *
 * A handle is a small positive int naming a slot of the calling process's
 * handle table together with the slot's generation: bits 0..7 the slot,
 * bits 8..30 the generation (never 0). Closing a slot bumps its
 * generation, so a stale handle (closed, or closed and the slot reused) and
 * a forged one fail with -EBADF; a handle names nothing in any other
 * process. There is no global name space: a handle reaches another process
 * only at spawn (struct spawn_handle) or inside an IPC message.
 *
 * Errors common to every call that takes a handle:
 *   -EBADF       no such handle here (forged, stale, closed)
 *   -EPROTOTYPE  the handle names an object of another type
 *   -EACCES      the handle lacks a right the call needs
 */
#pragma once

#include <stdint.h>

#define HANDLE_SLOT_BITS 8
#define HANDLE_SLOT_MASK ((1u << HANDLE_SLOT_BITS) - 1)
#define HANDLE_GEN_MASK	 0x7fffffu /* 23 bits: handles stay positive ints */

/* Object types (SYS_HANDLE_INFO reports them). */
#define KOBJ_ENDPOINT 1
#define KOBJ_MEMOBJ   2
#define KOBJ_IRQ      3
#define KOBJ_IOPORT   4
#define KOBJ_HWRES    5 /* the hardware resource: creates IRQ and I/O port objects */

/* Rights. A right a type does not use is simply never checked. */
#define R_SEND	    0x001 /* endpoint: ipc_call */
#define R_RECV	    0x002 /* endpoint: ipc_recv, reply_recv, reply */
#define R_GRANT	    0x004 /* endpoint: messages on it may carry handles */
#define R_DUP	    0x008 /* any: handle_dup, or sent/spawned as a copy */
#define R_XFER	    0x010 /* any: may leave the process (moved or copied) */
#define R_MAP_READ  0x020 /* memory object: map readable */
#define R_MAP_WRITE 0x040 /* memory object: map writable */
#define R_REVOKE    0x080 /* memory object: take every mapping back */
#define R_ACK	    0x100 /* IRQ: wait for, acknowledge and raise (test) the interrupt */
#define R_IO	    0x200 /* I/O ports: enable them for this process */
#define R_ALL	    0x3ff

/*
 * Handles in IPC messages. A message carries handles when the endpoint
 * argument (RDI) has IPC_HANDLES set; R9 then holds a transfer descriptor,
 * 16 bits for each message word i (0..3), bits 16i..16i+15:
 *   bit 0      word i is a handle of the sender's to transfer
 *   bit 1      move it (else a copy: the handle needs R_DUP)
 *   bits 2..11 the rights the receiver's handle gets, a subset of the
 *              sender's (0: the same rights)
 *   bits 12..15 zero
 * Without IPC_HANDLES R9 is ignored and the call runs no transfer code at
 * all (the flag fails the plain path's handle range check). The handle
 * leaving needs R_XFER, the endpoint R_GRANT. Moved handles are
 * consumed by the call whether or not the message is delivered (as a
 * Zircon channel write consumes them). The receiver finds its new handle
 * values in those words and their mask in bits 32..35 of the result
 * (IPC_RESULT_TID, IPC_RESULT_HANDLES); a word whose handle could not be
 * installed (the receiver's table full) holds -EMFILE and its bit is clear.
 */
#define IPC_HANDLES		 (1ull << 62)
#define IPC_XFER_COPY(i, r)	 ((uint64_t)(1u | ((uint32_t)(r)&R_ALL) << 2) << (16 * (i)))
#define IPC_XFER_MOVE(i, r)	 ((uint64_t)(3u | ((uint32_t)(r)&R_ALL) << 2) << (16 * (i)))
#define IPC_XFER_FIELD(d, i)	 ((uint32_t)((d) >> (16 * (i))) & 0xffffu)
#define IPC_XFER_VALID		 0x0fff0fff0fff0fffull
#define IPC_RESULT_TID(r)	 ((uint32_t)((uint64_t)(r)&0xffffffffu))
#define IPC_RESULT_HANDLES(r)	 ((uint32_t)((uint64_t)(r) >> 32) & 0xfu)
#define IPC_RESULT_HANDLES_SHIFT 32

/*
 * spawn(name, name_len, arg, arg_len, handles, count): the child starts with
 * count handles, the i-th at SPAWN_HANDLE(i), each a copy (needs R_DUP) or,
 * with SPAWN_MOVE, the parent's handle itself (gone from the parent once
 * the child exists; left with the parent if spawn fails). Each needs
 * R_XFER; the child's rights are the given ones (0: the parent's), a
 * subset of the parent's.
 */
#define SPAWN_MAX_HANDLES 8
#define SPAWN_MOVE	  0x80000000u
struct spawn_handle {
	int32_t handle;
	uint32_t rights; /* R_* | SPAWN_MOVE */
};
#define SPAWN_HANDLE(i) ((int)((1u << HANDLE_SLOT_BITS) | (uint32_t)(i)))

/* SYS_HANDLE_INFO result: type in bits 16..23, rights in bits 0..15. */
#define HANDLE_INFO_TYPE(v)   (((v) >> 16) & 0xff)
#define HANDLE_INFO_RIGHTS(v) ((v)&0xffff)
