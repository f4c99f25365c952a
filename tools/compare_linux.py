#!/usr/bin/env python3
"""Compare this kernel's benchmark suite with Linux's (make compare-linux).

Boots this kernel with `bench=all fbcon=off` (or reads --ours-log) and
Debian's Linux kernel with tools/linux_bench as /init of an initramfs, on
the same platform: the same GRUB ISO path, emulator, -smp, memory and
bochsrc (tools/runner.py). Prints one Markdown table, ours vs Linux with
the ratio ours/Linux, and writes it with the raw BENCH lines to
results/compare-linux-<platform>-smp<N>-<date>.md.

Linux comes from the Debian archive: the package linux-image-amd64 depends
on (`apt-get download`), only its vmlinuz extracted into build/linux/ and
kept there, so later runs download nothing.

Usage:
  compare_linux.py [--platform qemu-bios|qemu-uefi|bochs|bochs-pcid|kvm] [--smp N]
                   [--ours-log FILE] [--linux-log FILE ...]
                   [--variant EXTRA ...] [--only GLOBS] [--out FILE]

--variant adds Linux boots with extra kernel words ("pti=on",
"mitigations=off"); "default" is Linux as configured by Debian.
"""
import argparse
import datetime
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
OURS_ONLY = re.compile(r"^(kernel_unmap_\d+|pasid_switch)$")
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
    extra = sorted(set(ours).union(*[set(lx) for lx in linuxes]) - set(ORDER))
    return names + extra


def table(ours, linuxes, labels, metrics):
    """Markdown: per metric, our median (p10–p90), then per Linux variant
    its median (p10–p90) and the ratio ours/Linux."""
    head = ["benchmark"]
    for key in metrics:
        unit = {"ns": "ns", "page_walks": "walks"}.get(key, "cycles")
        head.append("ours %s" % unit)
        for label in labels:
            head += ["Linux%s %s" % (" " + label if len(labels) > 1 else "", unit), "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in row_names(ours, linuxes):
        cells = [name]
        for key in metrics:
            o = metric(ours.get(name), key)
            cells.append(fmt_cell(o))
            for lx in linuxes:
                if OURS_ONLY.match(name):
                    cells += ["this kernel only", "—"]
                    continue
                x = metric(lx.get(name), key)
                cells += [fmt_cell(x), fmt_ratio(ratio(o and o[0], x and x[0]))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


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


def linux_cmdline(platform, variant, only):
    words = [LINUX_CMDLINE, LINUX_CMDLINE_PLATFORM.get(platform, ""),
             "lbench.platform=" + lbench_platform(platform)]
    if variant and variant != "default":
        words.append(variant)
    if only:
        words.append("lbench.only=" + only)
    return " ".join(w for w in words if w)


def boot_linux(args, variant, log_path):
    vmlinuz = fetch_kernel()
    build_lbench()
    initrd = os.path.join(LINUX_DIR, "initramfs.cpio")
    write_initramfs(initrd, LBENCH)
    cmdline = linux_cmdline(args.platform, variant, args.only)
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


def boot_ours(args, log_path):
    if not os.path.exists(os.path.join(runner.USER_DIR, "bench.elf")):
        sys.exit("compare_linux: build/user/bench.elf is missing (no user/bench in this "
                 "tree?); pass --ours-log FILE with a serial log of the suite")
    cmdline = "bench=%s fbcon=off" % args.only if args.only else OURS_CMDLINE
    print("compare_linux: this kernel on %s -smp %d: %s" % (args.platform, args.smp, cmdline),
          flush=True)
    res = runner.boot(args.platform, args.smp, args.mem, cmdline, args.timeout, log_path,
                      echo=args.verbose)
    print("compare_linux: this kernel %s in %.0fs; log %s" % (res.verdict, res.seconds,
                                                              log_path), flush=True)
    return res


# ---- the report ----

def report(args, ours_text, linux_texts, labels):
    ours, bad = parse_bench(ours_text)
    linuxes = []
    for text in linux_texts:
        recs, b = parse_bench(text)
        linuxes.append(recs)
        bad += b
    metrics = ["ns"] + (["cycles"] if runner.is_bochs(args.platform) else [])
    metrics += ["page_walks"] if args.platform == "bochs-pcid" else []
    out = ["# This kernel vs Linux: %s, -smp %d, %s" % (
        args.platform, args.smp, datetime.date.today().isoformat()), ""]
    out.append("Ratio = ours / Linux (below 1: this kernel is faster). Cells: median "
               "(p10–p90) per operation.")
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
    out.append("- this kernel: " + "; ".join("`%s`" % c for c in configs(ours)))
    for label, recs in zip(labels, linuxes):
        out.append("- Linux %s: %s" % (label, "; ".join("`%s`" % c for c in configs(recs))))
    out += ["", table(ours, linuxes, labels, metrics)]
    if bad:
        out.append("%d BENCH line(s) could not be parsed (see the raw lines)." % len(bad))
    out += ["", "## Raw BENCH lines", "", "### this kernel", "", "```"]
    out += [m.group(0) for m in map(BENCH_RE.search, ours_text.splitlines()) if m]
    out.append("```")
    for label, text in zip(labels, linux_texts):
        out += ["", "### Linux %s" % label, "", "```"]
        out += [line.strip() for line in text.splitlines()
                if BENCH_RE.search(line) or line.startswith("# ")]
        out.append("```")
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
                    help='Linux kernel words per extra run ("pti=on"); default: "default"')
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
    if args.ours_log:
        with open(args.ours_log, errors="replace") as f:
            ours_text = f.read()
    else:
        res = boot_ours(args, os.path.join(logdir, "ours-%s-%s.log" % (args.platform, stamp)))
        ours_text = res.log
        failed |= not res.passed
    linux_texts = []
    if args.linux_log:
        for path in args.linux_log:
            with open(path, errors="replace") as f:
                linux_texts.append(f.read())
    else:
        for v in variants:
            log = os.path.join(logdir, "linux-%s-%s-%s.log" % (
                args.platform, re.sub(r"[^\w.=-]", "_", v), stamp))
            res = boot_linux(args, v, log)
            linux_texts.append(res.log)
            failed |= not res.passed
    text, bad = report(args, ours_text, linux_texts, variants)
    out = args.out or os.path.join(RESULTS, "compare-linux-%s-smp%d-%s.md" % (
        args.platform, args.smp, datetime.date.today().isoformat()))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print(text.split("\n## Raw")[0])
    print("compare_linux: written %s" % out)
    sys.exit(1 if failed or bad else 0)


if __name__ == "__main__":
    main()
