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
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def kcflags():
    p = subprocess.run(["make", "-s", "--no-print-directory", "print-kcflags"], cwd=ROOT,
                       capture_output=True, text=True, check=True)
    return [f for f in p.stdout.split() if f not in ("-MMD", "-MP")]


def compile_asm(flags, path):
    p = subprocess.run(["gcc"] + flags + ["-g0", "-S", "-o", "-", path], cwd=ROOT,
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit("check_frameless: %s does not compile:\n%s" % (path, p.stderr))
    return p.stdout


def function_body(asm, name):
    m = re.search(r"^%s:\n(.*?)^\s*\.size\s+%s," % (name, name), asm, re.S | re.M)
    if not m:
        sys.exit("check_frameless: %s not in the compiler's output" % name)
    return m.group(1)


def offenders(asm, names):
    bad = []
    for name in names:
        for line in function_body(asm, name).splitlines():
            if USES_RBP.search(line):
                bad.append("%s: %s" % (name, line.strip()))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    flags = kcflags()
    if args.self_test:
        with tempfile.TemporaryDirectory() as d:
            c = os.path.join(d, "probe.c")
            with open(c, "w") as f:
                f.write(PROBE)
            bad = offenders(compile_asm(flags, c), ("frameless_probe",))
        if not bad:
            print("FAIL: the probe kept seven values across a call without RBP: "
                  "the check cannot fail (has GCC changed?)")
            return 1
        print("ok: the frameless probe uses RBP and the check sees it, as it must:")
        print("\n".join("  " + b for b in bad[:4]))
        return 0
    bad = offenders(compile_asm(flags, "kernel/syscall.c"), FUNCTIONS)
    if bad:
        print("FAIL: a frameless system-call function uses RBP:")
        print("\n".join("  " + b for b in bad))
        return 1
    print("ok: %s leave RBP alone" % ", ".join(FUNCTIONS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
