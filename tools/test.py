#!/usr/bin/env python3
"""The whole test suite: `make test` runs this after building.

Layers
  1. host unit tests of pure kernel logic (cmocka, ASan+UBSan), TAP output
  2. in-kernel tests (KTAP) on every boot of the boot matrix
  3. user-level tests run by init (KTAP suite "user"), on the same boots
plus static checks (clang-format, barrier comments) and meta-tests that
prove the runner catches a crash, a failing test and a hang.

Every test, boot and check counts once; the last line is
"N passed, M failed". Every boot keeps its serial log in
build/test-logs/ (a failure names it).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402
import bench_check  # noqa: E402
import pathlen  # noqa: E402
import pathprof  # noqa: E402
import runner  # noqa: E402
from matrix import BOOTS, DEATHS, LARGE  # noqa: E402

ROOT = runner.ROOT
LOGDIR = os.path.join(runner.BUILD, "test-logs")


class Tally:
    """One row's results and output: the output is buffered (say) and
    printed whole when the row ends, so that concurrent rows do not
    interleave their lines."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.lines = []
        self.cpu = None  # the emulator's CPU seconds, for a boot

    def add(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(what + (": " + detail if detail else ""))
            self.say("FAIL %s%s" % (what, ": " + detail if detail else ""))

    def say(self, line):
        self.lines.append(line)

    def merge(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.failures += other.failures


def host_tests(t):
    """The cmocka host unit tests, and the xstate layout tool."""
    hostdir = os.path.join(runner.BUILD, "host")
    tests = sorted(f for f in os.listdir(hostdir) if f.startswith("test_")) \
        if os.path.isdir(hostdir) else []
    if not tests:
        t.add(False, "host", "no host tests were built")
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    for name in tests:
        p = subprocess.run([os.path.join(hostdir, name)], capture_output=True, text=True,
                           env=env)
        n_ok = n_bad = 0
        for line in p.stdout.splitlines():
            m = re.match(r"^(not ok|ok) \d+ - (.*)", line)
            if m:
                ok = m.group(1) == "ok"
                t.add(ok, "host/%s/%s" % (name, m.group(2).strip()))
                n_ok += ok
                n_bad += not ok
        if p.returncode != 0 and n_bad == 0:
            t.add(False, "host/%s" % name, "exit %d\n%s" % (p.returncode, p.stderr[-2000:]))
        t.say("host   %-22s %3d passed %d failed" % (name, n_ok, n_bad))
    # The layout tool on every CPUID dump (the layouts: tests/test_xstate_layout.c).
    tool = os.path.join(hostdir, "xstate-layout")
    dumps = sorted(glob.glob(os.path.join(ROOT, "..", "shared", "data", "cpuid", "*.txt")))
    for d in dumps:
        for extra in ([], ["--pasid"]):
            p = subprocess.run([tool, d] + extra, capture_output=True, text=True)
            ok = p.returncode == 0 and "compacted size" in p.stdout and ": match" in p.stdout
            t.add(ok, "tool/xstate-layout %s%s" % (os.path.basename(d), " --pasid" if extra else ""),
                  "" if ok else "exit %d\n%s%s" % (p.returncode, p.stdout[-1500:], p.stderr[-500:]))
    if not dumps:
        t.add(False, "tool/xstate-layout", "no CPUID dumps in ../shared/data/cpuid")


def host_scripts(t):
    """The tools' own tests (TAP)."""
    # The trace converter on synthetic serial logs.
    tap_script(t, "host", "trace2chrome", "host/trace2chrome/",
               [os.path.join("tests", "test_trace2chrome.py")])
    # The Linux comparison's parser and table (make compare-linux).
    tap_script(t, "host", "compare_linux", "host/compare_linux/",
               [os.path.join("tests", "test_compare_linux.py"), "--tap"])
    # The profiler's instruction listing, on real addresses of the built
    # kernel (make profile PROFILE_ARGS=--listing).
    tap_script(t, "host", "pathprof", "host/pathprof/",
               [os.path.join("tests", "test_pathprof.py")])
    # The path-length gate's checks on synthetic BENCH lines.
    tap_script(t, "host", "pathlen", "host/pathlen/",
               [os.path.join("tests", "test_pathlen.py")])


def spin_models(t):
    """The Promela models of the TLB protocol's races (model/*.pml)."""
    tap_script(t, "model", "spin", "model/", [os.path.join("tools", "spin_check.py"), "--tap"])


def tap_script(t, layer, name, prefix, argv):
    """A Python script that prints TAP: each case counts once, as prefix + case."""
    p = subprocess.run([sys.executable] + [os.path.join(ROOT, argv[0])] + argv[1:],
                       capture_output=True, text=True)
    n_ok = n_bad = 0
    for line in p.stdout.splitlines():
        m = re.match(r"^(not ok|ok) \d+ - ([^#]*)", line)
        if m:
            ok = m.group(1) == "ok"
            t.add(ok, prefix + m.group(2).strip(), "" if ok else p.stdout[-2000:])
            n_ok += ok
            n_bad += not ok
    if p.returncode != 0 and n_bad == 0:
        t.add(False, prefix.rstrip("/"), p.stdout[-2000:] + p.stderr[-2000:])
    t.say("%-6s %-22s %3d passed %d failed" % (layer, name, n_ok, n_bad))


def save_log(name, log):
    os.makedirs(LOGDIR, exist_ok=True)
    path = os.path.join(LOGDIR, name + ".log")
    with open(path, "w") as f:
        f.write(log)
    return path


def tail(log, n=40):
    return "\n".join(log.splitlines()[-n:])


def kernel_path(b):
    """The kernel ELF a boot wants: the normal one, or b["kernel"] under
    the build directory ("ubsan/kernel.elf", made by `make ubsan`)."""
    return os.path.join(runner.BUILD, b["kernel"]) if b.get("kernel") else None


def run_boot(t, b):
    kw = dict(bochs_env=b["bochs_env"]) if b.get("bochs_env") else {}
    if b.get("pathlen"):
        # The path-length gate: the profiling Bochs, its profile beside the log.
        if not os.path.exists(os.path.join(pathprof.PROF_PREFIX, "bin", "bochs")):
            t.add(False, "boot/%s" % b["name"], "no profiling Bochs in %s (make test builds it: "
                  "tools/bochs/build.sh)" % pathprof.PROF_PREFIX)
            return None
        os.makedirs(LOGDIR, exist_ok=True)
        prof_data = os.path.join(LOGDIR, b["name"] + ".ukprof")
        if os.path.exists(prof_data):
            os.unlink(prof_data)
        kw = dict(bochs_prefix=pathprof.PROF_PREFIX, env={"UKPROF_OUT": prof_data})
    res = runner.boot(b["platform"], b.get("smp", 1), b.get("mem", 512), b["cmdline"],
                      b.get("timeout", 300), extra=b.get("qemu_args", ()),
                      machine=b.get("machine", "q35"), media=b.get("media", "cdrom"),
                      kernel=kernel_path(b), **kw)
    cases, problems = ktap.parse(res.log)
    if b.get("bench") and not re.search(r"\b[ku]test=", b["cmdline"]):
        problems = [p for p in problems if "no KTAP output" not in p]
    problems += ["log lacks %r" % p for p in b.get("expect", []) if not re.search(p, res.log)]
    problems += ["log has %r" % m.group(0) for p in b.get("forbid", [])
                 for m in [re.search(p, res.log)] if m]
    n_ok = sum(1 for c in cases if c.ok)
    n_bad = sum(1 for c in cases if not c.ok)
    for c in cases:
        t.add(c.ok, "%s/%s/%s" % (b["name"], c.suite, c.name), c.directive if not c.ok else "")
    if b.get("bench"):
        # The benchmark suite's event counts (tools/bench_check.py).
        for name, ok, detail in bench_check.check(res.log, require_all=b["bench"] == "all"):
            t.add(ok, "%s/%s" % (b["name"], name), detail)
            n_ok += ok
            n_bad += not ok
    if b.get("pathlen"):
        # Path lengths against results/pathlen-baseline.json (tools/pathlen.py).
        data = ""
        if os.path.exists(kw["env"]["UKPROF_OUT"]):
            with open(kw["env"]["UKPROF_OUT"]) as f:
                data = f.read()
        for name, ok, detail in pathlen.check(res.log, data, b["pathlen"], cmdline=b["cmdline"]):
            t.add(ok, "%s/%s" % (b["name"], name), detail)
            n_ok += ok
            n_bad += not ok
    boot_ok = res.passed and not problems and n_bad == 0
    detail = ""
    path = save_log(b["name"], res.log)  # passed too: timings, notes
    if not boot_ok:
        detail = "%s%s; serial log %s\n%s" % (
            res.verdict + (" (" + res.reason + ")" if res.reason else ""),
            "; " + "; ".join(problems) if problems else "", path, tail(res.log))
    t.add(boot_ok, "boot/%s" % b["name"], detail)
    t.cpu = res.cpu
    t.say("boot   %-22s %3d passed %d failed  %-5s %5.1fs" % (
        b["name"], n_ok, n_bad, res.verdict, res.seconds))
    if b.get("trace_expect"):
        check_trace(t, b, res.log)
    return res


def check_trace(t, b, log):
    """The boot's trace dump through tools/trace2chrome.py: valid Chrome
    trace-event JSON with a track per CPU, context-switch slices and an
    instant event of each type in b["trace_expect"]."""
    path = save_log(b["name"] + "-trace", log)
    out = path[:-len(".log")] + ".json"
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "trace2chrome.py"), path,
                        "-o", out], capture_output=True, text=True)
    what = "trace/%s/" % b["name"]
    data = None
    if p.returncode == 0:
        try:
            with open(out) as f:
                data = json.load(f)
        except ValueError as e:
            p.stderr += "invalid JSON: %s" % e
    t.add(data is not None, what + "converted",
          "exit %d: %s; serial log %s" % (p.returncode, p.stderr[-1500:], path))
    if data is None:
        return
    evs = [e for e in data.get("traceEvents", []) if e.get("ph") != "M"]
    cpus = {e["tid"] for e in evs}
    slices = [e for e in evs if e["ph"] == "X" and e.get("cat") == "sched"]
    names = {e["name"] for e in evs if e["ph"] == "i"}
    ts = [e["ts"] for e in evs]
    t.add(len(cpus) >= 2, what + "tracks", "events on CPUs %s only" % sorted(cpus))
    t.add(bool(slices), what + "ctx-switch-slices", "no context-switch slice")
    t.add(ts == sorted(ts), what + "monotonic", "timestamps out of order")
    missing = [n for n in b["trace_expect"] if n not in names]
    t.add(not missing, what + "events", "no %s event in %s" % (", ".join(missing), out))
    t.say("trace  %-22s %d events on %d CPUs, %d slices%s" % (
        b["name"], len(evs), len(cpus), len(slices),
        "; missing " + ", ".join(missing) if missing else ""))


