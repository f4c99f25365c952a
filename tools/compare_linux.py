#!/usr/bin/env python3
"""Compare this kernel's benchmark suite with Linux's (make compare-linux).

Like for like (../shared/BENCHMARKS.md "Comparing like with like"): per
PTI setting (--pti, both by default) it boots this kernel with `bench=all
fbcon=off pti=X` and Debian's Linux kernel with tools/linux_bench as /init
of an initramfs and the word `pti=X`, on the same platform: the same GRUB
ISO path, emulator, -smp, memory and bochsrc (tools/runner.py). Each
setting gets one Markdown table, ours vs Linux with the ratio ours/Linux
and the mechanism Linux uses for each row (an IPC round trip has two: a
futex and a pipe ping-pong); a table whose two sides report different PTI
settings says so. All go with the raw BENCH lines to
results/compare-linux-<platform>-smp<N>-<date>.md.

Linux comes from the Debian archive: the package linux-image-amd64 depends
on (`apt-get download`), only its vmlinuz extracted into build/linux/ and
kept there, so later runs download nothing.

Usage:
  compare_linux.py [--platform qemu-bios|qemu-uefi|bochs|bochs-pcid|kvm] [--smp N]
                   [--pti on|off ...] [--ours-log FILE] [--linux-log FILE ...]
                   [--variant EXTRA ...] [--only GLOBS] [--out FILE]

--variant adds Linux boots with extra kernel words ("mitigations=off"),
per PTI setting; "default" is Linux as configured by Debian plus the PTI
word. With --ours-log/--linux-log the logs make one table, labelled with
the PTI settings they report.
"""
import argparse
import datetime
import fnmatch
import glob
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402

ROOT = runner.ROOT
LINUX_DIR = os.path.join(runner.BUILD, "linux")
LBENCH = os.path.join(LINUX_DIR, "lbench")
LBENCH_SRC = os.path.join(ROOT, "tools", "linux_bench")
RESULTS = os.path.join(ROOT, "results")

# Words that keep Linux quick and reproducible in an emulator (README.md):
# no KASLR (same layout every boot), the TSC trusted (no watchdog, no
# clocksource switch under the benchmarks), a panic ends the emulator.
LINUX_CMDLINE = "console=ttyS0,115200 quiet nokaslr tsc=reliable panic=-1"
# Bochs's sapphire_rapids has AMX but no XFD; Linux 6.1 then enables XCR0
# bit 17 (tile config) without bit 18 (tile data), XSETBV raises #GP and
# the boot panics in fpu__init_cpu_xstate. Hiding AMX clears both. It also
# has LA57, and Bochs 3.0 panics ("SMM restore: CR4 consistency check
# failed") on the first SMI after Linux turned 5-level paging on: no5lvl.
# And it has FSRM while its IA32_MISC_ENABLE leaves fast strings off: Linux
# then clears ERMS ("Disabled fast string operations") but keeps FSRM. 6.1's
# memmove drops its "under 32 bytes" check with FSRM and jumps to `rep
# movsb` with ERMS; with FSRM alone a short forward memmove (printk_sprint
# stripping a KERN_<level> prefix, "landlock: Up and running.") runs its
# 32-byte loop from a count of -7 through .bss and .brk (the early page
# tables among them) until it faults, and the page fault handler faults on
# the now unmapped per-CPU area, for ever: the "stall" with no output.
# Hiding FSRM keeps memmove's checked path.
LINUX_CMDLINE_PLATFORM = {"bochs": "clearcpuid=amx_tile,fsrm no5lvl",
                          "bochs-pcid": "clearcpuid=amx_tile,fsrm no5lvl"}
LINUX_PANIC = re.compile(r"Kernel panic - not syncing|end Kernel panic")
OURS_CMDLINE = "bench=all fbcon=off"

