/*
 * User-level tests: each test runs in its own process (init spawns
 * "utest <name>"), so a test that crashes, hangs a thread or leaks cannot
 * disturb the next. A test passes when it made at least one check and
 * none failed; the process's exit code tells init.
 */
#pragma once

#include "user/lib/ulib.h"
#include "include/uapi/test.h"

/* Error numbers the handle tests compare with (include/uapi/errno.h). */
#define EBADF_	    9
#define EACCES_	    13
#define EMFILE_	    24
#define EPROTOTYPE_ 91
#define ESHUTDOWN_  108

/* What init gives tests named serial_*, irq_*, ioport_* (user/init/init.c):
 * the hardware resource, the serial driver's service endpoint (send and a
 * receive copy) and its control endpoint (send). */
#define DEV_RES	     SPAWN_HANDLE(0)
#define DEV_SVC	     SPAWN_HANDLE(1)
#define DEV_SVC_RECV SPAWN_HANDLE(2)
#define DEV_CTL	     SPAWN_HANDLE(3)

extern int ut_failures, ut_checks;

void ut_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ut_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define T_EXPECT(cond)                                                     \
	({                                                                 \
		bool __ok = !!(cond);                                      \
		ut_checks++;                                               \
		if (!__ok)                                                 \
			ut_fail(__FILE__, __LINE__, "expected %s", #cond); \
		__ok;                                                      \
	})

#define T_EQ(a, b)                                                                             \
	({                                                                                     \
		long __a = (long)(a), __b = (long)(b);                                         \
		bool __ok = __a == __b;                                                        \
		ut_checks++;                                                                   \
		if (!__ok)                                                                     \
			ut_fail(__FILE__, __LINE__, "%s == %s: %ld != %ld", #a, #b, __a, __b); \
		__ok;                                                                          \
	})

/* Spawn "utest <role> <args>" and return its exit code (or -1). */
int run_child(const char *role_and_args);
/* Start a child without waiting. */
int start_child(const char *role_and_args);
/* Start a child with handle h as its SPAWN_HANDLE(0): how is SPAWN_MOVE
 * (the handle itself) or the rights of a copy. */
int start_child_h(const char *role_and_args, int h, uint32_t how);
uint64_t counter(const char *name);
/* A call that may end in a diverted fault (user/utest/faultcatch.S): arm
 * SYST_FAULT_CATCH with fc_catch, a catch stack and a record, clear the
 * record's busy word, then fc_run(body, on_fault) returns body's value, or
 * on_fault(record)'s when a fault in body was diverted. */
uint64_t fc_run(uint64_t (*body)(void), uint64_t (*on_fault)(const struct syst_fault_rec *));
void fc_catch(void);
/* key=N from the test's argument, else from the kernel command line, else
 * dflt. */
uint64_t ut_param(const char *arg, const char *key, uint64_t dflt);
/* A CPU feature by its kernel name (arch/x86/cpufeature.h), e.g. "smap". */
bool ut_cpu_has(const char *name);
/* Threads of ours spinning in user mode, one on each of CPUs 1..k (pins
 * the caller to CPU 0); returns once all of them are running. */
void spinners_start(int k, int *tids);
void spinners_stop(int k, const int *tids);

/* Kernel memory in use (t_proc.c): free plus slab frames plus kernel
 * page tables, heap bytes, vmalloc pages, live processes. How many slabs a
 * cache keeps depends on the order objects were freed in (what they hold
 * is counted by heap); kernel page tables for vmalloc space are kept once
 * created. Everything else must come back exactly. */
struct usage {
	long frames, heap, vmalloc, procs;
	long dying; /* exited tasks whose stacks are not freed yet */
};
struct usage usage_now(void);
/* usage_now() once it equals *want (dead tasks' stacks go back through the
 * reaper); want NULL: once no task is dying and two readings 100 ms apart
 * agree. At most 60 s (a hang bound). */
struct usage usage_settled(const struct usage *want);
/* The first place needle occurs in hay, or NULL (strstr). */
const char *ut_find(const char *hay, const char *needle);
/* Kernel objects and handles alive (SYST_KOBJS, SYST_HANDLES). */
struct objects {
	long kobjs, handles;
};
struct objects objects_now(void);
/* The leak check of the torture tests: memory as usage_settled() finds it
 * equal to *before, and kernel objects and handles exactly as *objs. */
void usage_expect_back(const struct usage *before, const struct objects *objs);

#include "user/utest/list.h"

#define UTEST_DECLARE(name) void t_##name(const char *arg);
UTEST_LIST(UTEST_DECLARE)
ROLE_LIST(UTEST_DECLARE)
#undef UTEST_DECLARE
