#!/usr/bin/env python3
"""The design-switch matrix: boot the benchmark suite under each setting
that matters and write a side-by-side report with plots.

  bench_report.py [--platform qemu-bios|bochs|bochs-pcid|kvm] [--smp N]
                  [--repeat R] [--batches B] [--only SETTING,...] [--out DIR]
                  [--walk-cycles C,...]

Each setting is the default kernel with one switch changed (the baseline
runs every benchmark; a variation runs the benchmarks its switch can
change). Every setting is booted R times (default 3); a cell of the report
is the median over those boots of each boot's median, with the range
across boots, and the ratio to the baseline measured in the same run.

Writes DIR (default results/<date>-<platform>/):
  raw/<setting>-<r>.log   serial logs
  results.jsonl           every BENCH object, with "setting" and "boot"
  report.md               tables: per switch, and the event counts
  *.png                   gnuplot plots: shootdown cost and IPIs versus T,
                          the address-space ring versus K for each asids=,
                          kernel unmap cost kflush=defer vs ipi

Under QEMU TCG the times are emulator artefacts (the report says so): read
the event counts. Under Bochs with one CPU the cycles are path lengths
(instructions); Bochs with more CPUs gives event counts only.

bochs-pcid (the PCID-faithful Bochs, tools/bochs/README.md) adds the
page_walks event, more settings (pcid=off, lazytlb=off with the
wake-heavy benchmark) and a section "Page walks": walks per operation
under each setting, the address-space ring's walks per hop for each
asids=, and, with one CPU, an estimated cost on a Sapphire Rapids core:
path length (one instruction per cycle) plus walks times the price of a
walk (--walk-cycles; see README "Address spaces and the TLB" for the
prices and what they rest on).
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import runner  # noqa: E402

SHOOT = "tlb_shootdown_*,munmap_shootdown_*"
RING = "as_ring_*"
SWITCH = "null_syscall,ipc_pingpong_*,thread_switch_same_cpu"


def settings(platform):
    """(name, extra command line, benchmarks)."""
    pcid_on = "on" if platform in ("bochs", "bochs-pcid", "kvm") else "model"
    lower_xsave = (["xsaveopt", "xsave", "fxsave"] if runner.is_bochs(platform)
                   else ["xsave", "fxsave"])
    s = [("baseline", "", "all"),
         ("pti=off", "pti=off", ",".join([SWITCH, SHOOT, RING, "page_fault"])),
         ("pcid=off", "pcid=off", ",".join([SWITCH, RING])),
         ("asids=1", "pcid=%s asids=1" % pcid_on, RING),
         ("asids=64", "pcid=%s asids=64" % pcid_on, RING),
         ("lazytlb=off", "lazytlb=off", "tlb_shootdown_*"),
         ("kflush=ipi", "kflush=ipi", "kernel_unmap_*"),
         ("ptiflush=precise", "ptiflush=precise", SHOOT),
         # The fused IPC path against the general one it stands in front of.
         ("ipcfast=off", "ipcfast=off",
          "ipc_pingpong_*,thread_switch_same_cpu,fpu_pingpong_same_cpu")]
    s += [("xsave=" + x, "xsave=" + x, "fpu_pingpong_same_cpu,ipc_pingpong_same_cpu")
          for x in lower_xsave]
    if platform == "bochs-pcid":
        # What the TLB refills under each setting: lazy TLB against a
        # wake-heavy load, with and without PCIDs.
        s = [x for x in s if not x[0].startswith("xsave=")]
        s = [(n, e, b + ",wake_heavy_*" if n in ("lazytlb=off", "pcid=off") else b)
             for n, e, b in s]
        s.append(("pcid=off lazytlb=off", "pcid=off lazytlb=off", "wake_heavy_*"))
    return s


def run_setting(name, extra, benches, args, rawdir, rep):
    cmdline = "bench=%s,batches=%d fbcon=off %s" % (benches, args.batches, extra)
    log = os.path.join(rawdir, "%s-%d.log" % (name.replace("=", "-"), rep))
    res = runner.boot(args.platform, args.smp, 512, cmdline, args.timeout, log)
    results = benchlib.parse(res.log)
    print("  %-18s boot %d: %-4s %3d results %6.1fs" % (name, rep, res.verdict, len(results),
                                                       res.seconds), flush=True)
    if not res.passed:
        print("    (log %s: %s)" % (log, res.reason))
    return results


def combine(boots):
    """{bench: {"median","lo","hi","cycles","events","n"}} over boots."""
    by = {}
    for results in boots:
        for r in results:
            by.setdefault(r["name"], []).append(r)
    out = {}
    for name, rs in by.items():
        meds = [r["median"] for r in rs]
        cyc = [r["cycles"] for r in rs]
        ev = {k: statistics.median(r["events"].get(k, 0) for r in rs) for k in rs[0]["events"]}
        out[name] = dict(median=statistics.median(meds), lo=min(meds), hi=max(meds),
                         cycles=statistics.median(cyc), cyc_lo=min(cyc), cyc_hi=max(cyc),
                         unit=rs[0]["unit"], events=ev, n=len(rs), first=rs[0])
    return out


def cell(c, use_cycles):
    if use_cycles:
        v, lo, hi = c["cycles"], c["cyc_lo"], c["cyc_hi"]
    else:
        v, lo, hi = c["median"], c["lo"], c["hi"]
    rng = "" if c["n"] < 2 else " [%s..%s]" % (benchlib.fmt_value(lo), benchlib.fmt_value(hi))
    return benchlib.fmt_value(v) + rng


def report_md(data, order, args, use_cycles, clock):
    base = data.get("baseline", {})
    what = "cycles (instructions: path length)" if use_cycles else "ns per operation"
    lines = ["# Benchmark switch matrix: %s, %d CPUs" % (args.platform, args.smp), "",
             "Generated %s by `tools/bench_report.py`; %d boots per setting, %d batches each."
             % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), args.repeat, args.batches),
             "", "Clock: %s. Values: %s, median over boots of each boot's median, "
             "[range over boots], ratio to the baseline of this run." % (
                 benchlib.CLOCK_NOTES.get(clock, clock), what), ""]
    if base:
        lines.append("Baseline switches: `%s`" % next(iter(base.values()))["first"]["config"])
        lines.append("")
    for name in order[1:]:
        d = data.get(name, {})
        if not d:
            continue
        lines += ["## %s" % name, "",
                  "| benchmark | baseline | %s | ratio | events per op, baseline | events per op, %s |"
                  % (name, name), "|---|---|---|---|---|---|"]
        for b in d:
            if b not in base:
                continue
            bv = base[b]["cycles" if use_cycles else "median"]
            v = d[b]["cycles" if use_cycles else "median"]
            ratio = "%.2f" % (v / bv) if bv else "-"
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                b, cell(base[b], use_cycles), cell(d[b], use_cycles), ratio,
                benchlib.events_text(base[b]["events"]), benchlib.events_text(d[b]["events"])))
        lines.append("")
    lines += ["## Baseline, every benchmark", "",
              "| benchmark | ns | cycles | events per op |", "|---|---|---|---|"]
    for b, c in base.items():
        lines.append("| %s | %s | %s | %s |" % (b, cell(c, False), cell(c, True),
                                              benchlib.events_text(c["events"])))
    return "\n".join(lines) + "\n"


def walks_md(data, order, use_cycles, walk_cycles):
    """The page-walk section (bochs-pcid): per setting, the benchmarks whose
    walks differ from the baseline's; the ring per asids=; estimated cost."""
    base = data.get("baseline", {})
    est = use_cycles and walk_cycles

    def w(c):
        return c["events"].get("page_walks", 0)

    def costs(c):
        return ["%.0f" % (c["cycles"] + w(c) * p) for p in walk_cycles] if est else []

    head_est = ["est. SPR cycles, walk = %d" % p for p in walk_cycles] if est else []
    lines = ["## Page walks", "",
             "TLB misses that walked the page tables, per operation, counted by the emulator "
             "(all CPUs)."]
    if est:
        lines.append("Estimated cost on a Sapphire Rapids core: the path length (one "
                     "instruction per cycle) plus walks x the price of a walk, for each "
                     "price (README \"Address spaces and the TLB\").")
    lines.append("")
    ring = [("asids=1", "asids=1"), ("asids=6", "baseline"), ("asids=64", "asids=64")]
    if any("as_ring_2_64" in data.get(s, {}) for _, s in ring):
        lines += ["### as_ring_K_64: per hop", "",
                  "| K | " + " | ".join("%s walks | %s cycles" % (a, a) for a, _ in ring) +
                  (" | " + " | ".join("%s est. (walk = %d)" % (a, p) for a, _ in ring
                                      for p in walk_cycles) if est else "") + " |",
                  "|---|" + "---|" * (2 * len(ring) + (len(ring) * len(walk_cycles) if est else 0))]
        for k in (2, 4, 8, 16, 32):
            cs = [data.get(s, {}).get("as_ring_%d_64" % k) for _, s in ring]
            row = ["%d" % k]
            for c in cs:
                row += [benchlib.fmt_value(w(c)), "%.0f" % c["cycles"]] if c else ["-", "-"]
            if est:
                row += ["%.0f" % (c["cycles"] + w(c) * p) if c else "-"
                        for c in cs for p in walk_cycles]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    for name in order[1:]:
        d = data.get(name, {})
        rows = [b for b in d if b in base and not b.startswith("as_ring")]
        if not rows:
            continue
        lines += ["### %s" % name, "",
                  "| benchmark | walks, baseline | walks, %s | cycles, baseline | cycles, %s |"
                  % (name, name) + "".join(" %s, baseline | %s, %s |" % (h, h, name)
                                           for h in head_est),
                  "|---|---|---|---|---|" + "---|---|" * len(head_est)]
        for b in rows:
            cells = [b, benchlib.fmt_value(w(base[b])), benchlib.fmt_value(w(d[b])),
                     "%.0f" % base[b]["cycles"], "%.0f" % d[b]["cycles"]]
            for x, y in zip(costs(base[b]), costs(d[b])):
                cells += [x, y]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### baseline, every benchmark", "",
              "| benchmark | walks | cycles |" + "".join(" %s |" % h for h in head_est),
              "|---|---|---|" + "---|" * len(head_est)]
    for b, c in base.items():
        lines.append("| " + " | ".join([b, benchlib.fmt_value(w(c)), "%.0f" % c["cycles"]] +
                                       costs(c)) + " |")
    return "\n".join(lines) + "\n"


