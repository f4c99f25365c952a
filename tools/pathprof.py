#!/usr/bin/env python3
"""The path-length profiler (make profile): where one benchmark operation's
instructions go, per function and per category.

  pathprof.py OP[,OP...] [--switches "pti=off ..."] [--batches N] [--top N]
             [--json FILE] [--keep DIR]
  pathprof.py --data FILE --log LOG [OP...]      (no boot: a saved run)
  --listing: also every kernel instruction executed, per operation, with
  its source line

OP takes the suite's bench= syntax (`ipc_*`). The kernel boots once under
the profiling Bochs (one CPU, tools/bochs/build.sh with the ukprof
instrumentation, /var/cache/ukernel/bochs-prof) running
`bench=OP,batches=N fbcon=off` plus the switches. The suite brackets each
timed batch with marker NOPs (user/bench/bench.c); between them the
instrumentation counts executed instructions per address, a repeated
string instruction once per iteration, as the TSC counts them
(tools/bochs/instrument/ukprof/instrument.cc). Batches that halted, or
took an interrupt that is not the operation's own (irq_to_user's self-IPI,
one per operation), are dropped, as the benchmark's median drops them.

Addresses are attributed to functions: kernel addresses (the upper half)
from build/kernel.elf, to the innermost function inlined there (DWARF,
addr2line -i; helpers from TRANSPARENT files count for their caller;
--symbols: the symbol the address sits in), user addresses from the
build/user/*.elf whose instruction boundaries hold every address executed
in that address space (bench.elf first). Inline attribution is what shows
the parts of a fused path (kernel/ipc.c's system calls compile the switch,
the locks and the handle lookup into themselves). Each function is put in
one category by CATEGORIES.
Per operation the report prints the instructions per operation, the
benchmark's own `cycles` from the same boot (path lengths: the two agree
within a few instructions, and the report says by how much), the
categories and the functions.

The path-length gate (tools/test.py rows bench-bochs-path*, baseline
results/pathlen-baseline.json) uses the same boot and the same attribution.
"""
import argparse
import bisect
import fnmatch
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import runner  # noqa: E402

ROOT = runner.ROOT
PROF_PREFIX = os.environ.get("BOCHS_PROF_PREFIX", "/var/cache/ukernel/bochs-prof")
BUILD_FLAGS = ["--enable-instrumentation=instrument/ukprof"]
KERNEL_HALF = 0xffff800000000000

