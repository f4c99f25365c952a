#!/usr/bin/env python3
"""Host test of tools/pathlen.py's gate on synthetic BENCH lines: the
check must hold a run to the PTI setting its own lines report (regression
pathlen_checks_the_runs_pti: a pti=off run checked against the pti=on
baseline passed, found in review), and a run within the tolerance passes.
Prints TAP (tools/test.py counts each case).
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import pathlen  # noqa: E402
import taplib  # noqa: E402

CONFIG = "fbcon=off pcid=on pti=%s xsave=auto"


def bench_line(name, cycles, pti):
    rec = {"name": name, "unit": "ns", "median": 1.0, "p10": 1.0, "p90": 1.0, "iters": 100,
           "batches": 5, "cpus": 1, "cpus_used": 1, "cycles": cycles, "cycles_p10": cycles,
           "cycles_p90": cycles, "platform": "bochs", "clock": "path-length",
           "config": CONFIG % pti, "events": {}}
    return "BENCH " + json.dumps(rec, separators=(",", ":"))


def baseline(cycles):
    setting = {"cmdline": "bench=all", "config": [CONFIG % "on"],
               "ops": {"null_syscall": {"cycles": cycles, "categories": {}, "functions": {}}}}
    return {"settings": {"pti=on": setting, "pti=off": dict(setting, config=[CONFIG % "off"])}}


def results(pti_run, pti_check, cycles=89):
    log = bench_line("null_syscall", cycles, pti_run) + "\n"
    return {name: ok for name, ok, _ in pathlen.check(log, "", pti_check, baseline(89))}


def case_run_of_the_other_pti_fails():
    r = results("off", "on", cycles=81)
    assert r["pathlen/config"] is False, r
    assert r["pathlen/null_syscall"] is True, r  # the number alone passes: why the check


def case_run_of_its_own_pti_passes():
    r = results("on", "on", cycles=90)  # +1.1%, inside 2%
    assert r["pathlen/config"] is True, r
    assert r["pathlen/null_syscall"] is True, r


def case_growth_fails():
    r = results("on", "on", cycles=92)  # +3.4%
    assert r["pathlen/null_syscall"] is False, r


if __name__ == "__main__":
    sys.exit(taplib.run(globals()))