def gnuplot(outdir, name, title, ylabel, xlabel, series, logx=False):
    """series: [(label, [(x, y)])]; writes name.png (and the .dat/.gp)."""
    series = [(lab, pts) for lab, pts in series if pts]
    if not series or not shutil.which("gnuplot"):
        return None
    dat = os.path.join(outdir, name + ".dat")
    with open(dat, "w") as f:
        for lab, pts in series:
            f.write("# %s\n" % lab)
            for x, y in pts:
                f.write("%s %s\n" % (x, y))
            f.write("\n\n")
    gp = os.path.join(outdir, name + ".gp")
    plots = ", ".join("'%s' index %d using 1:2 with linespoints title '%s'" % (
        os.path.basename(dat), i, lab) for i, (lab, _) in enumerate(series))
    with open(gp, "w") as f:
        f.write("set terminal pngcairo size 900,560\nset output '%s.png'\n" % name)
        f.write("set title '%s'\nset xlabel '%s'\nset ylabel '%s'\nset key top left\n"
                "set grid\n" % (title, xlabel, ylabel))
        if logx:
            f.write("set logscale x 2\n")
        f.write("plot %s\n" % plots)
    p = subprocess.run(["gnuplot", os.path.basename(gp)], cwd=outdir, capture_output=True, text=True)
    if p.returncode:
        print("gnuplot failed for %s: %s" % (name, p.stderr.strip()[:300]))
        return None
    return name + ".png"