# Categories, first match wins: (category, source file glob, function glob).
# Files are paths relative to the repository. A function has one category
# wherever it is called from (tlbcheck_begin counts as "checks" whether an
# entry's or a switch's CR3 write called it); the function table is the
# precise view. User code is always "user".
CATEGORIES = [
    # Taking and releasing locks, and the preemption count they move.
    ("locks", "lib/spinlock.c", "*"),
    ("locks", "lib/preempt.c", "*"),
    ("locks", "*", "preempt_enable"),
    ("locks", "*", "preempt_count_underflow"),
    ("locks", "*", "preempt_check_resched"),
    ("locks", "lib/spinlock.h", "*"),
    ("locks", "lib/preempt.h", "*"),
    # Crossing the user/kernel boundary: the entry and exit code, PTI's CR3
    # flips, the deferred kernel flush's entry check, the return-to-user work.
    ("entry", "arch/x86/entry.S", "*"),
    ("entry", "kernel/entry_work.c", "*"),
    ("entry", "mm/pti.c", "pti_note_entry*"),
    ("entry", "mm/pti.c", "pti_prepare_exit*"),
    ("entry", "mm/kflush.c", "kflush_enter_kernel"),
    ("entry", "mm/kflush.c", "catch_up_in_tx"),
    ("entry", "mm/kflush.c", "catch_up"),
    ("entry", "mm/kflush.c", "kflush_enter_from_idle"),
    ("entry", "mm/kflush.c", "kflush_generation"),
    ("entry", "arch/x86/traps.c", "trap_dispatch"),
    ("entry", "arch/x86/fault.c", "trap_dispatch_user"),
    ("entry", "arch/x86/traps.c", "trap_irq"),
    ("entry", "kernel/membarrier.c", "membarrier_return_to_user"),
    ("entry", "kernel/pasid.c", "pasid_restore_for_user"),
    # (every return to user asks; after a switch it also restores)
    ("entry", "arch/x86/xstate.c", "xstate_restore_for_user"),
    ("entry", "arch/x86/include/arch/fpu.h", "xstate_restore_for_user"),
    ("entry", "kernel/entry_exit.h", "*"),
    ("entry", "kernel/entry_work.h", "*"),
    ("entry", "mm/pti.h", "pti_note_entry*"),
    ("entry", "mm/pti.h", "pti_prepare_exit*"),
    ("entry", "mm/kflush.h", "kflush_enter_from_user"),
    ("entry", "mm/kflush.h", "kflush_enter_kernel"),
    ("entry", "mm/kflush.h", "kflush_generation"),
    # From the system-call number to the object: the table, the argument
    # and handle checks, copies from and to user memory.
    ("dispatch", "kernel/syscall.c", "*"),
    ("dispatch", "kernel/uaccess.c", "*"),
    ("dispatch", "arch/x86/usercopy.S", "*"),
    ("dispatch", "kernel/ipc.c", "handle_get"),
    ("dispatch", "kernel/ipc.c", "ep_put"),
    ("dispatch", "kernel/proc.c", "proc_current"),
    ("dispatch", "kernel/proc.h", "proc_current"),
    ("dispatch", "kernel/syscall.h", "*"),
    ("dispatch", "kernel/handle.h", "*"),
    ("dispatch", "kernel/ipc.c", "ep_get"),
    ("dispatch", "kernel/ipc.c", "fused_allowed"),
    # Choosing what runs: run queues, blocking and waking, time accounting.
    ("scheduler", "sched/sched.c", "*"),
    ("scheduler", "sched/balance.c", "*"),
    ("scheduler", "sched/idle.c", "*"),
    ("scheduler", "sched/task.c", "*"),
    ("scheduler", "lib/time.c", "time_ns"),
    ("scheduler", "sched/direct_switch.h", "*"),
    ("scheduler", "sched/task.h", "*"),
    ("scheduler", "sched/rq.h", "*"),
    # Changing what runs: registers and stack, address space (CR3, PCID
    # slots, PTI roots, lazy TLB), extended state, PASID.
    ("switch", "sched/switch.c", "*"),
    ("switch", "arch/x86/switch_to.S", "*"),
    ("switch", "mm/tlb.c", "switch_mm*"),
    ("switch", "mm/tlb.c", "choose_slot"),
    ("switch", "mm/tlb.c", "load_mm"),
    ("switch", "mm/tlb.c", "lazy_catch_up"),
    ("switch", "mm/tlb.c", "load_mm_in_tx"),
    ("switch", "mm/tlb.c", "leave_lazy_mm"),
    ("switch", "mm/tlb.c", "enter_lazy_tlb"),
    ("switch", "mm/tlb.c", "drop_lazy"),
    ("switch", "mm/tlb_policy.c", "asid_*"),
    ("switch", "mm/pcid.c", "*"),
    ("switch", "mm/pti.h", "pti_switch_away"),
    ("switch", "arch/x86/xstate.c", "*"),
    ("switch", "kernel/pasid.c", "*"),
    ("switch", "sched/context_switch.h", "*"),
    ("switch", "mm/switch_mm.h", "*"),
    ("switch", "mm/pcid.h", "*"),
    ("switch", "arch/x86/include/arch/switch.h", "*"),
    ("switch", "arch/x86/include/arch/fpu.h", "*"),
    ("switch", "arch/x86/include/arch/pasid.h", "*"),
    ("switch", "arch/x86/include/arch/mmu.h", "arch_write_cr3*"),
    # Debugging hooks that run whether or not they are switched on: the
    # TLB-coherence checker's, the lockup detector's, counters, tracing.
    ("checks", "mm/tlbcheck*.c", "*"),
    ("checks", "kernel/lockup.c", "*"),
    ("checks", "kernel/counters.c", "*"),
    ("checks", "kernel/trace.c", "*"),
    ("checks", "mm/tlbcheck.h", "*"),
    ("checks", "arch/x86/include/arch/mmu.h", "tlbcheck_*"),
    ("checks", "lib/trace.h", "*"),
    # Everything else the kernel does is the operation's own work (the IPC
    # transfer, the fault, the flush, the barrier).
    ("work", "*", "*"),
]
# Files of small inline helpers (CPU-id reads, list and mask operations,
# MSR and TSC reads, a static branch's NOP or JMP): an instruction inlined
# from one counts for the function that inlined it (Symbols.inline_origins).
TRANSPARENT = ["lib/list.h", "lib/cpumask.h", "lib/percpu.h", "lib/compiler.h", "arch/x86/cpu.h",
               "arch/x86/include/arch/cpu.h", "arch/x86/include/arch/percpu.h",
               "arch/x86/include/arch/static_branch.h"]
