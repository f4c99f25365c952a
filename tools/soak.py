#!/usr/bin/env python3
"""make soak: boots at -smp 8, one after another, for SOAK_MINUTES (default 5).

Each boot runs the torture tests (tlb_torture, asid_churn, the IPC tests,
the kill tortures), the system-call and CPU-interface fuzzers with a fresh
seed, and then the benchmark suite (bench=all,batches=5) in one go. With
--stale, the boots are the stale-read torture instead
(user/utest/t_stale.c), long (torture_rounds 10000) and alternately at
-smp 2 and 4, under the PCID-faithful Bochs with tlbcheck=off. A boot
that does not pass keeps its serial
log in build/soak-logs/ and is replayed with its seed by

    python3 tools/runner.py boot --smp 8 --cmdline "<the command line printed>"

The summary: boots, failures, fuzzer seeds and calls. Exits 1 on any
failure. Not part of `make test`.

`--cpu-fuzz` (make soak-cpu-fuzz) boots only the CPU-interface fuzzer at
its full size, 10^6 sequences and 300 killed children per boot at -smp 2
(about five minutes a boot here), fresh seeds, boot after boot.
"""
import argparse
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402

TESTS = ("tlb_torture,asid_churn,ipc_*,kill_during_blocking_calls,kill_single_threads,"
         "kill_handle_holders,xstate_migration_stress,syscall_fuzz,cpu_fuzz")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float,
                    default=float(os.environ.get("SOAK_MINUTES", "5")))
    ap.add_argument("--smp", type=int, default=8)
    ap.add_argument("--calls", type=int, default=200000, help="fuzzer calls per boot")
    ap.add_argument("--stale", action="store_true",
                    help="the stale-read torture under bochs-pcid instead")
    ap.add_argument("--sequences", type=int, default=200000,
                    help="cpu_fuzz sequences per boot")
    ap.add_argument("--cpu-fuzz", action="store_true",
                    help="only the CPU-interface fuzzer: 10^6 sequences and 300 kills per "
                         "boot at -smp 2 (about 5 minutes a boot on a loaded 2-core host)")
    args = ap.parse_args()
    if args.cpu_fuzz:
        args.smp = 2
    logdir = os.path.join(runner.BUILD, "soak-logs")
    os.makedirs(logdir, exist_ok=True)
    end = time.time() + args.minutes * 60
    boots, failures, calls, sequences, seeds = 0, [], 0, 0, []
    while time.time() < end or boots == 0:
        seed = random.getrandbits(32)
        cmdline = ("utest=%s bench=all,batches=5 fuzz_seed=%d fuzz_calls=%d cpu_fuzz_seed=%d "
                   "cpu_fuzz_seqs=%d kill_seed=%d fbcon=off torture_rounds=200 expect_cpus=%d"
                   % (TESTS, seed, args.calls, seed, args.sequences, seed, args.smp))
        if args.cpu_fuzz:
            cmdline = ("ktest=none utest=cpu_fuzz cpu_fuzz_seed=%d cpu_fuzz_seqs=1000000 "
                       "cpu_fuzz_rounds=4 cpu_fuzz_kills=300 fbcon=off expect_cpus=2" % seed)
        left = max(300, int(end - time.time()) + 600)
        if args.stale:
            smp = 2 + 2 * (boots % 2)
            cmdline = ("utest=stale_reads torture_rounds=10000 fbcon=off expect_cpus=%d"
                       % smp)
            res = runner.boot("bochs-pcid", smp, 512, cmdline, min(left, 1800),
                              bochs_env={"BXPCID_STLB": "65536x16", "BXPCID_PSC": "1024x8"})
        else:
            res = runner.boot("qemu-bios", args.smp, 512, cmdline, min(left, 1800))
        boots += 1
        seeds.append(seed)
        m = re.search(r"fuzz: (\d+) system calls", res.log)
        calls += int(m.group(1)) if m else 0
        m = re.search(r"cpu_fuzz: (\d+) sequences in", res.log)
        sequences += int(m.group(1)) if m else 0
        status = res.verdict + (" (" + res.reason + ")" if res.reason else "")
        print("soak: boot %d seed %d: %s, %.0fs" % (boots, seed, status, res.seconds), flush=True)
        if not res.passed:
            path = os.path.join(logdir, "boot%d-seed%d.log" % (boots, seed))
            with open(path, "w") as f:
                f.write(res.log)
            failures.append((seed, cmdline, path))
    print("\nsoak: %d boots, %d failed, %d fuzzer calls, %d cpu_fuzz sequences, seeds %s" % (
        boots, len(failures), calls, sequences, " ".join(str(s) for s in seeds)))
    for seed, cmdline, path in failures:
        print("  FAIL seed %d: log %s\n    replay: --cmdline \"%s\"" % (seed, path, cmdline))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
