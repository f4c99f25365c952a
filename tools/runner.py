#!/usr/bin/env python3
"""Boot the kernel in an emulator and report the verdict.

One boot = one image (an ISO with its own grub.cfg, so the kernel command
line can differ per boot), one emulator run with a timeout, one serial log.
QEMU boots can instead boot the USB disk image (tools/mkusb.sh, built with
the boot's command line, or a given one) as a USB stick on XHCI
(--media usb) or a SATA disk (--media disk), from a copy per boot.

Platforms:
  qemu-bios  QEMU TCG, -cpu max, q35, SeaBIOS
  qemu-uefi  the same with OVMF (UEFI)
  bochs      Bochs 3.0, sapphire_rapids model (built by tools/setup-host.sh)
  bochs-pcid the same Bochs with tools/bochs/*.patch: PCID-tagged TLB and
             paging-structure caches, page-walk counters (tools/bochs/README.md);
             its TLB geometry from BXPCID_STLB / BXPCID_PSC (boot(bochs_env=...))
  kvm        QEMU with KVM on a real host (never on the CI machines)

The verdict comes from QEMU's isa-debug-exit code (33 pass, 35 fail) and,
everywhere, from the kernel's sentinel line "\x02@@UKERNEL-EXIT pass|fail@@"
(STX first: no user text can print it).
A boot that ends any other way (timeout, triple fault, emulator crash) is a
failure, and its serial log is kept.

Usage:
  runner.py boot [--platform P] [--smp N] [--cmdline S] [--timeout T] [--log F]
                 [--media cdrom|usb|disk] [--image IMG] [--kernel ELF]
  runner.py run        the main job (make run)
  runner.py debug      QEMU halted with a GDB stub on :1234 (make debug)
"""
import argparse
import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
KERNEL = os.path.join(BUILD, "kernel.elf")
USER_DIR = os.path.join(BUILD, "user")
IMAGE_CACHE = os.path.join(BUILD, "images")
BOCHS_PREFIX = os.environ.get("BOCHS_PREFIX", "/var/cache/ukernel/bochs")
BOCHS_PCID_PREFIX = os.environ.get("BOCHS_PCID_PREFIX", "/var/cache/ukernel/bochs-pcid")
BOCHS_PLATFORMS = ("bochs", "bochs-pcid")
PLATFORMS = ["qemu-bios", "qemu-uefi", "bochs", "bochs-pcid", "kvm"]


def is_bochs(platform):
    """Either Bochs build: the same machine, the same bochsrc."""
    return platform in BOCHS_PLATFORMS
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# The kernel's verdict line starts with STX, which user text cannot print
# (kernel/syscall.c sys_console_write): a test program printing the rest
# cannot end a run (regression console_cannot_forge_the_verdict).
SENTINEL = re.compile(r"\x02@@UKERNEL-EXIT (pass|fail)@@")
QEMU_PASS, QEMU_FAIL = 33, 35


def user_modules():
    """Boot modules: every user program built into build/user/*.elf."""
    if not os.path.isdir(USER_DIR):
        return []
    return sorted(os.path.join(USER_DIR, f) for f in os.listdir(USER_DIR)
                  if f.endswith(".elf"))


def grub_cfg(cmdline, modules):
    lines = [
        "set timeout=0",
        "set default=0",
        "insmod all_video",
        "serial --unit=0 --speed=115200",
        "terminal_input serial console",
        "terminal_output serial console",
        'menuentry "ukernel" {',
        "\tmultiboot2 /boot/kernel.elf %s" % cmdline,
    ]
    for m in modules:
        name = os.path.basename(m)[:-4] if m.endswith(".elf") else os.path.basename(m)
        lines.append("\tmodule2 /boot/%s %s" % (os.path.basename(m), name))
    lines += ["\tboot", "}"]
    return "\n".join(lines) + "\n"


def _cached_path(key, modules, ext, kernel=None):
    """Where the image made from key, the kernel and modules is cached."""
    h = hashlib.sha256(key.encode())
    for path in [kernel or KERNEL] + modules:
        with open(path, "rb") as f:
            h.update(f.read())
    os.makedirs(IMAGE_CACHE, exist_ok=True)
    return os.path.join(IMAGE_CACHE, h.hexdigest()[:16] + ext)


