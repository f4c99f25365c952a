/*
 * System call numbers and argument conventions, shared with user space
 * (user/lib includes this file).
 *
 * ABI: SYSCALL with the number in RAX, arguments in RDI, RSI, RDX, R10, R8,
 * R9; the result in RAX (negative errno on failure). IPC calls also pass
 * and return their message words in RSI, RDX, R10, R8; a message carrying
 * handles has IPC_HANDLES in the handle argument and its descriptor in R9
 * (include/uapi/handle.h).
 * Objects are named only by handles; there is no global name.
 */
#pragma once

#define SYS_EXIT 0 /* (code) the whole process */
#define SYS_SPAWN \
	1		     /* (name, name_len, arg, arg_len, const struct spawn_handle *,
			      * count) -> pid (include/uapi/handle.h) */
#define SYS_WAIT	   2 /* (pid, int *code) */
#define SYS_THREAD_CREATE  3 /* (entry, stack_top, arg) -> tid */
#define SYS_THREAD_EXIT	   4 /* (code) */
#define SYS_THREAD_JOIN	   5 /* (tid, int *code) */
#define SYS_YIELD	   6
#define SYS_SLEEP	   7 /* (ns) */
#define SYS_SET_AFFINITY   8 /* (tid or 0, const uint64_t *mask, mask_bytes) */
#define SYS_GET_CPU	   9
#define SYS_MAP		   10 /* (addr hint, len, prot, flags) -> addr */
#define SYS_UNMAP	   11 /* (addr, len) */
#define SYS_PROTECT	   12 /* (addr, len, prot) */
#define SYS_FUTEX_WAIT	   13 /* (uaddr, expected, timeout_ns) */
#define SYS_FUTEX_WAKE	   14 /* (uaddr, count) -> woken */
#define SYS_EP_CREATE	   15 /* () -> handle to a new endpoint, every right */
#define SYS_HANDLE_DUP	   16 /* (handle, rights or 0) -> a new handle, those rights */
#define SYS_HANDLE_CLOSE   17 /* (handle) */
#define SYS_IPC_CALL	   18 /* (handle, m0..m3, xfer) -> status, message */
#define SYS_IPC_REPLY_RECV 19 /* (handle, m0..m3, xfer) -> caller tid, message */
#define SYS_IPC_RECV	   20 /* (handle) -> caller tid, message */
#define SYS_CONSOLE_WRITE  21 /* (buf, len) */
#define SYS_CLOCK	   22 /* -> ns since boot */
#define SYS_COUNTERS	   23 /* (uint64_t *out, count, cpu or -1) -> count */
#define SYS_COUNTER_NAME   24 /* (index, char *buf, len) */
#define SYS_GETPID	   25
#define SYS_GETTID	   26
#define SYS_NR_CPUS	   27
#define SYS_KILL	   28 /* (pid): only the caller or its children */
#define SYS_KINFO	   29 /* (what, char *buf, len): kernel strings */
#define SYS_TSC_KHZ	   30
#define SYS_TEST	   31 /* (op, a, b, c): test-only hooks */
#define SYS_IPC_REPLY	   32 /* (handle, m0..m3, xfer): reply, do not wait */
#define SYS_PASID_BIND	   33 /* -> the mm's PASID (allocated if it had none) */
#define SYS_PASID_UNBIND   34 /* drop the mm's PASID */
#define SYS_MEMBARRIER	   35 /* (cmd, flags): Linux's commands (kernel/membarrier.h) */
#define SYS_XSTATE_PERM	   36 /* (cmd, features): AMX permission (include/uapi/xstate.h) */
#define SYS_TRACE	   37 /* (cmd, arg): trace rings (include/uapi/trace_records.h) */
#define SYS_HANDLE_INFO	   38 /* (handle) -> type << 16 | rights */
#define SYS_MO_CREATE	   39 /* (pages) -> handle to a new memory object */
#define SYS_MO_MAP	   40 /* (handle, addr hint, prot) -> addr (kernel/shm.c) */
#define SYS_MO_REVOKE	   41 /* (handle, flags) -> address spaces it was mapped in */
#define SYS_IRQ_CREATE	   42 /* (hwres handle, line) -> IRQ handle (kernel/irq_obj.c) */
#define SYS_IRQ_WAIT	   43 /* (handle, timeout_ns or 0) -> interrupts since the last wait */
#define SYS_IRQ_ACK	   44 /* (handle): unmask the line */
#define SYS_IOPORT_CREATE  45 /* (hwres handle, base, count) -> I/O port handle (kernel/ioport.c) */
#define SYS_IOPORT_ENABLE  46 /* (handle, on): the ports usable by this process or not */
#define NR_SYSCALLS	   47

/* SYS_KINFO selectors. */
#define KINFO_CONFIG	  0 /* the active boot switches, "pti=on pcid=..." */
#define KINFO_CMDLINE	  1 /* the kernel command line */
#define KINFO_LOG	  2 /* the newest len bytes of the kernel log ring */
#define KINFO_PLATFORM	  3 /* "qemu", "bochs" or "hardware" */
#define KINFO_BOOT_REPORT 4 /* the boot report as printed at boot (kernel/boot_report.c) */

/* map() prot and flags (same values as mm/mm.h). */
#define UPROT_READ    1
#define UPROT_WRITE   2
#define UPROT_EXEC    4
#define UMAP_FIXED    1
#define UMAP_POPULATE 2

/* mo_revoke() flags. */
#define MO_DECOMMIT 1 /* the mappings stay; the next touch gets fresh pages */
