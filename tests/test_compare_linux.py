#!/usr/bin/env python3
"""Host tests of tools/compare_linux.py: BENCH parsing, the ratio and the
table, the initramfs writer, the Linux command line, and the whole tool on
two synthetic serial logs (no emulator, no download).

Run alone, or with --tap for tools/test.py (one TAP line per test).
"""
import io
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import compare_linux as cl  # noqa: E402


def bench(name, median, cycles, platform="qemu", config="cfg", p10=None, p90=None,
          mechanism=None):
    p10 = median * 0.9 if p10 is None else p10
    p90 = median * 1.1 if p90 is None else p90
    mech = '"mechanism":"%s",' % mechanism if mechanism else ""
    return ('BENCH {"name":"%s","unit":"ns","median":%.2f,"p10":%.2f,"p90":%.2f,'
            '"iters":1000,"batches":31,"cpus":2,"cycles":%d,"cycles_p10":%d,'
            '"cycles_p90":%d,"platform":"%s","clock":"emulated",%s"config":"%s",'
            '"events":{"ipi_sent":0.00}}' % (name, median, p10, p90, cycles, cycles - 1,
                                              cycles + 1, platform, mech, config))


OURS = "\n".join([
    "boot noise",
    bench("null_syscall", 100.0, 250, config="pti=on pcid=model"),
    "[  1.0] kernel says " + bench("page_fault", 900.0, 2000, config="pti=on pcid=model"),
    bench("ipc_pingpong_same_cpu", 1000.0, 2500, config="pti=on pcid=model"),
    bench("pasid_switch", 50.0, 120),
    bench("tlb_shootdown_1", 3000.0, 7000),
    "@@UKERNEL-EXIT pass@@",
]) + "\n"

LINUX = "\n".join([
    "# lbench: linux 6.1.0-56-amd64 pti=off",
    bench("null_syscall", 150.0, 400, config="linux 6.1.0-56-amd64 pti=off"),
    bench("null_syscall", 200.0, 500, config="linux 6.1.0-56-amd64 pti=off",
          mechanism="syscall(SYS_getppid)"),
    bench("ipc_pingpong_same_cpu", 4000.0, 9000, config="linux 6.1.0-56-amd64 pti=off",
          mechanism="futex ping-pong, 2 processes"),
    bench("ipc_pingpong_same_cpu_pipe", 5000.0, 10000, config="linux 6.1.0-56-amd64 pti=off",
          mechanism="pipe ping-pong, 2 processes"),
    bench("page_fault", 1800.0, 4000, config="linux 6.1.0-56-amd64 pti=off"),
    bench("as_ring_2_64", 5000.0, 12000, config="linux 6.1.0-56-amd64 pti=off"),
    "# skip tlb_shootdown_1: needs 2 CPUs, have 1",
    "LBENCH DONE errors=0",
]) + "\n"


def rows(text, name):
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| %s |" % name)]


def row(text, name):
    r = rows(text, name)
    return r[0] if r else None


class Parse(unittest.TestCase):
    def test_bench_lines_found_amid_noise(self):
        recs, bad = cl.parse_bench(OURS)
        self.assertEqual(sorted(recs), ["ipc_pingpong_same_cpu", "null_syscall", "page_fault",
                                        "pasid_switch", "tlb_shootdown_1"])
        self.assertEqual(bad, [])
        self.assertEqual(recs["page_fault"]["median"], 900.0)

    def test_last_line_of_a_name_wins(self):
        recs, _ = cl.parse_bench(LINUX)
        self.assertEqual(recs["null_syscall"]["median"], 200.0)

    def test_cut_line_is_reported_not_used(self):
        recs, bad = cl.parse_bench('BENCH {"name":"null_syscall","median":1\n'
                                   'BENCH {"name":"x"}\n')
        self.assertEqual(recs, {})
        self.assertEqual(len(bad), 2)

    def test_metrics(self):
        recs, _ = cl.parse_bench(OURS)
        self.assertEqual(cl.metric(recs["null_syscall"], "ns"), (100.0, 90.0, 110.0))
        self.assertEqual(cl.metric(recs["null_syscall"], "cycles"), (250.0, 249.0, 251.0))
        self.assertIsNone(cl.metric(None, "ns"))


