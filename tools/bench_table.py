#!/usr/bin/env python3
"""Print the benchmark results of a serial log as a readable table.

  bench_table.py LOG [--markdown]

One row per benchmark: median (ns, or the unit given), the p10..p90 spread
relative to the median, the median in TSC cycles (a path length under
Bochs with one CPU), and the kernel events per operation. The active
switches and what the clock means on this platform are printed above.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def table(results, markdown=False):
    lines = []
    if not results:
        return "no BENCH lines found"
    r0 = results[0]
    lines.append("platform %s, %d CPUs, clock: %s" % (
        r0.get("platform"), r0.get("cpus", 0),
        benchlib.CLOCK_NOTES.get(r0.get("clock"), r0.get("clock"))))
    lines.append("switches: %s" % r0.get("config", "?"))
    lines.append("")
    head = ("benchmark", "median", "unit", "p10/p90", "cycles", "events per operation")
    rows = [(r["name"], benchlib.fmt_value(r["median"]), r["unit"], benchlib.spread(r),
             str(r.get("cycles", "")), benchlib.events_text(r.get("events", {})))
            for r in results]
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        w = [max(len(x[i]) for x in rows + [head]) for i in range(len(head) - 1)]
        for row in [head] + rows:
            lines.append("  ".join(c.rjust(w[i]) if 0 < i < len(w) else c.ljust(w[i])
                                   for i, c in enumerate(row[:-1])) + "  " + row[-1])
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    try:
        results = benchlib.parse_file(args.log)
    except ValueError as e:
        sys.exit("bench_table: %s" % e)
    print(table(results, args.markdown))
    sys.exit(0 if results else 1)


if __name__ == "__main__":
    main()
