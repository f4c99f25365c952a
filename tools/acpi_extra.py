"""Extra ACPI tables for QEMU's -acpitable, written under build/acpi-extra/.

A boot row can hand the kernel tables that QEMU does not make itself: the
kernel must log and survive whatever the firmware lists (arch/x86/acpi.c).
Each table is a bare header (36 bytes) plus a body, with a good checksum.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build",
                   "acpi-extra")


def table(sig, body=b"\0" * 4, rev=1):
    """An ACPI table: the standard header (ACPI 6.5, 5.2.6) and body."""
    hdr = struct.pack("<4sIBB6s8sI4sI", sig, 36 + len(body), rev, 0, b"UKTEST", b"UKTABLES", 1,
                      b"UKT ", 1)
    t = bytearray(hdr + body)
    t[9] = (-sum(t)) & 0xff
    return bytes(t)


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    if not os.path.exists(path) or open(path, "rb").read() != data:
        with open(path, "wb") as f:
            f.write(data)
    return path


def many_tables_args(n):
    """QEMU arguments for n extra tables: the first's signature has two
    bytes that are not printable ("Q", 0x01, 0x7f, "9"), the others are
    Q001, Q002, ..."""
    args = []
    for i in range(n):
        sig = b"Q%03d" % i if i else b"Q\x01\x7f9"
        args += ["-acpitable", "file=" + write("t%03d.bin" % i, table(sig))]
    return args


def bad_madt_args():
    """QEMU arguments for a second MADT, malformed (its one CPU entry has
    length 0): the kernel keeps the first, QEMU's own."""
    body = struct.pack("<II", 0xfee00000, 1) + struct.pack("<BBBBI", 0, 0, 0, 0, 1)
    return ["-acpitable", "file=" + write("madt-bad.bin", table(b"APIC", body, rev=3))]


def srat_interleaved_args():
    """QEMU arguments for an SRAT (the machine has none of its own) whose
    node 2 has memory on both sides of node 1's: valid ACPI (6.5, 5.2.16),
    which one range per node cannot describe."""
    mib = 1 << 20
    body = struct.pack("<IQ", 1, 0)  # reserved: 12 bytes
    for prox, apic in ((0, 0), (1, 1)):
        body += struct.pack("<BBBBIB3sI", 0, 16, prox, apic, 1, 0, bytes(3), 0)
    for prox, base, length in ((0, 0, 128 * mib), (1, 256 * mib, 128 * mib),
                               (2, 128 * mib, 128 * mib), (2, 384 * mib, 128 * mib)):
        body += struct.pack("<BBIHQQIIQ", 1, 40, prox, 0, base, length, 0, 1, 0)
    return ["-acpitable", "file=" + write("srat-interleaved.bin", table(b"SRAT", body, rev=3))]