def make_usb_image(cmdline, modules=None):
    """The USB disk image (tools/mkusb.sh) for this command line, cached."""
    modules = user_modules() if modules is None else modules
    script = os.path.join(ROOT, "tools", "mkusb.sh")
    with open(script) as f:
        img = _cached_path(cmdline + "\0" + f.read(), modules, ".img")
    if not os.path.exists(img):
        tmp = _tmp_name(img)
        subprocess.run([script, "--cmdline", cmdline, tmp, KERNEL] + modules, check=True)
        os.rename(tmp, img)
    return img


def _tmp_name(path):
    """Where to build path: a name of this process and thread only, renamed
    into place when complete (tools/test.py boots rows concurrently, and two
    rows may want the same image)."""
    return "%s.tmp%d.%d" % (path, os.getpid(), threading.get_ident())


def make_image(cmdline, modules=None, cfg=None, kernel=None):
    """An ISO for this command line, cached by content. cfg (a whole
    grub.cfg) and kernel (copied as /boot/kernel.elf) boot something else,
    as tools/compare_linux.py does with Linux."""
    modules = user_modules() if modules is None else modules
    kernel = kernel or KERNEL
    cfg = cfg or grub_cfg(cmdline, modules)
    iso = _cached_path(cfg, modules, ".iso", kernel)
    if not os.path.exists(iso):
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
            f.write(cfg)
            cfg_path = f.name
        tmp = _tmp_name(iso)
        try:
            cmd = [os.path.join(ROOT, "tools", "mkiso.sh"), tmp, cfg_path, kernel] + modules
            # grub-mkrescue has been seen to fail once without a reason it
            # repeats: try twice before giving up.
            if subprocess.run(cmd).returncode:
                subprocess.run(cmd, check=True)
            os.rename(tmp, iso)
        finally:
            os.unlink(cfg_path)
    return iso