CATEGORY_ORDER = ["user", "entry", "dispatch", "locks", "scheduler", "switch", "checks", "work"]


def category(file, func):
    if file.startswith("user/") or func.startswith("user:"):
        return "user"
    for cat, fglob, nglob in CATEGORIES:
        if fnmatch.fnmatchcase(file or "", fglob) and fnmatch.fnmatchcase(func, nglob):
            return cat
    return "work"


# ---- the instrumentation's output ----

def parse_data(text):
    """{op name: {"batches": [dict], "sites": {(rip, space): count}}},
    the last record of a name winning (as parse of BENCH lines does)."""
    ops, cur = {}, None
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "op":
            cur = {"batches": [], "sites": {}}
            name = f[1] if len(f) > 1 else "?"
        elif cur is None:
            continue
        elif f[0] == "batch" and len(f) == 8:
            v = [int(x) for x in f[1:]]
            cur["batches"].append(dict(ops=v[0], insns=v[1], ticks=v[2], hwint=v[3], hlt=v[4],
                                       exc=v[5], kept=bool(v[6])))
        elif f[0] == "site" and len(f) == 4:
            cur["sites"][(int(f[1], 16), int(f[2], 16))] = int(f[3])
        elif f[0] == "end":
            ops[name] = cur
            cur = None
    return ops


# ---- symbols ----

class Symbols:
    """Function lookup for one ELF: nm's text symbols with sizes and
    source files (nm -l), the last symbol at or below an address winning,
    bounded by its size when nm gives one."""

    def __init__(self, elf):
        self.elf = elf
        out = subprocess.run(["nm", "-n", "-S", "-l", "--defined-only", elf],
                             capture_output=True, text=True, check=True).stdout
        self.addrs, self.syms = [], []
        for line in out.splitlines():
            parts = line.split("\t")
            f = parts[0].split()
            if len(f) == 4:
                addr, size, typ, name = int(f[0], 16), int(f[1], 16), f[2], f[3]
            elif len(f) == 3:
                addr, size, typ, name = int(f[0], 16), None, f[1], f[2]
            else:
                continue
            if typ not in "tTwW":
                continue
            src = ""
            if len(parts) > 1:
                src = os.path.relpath(parts[1].rsplit(":", 1)[0], ROOT)
                if src.startswith(".."):
                    src = parts[1].rsplit(":", 1)[0]
            self.addrs.append(addr)
            self.syms.append((addr, size, name, src))
        self._starts = None

    def lookup(self, addr):
        """(function, file, start) or None. Of the symbols at the nearest
        address below, one whose size covers addr (or an unsized one:
        assembly)."""
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return None
        a, best = self.addrs[i], None
        while i >= 0 and self.addrs[i] == a:
            size = self.syms[i][1]
            if size is None or addr < a + size:
                if best is None or (best[1] is None and size is not None):
                    best = self.syms[i]
            i -= 1
        return (best[2], best[3], best[0]) if best else None

    def _addr2line(self, addrs):
        """{addr: [(function, file, line), ...]}: addr2line -i's chain for
        each address, innermost first, files relative to the tree where
        they lie in it (one addr2line run for every address)."""
        addrs = sorted(set(addrs))
        if not addrs:
            return {}
        out = subprocess.run(["addr2line", "-a", "-f", "-i", "-e", self.elf],
                             input="".join("%#x\n" % a for a in addrs),
                             capture_output=True, text=True, check=True).stdout

        def split(loc):
            path, _, num = loc.split(" (discriminator")[0].rpartition(":")
            r = os.path.relpath(os.path.normpath(path), ROOT) if path else "??"
            return (path if r.startswith("..") else r), num

        res, cur, lines = {}, None, []
        for line in out.splitlines() + ["0x0"]:
            if line.startswith("0x"):
                if cur is not None:
                    res[cur] = [(lines[i],) + split(lines[i + 1])
                                for i in range(0, len(lines) - 1, 2)]
                cur, lines = int(line, 16), []
            else:
                lines.append(line.strip())
        return res

    def inline_origins(self, addrs):
        """{addr: (function, file)}: the innermost function each address
        belongs to after inlining, from the DWARF line tables (addr2line
        -i), so that a fused path (kernel/ipc.c's, with the switch, the
        locks and the exit inline) still shows its parts. The attribution
        of single instructions is the compiler's: a scheduled instruction
        may count for its neighbour's line. A helper from a TRANSPARENT
        file counts for whoever inlined it."""
        res = {}
        for addr, chain in self._addr2line(addrs).items():
            chain = [(fn, src) for fn, src, _ in chain if fn != "??"]
            if not chain:
                continue
            res[addr] = next((c for c in chain
                              if not any(fnmatch.fnmatchcase(c[1], g) for g in TRANSPARENT)),
                             chain[-1])
        return res

    def disassembly(self):
        """{address: instruction text} as objdump decodes it (cached)."""
        if self._starts is None:
            out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", self.elf],
                                 capture_output=True, text=True, check=True).stdout
            self._starts = {int(m.group(1), 16): m.group(2).strip()
                            for m in re.finditer(r"^\s*([0-9a-f]+):\t(.*)$", out, re.M)}
        return self._starts

    def insn_starts(self):
        """Addresses where objdump decodes an instruction (cached)."""
        return self.disassembly()

    def source_lines(self, addrs):
        """{addr: (function, "file:line")}: the innermost inlined function
        and the source line of each address (addr2line -i, first entry)."""
        return {addr: (chain[0][0], "%s:%s" % chain[0][1:])
                for addr, chain in self._addr2line(addrs).items() if chain}