def run_death(t, d):
    """A boot that must fail in a specific, well-reported way."""
    res = runner.boot(d["platform"], d.get("smp", 1), 512, d["cmdline"], d.get("timeout", 60),
                      kernel=kernel_path(d), bochs_env=d.get("bochs_env"))
    ok = res.verdict == d["verdict"]
    missing = [p for p in d.get("expect", []) if not re.search(p, res.log)]
    missing += ["exactly one %r" % p for p in d.get("once", [])
                if len(re.findall(p, res.log)) != 1]
    detail = ""
    if not ok or missing:
        path = save_log("death-" + d["name"], res.log)
        # What the kernel did report, on the first line (a CI summary shows
        # only that one).
        said = re.search(r"PANIC on cpu \d+: [^\r\n]{0,300}", res.log)
        detail = "verdict %s (wanted %s)%s%s; serial log %s\n%s" % (
            res.verdict, d["verdict"],
            "; report lacks " + ", ".join(repr(m) for m in missing) if missing else "",
            "; it reported %r" % said.group(0) if said and missing else "", path, tail(res.log))
    t.add(ok and not missing, "death/%s" % d["name"], detail)
    t.cpu = res.cpu
    t.say("death  %-22s %-5s (expected %s) %5.1fs" % (d["name"], res.verdict, d["verdict"],
                                                    res.seconds))


