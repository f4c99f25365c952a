/*
 * Per-CPU trace rings: allocation at each CPU's start-up and the
 * SYS_TRACE commands. The protocol (writer, reader, control) is at the top
 * of lib/trace.c.
 */
#include "kernel/trace.h"
#include "lib/cmdline.h"
#include "kernel/counters.h"
#include "include/uapi/errno.h"
#include "kernel/percpu_area.h"
#include "lib/printk.h"
#include "lib/time.h"
#include "mm/kheap.h"
#include "sched/task.h"
#include "arch/x86/cpu.h"

static bool trace_switch;
KSWITCH_BOOL(trace_switch, "trace", "per-CPU trace rings (SYS_TRACE dumps them)");
static int trace_ring_size = 4096;
KSWITCH_INT(trace_ring_size, "trace_ring", "trace records per CPU (rounded up to a power of two)",
	    64, 1 << 20);

/* Indexed by type; TR_NONE has no name (never recorded). */
static const char *const type_names[NR_TRACE_TYPES] = {
#define TRACE_NAME(id, name) [TR_##id] = name,
	TRACE_LIST(TRACE_NAME)
#undef TRACE_NAME
};

static uint32_t ctl_busy;

static struct trace_ring *ring_alloc(void)
{
	uint64_t size = 64;
	struct trace_ring *r = kmalloc(sizeof(*r));

	while (size < (uint64_t)trace_ring_size)
		size <<= 1;
	if (!r)
		return NULL;
	r->recs = kmalloc(size * sizeof(struct trace_rec));
	if (!r->recs) {
		kfree(r);
		return NULL;
	}
	r->mask = size - 1;
	return r;
}

void trace_init_cpu(void)
{
	if (!trace_switch)
		return;
	struct trace_ring *r = ring_alloc();

	if (!r)
		pr_warn("trace: no memory for cpu %u's ring; it records nothing", this_cpu_id());
	this_cpu_write(trace, r);
}

void trace_init(void)
{
	trace_init_cpu();
	if (!trace_switch)
		return;
	struct trace_ring *r = this_cpu_read(trace);

	pr_info("trace: on, %lu records per CPU", r ? r->mask + 1 : 0);
	WRITE_ONCE(trace_recording, true);
}

/* Copy record idx of r into *out if it is complete (header: Reader). */
static bool read_rec(const struct trace_ring *r, uint64_t idx, struct trace_rec *out)
{
	const struct trace_rec *rec = &r->recs[idx & r->mask];
	/* Acquire: the fields we copy are at least as new as this seq; pairs
	 * with the release store of seq in trace_log(). */
	uint64_t s1 = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);

	out->tsc = READ_ONCE(rec->tsc);
	out->b = READ_ONCE(rec->b);
	out->a = READ_ONCE(rec->a);
	out->type = READ_ONCE(rec->type);
	/* Acquire fence: the field loads complete before seq is read again,
	 * so a writer that started over this slot meanwhile (seq = 0 first)
	 * is seen. Pairs with the seq = 0 store and barrier() before the
	 * field stores in trace_log() (lib/trace.c; TSO keeps their order). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint64_t s2 = READ_ONCE(rec->seq);

	return s1 == idx + 1 && s2 == s1;
}

/* The session's indices still in the ring: [*first, *end). */
static void session_range(const struct trace_ring *r, uint64_t *first, uint64_t *end)
{
	uint64_t head = READ_ONCE(r->head), start = READ_ONCE(r->start);

	*end = head;
	*first = head - start > r->mask + 1 ? head - (r->mask + 1) : start;
}

static void ctl_start(void)
{
	for (uint32_t cpu = 0; cpu < nr_cpus; cpu++) {
		struct trace_ring *r = percpu_of(cpu) ? percpu_of(cpu)->trace : NULL;

		if (r)
			WRITE_ONCE(r->start, READ_ONCE(r->head));
	}
	/* Release: the new starts are stored before recording resumes, so a
	 * writer that sees the flag counts drops against them. Pairs with the
	 * plain read of the flag in trace_active() (lib/trace.h): TSO
	 * keeps trace_log()'s later load of start after it, and the count is
	 * documented as approximate. */
	__atomic_store_n(&trace_recording, true, __ATOMIC_RELEASE);
}

static long ctl_count(enum trace_type type)
{
	struct trace_rec rec;
	long n = 0;

	for (uint32_t cpu = 0; cpu < nr_cpus; cpu++) {
		struct trace_ring *r = percpu_of(cpu) ? percpu_of(cpu)->trace : NULL;
		uint64_t i, end;

		if (!r)
			continue;
		for (session_range(r, &i, &end); i < end; i++)
			n += read_rec(r, i, &rec) && rec.type == type;
	}
	return n;
}

/* TRACE-TASK lines: the names of the tasks alive now, in batches so that
 * the task list's lock is not held while printing. */
static void dump_task_names(void)
{
	static uint32_t tids[16];
	static char names[16][24];
	uint32_t after = 0, n;

	while ((n = task_names_after(after, tids, names, 16)) > 0) {
		for (uint32_t i = 0; i < n; i++)
			pr_info("TRACE-TASK %u %s", tids[i], names[i]);
		after = tids[n - 1];
	}
}

static long ctl_dump(void)
{
	uint64_t incomplete = 0, dropped = counter_sum(CNT_TRACE_DROPPED);
	struct trace_rec rec;
	long n = 0;

	pr_info("TRACE-BEGIN version=1 tsc_khz=%lu cpus=%u", tsc_khz, nr_cpus);
	dump_task_names();
	for (uint32_t cpu = 0; cpu < nr_cpus; cpu++) {
		struct trace_ring *r = percpu_of(cpu) ? percpu_of(cpu)->trace : NULL;
		uint64_t i, end;

		if (!r)
			continue;
		for (session_range(r, &i, &end); i < end; i++) {
			if (!read_rec(r, i, &rec) || rec.type == TR_NONE ||
			    rec.type >= NR_TRACE_TYPES) {
				incomplete++;
				continue;
			}
			pr_info("TRACE %u %lu %s %u %lu", cpu, rec.tsc, type_names[rec.type], rec.a,
				rec.b);
			n++;
		}
	}
	pr_info("TRACE-END records=%ld incomplete=%lu dropped=%lu", n, incomplete, dropped);
	return n;
}

long trace_ctl(long cmd, long arg)
{
	long ret = 0;

	if (cmd < TRACE_START || cmd > TRACE_COUNT)
		return -EINVAL;
	if (cmd == TRACE_COUNT ? arg <= TR_NONE || arg >= NR_TRACE_TYPES : arg != 0)
		return -EINVAL;
	if (!trace_switch)
		return -ENODEV;
	/* Acquire: the previous controller's ring updates are visible; pairs
	 * with the release store that frees ctl_busy below. */
	if (__atomic_exchange_n(&ctl_busy, 1, __ATOMIC_ACQUIRE))
		return -EBUSY;
	switch (cmd) {
	case TRACE_START:
		ctl_start();
		break;
	case TRACE_STOP:
		WRITE_ONCE(trace_recording, false);
		break;
	case TRACE_DUMP:
		WRITE_ONCE(trace_recording, false); /* no new reservations (header) */
		ret = ctl_dump();
		break;
	case TRACE_COUNT:
		ret = ctl_count((enum trace_type)arg);
		break;
	}
	/* Release: pairs with the acquire exchange above. */
	__atomic_store_n(&ctl_busy, 0, __ATOMIC_RELEASE);
	return ret;
}
