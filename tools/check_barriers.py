#!/usr/bin/env python3
"""Every barrier and every non-relaxed atomic carries a comment.

STYLE.md: "Every barrier, every non-relaxed atomic, every instruction
relied on as serializing carries a comment naming what it orders and its
pair". This check finds uses of mb(), smp_mb(), the fence instructions and
__atomic_* with an ordering stronger than relaxed in kernel C sources, and
fails unless a comment sits on the same line or within the three lines
above (the comment block that explains it). Definitions of the barrier
helpers themselves are exempt.
"""
import re
import subprocess
import sys

PATTERN = re.compile(r"\b(smp_mb|mb|rmb|wmb)\(\)|\b[lms]fence\b|"
                     r"__atomic_\w+\([^;]*__ATOMIC_(ACQUIRE|RELEASE|ACQ_REL|SEQ_CST)")
EXEMPT_FILES = {"arch/x86/cpu.h"}
DIRS = ("lib/", "kernel/", "arch/", "mm/", "sched/", "user/")


def has_comment(lines, i):
    for j in range(max(0, i - 3), i + 1):
        if "/*" in lines[j] or "*/" in lines[j] or lines[j].strip().startswith("*") \
                or "//" in lines[j]:
            return True
    return False


def main():
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True,
                           text=True).stdout.split()
    bad = []
    for f in files:
        if not f.startswith(DIRS) or f in EXEMPT_FILES:
            continue
        with open(f) as fh:
            lines = fh.read().splitlines()
        for i, line in enumerate(lines):
            if PATTERN.search(line) and not has_comment(lines, i):
                bad.append("%s:%d: %s" % (f, i + 1, line.strip()))
    for b in bad:
        print("barrier without a comment: " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
