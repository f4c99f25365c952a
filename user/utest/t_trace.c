/*
 * Trace rings (kernel/trace.c; needs trace=on, skips otherwise):
 *   trace_events_recorded  a workload that must switch contexts, send and
 *                          receive IPIs, shoot down and flush the TLB, go
 *                          lazy, resync a PASID and catch up on a kernel
 *                          flush; each of those hooks must have left
 *                          records of its type. Stop must stop, and the
 *                          dump prints exactly what the counts saw (the
 *                          dump on the serial console is what the test
 *                          matrix converts with tools/trace2chrome.py).
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"
#include "include/uapi/trace_records.h"

#define ENODEV_ 19
#define EINVAL_ 22

static long kswitch(const char *name)
{
	return sys_test(SYST_SWITCH, (long)name, (long)strlen(name), 0);
}

static long count(int type)
{
	return trace_ctl(TRACE_COUNT, type);
}

/* Everything the hooks under test mark, with one spinning thread of ours
 * on CPU 1 (pinned there, not lazy: a shootdown must interrupt it). */
static void workload(void)
{
	int tid;
	uint8_t *p = map(NULL, 64 * PAGE_SIZE, UPROT_READ | UPROT_WRITE, UMAP_POPULATE);

	T_EXPECT(!MAP_FAILED(p));
	spinners_start(1, &tid); /* thread creation, sleeps: context switches */
	for (int i = 0; i < 4; i++) {
		p[i * PAGE_SIZE] = 1;
		/* Our mm runs on CPU 1: a shootdown IPI, a page flush there. */
		T_EQ(protect(p + i * PAGE_SIZE, PAGE_SIZE, UPROT_READ), 0);
	}
	/* More pages than flush_ceiling (33 by default): full flushes. */
	T_EQ(protect(p, 64 * PAGE_SIZE, UPROT_READ | UPROT_WRITE), 0);
	/* A PASID change while CPU 1 runs our mm: it resyncs on its way out. */
	T_EXPECT(pasid_bind() > 0);
	T_EQ(pasid_unbind(), 0);
	/* Kernel unmaps while CPU 1 is in user mode: deferred (kflush=defer),
	 * caught up at its next kernel entry (the timer tick during our
	 * sleep), or an IPI (kflush=ipi) that catches up at once. */
	for (int i = 0; i < 3; i++) {
		uint64_t out[2];

		T_EQ(sys_test(SYST_KERNEL_UNMAP, 1, (long)out, 0), 0);
	}
	sleep_ns(50 * 1000 * 1000); /* CPU 0 idles lazily on our mm */
	spinners_stop(1, &tid);
	unmap(p, 64 * PAGE_SIZE);
}

static void expect_type(int type, const char *name, bool must)
{
	long n = count(type);

	ut_note("%-18s %ld", name, n);
	if (must && !T_EXPECT(n > 0))
		ut_note("no %s record: is its hook gone?", name);
}

void t_trace_events_recorded(const char *arg)
{
	(void)arg;
	/* Nonsense is refused before the switch is looked at. */
	T_EQ(trace_ctl(4, 0), -EINVAL_);
	T_EQ(trace_ctl(-1, 0), -EINVAL_);
	T_EQ(trace_ctl(TRACE_START, 1), -EINVAL_);
	T_EQ(trace_ctl(TRACE_COUNT, 0), -EINVAL_);
	T_EQ(trace_ctl(TRACE_COUNT, NR_TRACE_TYPES), -EINVAL_);
	if (trace_ctl(TRACE_STOP, 0) == -ENODEV_) {
		ut_note("SKIP: trace=off");
		exit(3);
	}
	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	uint64_t ev0 = counter("trace_events");

	T_EQ(trace_ctl(TRACE_START, 0), 0);
	workload();
	T_EQ(trace_ctl(TRACE_STOP, 0), 0);
	T_EXPECT(counter("trace_events") > ev0);

	bool pti = kswitch("pti") == 1, precise = kswitch("ptiflush") == 1;

	expect_type(TR_CTX_SWITCH, "ctx_switch", true);
	expect_type(TR_IPI_SEND, "ipi_send", true);
	expect_type(TR_IPI_RECV, "ipi_recv", true);
	expect_type(TR_TLB_SHOOTDOWN, "tlb_shootdown", true);
	expect_type(TR_TLB_FLUSH_PAGES, "tlb_flush_pages", true);
	expect_type(TR_TLB_FLUSH_FULL, "tlb_flush_full", kswitch("flush_ceiling") < 64);
	expect_type(TR_LAZY_ENTER, "lazy_enter", kswitch("lazytlb") == 1);
	expect_type(TR_LAZY_LEAVE, "lazy_leave", kswitch("lazytlb") == 1);
	expect_type(TR_PTI_FLUSH_FULL, "pti_flush_full", pti && !precise);
	expect_type(TR_PTI_FLUSH_PRECISE, "pti_flush_precise", pti && precise);
	expect_type(TR_KFLUSH_CATCHUP, "kflush_catchup", true);
	expect_type(TR_PASID_RESYNC, "pasid_resync", true);
	expect_type(TR_XFD_FAULT, "xfd_fault", false);

	/* Stopped means stopped: more switches, no more records. */
	long sw = count(TR_CTX_SWITCH);

	for (int i = 0; i < 5; i++)
		sleep_ns(1000000);
	T_EQ(count(TR_CTX_SWITCH), sw);

	/* The dump prints what the counts saw, and stops nothing further. */
	long total = 0;

	for (int t = TR_NONE + 1; t < NR_TRACE_TYPES; t++)
		total += count(t);
	long dumped = trace_ctl(TRACE_DUMP, 0);

	T_EQ(dumped, total);
	T_EXPECT(dumped > 0);
	ut_note("%ld records dumped, %lu overwritten so far", dumped, counter("trace_dropped"));
}