def qemu_cmd(platform, iso, smp, mem, workdir, extra, machine="q35", media="cdrom"):
    cmd = ["qemu-system-x86_64", "-machine", machine, "-m", str(mem),
           "-smp", str(smp), "-display", "none", "-vga", "std",
           "-serial", "stdio", "-monitor", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if media == "cdrom":
        cmd += ["-cdrom", iso, "-boot", "d"]
    else:  # a disk image: a USB stick on XHCI, or a SATA disk (q35's AHCI)
        dev = "usb-storage,bus=xhci.0,removable=on" if media == "usb" else "ide-hd"
        cmd += ["-device", "qemu-xhci,id=xhci"] if media == "usb" else []
        cmd += ["-drive", "if=none,id=stick,format=raw,file=" + iso,
                "-device", dev + ",drive=stick,bootindex=0"]
    if platform == "kvm":
        cmd += ["-accel", "kvm", "-cpu", "host"]
    else:
        cmd += ["-accel", "tcg,thread=multi", "-cpu", "max"]
    if platform == "qemu-uefi":
        vars_copy = os.path.join(workdir, "OVMF_VARS.fd")
        shutil.copy(OVMF_VARS, vars_copy)
        cmd += ["-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,file=" + vars_copy]
    return cmd + list(extra)


def bochs_cmd(iso, smp, mem, workdir, serial_path, platform="bochs", prefix=None):
    rc = os.path.join(workdir, "bochsrc")
    with open(rc, "w") as f:
        f.write("""\
cpu: model=sapphire_rapids, count=1:%d:1, ips=50000000, reset_on_triple_fault=0
memory: guest=%d, host=%d
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=%s, status=inserted
boot: cdrom
clock: sync=none, time0=local
com1: enabled=1, mode=file, dev=%s
display_library: nogui
log: %s
logprefix: %%t %%e %%d
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
""" % (smp, mem, mem, iso, serial_path, os.path.join(workdir, "bochs.log")))
    if prefix is None:
        prefix = BOCHS_PCID_PREFIX if platform == "bochs-pcid" else BOCHS_PREFIX
    return [os.path.join(prefix, "bin", "bochs"), "-q", "-f", rc]


class Result:
    def __init__(self, verdict, reason, log, seconds, cpu=None):
        self.verdict = verdict  # "pass", "fail", "hang", "crash"
        self.reason = reason
        self.log = log
        self.seconds = seconds
        self.cpu = cpu  # the emulator's CPU seconds (all threads), None if unknown

    @property
    def passed(self):
        return self.verdict == "pass"


def _last_words(log):
    """What a crashed emulator left at the end of the log (QEMU prints its
    assertion there) and a test's replay line, so a CI report that only
    shows the failure line still says how to reproduce it."""
    lines = [l.strip() for l in log.splitlines() if l.strip()]
    said = ""
    if lines:
        said += "; its last line: %r" % lines[-1][-300:]
    replay = [l for l in lines if "replay: " in l]
    if replay:
        said += "; %s" % replay[-1][replay[-1].index("replay: "):][:300]
    return said


def _cpu_seconds(pid, last):
    """User + system CPU time of a running process, all its threads (Linux
    /proc); last once it has exited."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return last


# The emulators running now (tools/test.py boots from several threads):
# kill_all() ends them when the caller is interrupted (each runs in its own
# session, so the terminal's ^C does not reach it).
_live = set()
_live_lock = threading.Lock()


def _started(proc):
    with _live_lock:
        _live.add(proc)
    return proc


def kill_all():
    with _live_lock:
        procs = list(_live)
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def boot(platform="qemu-bios", smp=1, mem=512, cmdline="", timeout=120, log_path=None,
         echo=False, modules=None, extra=(), machine="q35", media="cdrom", image=None,
         abort=None, kernel=None, bochs_prefix=None, env=None, bochs_env=None):
    """Boot once; returns a Result. The serial log is written to log_path.
    image: a ready-made image to boot instead of this kernel's: an ISO from
    make_image() for media "cdrom", a disk image for media "usb" or "disk"
    (default there: the USB image made for cmdline; a given image's own
    grub.cfg decides the command line), booted from a writable copy.
    abort: a compiled regex that ends a Bochs boot as failed when the log
    shows it (Bochs resets instead of exiting, so a panic that reboots
    would otherwise run to the timeout).
    kernel: another kernel ELF to boot (the `make ubsan` debug kernel).
    bochs_prefix: another Bochs installation (the profiler's,
    tools/pathprof.py); env: more environment for the emulator; bochs_env:
    the same, named for the PCID-faithful Bochs (bochs-pcid: BXPCID_STLB,
    BXPCID_PSC, BXPCID_SPECULATE, BXPCID_OFF; tools/bochs/README.md)."""
    if media == "cdrom":
        iso = image or make_image(cmdline, modules, kernel=kernel)
    elif is_bochs(platform):
        raise ValueError("bochs boots only the ISO")
    workdir = tempfile.mkdtemp(prefix="ukernel-run-")
    proc = None
    if media != "cdrom":
        iso = os.path.join(workdir, "disk.img")
        subprocess.run(["cp", "--sparse=always", image or make_usb_image(cmdline, modules),
                        iso], check=True)
    log_path = log_path or os.path.join(workdir, "serial.log")
    start = time.time()
    out = []
    sentinel = None
    aborted = False
    cpu = None
    try:
        if is_bochs(platform):
            serial_path = os.path.join(workdir, "com1.txt")
            open(serial_path, "w").close()
            cmd = bochs_cmd(iso, smp, mem, workdir, serial_path, platform, bochs_prefix)
            full_env = dict(os.environ, **(env or {}), **(bochs_env or {}))
            proc = _started(subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                             cwd=workdir, start_new_session=True, env=full_env))
            pos = 0
            with open(serial_path, "rb") as serial:
                while True:
                    chunk = serial.read()
                    if chunk:
                        text = chunk.decode("utf-8", "replace")
                        out.append(text)
                        if echo:
                            sys.stdout.write(text)
                            sys.stdout.flush()
                        pos += len(chunk)
                        m = SENTINEL.search("".join(out[-3:]))
                        if m:
                            sentinel = m.group(1)
                            time.sleep(0.2)
                            out.append(serial.read().decode("utf-8", "replace"))
                            break
                        if abort and abort.search("".join(out[-3:])):
                            aborted = True
                            break
                    cpu = _cpu_seconds(proc.pid, cpu)
                    if proc.poll() is not None:
                        out.append(serial.read().decode("utf-8", "replace"))
                        break
                    if time.time() - start > timeout:
                        break
                    time.sleep(0.1)
            code = proc.poll()
            if code is None:
                _kill(proc)
        else:
            cmd = qemu_cmd(platform, iso, smp, mem, workdir, extra, machine, media)
            proc = _started(subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             start_new_session=True))
            fd = proc.stdout.fileno()
            while True:
                cpu = _cpu_seconds(proc.pid, cpu)
                left = timeout - (time.time() - start)
                if left <= 0:
                    break
                r, _, _ = select.select([fd], [], [], min(left, 1.0))
                if r:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    text = chunk.decode("utf-8", "replace")
                    out.append(text)
                    if echo:
                        sys.stdout.write(text)
                        sys.stdout.flush()
                elif proc.poll() is not None:
                    break
            try:
                # EOF on the serial pipe comes just before the exit status.
                code = proc.wait(timeout=5 if time.time() - start < timeout else 0.1)
            except subprocess.TimeoutExpired:
                code = None
                _kill(proc)
            m = SENTINEL.search("".join(out))
            sentinel = m.group(1) if m else None
        elapsed = time.time() - start
        log = "".join(out)
        with open(log_path, "w") as f:
            f.write(log)
        if is_bochs(platform) and sentinel is None and code is not None:
            blog = os.path.join(workdir, "bochs.log")
            if os.path.exists(blog):
                with open(blog, errors="replace") as f:
                    tail = f.read()[-3000:]
                log += "\n--- bochs.log (tail) ---\n" + tail
        if aborted:
            return Result("fail", "the log matched %r" % abort.pattern, log, elapsed, cpu)
        if sentinel is None and code is None:
            return Result("hang", "no verdict within %ds" % timeout, log, elapsed, cpu)
        if not is_bochs(platform) and code not in (QEMU_PASS, QEMU_FAIL):
            return Result("crash", "emulator exited with code %s (triple fault or crash)%s"
                          % (code, _last_words(log)), log, elapsed, cpu)
        if sentinel is None:
            return Result("crash", "no verdict line (bochs exit %s)" % code, log, elapsed, cpu)
        if not is_bochs(platform) and (code == QEMU_PASS) != (sentinel == "pass"):
            return Result("fail", "exit code %s disagrees with the verdict line" % code,
                          log, elapsed, cpu)
        if sentinel == "pass":
            return Result("pass", "", log, elapsed, cpu)
        return Result("fail", "kernel reported failure", log, elapsed, cpu)
    finally:
        with _live_lock:
            _live.discard(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["boot", "run", "debug"])
    ap.add_argument("--platform", default="qemu-bios", choices=PLATFORMS)
    ap.add_argument("--smp", type=int, default=None)
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--cmdline", default=None)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--log", default=None)
    ap.add_argument("--media", default="cdrom", choices=["cdrom", "usb", "disk"])
    ap.add_argument("--image", default=None, help="with --media usb|disk: boot this image")
    ap.add_argument("--kernel", default=None, help="boot this kernel ELF (build/ubsan/kernel.elf)")
    args = ap.parse_args()

    if args.command == "debug":
        iso = make_image(args.cmdline or "")
        cmd = qemu_cmd("qemu-bios", iso, args.smp or 1, args.mem, tempfile.mkdtemp(),
                       ["-s", "-S"])
        print("QEMU waits for GDB on :1234; in another terminal: gdb -x tools/gdbinit")
        os.execvp(cmd[0], cmd)

    if args.command == "run":
        # The main job: the whole benchmark suite (user/bench).
        cmdline = args.cmdline if args.cmdline is not None else "bench=all fbcon=off"
        smp = args.smp or 8
    else:
        cmdline = args.cmdline or ""
        smp = args.smp or 1
    log = args.log or os.path.join(BUILD, "last-run.log")
    res = boot(args.platform, smp, args.mem, cmdline, args.timeout, log, echo=True,
               media=args.media, image=args.image, kernel=args.kernel)
    print("\nrunner: %s%s (%.1fs); serial log in %s" % (
        res.verdict, ": " + res.reason if res.reason else "", res.seconds, log))
    if args.command == "run" and os.path.exists(os.path.join(ROOT, "tools", "bench_table.py")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench_table.py"), log])
    sys.exit(0 if res.passed else 1)


if __name__ == "__main__":
    main()
