#!/usr/bin/env python3
"""With the kernel's compiler flags, a per-CPU value is read again after a call.

  check_percpu_reload.py [--self-test]

Per-CPU data is reached through a null __seg_gs pointer (lib/percpu.h
PERCPU_GS). A task can resume on another CPU after any call that may
switch (switch_to() itself, or a system call that blocks), so a per-CPU
value read before such a call must be read again after it. GCC, unless
told -fno-delete-null-pointer-checks, takes those accesses for null
dereferences that no call or "memory" clobber can change, and keeps the
value in a register instead: the PTI exit of the system-call path used
this_tlb() read before the call (the user CR3 of the CPU the task had left),
and finish_switch() released the run-queue lock of the CPU it had left
(regression switch_resume_releases_the_left_cpus_rq).

This compiles kernel/syscall.c with `make print-kcflags` (the flags every
kernel object is built with) and reads the compiler's output: in
syscall_dispatch_pti the entry reads this CPU's `tlb` pointer (the
deferred kernel flush's check), the system call runs (an indirect call),
and the exit must load the pointer from %gs again (the PTI exit's user CR3).
(A small probe of the same shape does not show the reuse with GCC 12:
the real code does.)

--self-test compiles the same file without -fno-delete-null-pointer-checks
and must see the reuse (the check can fail).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAG = "-fno-delete-null-pointer-checks"

# The real thing: the system-call path, where GCC 12 kept the pointer.
SOURCE = "kernel/syscall.c"
FUNCTION = "syscall_dispatch_pti"


def kcflags():
    p = subprocess.run(["make", "-s", "--no-print-directory", "print-kcflags"], cwd=ROOT,
                       capture_output=True, text=True, check=True)
    # Dependency files are the build's business, not the probe's.
    return [f for f in p.stdout.split() if f not in ("-MMD", "-MP")]


def tlb_offset(flags):
    """The GS offset of struct percpu's tlb field, from a one-line probe."""
    src = '#include "lib/percpu.h"\nvoid *percpu_probe_tlb(void);\n' \
          'void *percpu_probe_tlb(void) { return this_cpu_read(tlb); }\n'
    asm = compile_probe(flags, src)
    m = re.search(r"movq\s+%gs:(\d+|0x[0-9a-f]+),", asm)
    if not m:
        sys.exit("check_percpu_reload: no %gs load in the offset probe:\n" + asm)
    return int(m.group(1), 0)


def compile_probe(flags, src):
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "probe.c")
        with open(c, "w") as f:
            f.write(src)
        p = subprocess.run(["gcc"] + flags + ["-g0", "-S", "-o", "-", c], cwd=ROOT,
                           capture_output=True, text=True)
        if p.returncode:
            sys.exit("check_percpu_reload: the probe does not compile:\n" + p.stderr)
        return p.stdout


def function_body(asm, name):
    m = re.search(r"^%s:\n(.*?)^\s*\.size\s+%s," % (name, name), asm, re.S | re.M)
    if not m:
        sys.exit("check_percpu_reload: %s not in the compiler's output" % name)
    return m.group(1)


def check(flags):
    """(loads of this CPU's tlb pointer before the system call's table call,
    after it) in the compiled FUNCTION."""
    off = tlb_offset(flags)
    with open(os.path.join(ROOT, SOURCE)) as f:
        body = function_body(compile_probe(flags, f.read()), FUNCTION)
    pat = re.compile(r"movq\s+%%gs:(?:%d|%s),\s*%%\w+" % (off, hex(off)))
    m = re.search(r"^\s*call\s+\*", body, re.M)
    if not m:
        sys.exit("check_percpu_reload: no indirect call in %s" % FUNCTION)
    return len(pat.findall(body[:m.start()])), len(pat.findall(body[m.start():]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    flags = kcflags()
    if FLAG not in flags:
        print("FAIL: the kernel's flags (make print-kcflags) lack %s" % FLAG)
        return 1
    if args.self_test:
        flags = [f for f in flags if f != FLAG]
    before, after = check(flags)
    print("%s (%s): this CPU's tlb pointer loaded %d time(s) before the table call, "
          "%d after" % (FUNCTION, SOURCE, before, after))
    bad = before == 0 or after == 0
    if args.self_test:
        if not bad:
            print("FAIL: without %s GCC read the pointer again: the check cannot "
                  "fail (has GCC or the code changed?)" % FLAG)
            return 1
        print("ok: without %s the pointer read before the call is used after it, "
              "and the check fails, as it must" % FLAG)
        return 0
    if bad:
        print("FAIL: the exit uses the tlb pointer read before the call (the "
              "task may have moved to another CPU)")
        return 1
    print("ok: the exit reads this CPU's tlb pointer again after the call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