def plots(data, outdir, use_cycles):
    key = "cycles" if use_cycles else "median"
    unit = "cycles per operation" if use_cycles else "ns per operation"
    made = []

    def pts(setting, fmt, xs, field=None):
        d = data.get(setting, {})
        out = []
        for x in xs:
            c = d.get(fmt % x)
            if c:
                out.append((x, c["events"].get(field, 0) if field else c[key]))
        return out

    T = [0, 1, 3, 7]
    made.append(gnuplot(outdir, "shootdown_cost", "Protection change with T other CPUs of the process",
                        unit, "T", [
                            ("busy (spinning), lazytlb=on", pts("baseline", "tlb_shootdown_%d", T)),
                            ("idle, lazytlb=on", pts("baseline", "tlb_shootdown_idle_%d", T)),
                            ("busy, lazytlb=off", pts("lazytlb=off", "tlb_shootdown_%d", T)),
                            ("idle, lazytlb=off", pts("lazytlb=off", "tlb_shootdown_idle_%d", T)),
                            ("munmap, busy", pts("baseline", "munmap_shootdown_%d", T))]))
    made.append(gnuplot(outdir, "shootdown_ipis", "TLB IPIs per protection change", "IPIs per operation",
                        "T", [
                            ("busy, lazytlb=on", pts("baseline", "tlb_shootdown_%d", T, "ipi_sent_tlb")),
                            ("idle, lazytlb=on", pts("baseline", "tlb_shootdown_idle_%d", T, "ipi_sent_tlb")),
                            ("idle: lazy skips", pts("baseline", "tlb_shootdown_idle_%d", T, "tlb_lazy_skip")),
                            ("busy, lazytlb=off", pts("lazytlb=off", "tlb_shootdown_%d", T, "ipi_sent_tlb"))]))
    K = [2, 4, 8, 16, 32]
    made.append(gnuplot(outdir, "as_ring", "Address-space ring, 64 pages touched per turn",
                        unit + " (per hop)", "K processes", [
                            ("asids=%s" % a, pts(s, "as_ring_%d_64", K))
                            for a, s in (("1", "asids=1"), ("6", "baseline"), ("64", "asids=64"))],
                        logx=True))
    made.append(gnuplot(outdir, "as_ring_evictions", "PCID slot evictions per hop", "evictions per hop",
                        "K processes", [
                            ("asids=%s" % a, pts(s, "as_ring_%d_64", K, "asid_evict"))
                            for a, s in (("1", "asids=1"), ("6", "baseline"), ("64", "asids=64"))],
                        logx=True))
    made.append(gnuplot(outdir, "as_ring_walks", "Address-space ring: page walks per hop",
                        "walks per hop", "K processes", [
                            ("asids=%s" % a, pts(s, "as_ring_%d_64", K, "page_walks"))
                            for a, s in (("1", "asids=1"), ("6", "baseline"), ("64", "asids=64"))],
                        logx=True) if any(c["events"].get("page_walks") for d in data.values()
                                          for c in d.values()) else None)
    made.append(gnuplot(outdir, "kernel_unmap", "Kernel (vmalloc) unmap with T CPUs in user mode",
                        unit, "T", [
                            ("kflush=defer", pts("baseline", "kernel_unmap_%d", T)),
                            ("kflush=ipi", pts("kflush=ipi", "kernel_unmap_%d", T))]))
    return [m for m in made if m]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="qemu-bios",
                    choices=["qemu-bios", "bochs", "bochs-pcid", "kvm"])
    ap.add_argument("--smp", type=int, default=None, help="default 8 (QEMU, KVM), 1 (Bochs)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batches", type=int, default=31)
    ap.add_argument("--only", default=None, help="settings to run (baseline always runs)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--from-dir", default=None,
                    help="re-make the report from an earlier run's raw/ logs")
    ap.add_argument("--walk-cycles", default="30,150",
                    help="prices of a page walk in cycles for the estimated cost (bochs-pcid)")
    args = ap.parse_args()
    if args.smp is None:
        args.smp = 1 if runner.is_bochs(args.platform) else 8
    walk_cycles = [int(x) for x in args.walk_cycles.split(",") if x]
    sets = settings(args.platform)
    if args.only:
        keep = set(args.only.split(",")) | {"baseline"}
        sets = [s for s in sets if s[0] in keep]
    day = datetime.date.today().isoformat()
    outdir = args.from_dir or args.out or os.path.join(
        runner.ROOT, "results", "%s-%s-smp%d" % (day, args.platform, args.smp))
    rawdir = os.path.join(outdir, "raw")
    os.makedirs(rawdir, exist_ok=True)
    data, allres = {}, []
    for name, extra, benches in sets:
        boots = []
        for rep in range(args.repeat):
            log = os.path.join(rawdir, "%s-%d.log" % (name.replace("=", "-"), rep))
            if args.from_dir:
                if not os.path.exists(log):
                    continue
                results = benchlib.parse_file(log)
            else:
                results = run_setting(name, extra, benches, args, rawdir, rep)
            boots.append(results)
            allres += [dict(r, setting=name, boot=rep) for r in results]
        data[name] = combine(boots)
    with open(os.path.join(outdir, "results.jsonl"), "w") as f:
        for r in allres:
            f.write(json.dumps(r) + "\n")
    clock = allres[0]["clock"] if allres else "?"
    use_cycles = clock == "path-length"
    md = report_md(data, [s[0] for s in sets], args, use_cycles, clock)
    if args.platform == "bochs-pcid":
        md += "\n" + walks_md(data, [s[0] for s in sets], use_cycles, walk_cycles)
    pngs = plots(data, outdir, use_cycles)
    md += "\n## Plots\n\n" + "".join("![%s](%s)\n\n" % (p[:-4], p) for p in pngs)
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(md)
    print("report: %s (%d results, %d plots)" % (os.path.join(outdir, "report.md"), len(allres),
                                                 len(pngs)))
    sys.exit(0 if allres else 1)


if __name__ == "__main__":
    main()