def static_checks(t):
    p = subprocess.run(["make", "-s", "check-format"], cwd=ROOT, capture_output=True, text=True)
    t.add(p.returncode == 0, "static/clang-format", p.stdout[-1500:] + p.stderr[-1500:])
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_barriers.py")],
                       cwd=ROOT, capture_output=True, text=True)
    t.add(p.returncode == 0, "static/barrier-comments", p.stdout[-1500:])
    # The rule itself: a barrier whose comment names no pair must fail.
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_barriers.py"),
                        "--self-test"], cwd=ROOT, capture_output=True, text=True)
    t.add(p.returncode == 0, "static/barrier-comments-self-test", p.stdout[-1500:])
    # The compiled kernel: every switch_to call site reads this CPU's run
    # queue again before releasing its lock (regression:
    # switch_resume_releases_the_left_cpus_rq), and the check catches the
    # broken build's disassembly.
    for name, extra in (("switch_resume_releases_the_left_cpus_rq", []),
                        ("switch_resume_releases_the_left_cpus_rq-self-test", ["--self-test"])):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_switch_resume.py")]
                           + extra, cwd=ROOT, capture_output=True, text=True)
        t.add(p.returncode == 0, "static/" + name, p.stdout[-1500:] + p.stderr[-1500:])
    # The toolchain: with the kernel's flags a per-CPU value read before a
    # call is read again after it (regression: percpu_value_reused_across_call,
    # the PTI exit using the tlb pointer of the CPU the task had left), and
    # without -fno-delete-null-pointer-checks the check fails.
    for name, extra in (("percpu_value_reused_across_call", []),
                        ("percpu_value_reused_across_call-self-test", ["--self-test"])):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_percpu_reload.py")]
                           + extra, cwd=ROOT, capture_output=True, text=True)
        t.add(p.returncode == 0, "static/" + name, p.stdout[-1500:] + p.stderr[-1500:])
    # The system-call functions compiled without a frame pointer never use
    # RBP (a backtrace below them follows it), and the check sees a
    # frameless function that does.
    for name, extra in (("syscall_dispatch_keeps_rbp", []),
                        ("syscall_dispatch_keeps_rbp-self-test", ["--self-test"])):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_frameless.py")]
                           + extra, cwd=ROOT, capture_output=True, text=True)
        t.add(p.returncode == 0, "static/" + name, p.stdout[-1500:] + p.stderr[-1500:])
    # The linked kernel: every static branch's record names its site (the
    # compiled JMP rel32 to its test) and a one-byte flag, and the check
    # catches a record moved by a byte and a flag of another width.
    for name, extra in (("static_branch_records_match_the_text", []),
                        ("static_branch_records_match_the_text-self-test", ["--self-test"])):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "check_static_branches.py")]
                           + extra, cwd=ROOT, capture_output=True, text=True)
        t.add(p.returncode == 0, "static/" + name, p.stdout[-1500:] + p.stderr[-1500:])
    asm_offset_contract(t)


