"""Reading the benchmark suite's output (BENCH lines, ../shared/BENCHMARKS.md).

Shared by bench_table.py (`make run`), bench_report.py (the switch matrix)
and the tests. A BENCH line may follow other text on the same serial line
(a printk prefix), so the JSON object is taken from the marker on.
"""
import json

MARKER = "BENCH {"

# Events shown in tables, in this order, with short headers.
EVENT_COLUMNS = [
    ("ctx_switch", "ctxsw"), ("cr3_write", "cr3"), ("ipi_sent", "ipi"),
    ("tlb_flush_full", "full"), ("tlb_flush_pages", "pages"), ("invlpg", "invlpg"),
    ("invpcid", "invpcid"), ("tlb_lazy_skip", "lazy"), ("asid_miss", "amiss"),
    ("asid_evict", "aevict"), ("pti_flush_full", "ptifull"), ("pti_flush_precise", "ptiprec"),
    ("kflush_deferred", "kdefer"), ("kflush_ipi", "kipi"), ("kflush_catchup", "kcatch"),
    ("xsave", "xsave"), ("xrstor", "xrstor"), ("msr_write", "msr"), ("pasid_write", "pasid"),
    ("membarrier_ipi", "mbipi"), ("page_fault_user", "pf"),
    ("page_walks", "walks"),  # TLB misses that walked: the patched Bochs only
    ("handle_xfer", "hxfer"), ("memobj_revoke_mm", "revmm"), ("tlb_shootdown", "sdround"),
    ("irq_user", "irq"), ("irq_user_ack", "irqack"),
]

CLOCK_NOTES = {
    "emulated": "QEMU TCG: times are emulator artefacts; compare event counts",
    "path-length": "Bochs, one CPU, clock sync=none: cycles are executed instructions",
    "instructions-smp": "Bochs with several CPUs: TSC ticks follow all CPUs' instructions",
    "real": "real hardware",
    "virtual": "a hypervisor (KVM): times are real but virtualised",
}


def parse(text):
    """Every BENCH object in text, in order; malformed lines raise ValueError."""
    out = []
    for line in text.splitlines():
        i = line.find(MARKER)
        if i < 0:
            continue
        try:
            out.append(json.loads(line[i + len("BENCH "):]))
        except json.JSONDecodeError as e:
            raise ValueError("malformed BENCH line: %s (%s)" % (line[:120], e))
    return out


def parse_file(path):
    with open(path, errors="replace") as f:
        return parse(f.read())


def fmt_value(v):
    if v >= 100000:
        return "%.0f" % v
    if v >= 100:
        return "%.1f" % v
    return "%.2f" % v


def events_text(ev, columns=EVENT_COLUMNS, minimum=0.005):
    """'cr3 3.00 ipi 1.00' for the non-zero events."""
    return " ".join("%s %s" % (short, fmt_value(ev[key]).rstrip("0").rstrip("."))
                    for key, short in columns if ev.get(key, 0) >= minimum)


def spread(r):
    """p10..p90 as a percentage of the median."""
    if not r.get("median"):
        return "-"
    return "%+.0f/%+.0f%%" % ((r["p10"] / r["median"] - 1) * 100, (r["p90"] / r["median"] - 1) * 100)


def print_checks(res):
    """Prints (name, ok, detail) results, one line each and a closing
    'N passed, N failed'; returns the exit status (1 if any failed)."""
    bad = 0
    for name, ok, detail in res:
        print("%s %s%s" % ("ok    " if ok else "FAIL  ", name, "" if ok else ": " + detail))
        bad += not ok
    print("%d passed, %d failed" % (len(res) - bad, bad))
    return 1 if bad else 0
