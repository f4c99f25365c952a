/*
 * Per-CPU trace rings: time-stamped events for a trace viewer. This file
 * is the writer, which every floor calls; kernel/trace.c allocates the
 * rings and serves SYS_TRACE (start, stop, count, dump)
 * (DESIGN.md "Observability and switches"; tools/trace2chrome.py turns a
 * dump into Chrome trace-event JSON for ui.perfetto.dev).
 *
 * Glossary
 *   ring     one per CPU present, allocated by that CPU at its start-up
 *            (trace_init_cpu, only with trace=on): a header and 2^k
 *            records, reached through percpu->trace. Nothing is sized by
 *            NR_CPUS.
 *   record   {tsc, b, a, type, seq}, 32 bytes; seq = index + 1 once the
 *            record is complete, so a reader can tell a finished record
 *            from one being written or overwritten.
 *   head     ring->head: the next index to hand out; slot = index & mask.
 *            Only the owning CPU writes it.
 *   start    ring->start: the first index of the current session (set by
 *            TRACE_START); records below it are ignored by dump and count.
 *   session  from TRACE_START (or boot, with trace=on) to TRACE_STOP or
 *            TRACE_DUMP: trace_recording is true in between.
 *
 * Writer (trace_log, the owning CPU only, any context: thread, IRQ, NMI)
 *   1. idx = XADD(ring->head, 1), without LOCK. One instruction reserves
 *      the slot: an interrupt or NMI arrives before or after it, never in
 *      the middle (SDM Vol. 3A 7.6.1: interrupts are taken on instruction
 *      boundaries), so an IRQ that interrupts a writer gets the next index
 *      and fills its own slot. No other CPU writes head, so no LOCK is
 *      needed. Interrupts are not disabled: that would cost a POPF on every
 *      event and still not keep NMIs out.
 *   2. rec->seq = 0, then the fields, then rec->seq = idx + 1 (release).
 *      Stores become visible to other CPUs in program order (SDM Vol. 3A
 *      9.2.2, x86-TSO); the compiler is held to that order by the release
 *      store and the compiler barrier after seq = 0.
 *   An interrupted writer leaves its slot incomplete until it resumes; the
 *   nested writer's later slot is complete first. Dump order is index
 *   order; the tool sorts by time.
 *
 * Reader (TRACE_DUMP / TRACE_COUNT on any CPU, after recording stopped)
 *   Snapshot head; for each index in [max(start, head - size), head):
 *   s1 = seq (acquire), copy the fields, acquire fence, s2 = seq. Accept
 *   the record only if s1 == s2 == idx + 1. A writer that reserved its slot
 *   before the stop and is still filling it (or one that wrapped onto an
 *   old slot) has set seq to 0 first, so a torn copy is always refused
 *   (counted as "incomplete" in the dump's end line). The reader takes no
 *   lock the writers need; printing takes the console lock per line only.
 *
 * Control (TRACE_START, TRACE_STOP, TRACE_DUMP, TRACE_COUNT)
 *   One caller at a time (ctl_busy; a second concurrent caller gets
 *   -EBUSY). Stop: trace_recording = false. Start: every ring's start =
 *   its head (a read of another CPU's head is a single aligned 8-byte load,
 *   SDM Vol. 3A 9.1.1: it sees the old or the new value), then
 *   trace_recording = true. A writer that still saw the old flag value may
 *   log a few events after a stop; the dump's head snapshot bounds them.
 *
 * Dropped: a record written while the ring already holds size records of
 * this session overwrites the oldest; counted as trace_dropped (the
 * writer's view of start may be stale by one TRACE_START: the count is
 * approximate across a restart, exact within a session).
 */
#include "lib/trace.h"
#include "lib/percpu.h"
#include "include/uapi/counter_ids.h"
#include "arch/cpu.h"

bool trace_recording;

void trace_log(enum trace_type type, uint32_t a, uint64_t b)
{
	struct trace_ring *r = this_cpu_read(trace);
	uint64_t idx = 1;

	if (!r)
		return; /* this CPU has not set up its ring yet */
	/* Reserve: one instruction, so IRQ/NMI-safe on this CPU (header). */
	__asm__ __volatile__("xaddq %0, %1" : "+r"(idx), "+m"(r->head));
	struct trace_rec *rec = &r->recs[idx & r->mask];

	WRITE_ONCE(rec->seq, 0);
	barrier(); /* seq = 0 is stored before the fields (TSO keeps the order) */
	rec->tsc = rdtsc();
	rec->b = b;
	rec->a = a;
	rec->type = (uint16_t)type;
	/* Release: the fields are visible before the record reads complete;
	 * pairs with the acquire loads of seq in read_rec(). */
	__atomic_store_n(&rec->seq, idx + 1, __ATOMIC_RELEASE);
	this_cpu_inc(counters[CNT_TRACE_EVENTS]);
	if (idx - READ_ONCE(r->start) > r->mask)
		this_cpu_inc(counters[CNT_TRACE_DROPPED]);
}