class Attributor:
    """inline: kernel addresses count for the innermost inlined function
    (Symbols.inline_origins), not the symbol they sit in."""

    def __init__(self, build=None, inline=True):
        build = build or runner.BUILD
        self.inline = inline
        self.kernel = Symbols(os.path.join(build, "kernel.elf"))
        users = sorted(glob.glob(os.path.join(build, "user", "*.elf")))
        users.sort(key=lambda p: (os.path.basename(p) != "bench.elf", p))
        self.users = []
        for p in users:
            try:
                self.users.append(Symbols(p))
            except subprocess.CalledProcessError:
                pass
        self.space_prog = {}

    def program(self, space, rips):
        """The user program of an address space: the first ELF in which
        every address executed there starts an instruction."""
        if space not in self.space_prog:
            prog = None
            for s in self.users:
                starts = s.insn_starts()
                if all(r in starts for r in rips):
                    prog = s
                    break
            self.space_prog[space] = prog
        return self.space_prog[space]

    def functions(self, sites):
        """{(function label, file): [instructions, calls]} from
        {(rip, space): count}; calls: the count at the function's first
        instruction. Kernel functions are "name", user ones "prog:name"."""
        by_space = {}
        for (rip, space) in sites:
            if rip < KERNEL_HALF:
                by_space.setdefault(space, []).append(rip)
        origins = (self.kernel.inline_origins([r for (r, _) in sites if r >= KERNEL_HALF])
                   if self.inline else {})
        out = {}
        for (rip, space), n in sites.items():
            if rip >= KERNEL_HALF:
                hit = self.kernel.lookup(rip)
                key = hit[:2] if hit else ("[kernel %#x]" % rip, "")
                if rip in origins and not (hit and hit[1].endswith(".S")):
                    key = origins[rip]
            else:
                prog = self.program(space, by_space[space])
                hit = prog.lookup(rip) if prog else None
                if hit:
                    pname = os.path.basename(prog.elf)[:-4]
                    key = ("%s:%s" % (pname, hit[0]), hit[1] or "user/")
                else:
                    key = ("user:[%#x]" % rip, "user/")
            v = out.setdefault(key, [0, 0])
            v[0] += n
            if hit and rip == hit[2]:
                v[1] += n
        return out


# ---- one operation's profile ----

def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else None


def summarize(name, data, attr, bench=None):
    """The profile of one operation as a JSON-able dict."""
    kept = [b for b in data["batches"] if b["kept"]]
    ops = sum(b["ops"] for b in kept)
    funcs = attr.functions(data["sites"]) if ops else {}
    total = sum(n for n, _ in funcs.values())
    per_op, calls = {}, {}
    cats = dict((c, 0.0) for c in CATEGORY_ORDER)
    files = {}
    for (fn, src), (n, c) in funcs.items():
        v = n / ops
        per_op[fn] = per_op.get(fn, 0.0) + v
        calls[fn] = calls.get(fn, 0.0) + c / ops
        files[fn] = src
        cats[category(src, fn)] += v
    out = dict(op=name, ops=ops, batches=len(data["batches"]), kept=len(kept),
               insns=total / ops if ops else None,
               batch_median=median([b["insns"] / b["ops"] for b in kept if b["ops"]]),
               ticks=(sum(b["ticks"] for b in kept) / ops) if ops else None,
               categories=cats, functions=per_op, calls=calls, files=files)
    if bench:
        out["cycles"] = bench.get("cycles")
        out["config"] = bench.get("config")
    return out


