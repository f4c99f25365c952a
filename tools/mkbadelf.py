#!/usr/bin/env python3
"""Write malformed ELF files for the loader's tests.

Usage: mkbadelf.py <good.elf> <outdir>

Each output breaks exactly one rule that kernel/elf.c's elf_validate()
enforces; the kernel must refuse every one with -ENOEXEC (user test
malformed_elf_refused) and never crash. The last four add one program
header to the good file: a PT_INTERP or PT_DYNAMIC (a dynamically linked
program), a PT_GNU_STACK asking for an executable stack, a PT_TLS whose
template lies outside every loadable segment.
"""
import os
import struct
import sys

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_TLS = 1, 2, 3, 4, 7
PT_GNU_STACK = 0x6474E551
INTERP = b"/lib64/ld-linux-x86-64.so.2\0"
INTERP_OFF = 0x200  # in the gap between the program headers and the first segment


def parse(data):
    e = list(EHDR.unpack_from(data, 0))
    phoff, phnum = e[5], e[10]
    phs = [list(PHDR.unpack_from(data, phoff + i * PHDR.size)) for i in range(phnum)]
    return e, phs


def build(data, e, phs):
    """The file with header e and program headers phs (written where the
    original file had them, whatever e's phoff now says)."""
    out = bytearray(data)
    EHDR.pack_into(out, 0, *e)
    phoff = EHDR.unpack_from(data, 0)[5]
    for i, ph in enumerate(phs):
        PHDR.pack_into(out, phoff + i * PHDR.size, *ph)
    return bytes(out)


def loads(phs):
    return [ph for ph in phs if ph[0] == PT_LOAD]


def with_extra(data, e, phs, extra):
    """The file with one more program header after the others, which must
    fit before the first segment's data (and before INTERP_OFF)."""
    first = min(ph[2] for ph in loads(phs) if ph[5])
    end = e[5] + (len(phs) + 1) * PHDR.size
    assert end <= min(first, INTERP_OFF), "no room for another program header"
    x = list(e); x[10] = len(phs) + 1
    return build(data, x, phs + [extra])


def extra_variants(data, e, phs):
    v = {}
    ld = loads(phs)
    m = bytearray(data)
    m[INTERP_OFF:INTERP_OFF + len(INTERP)] = INTERP
    va = ld[0][3] - ld[0][2] + INTERP_OFF  # congruent with its offset
    v["interp"] = with_extra(bytes(m), e, phs,
                             [PT_INTERP, 4, INTERP_OFF, va, va, len(INTERP), len(INTERP), 1])
    d = ld[-1]  # the data segment
    v["dynamic"] = with_extra(data, e, phs, [PT_DYNAMIC, 6, d[2], d[3], d[3], 0x10, 0x10, 8])
    v["execstack"] = with_extra(data, e, phs, [PT_GNU_STACK, 7, 0, 0, 0, 0, 0, 16])
    v["tls"] = with_extra(data, e, phs, [PT_TLS, 4, d[2], 0x7000000, 0x7000000, 0x10, 0x10, 8])
    return v


def variants(data):
    e, phs = parse(data)
    v = {}
    v["truncated"] = data[:40]
    m = bytearray(data)
    m[1] = ord("X")
    v["magic"] = bytes(m)
    m = bytearray(data)
    m[4] = 1  # ELFCLASS32
    v["class"] = bytes(m)
    x = list(e); x[2] = 3  # EM_386
    v["machine"] = build(data, x, phs)
    x = list(e); x[1] = 3  # ET_DYN
    v["type"] = build(data, x, phs)
    x = list(e); x[5] = len(data) - 10
    v["phoff"] = build(data, x, phs)
    p = [list(ph) for ph in phs]; loads(p)[0][2] = len(data) + 0x1000  # offset past EOF
    v["segment"] = build(data, e, p)
    p = [list(ph) for ph in phs]; ld = loads(p)[0]; ld[5] = ld[6] + 1  # filesz > memsz
    v["filesz"] = build(data, e, p)
    p = [list(ph) for ph in phs]; loads(p)[0][1] = 7  # RWX
    v["wx"] = build(data, e, p)
    x = list(e); x[4] = 0x10  # entry outside every segment
    v["entry"] = build(data, x, phs)
    p = [list(ph) for ph in phs]; lds = loads(p)
    lds[1][3] = lds[0][3]  # second segment at the first one's address
    lds[1][2] = lds[0][2]
    v["overlap"] = build(data, e, p)
    p = [list(ph) for ph in phs]; ld = loads(p)[0]
    ld[3] = 0xffffffff80000000 + (ld[2] & 0xfff)
    v["kernel"] = build(data, e, p)
    p = [list(ph) for ph in phs]
    for ph in p:
        if ph[0] == PT_LOAD:
            ph[0] = PT_NOTE
    v["no_load"] = build(data, e, p)
    p = [list(ph) for ph in phs]; loads(p)[-1][6] = 2 << 30  # 2 GiB of memory
    v["huge"] = build(data, e, p)
    p = [list(ph) for ph in phs]; ld = loads(p)[0]
    ld[3] = ld[2] & 0xfff  # below 64 KiB (congruent with its offset)
    v["zero_page"] = build(data, e, p)
    v.update(extra_variants(data, e, phs))
    return v


def main():
    good, outdir = sys.argv[1], sys.argv[2]
    with open(good, "rb") as f:
        data = f.read()
    os.makedirs(outdir, exist_ok=True)
    for name, blob in variants(data).items():
        with open(os.path.join(outdir, "bad_%s.elf" % name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