# The suite's order (../shared/BENCHMARKS.md), T and K substituted.
T_COUNTS = (0, 1, 3, 7)
ORDER = (["null_syscall", "ipc_pingpong_same_cpu", "ipc_pingpong_cross_cpu",
          "thread_switch_same_cpu", "fpu_pingpong_same_cpu"]
         + ["tlb_shootdown_%d" % t for t in T_COUNTS]
         + ["tlb_shootdown_idle_%d" % t for t in T_COUNTS]
         + ["munmap_shootdown_%d" % t for t in T_COUNTS]
         + ["page_fault"]
         + ["membarrier_expedited_%d" % t for t in T_COUNTS]
         + ["as_ring_%d_64" % k for k in (2, 4, 8, 16, 32)])
OURS_ONLY = re.compile(r"^(kernel_unmap_\d+|pasid_switch|protect_sparse_tables)$")
# Rows with more than one Linux mechanism: ours, then each Linux benchmark
# measured against it (tools/linux_bench/bench.c).
LINUX_ALTERNATIVES = {
    "ipc_pingpong_same_cpu": ["ipc_pingpong_same_cpu", "ipc_pingpong_same_cpu_pipe"],
    "ipc_pingpong_cross_cpu": ["ipc_pingpong_cross_cpu", "ipc_pingpong_cross_cpu_pipe"],
}
ALTERNATIVE_ONLY = {a for alts in LINUX_ALTERNATIVES.values() for a in alts[1:]}
# What Linux does for a row, when its BENCH line does not say
# ("mechanism"; logs from before that field).
MECHANISMS = {
    "null_syscall": "syscall(SYS_getppid)",
    "ipc_pingpong_same_cpu": "futex ping-pong, 2 processes",
    "ipc_pingpong_cross_cpu": "futex ping-pong, 2 processes",
    "ipc_pingpong_same_cpu_pipe": "pipe ping-pong, 2 processes",
    "ipc_pingpong_cross_cpu_pipe": "pipe ping-pong, 2 processes",
    "thread_switch_same_cpu": "futex ping-pong, 2 threads",
    "fpu_pingpong_same_cpu": "futex ping-pong, 2 processes",
    "page_fault": "first write, anonymous page",
}
MECHANISM_PREFIXES = [("tlb_shootdown", "mprotect"), ("munmap_shootdown", "mmap, write, munmap"),
                      ("membarrier_expedited", "MEMBARRIER_CMD_PRIVATE_EXPEDITED"),
                      ("as_ring", "futex token ring")]
BENCH_RE = re.compile(r"BENCH (\{.*)")


# ---- parsing and the table (pure; tests/test_compare_linux.py) ----

def parse_bench(text):
    """BENCH lines of a serial log: {name: record}, the last line of a
    name winning; records with a config too (a name may repeat per
    config, and a later one is the one reported). Lines that are not
    valid JSON (a kernel message cut into them) are returned in bad."""
    out, bad = {}, []
    for line in text.splitlines():
        m = BENCH_RE.search(line)
        if not m:
            continue
        try:
            rec = json.loads(m.group(1))
            float(rec["median"])
            rec["name"]
        except (ValueError, KeyError, TypeError):
            bad.append(line)
            continue
        out[rec["name"]] = rec
    return out, bad


