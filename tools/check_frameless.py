#!/usr/bin/env python3
"""The frameless system-call functions leave RBP alone.

  check_frameless.py [--self-test]

syscall_dispatch, syscall_dispatch_pti and syscall_dispatch_pti_tlbcheck
(kernel/syscall.c) are compiled without a frame pointer: the entry code
calls them with RBP 0, the end of the frame chain, and their callees link
their frames to that. If GCC gave RBP to one of them as a general register,
a callee's frame would link to whatever it held, and a backtrace taken
below (a panic, the lockup detector's NMI) would follow it as a frame
pointer. GCC does so only under register pressure, which a change to the
inlined entry or exit work could bring.

This compiles kernel/syscall.c with `make print-kcflags` and reads the
three functions' assembly: none may name RBP (or EBP, BP, BPL) or LEAVE.

--self-test compiles a frameless probe that keeps seven values live across
a call, so that GCC must use RBP, and must see the check fail.
"""
import argparse
import re
import sys

import kasm

WHO = "check_frameless"
FUNCTIONS = ("syscall_dispatch", "syscall_dispatch_pti", "syscall_dispatch_pti_tlbcheck")

PROBE = r"""
#include <stdint.h>

uint64_t frameless_probe_callee(uint64_t);
uint64_t frameless_probe(uint64_t a);

__attribute__((optimize("omit-frame-pointer"))) uint64_t frameless_probe(uint64_t a)
{
	uint64_t v[7];

	for (int i = 0; i < 7; i++)
		v[i] = frameless_probe_callee(a + i);
	frameless_probe_callee(0);
	return v[0] * v[1] + v[2] * v[3] + v[4] * v[5] + v[6];
}
"""

USES_RBP = re.compile(r"%(rbp|ebp|bp|bpl)\b|^\s*leave", re.M)


def offenders(asm, names):
    bad = []
    for name in names:
        for line in kasm.function_body(WHO, asm, name).splitlines():
            if USES_RBP.search(line):
                bad.append("%s: %s" % (name, line.strip()))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    flags = kasm.kcflags()
    if args.self_test:
        bad = offenders(kasm.compile_source(WHO, flags, PROBE), ("frameless_probe",))
        if not bad:
            print("FAIL: the probe kept seven values across a call without RBP: "
                  "the check cannot fail (has GCC changed?)")
            return 1
        print("ok: the frameless probe uses RBP and the check sees it, as it must:")
        print("\n".join("  " + b for b in bad[:4]))
        return 0
    bad = offenders(kasm.compile_file(WHO, flags, "kernel/syscall.c"), FUNCTIONS)
    if bad:
        print("FAIL: a frameless system-call function uses RBP:")
        print("\n".join("  " + b for b in bad))
        return 1
    print("ok: %s leave RBP alone" % ", ".join(FUNCTIONS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
