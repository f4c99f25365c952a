"""The boot matrix of `make test` (tools/test.py).

Each boot: platform, CPUs, kernel command line, timeout (seconds). The
timeouts are hang detectors, not performance limits.
"""

TESTS = "ktest=all fbcon=off"

BOOTS = [
    dict(name="qemu-bios-smp1", platform="qemu-bios", smp=1, cmdline=TESTS, timeout=300),
    dict(name="qemu-bios-smp8", platform="qemu-bios", smp=8, cmdline=TESTS, timeout=300),
    dict(name="qemu-uefi-smp2", platform="qemu-uefi", smp=2, cmdline=TESTS + " fbcon=on",
         timeout=300),
    dict(name="bochs-spr-4cpu", platform="bochs", smp=4, cmdline=TESTS, timeout=900),
]

# Boots that must fail, and how the report must read.
DEATHS = [
    dict(name="kernel-page-fault", platform="qemu-bios", cmdline="ktest=death_pagefault",
         verdict="fail",
         expect=[r"unexpected #PF page fault in kernel mode in death_pagefault_target",
                 r"CR2 ffffc07ffffff000 \(kernel write, page not present\)",
                 r"called from \w+ ktest_fn_death_pagefault", r"backtrace:",
                 r"@@UKERNEL-EXIT fail@@"]),
    dict(name="bug-on", platform="qemu-bios", cmdline="ktest=death_bug", verdict="fail",
         expect=[r"BUG at kernel/ktest_death.c:\d+: x == 42", r"death_bug_target\+0x"]),
    dict(name="failing-test-detected", platform="qemu-bios",
         cmdline="ktest=death_broken_on_purpose", verdict="fail",
         expect=[r"not ok 1 death_broken_on_purpose", r"1 \+ 1 == 3"]),
    dict(name="hang-detected", platform="qemu-bios", cmdline="ktest=death_hang",
         verdict="hang", timeout=15),
]