def ratio(a, b):
    """ours/Linux, or None when either side is missing or Linux is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def metric(rec, key):
    """(median, p10, p90) for key "ns" or "cycles", or None; for
    "page_walks" (events, the patched Bochs) the one value thrice."""
    if rec is None:
        return None
    try:
        if key == "page_walks":
            v = float(rec["events"]["page_walks"])
            return v, v, v
        if key == "ns":
            return float(rec["median"]), float(rec["p10"]), float(rec["p90"])
        med = float(rec["cycles"])
        return med, float(rec.get("cycles_p10", med)), float(rec.get("cycles_p90", med))
    except (KeyError, TypeError, ValueError):
        return None


def fmt_num(v):
    if v is None:
        return "—"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_cell(m):
    if m is None:
        return "—"
    if m[0] == m[1] == m[2]:
        return fmt_num(m[0])
    return "%s (%s–%s)" % (fmt_num(m[0]), fmt_num(m[1]), fmt_num(m[2]))


def fmt_ratio(r):
    return "—" if r is None else "%.2f" % r


def row_names(ours, linuxes):
    names = [n for n in ORDER if n in ours or any(n in lx for lx in linuxes)]
    extra = sorted(set(ours).union(*[set(lx) for lx in linuxes]) - set(ORDER)
                   - ALTERNATIVE_ONLY)
    return names + extra


def mechanism(name, linuxes):
    """How Linux runs benchmark `name` (its BENCH line's "mechanism")."""
    if OURS_ONLY.match(name):
        return "—"
    for lx in linuxes:
        if lx.get(name, {}).get("mechanism"):
            return lx[name]["mechanism"]
    if name in MECHANISMS:
        return MECHANISMS[name]
    for prefix, what in MECHANISM_PREFIXES:
        if name.startswith(prefix):
            return what
    return "—"


def table(ours, linuxes, labels, metrics):
    """Markdown: per metric, our median (p10–p90), then per Linux variant
    its median (p10–p90) and the ratio ours/Linux. A benchmark Linux runs
    two ways (LINUX_ALTERNATIVES) gets a row per way, ours repeated."""
    head = ["benchmark", "Linux mechanism"]
    for key in metrics:
        unit = {"ns": "ns", "page_walks": "walks"}.get(key, "cycles")
        head.append("ours %s" % unit)
        for label in labels:
            head += ["Linux%s %s" % (" " + label if len(labels) > 1 else "", unit), "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in row_names(ours, linuxes):
        alts = LINUX_ALTERNATIVES.get(name, [name])
        alts = alts[:1] + [a for a in alts[1:] if any(a in lx for lx in linuxes)]
        for alt in alts:
            cells = [name, mechanism(alt, linuxes)]
            for key in metrics:
                o = metric(ours.get(name), key)
                cells.append(fmt_cell(o))
                for lx in linuxes:
                    if OURS_ONLY.match(name):
                        cells += ["this kernel only", "—"]
                        continue
                    x = metric(lx.get(alt), key)
                    cells += [fmt_cell(x), fmt_ratio(ratio(o and o[0], x and x[0]))]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def pti_of(recs):
    """The PTI settings the records' configs report ({"on"}, {"off"}, ...)."""
    out = set()
    for r in recs.values():
        m = re.search(r"(?:^| )pti=(on|off)\b", r.get("config", ""))
        if m:
            out.add(m.group(1))
    return out


def configs(recs):
    return sorted({r.get("config", "?") for r in recs.values()})


# ---- Linux: kernel, initramfs, image ----

def cpio_newc(entries):
    """A newc cpio archive from (name, mode, data, rdev_major, rdev_minor)."""
    out = bytearray()
    for ino, (name, mode, data, rmaj, rmin) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)]):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino + 1 if name != "TRAILER!!!" else 0, mode, 0, 0, 2 if mode & 0o40000 else 1,
            0, len(data), 0, 0, rmaj, rmin, len(nb), 0))
        out += hdr.encode() + nb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def write_initramfs(path, init_path):
    with open(init_path, "rb") as f:
        init = f.read()
    entries = [("dev", 0o40755, b"", 0, 0),
               ("dev/console", 0o20600, b"", 5, 1),
               ("proc", 0o40555, b"", 0, 0),
               ("sys", 0o40555, b"", 0, 0),
               ("init", 0o100755, init, 0, 0)]
    with open(path + ".tmp", "wb") as f:
        f.write(cpio_newc(entries))
    os.replace(path + ".tmp", path)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def fetch_kernel():
    """build/linux/vmlinuz-<release>, downloaded once."""
    found = sorted(glob.glob(os.path.join(LINUX_DIR, "vmlinuz-*")))
    if found:
        return found[-1]
    os.makedirs(LINUX_DIR, exist_ok=True)
    pkg = None
    for attempt in range(2):
        out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                             capture_output=True, text=True).stdout
        m = re.search(r"Depends: (linux-image-[0-9][^\s]*)", out)
        if m:
            pkg = m.group(1)
            break
        subprocess.run(["apt-get", "update", "-qq"], check=True)
    if not pkg:
        sys.exit("compare_linux: apt-cache finds no linux-image-amd64")
    print("compare_linux: downloading %s" % pkg, flush=True)
    sh(["apt-get", "download", pkg], cwd=LINUX_DIR)
    deb = sorted(glob.glob(os.path.join(LINUX_DIR, pkg + "_*.deb")))[-1]
    # Only the compressed kernel (the modules are not needed: all the
    # suite uses is built in, and the serial console is 8250, built in).
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", LINUX_DIR, "--wildcards", "--strip-components=2",
                    "./boot/vmlinuz-*", "./boot/config-*"], stdin=tar.stdout, check=True)
    tar.wait()
    os.unlink(deb)
    return sorted(glob.glob(os.path.join(LINUX_DIR, "vmlinuz-*")))[-1]