class Table(unittest.TestCase):
    def setUp(self):
        self.ours, _ = cl.parse_bench(OURS)
        self.linux, _ = cl.parse_bench(LINUX)

    def test_ratio(self):
        self.assertAlmostEqual(cl.ratio(100.0, 200.0), 0.5)
        self.assertIsNone(cl.ratio(None, 200.0))
        self.assertIsNone(cl.ratio(100.0, 0))

    def test_row_values_and_ratio(self):
        t = cl.table(self.ours, [self.linux], ["default"], ["ns"])
        self.assertEqual(row(t, "null_syscall"), ["null_syscall", "syscall(SYS_getppid)",
                                                  "100 (90.0–110)", "200 (180–220)", "0.50"])
        self.assertEqual(row(t, "page_fault")[4], "0.50")
        # no mechanism field in the line: the default for the row
        self.assertEqual(row(t, "page_fault")[1], "first write, anonymous page")

    def test_ipc_row_per_linux_mechanism(self):
        t = cl.table(self.ours, [self.linux], ["default"], ["ns"])
        r = rows(t, "ipc_pingpong_same_cpu")
        self.assertEqual([x[1] for x in r], ["futex ping-pong, 2 processes",
                                             "pipe ping-pong, 2 processes"])
        self.assertEqual([x[2] for x in r], ["1000 (900–1100)"] * 2)
        self.assertEqual([x[4] for x in r], ["0.25", "0.20"])
        self.assertIsNone(row(t, "ipc_pingpong_same_cpu_pipe"))

    def test_pti_of_and_linux_selection(self):
        self.assertEqual(cl.pti_of(self.ours), {"on"})
        self.assertEqual(cl.pti_of(self.linux), {"off"})
        self.assertEqual(cl.linux_only("null_*,ipc_pingpong_s*"),
                         "null_*,ipc_pingpong_s*,ipc_pingpong_same_cpu_pipe")
        c = cl.linux_cmdline("bochs", "default", None, "on")
        self.assertTrue(c.endswith("lbench.platform=bochs pti=on"))

    def test_suite_order_then_extras(self):
        t = cl.table(self.ours, [self.linux], ["default"], ["ns"])
        names = [line.split("|")[1].strip() for line in t.splitlines()[2:]]
        self.assertEqual(names, ["null_syscall", "ipc_pingpong_same_cpu",
                                 "ipc_pingpong_same_cpu", "tlb_shootdown_1", "page_fault",
                                 "as_ring_2_64", "pasid_switch"])

    def test_missing_sides_and_ours_only(self):
        t = cl.table(self.ours, [self.linux], ["default"], ["ns"])
        self.assertEqual(row(t, "tlb_shootdown_1")[3:], ["—", "—"])
        self.assertEqual(row(t, "as_ring_2_64")[2], "—")
        self.assertEqual(row(t, "pasid_switch")[3], "this kernel only")

    def test_path_length_columns(self):
        t = cl.table(self.ours, [self.linux], ["default"], ["ns", "cycles"])
        self.assertIn("ours cycles", t.splitlines()[0])
        self.assertEqual(row(t, "null_syscall")[5:], ["250 (249–251)", "500 (499–501)",
                                                      "0.50"])

    def test_page_walk_columns(self):
        # The patched Bochs (bochs-pcid): page walks per operation from
        # "events" on both sides; a side without them shows a dash.
        ours = {"null_syscall": dict(self.ours["null_syscall"], events={"page_walks": 0.5})}
        linux = {"null_syscall": dict(self.linux["null_syscall"], events={"page_walks": 2.0})}
        t = cl.table(ours, [linux], ["default"], ["ns", "page_walks"])
        self.assertIn("ours walks", t.splitlines()[0])
        self.assertEqual(row(t, "null_syscall")[5:], ["0.50", "2.00", "0.25"])
        t = cl.table(ours, [self.linux], ["default"], ["page_walks"])
        self.assertEqual(row(t, "null_syscall")[2:], ["0.50", "—", "—"])

    def test_two_variants(self):
        other = {"null_syscall": dict(self.linux["null_syscall"], median=50.0)}
        t = cl.table(self.ours, [self.linux, other], ["default", "pti=on"], ["ns"])
        self.assertIn("Linux pti=on ns", t.splitlines()[0])
        self.assertEqual(row(t, "null_syscall")[4], "0.50")
        self.assertEqual(row(t, "null_syscall")[6], "2.00")


