#!/usr/bin/env python3
"""The compiled kernel reads this CPU's run queue afresh after every switch.

  check_switch_resume.py [--elf build/kernel.elf] [--dis FILE] [--self-test]

A task can resume on another CPU than the one it switched away on, so the
code after each call to switch_to() must release the run-queue lock of the
CPU it resumed on: finish_switch() (sched/context_switch.h) reads
this_rq() with a volatile load for that. GCC (without
-fno-delete-null-pointer-checks: tools/check_percpu_reload.py says why)
took this_rq() for a const function, and once kernel/ipc.c's fused path
inlined the switch it reused this_rq() from before the call: a migrated
task released the lock of the CPU it had left (a 'runqueue' lockup, found
by ipc_switch_vs_migrating_wake).

This reads the toolchain's output, not the source: for every call to
switch_to in the kernel's disassembly, the run queue's per-CPU slot
(%gs:OFF, OFF taken from the out-of-line sched_finish_switch, whose first
per-CPU load it is) must be loaded again before the first lock release
(`movl $0xffffffff,0x4(...)`, the holder reset of spin_unlock_raw).

--self-test runs the check on tools/testdata/switch-resume-stale-rq.dis,
the disassembly GCC 12 produced for the broken version, and must fail.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STALE = os.path.join(ROOT, "tools", "testdata", "switch-resume-stale-rq.dis")
FUNC = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(.*)$")
GS_LOAD = re.compile(r"^mov\s+%gs:(0x[0-9a-f]+),%\w+$")
RELEASE = re.compile(r"^movl\s+\$0xffffffff,0x4\(")
WINDOW = 40


def functions(text):
    """{name: [instruction text, ...]} in address order."""
    out, cur = {}, None
    for line in text.splitlines():
        m = FUNC.match(line)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        m = INSN.match(line)
        if m and cur is not None:
            cur.append(m.group(2).strip())
    return out


def check(text):
    """Problems found (an empty list when every switch reloads)."""
    funcs = functions(text)
    fin = funcs.get("sched_finish_switch")
    off = None
    for ins in fin or []:
        m = GS_LOAD.match(ins)
        if m:
            off = m.group(1)
            break
    if off is None:
        return ["no per-CPU load in sched_finish_switch: cannot tell the run queue's offset"]
    problems, calls = [], 0
    for name, insns in funcs.items():
        for i, ins in enumerate(insns):
            if not re.match(r"^call\s+[0-9a-f]+ <switch_to>$", ins):
                continue
            calls += 1
            ok = False
            for nxt in insns[i + 1:i + 1 + WINDOW]:
                m = GS_LOAD.match(nxt)
                if m and m.group(1) == off:
                    ok = True
                    break
                if RELEASE.match(nxt):
                    break
            if not ok:
                problems.append("%s: after call switch_to, a lock is released before %%gs:%s "
                                "(this CPU's run queue) is read again" % (name, off))
    if not calls:
        problems.append("no call to switch_to found")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "kernel.elf"))
    ap.add_argument("--dis", help="a saved disassembly instead of --elf")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        with open(STALE) as f:
            problems = check(f.read())
        if problems:
            print("self-test: the broken build is caught: %s" % problems[0])
            return 0
        print("self-test: FAILED, the broken build passes the check")
        return 1
    if args.dis:
        with open(args.dis) as f:
            text = f.read()
    else:
        text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", args.elf],
                              capture_output=True, text=True, check=True).stdout
    problems = check(text)
    for p in problems:
        print("check_switch_resume: " + p)
    if not problems:
        print("check_switch_resume: every switch_to call site reloads this CPU's run queue")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