def build_lbench():
    srcs = glob.glob(os.path.join(LBENCH_SRC, "*.[ch]"))
    if os.path.exists(LBENCH) and all(os.path.getmtime(s) <= os.path.getmtime(LBENCH)
                                      for s in srcs):
        return
    subprocess.run(["make", "-s", "-C", ROOT, os.path.relpath(LBENCH, ROOT)], check=True)


def linux_grub_cfg(cmdline):
    # GRUB's settings (serial, terminals, timeout) exactly as for this kernel.
    head = runner.grub_cfg("", []).split("menuentry")[0]
    return head + "\n".join([
        'menuentry "linux" {',
        # mkiso.sh copies the kernel it is given to /boot/kernel.elf: here
        # that file is the bzImage.
        "\tlinux /boot/kernel.elf %s" % cmdline,
        "\tinitrd /boot/initramfs.cpio",
        "\tboot",
        "}",
    ]) + "\n"


def lbench_platform(platform):
    if platform.startswith("qemu"):
        return "qemu"
    return "bochs" if runner.is_bochs(platform) else platform


def linux_only(only):
    """The Linux selection for a bench= selection: with each ping-pong its
    pipe twin (LINUX_ALTERNATIVES)."""
    words = only.split(",")
    for name, alts in LINUX_ALTERNATIVES.items():
        if any(fnmatch.fnmatchcase(name, w) for w in words):
            words += [a for a in alts[1:] if a not in words]
    return ",".join(words)


def linux_cmdline(platform, variant, only, pti=None):
    words = [LINUX_CMDLINE, LINUX_CMDLINE_PLATFORM.get(platform, ""),
             "lbench.platform=" + lbench_platform(platform)]
    if pti:
        words.append("pti=" + pti)
    if variant and variant != "default":
        words.append(variant)
    if only:
        words.append("lbench.only=" + linux_only(only))
    return " ".join(w for w in words if w)


def boot_linux(args, variant, log_path, pti=None):
    vmlinuz = fetch_kernel()
    build_lbench()
    initrd = os.path.join(LINUX_DIR, "initramfs.cpio")
    write_initramfs(initrd, LBENCH)
    cmdline = linux_cmdline(args.platform, variant, args.only, pti)
    iso = runner.make_image(cmdline, modules=[initrd], cfg=linux_grub_cfg(cmdline),
                            kernel=vmlinuz)
    print("compare_linux: Linux (%s) on %s -smp %d: %s" % (
        variant, args.platform, args.smp, cmdline), flush=True)
    res = runner.boot(args.platform, args.smp, args.mem, cmdline, args.timeout, log_path,
                      echo=args.verbose, image=iso, abort=LINUX_PANIC)
    if not res.passed:
        with open(log_path, "w") as f:  # with the emulator's log tail, if any
            f.write(res.log)
    print("compare_linux: Linux (%s) %s in %.0fs; log %s" % (
        variant, res.verdict, res.seconds, log_path), flush=True)
    return res