def asm_offset_contract(t):
    """arch/x86/asm_offsets.c compiles; a field inserted before
    entry.scratch_rsp (in a copy of arch/percpu.h), or a changed offset (in
    a copy of asm_offsets.h), must make it fail with an "asm offset" error."""
    import shutil
    import tempfile
    cc = ["gcc", "-std=gnu11", "-ffreestanding", "-mno-red-zone", "-mgeneral-regs-only",
          "-fsyntax-only"]
    src = os.path.join(ROOT, "arch", "x86", "asm_offsets.c")

    def compile_with(overlay):
        with tempfile.TemporaryDirectory() as d:
            for rel, text in overlay.items():
                os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
                with open(os.path.join(d, rel), "w") as f:
                    f.write(text)
            inc = ["-I" + d, "-I" + os.path.join(d, "arch", "x86", "include"),
                   "-I" + ROOT, "-I" + os.path.join(ROOT, "arch", "x86", "include")]
            return subprocess.run(cc + inc + [src], capture_output=True, text=True)

    def read(rel):
        with open(os.path.join(ROOT, rel)) as f:
            return f.read()

    p = compile_with({})
    t.add(p.returncode == 0, "static/asm-offsets-compile", p.stderr[-1500:])
    pc = read("arch/x86/include/arch/percpu.h")
    moved = pc.replace("\tuint64_t scratch_rsp;", "\tuint64_t inserted;\n\tuint64_t scratch_rsp;", 1)
    p = compile_with({"arch/x86/include/arch/percpu.h": moved})
    t.add(moved != pc and p.returncode != 0 and "asm offset" in p.stderr,
          "static/asm-offsets-catch-inserted-field",
          "a field inserted before scratch_rsp still compiled:\n" + p.stderr[-800:])
    ao = read("arch/x86/asm_offsets.h")
    bad = re.sub(r"#define PCPU_KSTACK_TOP\s+24", "#define PCPU_KSTACK_TOP 32", ao)
    p = compile_with({"arch/x86/asm_offsets.h": bad})
    t.add(bad != ao and p.returncode != 0 and "asm offset" in p.stderr,
          "static/asm-offsets-catch-wrong-offset",
          "a wrong PCPU_KSTACK_TOP still compiled:\n" + p.stderr[-800:])