def fmt_report(p, top=40):
    lines = ["profile: %s" % p["op"]]
    if p.get("config"):
        lines.append("  config: %s" % p["config"])
    if not p["ops"]:
        lines.append("  no batch was kept (%d batches)" % p["batches"])
        return "\n".join(lines)
    lines.append("  %d operations in %d of %d timed batches (dropped: another interrupt or a "
                 "halt inside)" % (p["ops"], p["kept"], p["batches"]))
    check = ""
    if p.get("cycles") is not None:
        check = "; benchmark cycles %d (profile %+.2f)" % (p["cycles"], p["insns"] - p["cycles"])
    lines.append("  instructions per operation: %.2f (median batch %.2f, emulator ticks %.2f)%s"
                 % (p["insns"], p["batch_median"], p["ticks"], check))
    lines.append("")
    lines.append("  %-10s %9s %6s" % ("category", "insns/op", "%"))
    for c in CATEGORY_ORDER:
        v = p["categories"].get(c, 0.0)
        if v:
            lines.append("  %-10s %9.1f %6.1f" % (c, v, 100 * v / p["insns"]))
    lines.append("  %-10s %9.1f %6.1f" % ("total", p["insns"], 100.0))
    lines.append("")
    lines.append("  %9s %6s %8s  %-9s  %-30s %s" % ("insns/op", "%", "calls/op", "category",
                                                    "function", "file"))
    rows = sorted(p["functions"].items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [kv for kv in rows[:top] if kv[1] >= 0.05]
    for fn, v in shown:
        src = p["files"].get(fn, "")
        c = p.get("calls", {}).get(fn, 0.0)
        lines.append("  %9.1f %6.1f %8s  %-9s  %-30s %s" % (
            v, 100 * v / p["insns"], "%.2f" % c if c >= 0.005 else "-", category(src, fn), fn, src))
    rest = sum(v for _, v in rows[len(shown):])
    if rest >= 0.05:
        lines.append("  %9.1f %6.1f %8s  %-9s  (%d more functions)" % (
            rest, 100 * rest / p["insns"], "", "", len(rows) - len(shown)))
    return "\n".join(lines)


def fmt_listing(name, data, attr):
    """Every kernel instruction the operation executed, per operation, in
    address order under the symbol it sits in: the count, the instruction,
    and the innermost inlined function with its source line. What a change
    to a fast path is read against, one instruction at a time."""
    ops = sum(b["ops"] for b in data["batches"] if b["kept"])
    if not ops:
        return "listing: %s: no operation in a kept batch" % name
    sites = {}
    for (rip, _), n in data["sites"].items():
        if rip >= KERNEL_HALF:
            sites[rip] = sites.get(rip, 0) + n
    text = attr.kernel.disassembly()
    src = attr.kernel.source_lines(sites)
    groups = {}
    for rip in sites:
        hit = attr.kernel.lookup(rip)
        groups.setdefault(hit[0] if hit else "[kernel]", []).append(rip)
    order = sorted(groups, key=lambda g: -sum(sites[r] for r in groups[g]))
    lines = ["listing: %s (kernel instructions per operation, %d operations)" % (name, ops)]
    for g in order:
        lines.append("")
        lines.append("== %s  %.1f" % (g, sum(sites[r] for r in groups[g]) / ops))
        for rip in sorted(groups[g]):
            fn, where = src.get(rip, ("??", "??"))
            lines.append("%7.2f  %x  %-44s %s %s" % (sites[rip] / ops, rip, text.get(rip, "?"),
                                                     fn, where))
    lines.append("")
    lines.append("kernel total %.1f" % (sum(sites.values()) / ops))
    return "\n".join(lines)


def diff_functions(base, new, limit=15, minimum=0.5):
    """Lines naming the functions whose instructions per operation moved
    most between two profiles' "functions" maps."""
    keys = set(base) | set(new)
    d = sorted(((new.get(k, 0.0) - base.get(k, 0.0), k) for k in keys),
               key=lambda x: (-abs(x[0]), x[1]))
    out = ["    %9s %9s %9s  %s" % ("baseline", "now", "change", "function")]
    for delta, k in d[:limit]:
        if abs(delta) < minimum:
            break
        out.append("    %9.1f %9.1f %+9.1f  %s" % (base.get(k, 0.0), new.get(k, 0.0), delta, k))
    return out


# ---- boots ----

def ensure_bochs():
    """Build (or find up to date) the profiling Bochs."""
    subprocess.run([os.path.join(ROOT, "tools", "bochs", "build.sh"), PROF_PREFIX] + BUILD_FLAGS,
                   check=True)


def boot(sel, switches="", batches=5, timeout=900, log_path=None, data_path=None):
    """Boot the suite's selection under the profiling Bochs, one CPU.
    Returns (runner.Result, profiler data text)."""
    tmp = tempfile.mkdtemp(prefix="ukprof-")
    data_path = os.path.abspath(data_path or os.path.join(tmp, "ukprof.txt"))
    if os.path.exists(data_path):
        os.unlink(data_path)
    cmdline = "bench=%s,batches=%d fbcon=off expect_cpus=1 %s" % (sel, batches, switches)
    res = runner.boot("bochs", 1, 512, cmdline.strip(), timeout, log_path,
                      bochs_prefix=PROF_PREFIX, env={"UKPROF_OUT": data_path})
    text = ""
    if os.path.exists(data_path):
        with open(data_path) as f:
            text = f.read()
    return res, text


def profiles(log_text, data_text, attr=None, want=None):
    """[(name, profile dict)] for every operation in the data, in order,
    joined with its BENCH line from the serial log."""
    attr = attr or Attributor()
    bench = {}
    try:
        for r in benchlib.parse(log_text):
            bench[r["name"]] = r
    except ValueError:
        pass
    out = []
    for name, data in parse_data(data_text).items():
        if want and not any(fnmatch.fnmatchcase(name, w) for w in want):
            continue
        out.append((name, summarize(name, data, attr, bench.get(name))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("op", nargs="?", help="benchmark(s), bench= syntax (a,b*)")
    ap.add_argument("--switches", default="", help="kernel boot switches (\"pti=off asids=1\")")
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--top", type=int, default=40, help="functions listed per operation")
    ap.add_argument("--json", help="write the profiles as JSON")
    ap.add_argument("--keep", help="directory for the serial log and the raw profile")
    ap.add_argument("--data", help="a raw profile from an earlier run (no boot)")
    ap.add_argument("--log", help="with --data: that run's serial log")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--symbols", action="store_true",
                    help="kernel instructions count for the symbol they sit in, not for the "
                         "innermost inlined function")
    ap.add_argument("--listing", action="store_true",
                    help="also list every kernel instruction executed, per operation, with "
                         "its source line")
    args = ap.parse_args()
    if args.data:
        with open(args.data) as f:
            data = f.read()
        log = open(args.log, errors="replace").read() if args.log else ""
        want = args.op.split(",") if args.op else None
    else:
        if not args.op:
            ap.error("name the benchmark: pathprof.py null_syscall")
        ensure_bochs()
        keep = os.path.abspath(args.keep or os.path.join(runner.BUILD, "profile"))
        os.makedirs(keep, exist_ok=True)
        log_path = os.path.join(keep, "serial.log")
        data_path = os.path.join(keep, "ukprof.txt")
        res, data = boot(args.op, args.switches, args.batches, args.timeout, log_path,
                         data_path)
        log = res.log
        print("profile: boot %s in %.0fs (serial log %s, raw profile %s)" % (
            res.verdict, res.seconds, log_path, data_path))
        want = None
        if not res.passed:
            print(runner_tail(log))
    attr = Attributor(inline=not args.symbols)
    got = profiles(log, data, attr=attr, want=want)
    if not got:
        sys.exit("profile: no profile recorded (is the profiling Bochs the one booted?)")
    raw = parse_data(data)
    for name, p in got:
        print()
        print(fmt_report(p, args.top))
        if args.listing:
            print()
            print(fmt_listing(name, raw[name], attr))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(got), f, indent=1, sort_keys=True)
    bad = [n for n, p in got if not p["ops"]]
    sys.exit(1 if bad else 0)


def runner_tail(log, n=30):
    return "\n".join(log.splitlines()[-n:])


if __name__ == "__main__":
    main()
