#!/usr/bin/env python3
"""With the kernel's compiler flags, a per-CPU value is read again after a call.

  check_percpu_reload.py [--self-test]

Per-CPU data is reached through a null __seg_gs pointer (lib/percpu.h
PERCPU_GS). A task can resume on another CPU after any call that may
switch (switch_to() itself, or a system call that blocks), so a per-CPU
value read before such a call must be read again after it. Without
-fno-delete-null-pointer-checks, GCC 12's pure-const analysis takes a read
through that null pointer for a read of "local or readonly memory" and
declares a helper that does nothing else (this_tlb(), this_rq()) const:
two calls of it are one, across any call in between. So the PTI exit of
the system-call path, inlined into one function with the entry, used
this_tlb() read before the system call (the user CR3 of the CPU the task
had left), and finish_switch() released the run-queue lock of the CPU it
had left (regression switch_resume_releases_the_left_cpus_rq).

This compiles a probe with `make print-kcflags` (the flags every kernel
object is built with) and reads the compiler's output: a helper that
returns this CPU's `tlb` pointer, called before and after an external
call, must be called twice.

The probe is compiled twice: as above, and with the helper marked
__attribute__((optimize("omit-frame-pointer"))), as kernel/syscall.c's
frameless system-call functions are (GCC's optimize attribute must add to
the command line's options, not replace them: the flag must still hold).

--self-test compiles the same probe without -fno-delete-null-pointer-checks
and must see one call (the check can fail).
"""
import argparse
import re
import sys

import kasm

WHO = "check_percpu_reload"
FLAG = "-fno-delete-null-pointer-checks"

PROBE = r"""
#include "lib/percpu.h"

void percpu_probe_callee(void);
uint64_t percpu_probe(void);

/* As this_tlb() (mm/pcid.h) or this_rq() (sched/rq.h); noinline, as GCC
 * analyses such a helper before it inlines it. */
static __attribute__((noinline HELPER_ATTR)) void *percpu_probe_tlb(void)
{
	return this_cpu_read(tlb);
}

uint64_t percpu_probe(void)
{
	const uint64_t *before = percpu_probe_tlb();
	uint64_t a = before[0];

	percpu_probe_callee(); /* switch_to(): we may return on another CPU */
	return a + ((const uint64_t *)percpu_probe_tlb())[1];
}
"""


def check(flags, attr=""):
    """Calls of the helper in percpu_probe (attr: the helper's extra attribute)."""
    src = PROBE.replace("HELPER_ATTR", attr)
    body = kasm.function_body(WHO, kasm.compile_source(WHO, flags, src), "percpu_probe")
    return len(re.findall(r"^\s*call\s+percpu_probe_tlb\b", body, re.M))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    flags = kasm.kcflags()
    if FLAG not in flags:
        print("FAIL: the kernel's flags (make print-kcflags) lack %s" % FLAG)
        return 1
    if args.self_test:
        flags = [f for f in flags if f != FLAG]
    n = check(flags)
    print("the per-CPU helper is called %d time(s) around the call (wanted 2)" % n)
    if not args.self_test:
        nf = check(flags, ', optimize("omit-frame-pointer")')
        print("the same helper compiled frameless: %d time(s) (wanted 2)" % nf)
        if nf != 2:
            print("FAIL: GCC's optimize attribute dropped %s (kernel/syscall.c NO_FRAME)" % FLAG)
            return 1
    if args.self_test:
        if n == 2:
            print("FAIL: without %s GCC called the helper again: the check cannot "
                  "fail (has GCC changed?)" % FLAG)
            return 1
        print("ok: without %s GCC takes the helper for const and the check fails, "
              "as it must" % FLAG)
        return 0
    if n != 2:
        print("FAIL: a per-CPU value read before a call is used after it")
        return 1
    print("ok: per-CPU values are read again after a call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