def boot_ours(args, log_path, pti=None):
    if not os.path.exists(os.path.join(runner.USER_DIR, "bench.elf")):
        sys.exit("compare_linux: build/user/bench.elf is missing (no user/bench in this "
                 "tree?); pass --ours-log FILE with a serial log of the suite")
    cmdline = "bench=%s fbcon=off" % args.only if args.only else OURS_CMDLINE
    if pti:
        cmdline += " pti=" + pti
    print("compare_linux: this kernel on %s -smp %d: %s" % (args.platform, args.smp, cmdline),
          flush=True)
    res = runner.boot(args.platform, args.smp, args.mem, cmdline, args.timeout, log_path,
                      echo=args.verbose)
    print("compare_linux: this kernel %s in %.0fs; log %s" % (res.verdict, res.seconds,
                                                              log_path), flush=True)
    return res


# ---- the report ----

def section(args, title, ours_text, linux_texts, labels, metrics):
    """One table (a PTI setting): (markdown lines, raw lines, bad count)."""
    ours, bad = parse_bench(ours_text)
    linuxes = []
    for text in linux_texts:
        recs, b = parse_bench(text)
        linuxes.append(recs)
        bad += b
    out = ["## %s" % title, ""]
    out.append("- this kernel: " + "; ".join("`%s`" % c for c in configs(ours)))
    for label, recs in zip(labels, linuxes):
        out.append("- Linux %s: %s" % (label, "; ".join("`%s`" % c for c in configs(recs))))
    sides = [pti_of(ours)] + [pti_of(recs) for recs in linuxes]
    if any(len(p) != 1 for p in sides) or len(set().union(*sides)) != 1:
        out.append("")
        out.append("**Not like for like:** the two sides report PTI %s." % " vs ".join(
            "/".join(sorted(p)) or "?" for p in sides))
    out += ["", table(ours, linuxes, labels, metrics)]
    raw = ["", "### %s: this kernel" % title, "", "```"]
    raw += [m.group(0) for m in map(BENCH_RE.search, ours_text.splitlines()) if m]
    raw.append("```")
    for label, text in zip(labels, linux_texts):
        raw += ["", "### %s: Linux %s" % (title, label), "", "```"]
        raw += [line.strip() for line in text.splitlines()
                if BENCH_RE.search(line) or line.startswith("# ")]
        raw.append("```")
    return out, raw, len(bad)


