/*
 * cpu_fuzz's run context, shared by the C side (t_cpufuzz.c, cpufuzz_gen.c)
 * and the assembly that enters and leaves a sequence (cpufuzz_run.S). The
 * offsets are checked against the struct in cpufuzz.h.
 *
 * One context per worker thread, mapped above 4 GiB: far from the
 * sequences' own region, which random code scribbles on, where no 32-bit
 * result lands, and its address in nothing a sequence can read (the
 * epilogue holds it byte-swapped; t_cpufuzz.c):
 *   load[15]   RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8..R15, popped by cf_enter
 *   frame[5]   the IRETQ frame that enters the sequence: RIP, CS, RFLAGS,
 *              RSP, SS (so any flags, TF included, start at its first
 *              instruction)
 *   out[16]    the registers at the sequence's end, same order, RSP last
 *   seen[16]   the registers the fault handler found when the kernel
 *              diverted a fault to it (SYST_FAULT_CATCH)
 *   rec        the kernel's record of that fault
 */
#pragma once

#define CF_LOAD	       0
#define CF_FRAME       120
#define CF_OUT	       160
#define CF_OUT_RSP     (CF_OUT + 15 * 8)
#define CF_OUT_RFLAGS  288
#define CF_OUT_FS      296
#define CF_OUT_GS      304
#define CF_HOST_RSP    312
#define CF_EXIT_FN     320
#define CF_FSGS	       328
#define CF_MXCSR       336
#define CF_SEEN	       344
#define CF_SEEN_RSP    (CF_SEEN + 15 * 8)
#define CF_SEEN_RFLAGS 472
#define CF_REC	       512 /* struct syst_fault_rec, 192 bytes */
#define CF_XMM_IN      704
#define CF_XMM_OUT     960
#define CF_STACK_TOP   1472 /* 256 bytes of stack for the exit path below it */
#define CF_CATCH_TOP   1984 /* 512 bytes for the fault handler below it */
#define CF_SIZE	       1984