class Linux(unittest.TestCase):
    def test_cmdline(self):
        c = cl.linux_cmdline("qemu-bios", "default", None)
        self.assertIn("console=ttyS0", c)
        self.assertIn("lbench.platform=qemu", c)
        self.assertNotIn("default", c)
        c = cl.linux_cmdline("bochs", "pti=on", "null_*")
        self.assertTrue(c.endswith("lbench.platform=bochs pti=on lbench.only=null_*"))

    def test_cpio_newc(self):
        data = cl.cpio_newc([("dev", 0o40755, b"", 0, 0), ("dev/console", 0o20600, b"", 5, 1),
                             ("init", 0o100755, b"\x7fELFabc", 0, 0)])
        f = io.BytesIO(data)
        seen = []
        while True:
            hdr = f.read(110)
            self.assertEqual(hdr[:6], b"070701")
            fields = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
            mode, size, rmaj, rmin, namesize = (fields[1], fields[6], fields[9], fields[10],
                                                fields[11])
            name = f.read(namesize)[:-1].decode()
            f.read(-(110 + namesize) % 4)
            body = f.read(size)
            f.read(-size % 4)
            if name == "TRAILER!!!":
                break
            seen.append((name, mode, body, rmaj, rmin))
        self.assertEqual(seen[1], ("dev/console", 0o20600, b"", 5, 1))
        self.assertEqual(seen[2], ("init", 0o100755, b"\x7fELFabc", 0, 0))
        self.assertEqual(len(data) % 4, 0)
        self.assertEqual(f.read(), b"")


class Tool(unittest.TestCase):
    def run_tool(self, ours, linux, *extra):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name, text in (("ours.log", ours), ("linux.log", linux)):
                paths.append(os.path.join(d, name))
                with open(paths[-1], "w") as f:
                    f.write(text)
            out = os.path.join(d, "out.md")
            p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "compare_linux.py"),
                                "--ours-log", paths[0], "--linux-log", paths[1], "--out", out]
                               + list(extra), capture_output=True, text=True)
            md = open(out).read() if os.path.exists(out) else ""
            return p, md

    def test_end_to_end_bochs(self):
        p, md = self.run_tool(OURS, LINUX, "--platform", "bochs")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("bochs, -smp 2", md)
        self.assertEqual(row(md, "null_syscall")[4], "0.50")
        self.assertEqual(row(md, "null_syscall")[7], "0.50")
        # these logs are pti=on against pti=off: the table says so
        self.assertIn("**Not like for like:** the two sides report PTI on vs off", md)

    def test_like_for_like_logs_have_no_warning(self):
        linux = LINUX.replace("pti=off", "pti=on")
        p, md = self.run_tool(OURS, linux, "--platform", "bochs")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("## PTI on", md)
        self.assertNotIn("Not like for like", md)
        self.assertIn("## Raw BENCH lines", md)
        self.assertIn("# skip tlb_shootdown_1", md)

    def test_unparsable_line_fails_the_run(self):
        p, md = self.run_tool(OURS + 'BENCH {"name":"broken"\n', LINUX)
        self.assertEqual(p.returncode, 1)
        self.assertIn("could not be parsed", md)


def tap():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    tests = []

    def flatten(s):
        for t in s:
            if isinstance(t, unittest.TestSuite):
                flatten(t)
            else:
                tests.append(t)
    flatten(suite)
    print("1..%d" % len(tests))
    failed = 0
    for i, t in enumerate(tests, 1):
        r = unittest.TestResult()
        t.run(r)
        name = "%s.%s" % (type(t).__name__, t._testMethodName)
        if r.wasSuccessful():
            print("ok %d - %s" % (i, name))
        else:
            failed += 1
            print("not ok %d - %s" % (i, name))
            for _, tb in r.failures + r.errors:
                print("".join("# " + line + "\n" for line in tb.splitlines()), end="")
    return 1 if failed else 0


if __name__ == "__main__":
    if "--tap" in sys.argv:
        sys.exit(tap())
    unittest.main()
