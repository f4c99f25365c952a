"""Compile kernel code or a probe to assembly with the kernel's flags.

The static checks that read the compiler's output (check_percpu_reload.py,
check_frameless.py) share these: the flags every kernel object is built
with (`make print-kcflags`), GCC's assembly for a file or a probe, and one
function's body in it. `who` names the check in error messages.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kcflags():
    p = subprocess.run(["make", "-s", "--no-print-directory", "print-kcflags"], cwd=ROOT,
                       capture_output=True, text=True, check=True)
    # Dependency files are the build's business, not a probe's.
    return [f for f in p.stdout.split() if f not in ("-MMD", "-MP")]


def compile_file(who, flags, path):
    p = subprocess.run(["gcc"] + flags + ["-g0", "-S", "-o", "-", path], cwd=ROOT,
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit("%s: %s does not compile:\n%s" % (who, path, p.stderr))
    return p.stdout


def compile_source(who, flags, src):
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, "probe.c")
        with open(c, "w") as f:
            f.write(src)
        return compile_file(who, flags, c)


def function_body(who, asm, name):
    m = re.search(r"^%s:\n(.*?)^\s*\.size\s+%s," % (name, name), asm, re.S | re.M)
    if not m:
        sys.exit("%s: %s not in the compiler's output" % (who, name))
    return m.group(1)
