#!/usr/bin/env python3
"""Every static branch of the linked kernel agrees with its record.

  check_static_branches.py [--elf build/kernel.elf] [--self-test]

arch/static_branch.h records each site as (code, taken, flag) in the
table static_branch_sites (__static_branch_start..end), and the boot patches the five bytes at code
without looking at anything else (arch/x86/static_branch.c). So the
toolchain's output must hold, for every record: code in .text, holding the
compiled JMP rel32 (E9) to the site's test, which is in .text and is not
the taken branch; taken in .text; flag a one-byte object (a bool: the
patch and the test read one byte). A record that GCC or the linker had
moved (an address one off, a section merged differently) would have the
boot patch bytes that are not the site.

--self-test runs the check on the same kernel with one record's code
address moved by one byte and another's flag pointed at a wider object,
and must see both caught.
"""
import argparse
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHO = "check_static_branches"


def sections(data):
    """{name: (addr, offset, size)} of an ELF64 little-endian file."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = hdrs[shstrndx]
    out = {}
    for h in hdrs:
        name_off = strtab[4] + h[0]
        name = data[name_off:data.index(b"\0", name_off)].decode()
        out[name] = (h[3], h[4], h[5])
    return out


def symbols(elf):
    """{address: (size, name)} of the kernel's data objects, {name: address}
    of every symbol."""
    objs, addrs = {}, {}
    nm = subprocess.run(["nm", "-S", elf], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "bBdDrR":
            objs[int(f[0], 16)] = (int(f[1], 16), f[3])
        if len(f) >= 3:
            addrs[f[-1]] = int(f[0], 16)
    return objs, addrs


def records(data, secs, addrs):
    """The table between __static_branch_start and __static_branch_end
    (linker.ld puts the input section static_branch_sites in .rodata)."""
    start, end = addrs["__static_branch_start"], addrs["__static_branch_end"]
    for addr, off, size in secs.values():
        if addr <= start and end <= addr + size and addr:
            base = off + start - addr
            return [struct.unpack_from("<QQQ", data, base + i) for i in range(0, end - start, 24)]
    sys.exit("%s: the table at %#x is in no section" % (WHO, start))


def check(data, secs, objs, recs):
    taddr, toff, tsize = secs[".text"]

    def in_text(a):
        return taddr <= a < taddr + tsize

    problems = []
    for code, taken, flag in recs:
        where = "site %#x" % code
        if not in_text(code) or not in_text(taken):
            problems.append("%s: code or taken branch %#x outside .text" % (where, taken))
            continue
        insn = data[toff + code - taddr:toff + code - taddr + 5]
        if insn[0] != 0xE9:
            problems.append("%s: holds %s, not JMP rel32" % (where, insn.hex(" ")))
            continue
        test = code + 5 + struct.unpack("<i", insn[1:])[0]
        if not in_text(test) or test == taken:
            problems.append("%s: its JMP goes to %#x, not to a test apart from the taken "
                            "branch %#x" % (where, test, taken))
        size, name = objs.get(flag, (None, None))
        if size != 1:
            problems.append("%s: flag %#x is %s, not a one-byte object" % (
                where, flag, "%s (%s bytes)" % (name, size) if name else "no object"))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "kernel.elf"))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    with open(args.elf, "rb") as f:
        data = f.read()
    secs = sections(data)
    objs, addrs = symbols(args.elf)
    recs = records(data, secs, addrs)
    if len(recs) < 2:
        print("%s: FAIL: %d static branches in %s" % (WHO, len(recs), args.elf))
        return 1
    if args.self_test:
        wide = next(a for a, (s, _) in sorted(objs.items()) if s == 8)
        broken = [(recs[0][0] + 1,) + recs[0][1:], recs[1][:2] + (wide,)] + recs[2:]
        problems = check(data, secs, objs, broken)
        if len(problems) == 2:
            print("%s: self-test: both broken records are caught:" % WHO)
            print("\n".join("  " + p for p in problems))
            return 0
        print("%s: self-test: FAILED, %d problems found in 2 broken records: %s" % (
            WHO, len(problems), problems))
        return 1
    problems = check(data, secs, objs, recs)
    for p in problems:
        print("%s: %s" % (WHO, p))
    if problems:
        return 1
    print("%s: %d sites, each a JMP rel32 to its test, with a one-byte flag" % (WHO, len(recs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
