#!/usr/bin/env python3
"""Host test of tools/pathprof.py's instruction listing (--listing) on a
synthetic raw profile whose addresses are real: the first instructions of
switch_to (arch/x86/switch_to.S) and of syscall_dispatch_pti
(kernel/syscall.c) in build/kernel.elf, as objdump decodes them. Checks
the per-operation counts (kept batches only), the order (heaviest symbol
first), the instruction text, the source file of each line, that user
addresses stay out, and the total. Prints TAP (tools/test.py counts each
case).
"""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import pathprof  # noqa: E402
import taplib  # noqa: E402

ELF = os.path.join(ROOT, "build", "kernel.elf")


def first_insns(sym, n):
    """The first n (address, text) of a symbol, from objdump."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", ELF],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^([0-9a-f]+) <%s>:\n((?:\s*[0-9a-f]+:\t.*\n){%d})" % (re.escape(sym), n),
                  out, re.M)
    assert m, "no %s in %s" % (sym, ELF)
    return [(int(a, 16), t.strip()) for a, t in re.findall(r"^\s*([0-9a-f]+):\t(.*)$",
                                                            m.group(2), re.M)]


def raw_profile(sites, batches):
    lines = ["op fake_op"]
    for ops, kept in batches:
        lines.append("batch %d %d %d 0 0 0 %d" % (ops, ops * 10, ops * 10, kept))
    for (rip, space), n in sites.items():
        lines.append("site %x %x %d" % (rip, space, n))
    lines.append("end")
    return "\n".join(lines) + "\n"


def listing(sites, batches):
    data = pathprof.parse_data(raw_profile(sites, batches))["fake_op"]
    return pathprof.fmt_listing("fake_op", data, pathprof.Attributor())


def case_counts_order_text_and_source():
    sw = first_insns("switch_to", 2)
    sd = first_insns("syscall_dispatch_pti", 1)
    # 100 operations kept (a dropped batch of 50 does not count).
    sites = {(sw[0][0], 0): 300, (sw[1][0], 0): 200, (sd[0][0], 0): 100,
             (0x401000, 0x1000): 500}
    out = listing(sites, [(100, 1), (50, 0)])
    lines = out.splitlines()
    assert "100 operations" in lines[0], lines[0]
    heads = [ln for ln in lines if ln.startswith("== ")]
    assert heads == ["== switch_to  5.0", "== syscall_dispatch_pti  1.0"], heads
    for (addr, text), count in ((sw[0], 3.0), (sw[1], 2.0), (sd[0], 1.0)):
        row = [ln for ln in lines if ("  %x  " % addr) in ln]
        assert len(row) == 1, (addr, out)
        assert row[0].lstrip().startswith("%.2f" % count), row[0]
        assert text in row[0], (text, row[0])
    assert "arch/x86/switch_to.S:" in [ln for ln in lines if "%x" % sw[0][0] in ln][0]
    assert "kernel/syscall.c:" in [ln for ln in lines if "%x" % sd[0][0] in ln][0]
    assert "401000" not in out  # user addresses are the function table's
    assert lines[-1] == "kernel total 6.0", lines[-1]


def case_no_kept_batch():
    sw = first_insns("switch_to", 1)
    out = listing({(sw[0][0], 0): 10}, [(10, 0)])
    assert out == "listing: fake_op: no operation in a kept batch", out


def case_category_rows_name_real_functions():
    """Each row naming one function names one its file has: rows left
    behind by renames and moves sent the slow address-space switch, PTI's
    slow exit and the user trap dispatch to "work" (found in review)."""
    stale = []
    for cat, path, fn in pathprof.CATEGORIES:
        if "*" in path or "*" in fn:
            continue
        full = os.path.join(ROOT, path)
        if not os.path.exists(full) or not re.search(r"\b%s\b" % re.escape(fn), open(full).read()):
            stale.append((cat, path, fn))
    assert not stale, stale
    for path, fn, cat in (("mm/tlb.c", "switch_mm_slow", "switch"),
                          ("mm/pti.c", "pti_prepare_exit_slow", "entry"),
                          ("arch/x86/fault.c", "trap_dispatch_user", "entry"),
                          ("mm/pti.h", "pti_switch_away", "switch")):
        assert pathprof.category(path, fn) == cat, (path, fn, pathprof.category(path, fn))


if __name__ == "__main__":
    sys.exit(taplib.run(globals()))
