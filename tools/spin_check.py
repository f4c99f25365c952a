#!/usr/bin/env python3
"""Model-check the TLB protocol's races with spin (model/*.pml).

Each model runs as written (spin must find no violation) and in each of its
deliberately broken variants, named by the -DBROKEN_* lines of its header
comment (spin must find the violation: a model that cannot fail proves
nothing). Exhaustive search: a run that hits the depth limit fails.

Prints one line per run and exits non-zero on any unexpected result. With
--tap, prints TAP for tools/test.py.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "model")


def variants(path):
    src = open(path).read()
    return sorted(set(re.findall(r"-D(BROKEN_\w+)", src)))


def check(path, define):
    """Returns (errors, detail): errors is the number pan reports."""
    work = tempfile.mkdtemp(prefix="spin-")
    try:
        for f in glob.glob(os.path.join(MODELS, "*.pml")):
            shutil.copy(f, work)
        name = os.path.basename(path)
        args = ["spin", "-a"] + (["-D" + define] if define else []) + [name]
        p = subprocess.run(args, cwd=work, capture_output=True, text=True)
        if p.returncode != 0:
            return None, "spin -a failed:\n" + p.stdout + p.stderr
        p = subprocess.run(["gcc", "-O2", "-w", "-DSAFETY", "-o", "pan", "pan.c"], cwd=work,
                           capture_output=True, text=True)
        if p.returncode != 0:
            return None, "gcc pan.c failed:\n" + p.stderr[-2000:]
        p = subprocess.run(["./pan", "-m100000"], cwd=work, capture_output=True, text=True)
        out = p.stdout + p.stderr
        if "max search depth too small" in out:
            return None, "search truncated (depth limit)\n" + out[-1500:]
        m = re.search(r"errors: (\d+)", out)
        if not m:
            return None, "no verdict from pan\n" + out[-1500:]
        states = re.search(r"(\d+) states, stored", out)
        viol = re.search(r"pan:1: (.*)", out)
        return int(m.group(1)), "%s states%s" % (
            states.group(1) if states else "?", "; " + viol.group(1) if viol else "")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tap", action="store_true")
    args = ap.parse_args()
    if not shutil.which("spin"):
        print("spin is not installed (tools/setup-host.sh installs it)")
        sys.exit(1)
    runs = []
    for path in sorted(glob.glob(os.path.join(MODELS, "*.pml"))):
        if os.path.basename(path) == "tso.pml":
            continue
        runs.append((path, None))
        runs += [(path, v) for v in variants(path)]
    bad = 0
    if args.tap:
        print("1..%d" % len(runs))
    for i, (path, define) in enumerate(runs, 1):
        errors, detail = check(path, define)
        want_fail = define is not None
        ok = errors is not None and (errors > 0) == want_fail
        what = "%s%s %s" % (os.path.basename(path)[:-4], " " + define if define else "",
                            "is rejected" if want_fail else "holds")
        bad += not ok
        if args.tap:
            print("%s %d - %s # %s" % ("ok" if ok else "not ok", i, what,
                                       detail.splitlines()[0] if detail else ""))
            if not ok:
                print("\n".join("# " + l for l in detail.splitlines()))
        else:
            print("%-4s %s (%s)" % ("ok" if ok else "FAIL", what, detail))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
