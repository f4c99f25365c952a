#!/usr/bin/env python3
"""Serial log with a trace dump -> Chrome trace-event JSON.

    python3 tools/trace2chrome.py serial.log -o trace.json

then open trace.json in https://ui.perfetto.dev (or chrome://tracing).

The kernel (kernel/trace.c, SYS_TRACE command TRACE_DUMP) prints, through
printk, so each line may carry printk's "[  sec.usec] cpu L " prefix and
may sit among other serial output:

    TRACE-BEGIN version=1 tsc_khz=<kHz> cpus=<n>
    TRACE-TASK <tid> <name>                  the tasks alive at the dump
    TRACE <cpu> <tsc> <type> <a> <b>         one per record
    TRACE-END records=<n> incomplete=<n> dropped=<n>

Output: one track (tid) per CPU in one process; timestamps in microseconds
from the first record, from the TSC and tsc_khz; context switches become
complete ("X") slices named after the task that ran; every other record an
instant event ("i", thread scope) with its arguments decoded. The last
complete dump in the log is converted (--dump picks another).

Exit status: 0 converted; 1 no complete dump, or the dump's end line
counts records that are not in the log (lost or garbled lines).
"""
import argparse
import json
import re
import sys

LINE = re.compile(r"\bTRACE(?:-(BEGIN|TASK|END))? (.*)$")
RECORD = re.compile(r"^(\d+) (\d+) ([a-z_]+) (\d+) (\d+)\s*$")
KV = re.compile(r"(\w+)=(\S+)")

IPI_KINDS = {0: "call", 1: "resched", 2: "nmi"}
FULL_REASONS = {1: "ceiling", 2: "gen_gap", 3: "request", 4: "asid_new", 5: "nopcid"}
LAZY_HOW = {0: "same_mm", 1: "other_mm", 2: "dropped"}
KFLUSH_HOW = {0: "pages", 1: "full", 2: "switch"}

# type -> (category, decoder of (a, b) into args)
DECODE = {
    "ipi_send": ("ipi", lambda a, b: {"kind": IPI_KINDS.get(a, a), "target": b}),
    "ipi_recv": ("ipi", lambda a, b: {"kind": IPI_KINDS.get(a, a)}),
    "tlb_flush_full": ("tlb", lambda a, b: {"reason": FULL_REASONS.get(a, a)}),
    "tlb_flush_pages": ("tlb", lambda a, b: {"pages": a, "start": "%#x" % b}),
    "tlb_shootdown": ("tlb", lambda a, b: {"cpus": a, "gen": b}),
    "lazy_enter": ("lazy", lambda a, b: {}),
    "lazy_leave": ("lazy", lambda a, b: {"how": LAZY_HOW.get(a, a), "flushed": bool(b)}),
    "pti_flush_full": ("pti", lambda a, b: {}),
    "pti_flush_precise": ("pti", lambda a, b: {"pages": a}),
    "kflush_catchup": ("kflush", lambda a, b: {"how": KFLUSH_HOW.get(a, a), "kgen": b}),
    "xfd_fault": ("xstate", lambda a, b: {"xfd_err": "%#x" % a, "tid": b}),
    "pasid_resync": ("pasid", lambda a, b: {"pasid": "%#x" % a, "tid": b}),
}


class Dump:
    def __init__(self, header):
        kv = dict(KV.findall(header))
        self.tsc_khz = int(kv.get("tsc_khz", 0))
        self.cpus = int(kv.get("cpus", 0))
        self.tasks = {}
        self.records = []  # (cpu, tsc, type, a, b), in log order
        self.bad_lines = []
        self.end = None  # the end line's fields, once seen


def parse(text):
    """Every dump in the log, complete or not, in order."""
    dumps, cur = [], None
    for n, line in enumerate(text.splitlines(), 1):
        m = LINE.search(line)
        if not m:
            continue
        kind, rest = m.group(1), m.group(2)
        if kind == "BEGIN":
            cur = Dump(rest)
            dumps.append(cur)
        elif cur is None or cur.end is not None:
            continue  # outside a dump: someone else's "TRACE ..." text
        elif kind == "TASK":
            tid, _, name = rest.partition(" ")
            if tid.isdigit():
                cur.tasks[int(tid)] = name.strip() or "tid " + tid
            else:
                cur.bad_lines.append(n)
        elif kind == "END":
            cur.end = {k: int(v) for k, v in KV.findall(rest) if v.isdigit()}
        else:
            r = RECORD.match(rest)
            if r:
                cpu, tsc, typ, a, b = r.groups()
                cur.records.append((int(cpu), int(tsc), typ, int(a), int(b)))
            else:
                cur.bad_lines.append(n)
    return dumps


