#!/usr/bin/env python3
"""Calls that climb: a kernel object that uses a symbol defined on a higher floor.

README "Layout": include/uapi < lib < arch/x86 < mm < sched < kernel, and a
floor uses only the floors below it. This reads the built objects (`make
all` first) with `nm`, resolves each undefined symbol of an object against
the object that defines it, and prints every pair (lower file -> higher
file, with the names used) and their count. The floors are the kernel's
folders (the Makefile's KERNEL_DIRS) and boot/, the x86 start-up code
(the arch floor); the generated objects at the top of the build folder
(font, symbol table) stand on none. The in-kernel tests
(*_test.o, at the top of the house whatever folder holds them) are left
out unless --tests is given.

A pair printed here is a call by name. A hook that the higher floor
registers (a pointer in a structure the lower floor declares) is not one:
the lower floor names only its own declaration.

    python3 tools/climbs.py [BUILD]      (BUILD defaults to build)
    python3 tools/climbs.py --names      the names used, per pair
    python3 tools/climbs.py --tests      the in-kernel tests' objects too
"""
import os
import re
import subprocess
import sys

FLOORS = (("lib/", 2), ("arch/x86/", 3), ("boot/", 3), ("mm/", 4), ("sched/", 5), ("kernel/", 6))


def floor_of(rel):
    for prefix, floor in FLOORS:
        if rel.startswith(prefix):
            return floor
    return None


def is_test(obj):
    return re.search(r"_test(_asm)?\.o$", obj) is not None


def objects(build, tests):
    found = []
    for prefix, _ in FLOORS:
        top = os.path.join(build, prefix)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".o") and (tests or not is_test(name)):
                    path = os.path.join(dirpath, name)
                    found.append(os.path.relpath(path, build))
    return found


def symbols(build, objs):
    """{object: (defined globals, undefined names)} from one nm run."""
    out = subprocess.run(["nm", "-A"] + [os.path.join(build, o) for o in objs],
                         capture_output=True, text=True, check=True).stdout
    table = {o: (set(), set()) for o in objs}
    for line in out.splitlines():
        path, _, rest = line.partition(":")
        fields = rest.split()
        if len(fields) < 2:
            continue
        kind, name = fields[-2], fields[-1]
        obj = os.path.relpath(path, build)
        if kind == "U":
            table[obj][1].add(name)
        elif kind.isupper():
            table[obj][0].add(name)
    return table


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    names = "--names" in sys.argv
    build = args[0] if args else "build"
    objs = objects(build, "--tests" in sys.argv)
    if not objs:
        sys.exit(f"no objects under {build}/: run make all first")
    table = symbols(build, objs)
    definer = {}
    for obj, (defined, _) in table.items():
        for name in defined:
            definer.setdefault(name, obj)
    pairs = {}
    for obj, (_, undefined) in table.items():
        for name in undefined:
            to = definer.get(name)
            if to and floor_of(to) > floor_of(obj):
                pairs.setdefault((obj, to), set()).add(name)
    for (frm, to), used in sorted(pairs.items()):
        src = frm[:-2]
        dst = to[:-2]
        line = f"{src} -> {dst}"
        if names:
            line += ": " + ", ".join(sorted(used))
        print(line)
    print(f"{len(pairs)} climbing file pairs")


if __name__ == "__main__":
    main()
