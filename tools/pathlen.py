#!/usr/bin/env python3
"""The path-length gate: the suite's path lengths against a committed baseline.

  pathlen.py baseline [--out FILE] [--why TEXT]   measure, write the baseline
  pathlen.py check LOG DATA [--pti on|off]        a saved run against it

Under Bochs with one CPU and `clock: sync=none` a benchmark's `cycles` is
the number of instructions one operation executes: exact and repeatable,
so it can be held against a baseline, which a timing never can
(../shared/BENCHMARKS.md "Comparing like with like"). The baseline,
results/pathlen-baseline.json, holds per PTI setting and per operation
the benchmark's `cycles` and the profiler's instructions per operation
and per function (tools/pathprof.py), and the commit it was measured at.

`make test` boots the suite once per PTI setting under the profiling
Bochs (tools/matrix.py rows bench-bochs-path, bench-bochs-path-nopti) and
checks, per operation:
  pathlen/<op>          `cycles` at most 2% above the baseline; a failure
                        prints the categories and functions that grew
  pathlen/<op>/profile  the profiler's instructions per operation within
                        PROFILE_TOL of `cycles` (the profiler counts what
                        the TSC counts)
An operation faster than its baseline by more than 2% passes with a note:
the baseline should be lowered. Updating the baseline is a deliberate
commit whose message says why (`pathlen.py baseline --why ...` records
the reason in the file too).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import pathprof as prof  # noqa: E402
import runner  # noqa: E402

ROOT = runner.ROOT
BASELINE = os.path.join(ROOT, "results", "pathlen-baseline.json")
TOLERANCE = 0.02
# The profile's instructions per operation vs the benchmark's cycles: the
# markers sit a few instructions inside the TSC reads, per batch of
# hundreds of operations.
PROFILE_TOL = 2.0
SETTINGS = {"on": "", "off": "pti=off"}
SELECTION = "all"
BATCHES = 5


def cmdline(pti):
    """The boot's command line (tools/matrix.py uses the same)."""
    return ("bench=%s,batches=%d fbcon=off expect_cpus=1 %s" % (
        SELECTION, BATCHES, SETTINGS[pti])).strip()


def gated(r):
    """Results that are path lengths: one CPU, Bochs, time units."""
    return r.get("clock") == "path-length" and r.get("unit") == "ns"


def measure(log_text, data_text, attr=None):
    """{op: {"cycles", "insns", "categories", "functions"}} of one boot."""
    out = {}
    profiles = dict(prof.profiles(log_text, data_text, attr))
    for r in benchlib.parse(log_text):
        if not gated(r):
            continue
        p = profiles.get(r["name"], {})
        out[r["name"]] = dict(
            cycles=r["cycles"],
            insns=round(p["insns"], 2) if p.get("insns") is not None else None,
            categories={k: round(v, 2) for k, v in p.get("categories", {}).items() if v},
            functions={k: round(v, 2) for k, v in p.get("functions", {}).items() if v >= 0.05})
    return out


def load_baseline(path=BASELINE):
    with open(path) as f:
        return json.load(f)


def check(log_text, data_text, pti, baseline=None, attr=None, cmdline=None):
    """[(test name, ok, detail)] for one boot against the baseline.
    cmdline: the boot's, which must be the one the baseline was measured with."""
    try:
        setting = (baseline or load_baseline())["settings"]["pti=" + pti]
        base = setting["ops"]
    except (OSError, KeyError, ValueError) as e:
        return [("pathlen/baseline", False, "no baseline for pti=%s: %s" % (pti, e))]
    if cmdline is not None and cmdline.split() != setting["cmdline"].split():
        return [("pathlen/baseline", False, "the boot runs %r, the baseline was measured with "
                 "%r" % (cmdline, setting["cmdline"]))]
    try:
        now = measure(log_text, data_text, attr)
    except ValueError as e:
        return [("pathlen/parse", False, str(e))]
    out = []
    # The run's own word on its PTI setting (each BENCH line's config):
    # a pti=off run checked against the pti=on baseline passed whatever
    # it measured (found in review).
    configs = {r.get("config", "") for r in benchlib.parse(log_text) if gated(r)}
    ptis = {w.split("=", 1)[1] for c in configs for w in c.split() if w.startswith("pti=")}
    out.append(("pathlen/config", ptis == {pti},
                "the run's BENCH lines say pti=%s; this check is for pti=%s" % (
                    ",".join(sorted(ptis)) or "(none)", pti)))
    if configs - set(setting.get("config", [])):
        print("pathlen: pti=%s: the run's config differs from the baseline's (a switch added or "
              "changed?): %s" % (pti, "; ".join(sorted(configs - set(setting.get("config", []))))))
    missing = sorted(set(base) - set(now))
    out.append(("pathlen/all-present", not missing, "no result for " + ", ".join(missing)))
    for name in sorted(now):
        n, b = now[name], base.get(name)
        if b is None:
            out.append(("pathlen/%s" % name, True, ""))
            print("pathlen: %s has no baseline (add it with tools/pathlen.py baseline)" % name)
            continue
        limit = b["cycles"] * (1 + TOLERANCE)
        ok = n["cycles"] <= limit
        detail = ""
        if not ok:
            detail = "\n".join(growth_report(name, pti, b, n))
        elif n["cycles"] < b["cycles"] * (1 - TOLERANCE):
            print("pathlen: pti=%s %s is %d instructions, %.1f%% below its baseline %d: "
                  "lower the baseline (tools/pathlen.py baseline --why ...)" % (
                      pti, name, n["cycles"], 100 * (1 - n["cycles"] / b["cycles"]), b["cycles"]))
        out.append(("pathlen/%s" % name, ok, detail))
        if n["insns"] is None:
            out.append(("pathlen/%s/profile" % name, False, "no profile recorded"))
        else:
            d = n["insns"] - n["cycles"]
            out.append(("pathlen/%s/profile" % name, abs(d) <= PROFILE_TOL,
                        "profile %.2f instructions per operation, cycles %d (%+.2f)" % (
                            n["insns"], n["cycles"], d)))
    return out