def task_name(d, tid):
    if tid == 0 and 0 not in d.tasks:
        return "idle"  # the idle tasks have no tid of their own
    return d.tasks.get(tid, "tid %d" % tid)


def convert(d):
    """Chrome trace-event JSON (a dict) for one dump."""
    khz = d.tsc_khz or 1000000  # unknown rate: pretend 1 GHz
    t0 = min((r[1] for r in d.records), default=0)

    def us(tsc):
        return round((tsc - t0) * 1000.0 / khz, 3)

    pid = 0
    meta = [{"name": "process_name", "ph": "M", "pid": pid,
             "args": {"name": "ukernel (%d CPUs)" % d.cpus}}]
    events = []
    by_cpu = {}
    for r in d.records:
        by_cpu.setdefault(r[0], []).append(r)
    for cpu in sorted(by_cpu):
        meta.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": cpu,
                     "args": {"name": "cpu %d" % cpu}})
        meta.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": cpu,
                     "args": {"sort_index": cpu}})
        recs = sorted(by_cpu[cpu], key=lambda r: r[1])  # stable: log order on ties
        end = recs[-1][1]
        running, since = None, recs[0][1]
        for _, tsc, typ, a, b in recs:
            if typ == "ctx_switch":
                prev = running if running is not None else a
                events.append({"name": task_name(d, prev), "cat": "sched", "ph": "X",
                               "ts": us(since), "dur": round(us(tsc) - us(since), 3),
                               "pid": pid, "tid": cpu, "args": {"tid": prev}})
                running, since = b, tsc
                continue
            cat, dec = DECODE.get(typ, ("other", lambda a, b: {"a": a, "b": b}))
            events.append({"name": typ, "cat": cat, "ph": "i", "s": "t", "ts": us(tsc),
                           "pid": pid, "tid": cpu, "args": dec(a, b)})
        if running is not None:
            events.append({"name": task_name(d, running), "cat": "sched", "ph": "X",
                           "ts": us(since), "dur": round(us(end) - us(since), 3),
                           "pid": pid, "tid": cpu, "args": {"tid": running}})
    events.sort(key=lambda e: e["ts"])
    return {"traceEvents": meta + events, "displayTimeUnit": "ns",
            "otherData": {"tsc_khz": d.tsc_khz, "cpus": d.cpus,
                          "records": len(d.records)}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", help="serial log (- for stdin)")
    ap.add_argument("-o", "--output", default="-", help="JSON file (default stdout)")
    ap.add_argument("--dump", type=int, default=-1,
                    help="which complete dump (0 = first, -1 = last; default -1)")
    args = ap.parse_args(argv)
    text = sys.stdin.read() if args.log == "-" else \
        open(args.log, errors="replace").read()
    complete = [d for d in parse(text) if d.end is not None]
    if not complete:
        print("trace2chrome: no complete trace dump (TRACE-BEGIN ... TRACE-END) in %s"
              % args.log, file=sys.stderr)
        return 1
    try:
        d = complete[args.dump]
    except IndexError:
        print("trace2chrome: the log has %d complete dumps" % len(complete), file=sys.stderr)
        return 1
    for n in d.bad_lines:
        print("trace2chrome: line %d: malformed trace line skipped" % n, file=sys.stderr)
    want = d.end.get("records")
    if want is not None and want != len(d.records):
        print("trace2chrome: the dump says %d records, the log holds %d (lines lost?)"
              % (want, len(d.records)), file=sys.stderr)
        return 1
    out = convert(d)
    data = json.dumps(out, indent=None, separators=(",", ":"))
    if args.output == "-":
        sys.stdout.write(data + "\n")
    else:
        with open(args.output, "w") as f:
            f.write(data + "\n")
    print("trace2chrome: %d records on %d CPUs (%d incomplete, %d dropped) -> %s"
          % (len(d.records), len({r[0] for r in d.records}), d.end.get("incomplete", 0),
             d.end.get("dropped", 0), args.output), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
