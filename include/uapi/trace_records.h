/*
 * Trace event types and the SYS_TRACE commands, shared with user space
 * (user/utest includes this file) and, by name, with tools/trace2chrome.py.
 *
 * The list is an X-macro so that the numbers user space passes to
 * TRACE_COUNT and the names the dump prints cannot drift apart. Append
 * only: a test names a type by its number.
 *
 * Arguments of each type (a: 32 bits, b: 64 bits):
 *   ctx_switch        a = prev tid,       b = next tid
 *   ipi_send          a = kind (TRIPI_*), b = target CPU
 *   ipi_recv          a = kind (TRIPI_*), b = 0
 *   tlb_flush_full    a = reason (TRFULL_*), b = 0
 *   tlb_flush_pages   a = pages,          b = first address
 *   tlb_shootdown     a = CPUs IPI'd,     b = the request's new generation
 *   lazy_enter        a = 0,              b = 0
 *   lazy_leave        a = how (TRLAZY_*), b = 1 if it flushed (caught up)
 *   pti_flush_full    a = 0,              b = 0 (deferred user flush, whole PCID)
 *   pti_flush_precise a = pages,          b = 0 (queued INVLPGs after the CR3 load)
 *   kflush_catchup    a = how (TRKF_*),   b = the kernel generation reached
 *   xfd_fault         a = IA32_XFD_ERR,   b = tid
 *   pasid_resync      a = the IA32_PASID value loaded, b = tid
 */
#pragma once

/* clang-format off */
#define TRACE_LIST(X)                                  \
	X(CTX_SWITCH, "ctx_switch")                    \
	X(IPI_SEND, "ipi_send")                        \
	X(IPI_RECV, "ipi_recv")                        \
	X(TLB_FLUSH_FULL, "tlb_flush_full")            \
	X(TLB_FLUSH_PAGES, "tlb_flush_pages")          \
	X(TLB_SHOOTDOWN, "tlb_shootdown")              \
	X(LAZY_ENTER, "lazy_enter")                    \
	X(LAZY_LEAVE, "lazy_leave")                    \
	X(PTI_FLUSH_FULL, "pti_flush_full")            \
	X(PTI_FLUSH_PRECISE, "pti_flush_precise")      \
	X(KFLUSH_CATCHUP, "kflush_catchup")            \
	X(XFD_FAULT, "xfd_fault")                      \
	X(PASID_RESYNC, "pasid_resync")
/* clang-format on */

enum trace_type {
	TR_NONE = 0, /* never recorded */
#define TRACE_ENUM(id, name) TR_##id,
	TRACE_LIST(TRACE_ENUM)
#undef TRACE_ENUM
		NR_TRACE_TYPES
};

/* ipi_send / ipi_recv kinds (the vector's purpose). */
#define TRIPI_CALL    0 /* call-function (TLB shootdowns, PASID, membarrier, ...) */
#define TRIPI_RESCHED 1
#define TRIPI_NMI     2

/* tlb_flush_full reasons: the first three are enum full_reason's values
 * (mm/tlb_policy.h), the counters tlb_full_* name the same reasons. */
#define TRFULL_CEILING	1
#define TRFULL_GEN_GAP	2
#define TRFULL_REQUEST	3
#define TRFULL_ASID_NEW 4
#define TRFULL_NOPCID	5

/* lazy_leave: how the CPU left lazy mode. */
#define TRLAZY_SAME_MM	0 /* a thread of the loaded mm runs again */
#define TRLAZY_OTHER_MM 1 /* a thread of another mm runs */
#define TRLAZY_DROPPED	2 /* the mm was taken away (freed tables, mm freed) */

/* kflush_catchup: how the deferred kernel flush was consumed. */
#define TRKF_PAGES  0 /* INVLPG of the ranges missed, at kernel entry */
#define TRKF_FULL   1 /* whole PCID, at kernel entry */
#define TRKF_SWITCH 2 /* folded into the flush of an address-space switch */

/* SYS_TRACE commands. */
#define TRACE_START 0 /* clear every ring and record (trace=on only) */
#define TRACE_STOP  1 /* stop recording */
#define TRACE_DUMP  2 /* stop, print every ring to the console -> records printed */
#define TRACE_COUNT 3 /* (type) -> records of that type in the rings now */