# ---- the scheduler: rows side by side on the host's cores ----

TIMES = os.path.join(ROOT, "results", "test-times.json")
LOCAL_TIMES = os.path.join(LOGDIR, "times.json")


class Row:
    """One unit of scheduling: a function of a Tally, its weight (the host
    cores it keeps busy) and its estimated wall-clock seconds."""

    def __init__(self, name, fn, weight=1, est=None):
        self.name = name
        self.fn = fn
        self.weight = weight
        self.est = est
        self.tally = Tally()
        self.start = self.seconds = None


def load_times(path):
    """Measured seconds per row, {name: {"wall": s, "cpu": emulator CPU s}}
    (results/test-times.json: committed, from make test on a 2-core host;
    build/test-logs/times.json: this tree's last run). Only the order rows
    start in depends on them, never a verdict."""
    try:
        with open(path) as f:
            return {k: v for k, v in json.load(f).items() if isinstance(v, dict) and v.get("wall")}
    except (OSError, ValueError, AttributeError):
        return {}


def boot_weight(b):
    """Host cores a boot keeps busy (measured: the emulator's CPU seconds
    over its wall-clock seconds, printed for the longest rows; the
    scheduler caps a weight at --jobs). Bochs runs all its CPUs on one
    thread. QEMU (MTTCG) runs a thread per virtual CPU: the -smp 4 and 8
    boots keep both cores of a 2-core host busy (1.4-1.9 cores; beside
    another boot their spinning vCPUs slow both), so they weigh their vCPUs;
    the -smp 2 ones use about one (0.9-1.3: the second vCPU mostly idles,
    even under the fuzzers). A row may say otherwise (weight=)."""
    if "weight" in b:
        return b["weight"]
    smp = b.get("smp", 1)
    return 1 if runner.is_bochs(b["platform"]) or smp <= 2 else smp


def save_times(done):
    """This run's times into build/test-logs/times.json (with the rows it
    did not run kept); copy it to results/test-times.json when rows are
    added or change much."""
    old = {}
    try:
        with open(LOCAL_TIMES) as f:
            old = json.load(f)
    except (OSError, ValueError):
        pass
    old.update({r.name: {"wall": round(r.seconds, 1),
                         "cpu": None if r.tally.cpu is None else round(r.tally.cpu, 1)}
                for r in done})
    os.makedirs(LOGDIR, exist_ok=True)
    with open(LOCAL_TIMES + ".tmp", "w") as f:
        json.dump(old, f, indent=1, sort_keys=True)
        f.write("\n")
    os.rename(LOCAL_TIMES + ".tmp", LOCAL_TIMES)


def estimate(name, b, times):
    if name in times:
        return times[name]["wall"]
    # Unmeasured: the hang bound says roughly how long a row may take.
    return b.get("timeout", 60) / 4 if b else 10


def run_row(row, done):
    row.start = time.time()
    try:
        row.fn(row.tally)
    except Exception:  # a bug in the harness: that row fails, the others run
        import traceback
        row.tally.add(False, row.name, "exception in tools/test.py\n" + traceback.format_exc())
    row.seconds = time.time() - row.start
    done.put(row)