def report(args, sections, labels):
    """sections: [(title, ours text, [linux text per label])]."""
    metrics = ["ns"] + (["cycles"] if runner.is_bochs(args.platform) else [])
    metrics += ["page_walks"] if args.platform == "bochs-pcid" else []
    out = ["# This kernel vs Linux: %s, -smp %d, %s" % (
        args.platform, args.smp, datetime.date.today().isoformat()), ""]
    out.append("Like for like: each table runs both kernels with the same PTI setting. "
               "Ratio = ours / Linux (below 1: this kernel is faster). Cells: median "
               "(p10–p90) per operation. Linux mechanism: what Linux runs for the row "
               "(README \"Comparing with Linux\"); an IPC round trip here is `call` + "
               "`reply_recv`, on Linux a futex or a pipe ping-pong.")
    if runner.is_bochs(args.platform) and args.smp == 1:
        out.append("Under Bochs with one CPU a TSC tick is one instruction: `cycles` is "
                   "the path length.")
    elif runner.is_bochs(args.platform):
        out.append("Under Bochs with %d CPUs a TSC tick is not one instruction (this "
                   "kernel's `tsc_per_insn` row says how many): `cycles` are not path "
                   "lengths, compare ratios; path lengths need `--smp 1`." % args.smp)
    elif args.platform.startswith("qemu"):
        out.append("QEMU TCG: emulated time, not hardware time; compare ratios, not "
                   "absolute values.")
    out.append("")
    raws, bad = [], 0
    for title, ours_text, linux_texts in sections:
        body, raw, b = section(args, title, ours_text, linux_texts, labels, metrics)
        out += body
        raws += raw
        bad += b
    if bad:
        out.append("%d BENCH line(s) could not be parsed (see the raw lines)." % bad)
    out += ["", "## Raw BENCH lines"] + raws
    return "\n".join(out) + "\n", bool(bad)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--platform", default="qemu-bios", choices=runner.PLATFORMS)
    ap.add_argument("--smp", type=int, default=None,
                    help="CPUs (default 8; 2 under Bochs: path lengths need one CPU, "
                         "shootdowns more than one)")
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--ours-log", help="serial log of this kernel's suite (no boot)")
    ap.add_argument("--linux-log", action="append", default=[],
                    help="serial log of a Linux run (no boot); repeat per --variant")
    ap.add_argument("--variant", action="append", default=[],
                    help='Linux kernel words per extra run ("mitigations=off"); default: '
                         '"default"')
    ap.add_argument("--pti", action="append", choices=["on", "off"], default=[],
                    help="PTI setting of both kernels, one table each (default: on and off)")
    ap.add_argument("--only", help="benchmarks to run on both sides (bench= syntax, a,b*)")
    ap.add_argument("--timeout", type=int, default=None)
    ap.add_argument("--out", help="Markdown file (default results/compare-linux-P-smpN-DATE.md)")
    ap.add_argument("--verbose", action="store_true", help="echo the serial consoles")
    args = ap.parse_args()
    if args.smp is None:
        args.smp = 2 if runner.is_bochs(args.platform) else 8
    if args.timeout is None:
        args.timeout = 600 if runner.is_bochs(args.platform) else 1200
    variants = args.variant or ["default"]
    if args.linux_log and len(args.linux_log) != len(variants):
        variants = ["log%d" % (i + 1) if len(args.linux_log) > 1 else "default"
                    for i in range(len(args.linux_log))]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logdir = os.path.join(runner.BUILD, "compare-linux")
    os.makedirs(logdir, exist_ok=True)

    failed = False
    sections = []
    if args.ours_log or args.linux_log:
        # A saved log: one table; the side not given boots with the PTI
        # setting the given log reports.
        ours_text, linux_texts = None, None
        if args.ours_log:
            with open(args.ours_log, errors="replace") as f:
                ours_text = f.read()
        if args.linux_log:
            linux_texts = []
            for path in args.linux_log:
                with open(path, errors="replace") as f:
                    linux_texts.append(f.read())
        given = ours_text if ours_text is not None else linux_texts[0]
        ptis = pti_of(parse_bench(given)[0])
        pti = args.pti[0] if args.pti else (min(ptis) if len(ptis) == 1 else None)
        if ours_text is None:
            res = boot_ours(args, os.path.join(logdir, "ours-%s-%s.log" % (
                args.platform, stamp)), pti)
            ours_text = res.log
            failed |= not res.passed
        if linux_texts is None:
            linux_texts = []
            for v in variants:
                log = os.path.join(logdir, "linux-%s-%s-%s.log" % (
                    args.platform, re.sub(r"[^\w.=-]", "_", v), stamp))
                lres = boot_linux(args, v, log, pti)
                linux_texts.append(lres.log)
                failed |= not lres.passed
        title = "PTI %s" % (pti or "/".join(sorted(ptis)) or "?")
        sections.append((title, ours_text, linux_texts))
    else:
        for pti in args.pti or ["on", "off"]:
            res = boot_ours(args, os.path.join(logdir, "ours-%s-pti-%s-%s.log" % (
                args.platform, pti, stamp)), pti)
            failed |= not res.passed
            linux_texts = []
            for v in variants:
                log = os.path.join(logdir, "linux-%s-pti-%s-%s-%s.log" % (
                    args.platform, pti, re.sub(r"[^\w.=-]", "_", v), stamp))
                lres = boot_linux(args, v, log, pti)
                linux_texts.append(lres.log)
                failed |= not lres.passed
            sections.append(("PTI %s, both kernels" % pti, res.log, linux_texts))
    text, bad = report(args, sections, variants)
    one = "-pti-%s" % args.pti[0] if len(args.pti) == 1 else ""
    out = args.out or os.path.join(RESULTS, "compare-linux-%s-smp%d%s-%s.md" % (
        args.platform, args.smp, one, datetime.date.today().isoformat()))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print(text.split("\n## Raw")[0])
    print("compare_linux: written %s" % out)
    sys.exit(1 if failed or bad else 0)


if __name__ == "__main__":
    main()
