#!/usr/bin/env python3
"""Host test of tools/trace2chrome.py: synthetic serial logs in, JSON out.

The logs mix a trace dump with what a real serial log holds around and
inside it: the boot report, printk prefixes from several CPUs, user output
without a newline in front of a trace line, "TRACE" in someone else's
text, and an older dump that never finished. Prints TAP (tools/test.py
counts each case).
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import trace2chrome  # noqa: E402
import taplib  # noqa: E402

KHZ = 2000000  # 2000 ticks per microsecond
T0 = 5000000000


def tick(us):
    return T0 + us * 2000


def rec(cpu, us, typ, a, b, pfx=True):
    line = "TRACE %d %d %s %d %d" % (cpu, tick(us), typ, a, b)
    return ("[    1.%06d] %d I " % (us, cpu) + line) if pfx else line


RECORDS = [
    rec(0, 0, "ctx_switch", 0, 4),             # idle -> utest on cpu 0
    rec(1, 1, "ctx_switch", 0, 9),             # idle -> tid 9 (exited) on cpu 1
    rec(0, 10, "tlb_shootdown", 1, 7),
    rec(0, 11, "ipi_send", 0, 1),
    rec(1, 12, "ipi_recv", 0, 0),
    rec(1, 13, "tlb_flush_pages", 4, 0x100000000),
    rec(0, 20, "tlb_flush_full", 1, 0),
    rec(1, 30, "ctx_switch", 9, 0),            # tid 9 -> idle
    rec(1, 31, "lazy_enter", 0, 0),
    rec(0, 40, "ctx_switch", 4, 1),            # utest -> reaper
    rec(0, 50, "kflush_catchup", 2, 3),
]


def log_text(records=RECORDS, end=None, extra_dumps=()):
    n = len(records) if end is None else end
    lines = ["GRUB loading...", "[    0.000000] 0 I ukernel booting",
             "[    0.100000] 0 I   trace=on* trace_ring=4096"]
    for d in extra_dumps:
        lines += d
    lines += ["        # ctx_switch         3  (a TRACE in a test's note)",
              "[    1.000000] 0 I TRACE-BEGIN version=1 tsc_khz=%d cpus=2" % KHZ,
              "[    1.000001] 0 I TRACE-TASK 1 reaper",
              "[    1.000002] 0 I TRACE-TASK 4 utest"]
    for i, r in enumerate(records):
        lines.append(r)
        if i == 2:
            lines.append("[    1.000500] 3 W unrelated warning from cpu 3")
    # A record glued to user output that had no newline.
    lines.append("partial user line[    1.000900] 0 I " +
                 rec(0, 60, "pti_flush_full", 0, 0, pfx=False))
    lines.append("[    2.000000] 0 I TRACE-END records=%d incomplete=0 dropped=0" % (n + 1))
    lines += ["        # 12 records dumped", "ok 1 user", "@@UKERNEL-EXIT pass@@"]
    return "\n".join(lines) + "\n"


def convert(text, *extra):
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "serial.log"), os.path.join(d, "out.json")
        with open(src, "w") as f:
            f.write(text)
        rc = trace2chrome.main([src, "-o", out] + list(extra))
        data = json.load(open(out)) if os.path.exists(out) else None
    return rc, data


def events(data, ph=None):
    return [e for e in data["traceEvents"] if ph is None or e["ph"] == ph]


# ---- cases ----

def case_parses_as_trace_event_json():
    rc, data = convert(log_text())
    assert rc == 0, rc
    assert isinstance(data["traceEvents"], list) and data["traceEvents"]
    for e in data["traceEvents"]:
        assert e["ph"] in ("M", "X", "i"), e
        assert "pid" in e and "name" in e, e
    assert data["otherData"]["records"] == len(RECORDS) + 1


def case_one_track_per_cpu():
    _, data = convert(log_text())
    names = {e["tid"]: e["args"]["name"] for e in events(data, "M")
             if e["name"] == "thread_name"}
    assert names == {0: "cpu 0", 1: "cpu 1"}, names
    assert {e["tid"] for e in events(data) if e["ph"] != "M"} == {0, 1}


def case_timestamps_in_us_and_monotonic():
    _, data = convert(log_text())
    evs = [e for e in events(data) if e["ph"] != "M"]
    ts = [e["ts"] for e in evs]
    assert ts == sorted(ts), ts
    assert min(ts) == 0
    for cpu in (0, 1):
        t = [e["ts"] for e in evs if e["tid"] == cpu]
        assert t == sorted(t), (cpu, t)
    ipi = [e for e in evs if e["name"] == "ipi_send"][0]
    assert ipi["ts"] == 11.0, ipi  # 22000 ticks at 2 GHz


def case_context_switches_are_named_slices():
    _, data = convert(log_text())
    sl = [(e["tid"], e["name"], e["ts"], e["dur"]) for e in events(data, "X")]
    assert (0, "utest", 0.0, 40.0) in sl, sl
    assert (1, "tid 9", 1.0, 29.0) in sl, sl       # exited task: no name line
    assert (1, "idle", 30.0, 1.0) in sl, sl         # to the CPU's last record
    assert (0, "reaper", 40.0, 20.0) in sl, sl
    assert all(d >= 0 for _, _, _, d in sl)


def case_instants_with_decoded_args():
    _, data = convert(log_text())
    inst = {e["name"]: e for e in events(data, "i")}
    for e in inst.values():
        assert e["s"] == "t", e
    assert inst["ipi_send"]["args"] == {"kind": "call", "target": 1}
    assert inst["ipi_recv"]["args"] == {"kind": "call"}
    assert inst["tlb_flush_full"]["args"] == {"reason": "ceiling"}
    assert inst["tlb_flush_pages"]["args"] == {"pages": 4, "start": "0x100000000"}
    assert inst["kflush_catchup"]["args"]["how"] == "switch"
    assert "pti_flush_full" in inst  # the record glued to user output


def case_last_complete_dump_wins():
    old = ["[    0.5] 0 I TRACE-BEGIN version=1 tsc_khz=%d cpus=2" % KHZ,
           rec(0, 1, "xfd_fault", 0x40000, 3),
           "[    0.6] 0 I TRACE-END records=1 incomplete=0 dropped=0",
           "[    0.7] 0 I TRACE-BEGIN version=1 tsc_khz=%d cpus=2" % KHZ,
           rec(0, 2, "pasid_resync", 5, 3)]  # never finished
    rc, data = convert(log_text(extra_dumps=[old]))
    assert rc == 0
    assert "xfd_fault" not in {e["name"] for e in events(data)}
    assert "pasid_resync" not in {e["name"] for e in events(data)}
    rc, data = convert(log_text(extra_dumps=[old]), "--dump", "0")
    assert rc == 0 and [e["name"] for e in events(data, "i")] == ["xfd_fault"]


def case_lost_line_fails():
    recs = RECORDS[:4] + RECORDS[5:]  # the dump's count says one more
    rc, _ = convert(log_text(recs, end=len(RECORDS)))
    assert rc == 1, rc


def case_garbled_line_fails():
    recs = list(RECORDS)
    recs[3] = recs[3].replace("ipi_send 0 1", "ipi_send 0")
    rc, _ = convert(log_text(recs))
    assert rc == 1, rc


def case_no_dump_fails():
    rc, data = convert("[    0.1] 0 I hello\nTRACE 0 1 ctx_switch 0 1\n")
    assert rc == 1 and data is None


if __name__ == "__main__":
    sys.exit(taplib.run(globals()))