def growth_report(name, pti, b, n):
    lines = ["pti=%s %s: %d instructions per operation, baseline %d (%+.1f%%, limit +%d%%)" % (
        pti, name, n["cycles"], b["cycles"], 100 * (n["cycles"] / b["cycles"] - 1),
        100 * TOLERANCE)]
    lines.append("  by category:")
    cats = sorted(set(b.get("categories", {})) | set(n["categories"]),
                  key=lambda c: prof.CATEGORY_ORDER.index(c) if c in prof.CATEGORY_ORDER else 99)
    for c in cats:
        x, y = b.get("categories", {}).get(c, 0.0), n["categories"].get(c, 0.0)
        lines.append("    %-10s %9.1f -> %9.1f  %+8.1f" % (c, x, y, y - x))
    lines.append("  by function (profiler, instructions per operation):")
    lines += prof.diff_functions(b.get("functions", {}), n["functions"])
    return lines


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def write_baseline(args):
    prof.ensure_bochs()
    attr = prof.Attributor()
    settings = {}
    logdir = os.path.join(runner.BUILD, "pathlen")
    os.makedirs(logdir, exist_ok=True)
    for pti in ("on", "off"):
        log_path = os.path.join(logdir, "pti-%s.log" % pti)
        data_path = os.path.join(logdir, "pti-%s.ukprof" % pti)
        res, data = prof.boot(SELECTION, SETTINGS[pti], BATCHES, 900, log_path, data_path)
        print("pathlen: pti=%s boot %s in %.0fs" % (pti, res.verdict, res.seconds), flush=True)
        if not res.passed:
            sys.exit("pathlen: the pti=%s boot failed; serial log %s" % (pti, log_path))
        ops = measure(res.log, data, attr)
        configs = {r["config"] for r in benchlib.parse(res.log) if gated(r)}
        settings["pti=" + pti] = dict(cmdline=cmdline(pti), config=sorted(configs), ops=ops)
        for name, o in ops.items():
            print("  %-26s cycles %6d  profile %s" % (name, o["cycles"], o["insns"]))
    doc = dict(
        about="Path lengths (instructions per operation) of the benchmark suite under Bochs "
              "3.0 sapphire_rapids, one CPU, clock sync=none; the gate of tools/pathlen.py. "
              "cycles: the benchmark's median; insns, categories, functions: the profiler "
              "(tools/pathprof.py).",
        commit=git_commit(), measured=datetime.date.today().isoformat(),
        why=args.why or "", tolerance=TOLERANCE, settings=settings)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("pathlen: written %s" % args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("baseline")
    b.add_argument("--out", default=BASELINE)
    b.add_argument("--why", default="")
    c = sub.add_parser("check")
    c.add_argument("log")
    c.add_argument("data")
    c.add_argument("--pti", default="on", choices=["on", "off"])
    c.add_argument("--baseline", default=BASELINE)
    args = ap.parse_args()
    if args.cmd == "baseline":
        write_baseline(args)
        return
    with open(args.log, errors="replace") as f:
        log = f.read()
    with open(args.data) as f:
        data = f.read()
    res = check(log, data, args.pti, load_baseline(args.baseline))
    sys.exit(benchlib.print_checks(res))


if __name__ == "__main__":
    main()