def schedule(rows, jobs, report):
    """Runs rows with at most `jobs` cores busy (the sum of the running
    rows' weights, each capped at jobs), longest first; a row that fits
    beside a waiting heavier one starts only if it is expected to end
    before the cores that one waits for come free (EASY backfilling), so
    the long heavy rows are not pushed to the end. report(row) is called
    in this thread as each row ends. jobs 1: one row at a time, in order."""
    import queue
    import threading
    pending = list(rows) if jobs == 1 else sorted(rows, key=lambda r: -r.est)
    running = []
    done = queue.Queue()
    free = jobs

    def start(r):
        nonlocal free
        free -= min(r.weight, jobs)
        running.append(r)
        r.start = time.time()
        threading.Thread(target=run_row, args=(r, done), daemon=True).start()

    while pending or running:
        while pending and min(pending[0].weight, jobs) <= free:
            start(pending.pop(0))
        if pending and running:
            # The head waits for cores: when are enough of them free?
            need, now, avail, shadow = min(pending[0].weight, jobs), time.time(), free, None
            for r in sorted(running, key=lambda r: r.start + r.est):
                avail += min(r.weight, jobs)
                if avail >= need:
                    shadow = max(r.start + r.est, now)
                    break
            for r in list(pending[1:]):
                if min(r.weight, jobs) <= free and shadow is not None and now + r.est <= shadow:
                    pending.remove(r)
                    start(r)
        r = done.get()
        running.remove(r)
        free += min(r.weight, jobs)
        report(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="regex: run only boots/deaths whose name matches")
    ap.add_argument("--no-host", action="store_true")
    ap.add_argument("--large", action="store_true",
                    help="run the large-topology boots (make test-large) instead")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                    help="host cores to keep busy (default: all); 1 runs the rows one "
                         "after another in matrix order")
    args = ap.parse_args()
    jobs = max(1, args.jobs)
    times = dict(load_times(TIMES), **load_times(LOCAL_TIMES))
    rows = []

    def add(name, fn, b=None):
        weight = boot_weight(b) if b and jobs > 1 else 1
        rows.append(Row(name, fn, weight, estimate(name, b, times)))

    if not args.no_host and not args.large:
        add("host/unit", host_tests)
        add("model/spin", spin_models)
        add("host/scripts", host_scripts)
        add("static", static_checks)
    sel = re.compile(args.only) if args.only else None
    for b in (LARGE if args.large else BOOTS):
        if not sel or sel.search(b["name"]):
            add("boot/" + b["name"], lambda t, b=b: run_boot(t, b), b)
    for d in ([] if args.large else DEATHS):
        if not sel or sel.search(d["name"]):
            add("death/" + d["name"], lambda t, d=d: run_death(t, d), d)

    total = Tally()
    start = time.time()

    def report(r):
        total.merge(r.tally)
        if r.tally.lines:
            print("\n".join(r.tally.lines), flush=True)

    print("%d rows on %d core%s" % (len(rows), jobs, "s" if jobs > 1 else ""), flush=True)
    try:
        schedule(rows, jobs, report)
    except KeyboardInterrupt:
        runner.kill_all()
        raise
    wall = time.time() - start
    print("\ntest time %.0fs" % wall)
    done = [r for r in rows if r.seconds is not None]
    save_times(done)
    print("longest rows (wall s, emulator CPU s):")
    for r in sorted(done, key=lambda r: -r.seconds)[:10]:
        print("  %-34s %6.1f %s" % (r.name, r.seconds,
                                    "%6.1f" % r.tally.cpu if r.tally.cpu is not None else ""))
    print("rows' time %.0fs in %.0fs (%.1fx)" % (sum(r.seconds for r in done), wall,
                                                 sum(r.seconds for r in done) / max(wall, 1)))
    if total.failures:
        print("failures:")
        for f in total.failures:
            print("  " + f.splitlines()[0])
    print("%d passed, %d failed" % (total.passed, total.failed))
    sys.exit(1 if total.failed else 0)


if __name__ == "__main__":
    main()
