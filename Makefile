# ukernel: build, run and test.
#
#   make            kernel ELF and the hybrid BIOS/UEFI ISO (build/ukernel.iso)
#   make usb-image  GPT disk image for a USB stick, BIOS and UEFI (build/ukernel-usb.img)
#   make run        the main job: boot in QEMU -smp 8 and run the benchmarks
#   make test       every test layer on the whole boot matrix
#   make debug      QEMU halted at reset with a GDB stub; see README.md
#   make ubsan      the debug kernel with -fsanitize=undefined (build/ubsan/kernel.elf)
#   make soak       minutes of torture tests, fuzzer and benchmarks (SOAK_MINUTES=5), then
#                   the stale-read torture under bochs-pcid (SOAK_STALE_MINUTES=3)
#   make soak-cpu-fuzz  the CPU-interface fuzzer at 10^6 sequences a boot
#   make compare-linux  this kernel vs Linux, same emulator and PTI setting
#                   (PLATFORM=bochs|bochs-pcid|qemu-bios SMP=N [PTI=on|off]; both PTI settings by default)
#   make profile OP=<benchmark> [SWITCHES="pti=off ..."]  instructions per operation, per
#                   function and category (Bochs, one CPU; tools/pathprof.py)
#   make check-format / make format / make compile_commands.json
#
# `make run` and `make test` first run tools/setup-host.sh, which installs
# whatever is missing on a Debian 12 host.

BUILD     ?= build
CC        := gcc
LD        := ld
OBJCOPY   := objcopy
NM        := nm
PYTHON    := python3

WARN      := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
             -Wno-address-of-packed-member
KCFLAGS   := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -mno-red-zone \
             -mcmodel=kernel -mgeneral-regs-only -fno-pic -fno-pie \
             -fstack-protector-strong -mstack-protector-guard=global \
             -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common \
             -fno-delete-null-pointer-checks \
             -mno-sse -mno-mmx -mno-80387 -fcf-protection=none \
             -I. -Iarch/x86/include $(WARN) -MMD -MP $(EXTRA_KCFLAGS)
# make ubsan: the debug kernel, -fsanitize=undefined with the handlers of
# kernel/ubsan.c (each report names file:line and fails the boot), built in
# $(BUILD)/ubsan/ beside the normal one (tools/matrix.py boots it).
# Not the null check: every per-CPU access goes through a null __seg_gs
# pointer (lib/percpu.h PERCPU_GS), which it cannot tell from a null
# dereference; and a real one faults anyway (page 0 is never mapped).
ifeq ($(UBSAN),1)
KCFLAGS   += -fsanitize=undefined -fno-sanitize=null
endif
# -fno-delete-null-pointer-checks: address 0 of the __seg_gs space is this
# CPU's struct percpu (lib/percpu.h). Without the flag GCC takes reads
# there for reads of readonly memory, declares per-CPU helpers const and
# reuses their values across calls, switch_to() too, after which the task
# may be on another CPU (tools/check_percpu_reload.py, a make test row).
KASFLAGS  := -I. -Iarch/x86/include -D__ASSEMBLER__ -MMD -MP -g
KLDFLAGS  := -nostdlib -z max-page-size=0x1000 -z noexecstack -T linker.ld --no-warn-rwx-segments

KERNEL_DIRS := lib arch/x86 mm sched kernel kernel/ktests
KERNEL_C    := $(sort $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c)))
KERNEL_S    := boot/boot.S boot/trampoline.S $(sort $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.S)))
KERNEL_OBJS := $(KERNEL_C:%.c=$(BUILD)/%.o) $(KERNEL_S:%.S=$(BUILD)/%.o) $(BUILD)/font.o

ISO       := $(BUILD)/ukernel.iso
KERNEL    := $(BUILD)/kernel.elf

.PHONY: print-kcflags all kernel ubsan user iso usb-image run test test-large soak soak-cpu-fuzz test-host debug setup check-format \
        format clean compile_commands.json compare-linux profile bochs-prof

all: $(ISO) user compile_commands.json

# The kernel's compiler flags, for tools that compile probes with them.
print-kcflags:
	@echo $(KCFLAGS)

kernel: $(KERNEL)
iso: $(ISO)
ubsan:
	$(MAKE) BUILD=$(BUILD)/ubsan UBSAN=1 kernel

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -c $< -o $@

# The built-in console font: GRUB's 8x16 ASCII glyphs (grub-common).
FONT_SRC := /usr/share/grub/ascii.h
$(BUILD)/font.c: $(FONT_SRC)
	@mkdir -p $(dir $@)
	sed -e 's/unsigned char ascii_bitmaps\[\]/const unsigned char font8x16[128 * 16]/' \
	    -e '1i /* generated from $(FONT_SRC) by the Makefile */' $< > $@
$(BUILD)/font.o: $(BUILD)/font.c
	$(CC) $(KCFLAGS) -Wno-missing-prototypes -c $< -o $@

# Two links: the first gives the addresses for the symbol table, the second
# adds the table in the last section so that no other symbol moves.
$(BUILD)/ksyms_empty.S:
	@mkdir -p $(dir $@)
	printf '\t.section .ksyms, "a"\n\t.quad 0\n' > $@

$(BUILD)/kernel.pass1.elf: $(KERNEL_OBJS) $(BUILD)/ksyms_empty.o linker.ld
	$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms_empty.o

$(BUILD)/ksyms.S: $(BUILD)/kernel.pass1.elf tools/ksyms.py
	$(NM) -n $< > $(BUILD)/kernel.pass1.nm
	$(PYTHON) tools/ksyms.py gen $(BUILD)/kernel.pass1.nm $@

$(KERNEL): $(KERNEL_OBJS) $(BUILD)/ksyms.o linker.ld
	$(LD) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms.o
	$(NM) -n $@ > $(BUILD)/kernel.nm
	$(PYTHON) tools/ksyms.py check $(BUILD)/kernel.pass1.nm $(BUILD)/kernel.nm

# ---- user programs (boot modules) ----
UCFLAGS   := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -static -fno-pic \
             -fno-pie -fno-stack-protector -fno-omit-frame-pointer -fcf-protection=none \
             -fno-asynchronous-unwind-tables -I. $(WARN) -MMD -MP
ULDFLAGS  := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T user/user.ld \
             --no-warn-rwx-segments
ULIB_OBJS := $(BUILD)/user/lib/crt0.o $(BUILD)/user/lib/ulib.o $(BUILD)/user/lib/string.o \
             $(BUILD)/user/lib/fmt.o $(BUILD)/user/lib/select.o
UTEST_SRC := $(sort $(wildcard user/utest/*.c user/utest/*.S))
UTEST_OBJS := $(patsubst user/%,$(BUILD)/user/%.o,$(basename $(UTEST_SRC)))
BENCH_SRC := $(sort $(wildcard user/bench/*.c user/bench/*.S))
BENCH_OBJS := $(patsubst user/%,$(BUILD)/user/%.o,$(basename $(BENCH_SRC)))
USER_ELFS := $(BUILD)/user/init.elf $(BUILD)/user/utest.elf $(BUILD)/user/serial.elf \
             $(if $(BENCH_SRC),$(BUILD)/user/bench.elf)
BAD_ELFS  := $(BUILD)/user/bad_truncated.elf

$(BUILD)/user/%.o: user/%.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -c $< -o $@
$(BUILD)/user/%.o: user/%.S
	@mkdir -p $(dir $@)
	$(CC) -I. -D__ASSEMBLER__ -c $< -o $@
$(BUILD)/user/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -c $< -o $@

$(BUILD)/user/init.elf: $(BUILD)/user/init/init.o $(ULIB_OBJS) user/user.ld
	$(LD) $(ULDFLAGS) -o $@ $(filter %.o,$^)
$(BUILD)/user/serial.elf: $(BUILD)/user/serial/serial.o $(ULIB_OBJS) user/user.ld
	$(LD) $(ULDFLAGS) -o $@ $(filter %.o,$^)
$(BUILD)/user/utest.elf: $(UTEST_OBJS) $(ULIB_OBJS) user/user.ld
	$(LD) $(ULDFLAGS) -o $@ $(filter %.o,$^)
$(BUILD)/user/bench.elf: $(BENCH_OBJS) $(ULIB_OBJS) user/user.ld
	$(LD) $(ULDFLAGS) -o $@ $(filter %.o,$^)
$(BAD_ELFS): $(BUILD)/user/init.elf tools/mkbadelf.py
	$(PYTHON) tools/mkbadelf.py $< $(BUILD)/user

user: $(USER_ELFS) $(BAD_ELFS)

ISO_FILES := $(KERNEL) boot/grub.cfg $(USER_ELFS) $(BAD_ELFS)

$(ISO): $(ISO_FILES) tools/mkiso.sh
	tools/mkiso.sh $@ boot/grub.cfg $(KERNEL) $(USER_ELFS) $(BUILD)/user/bad_*.elf

# The USB stick image: every user program, the malformed ELF files the tests
# load included (README.md, "Booting from a USB stick").
USB_IMG := $(BUILD)/ukernel-usb.img
usb-image: $(USB_IMG)
$(USB_IMG): $(KERNEL) $(USER_ELFS) $(BAD_ELFS) tools/mkusb.sh
	tools/mkusb.sh $@ $(KERNEL) $(BUILD)/user/*.elf

# ---- host-side tests (pure logic, sanitizers) ----
HOST_CC     := gcc
HOST_CFLAGS := -std=gnu11 -O1 -g -DHOST_TEST -I. -Iarch/x86/include -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer -Wall -Wextra -Werror \
               -Wno-missing-prototypes
HOST_TESTS  := $(patsubst tests/%.c,$(BUILD)/host/%,$(wildcard tests/test_*.c))

# Each test names the kernel sources it exercises in a "// uses:" line; the
# test is rebuilt when one of them (or a header beside one) changes.
HOST_USES = $(shell sed -n 's@^// uses: @@p' tests/$(1).c)
.SECONDEXPANSION:
$(BUILD)/host/%: tests/%.c tests/host_support.c $$(call HOST_USES,$$*) \
		$$(wildcard $$(patsubst %.c,%.h,$$(call HOST_USES,$$*)) tests/*.h)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $< tests/host_support.c \
	    $$(sed -n 's@^// uses: @@p' $<) -lcmocka

# test_xstate_layout also runs the layout tool on dumps it writes.
$(BUILD)/host/test_xstate_layout: $(BUILD)/host/xstate-layout
$(BUILD)/host/test_xstate_layout: private HOST_CFLAGS += -DXSTATE_LAYOUT_TOOL='"$(BUILD)/host/xstate-layout"'

test-host: $(HOST_TESTS)
	@for t in $(HOST_TESTS); do $$t || exit 1; done

# The XSAVE layout tool: arch/x86/xstate_layout.c run on a CPUID dump file.
XSTATE_LAYOUT_SRC := tools/xstate_layout_main.c tools/cpuid_dump.c arch/x86/xstate_layout.c
$(BUILD)/host/xstate-layout: $(XSTATE_LAYOUT_SRC) tools/cpuid_dump.h arch/x86/xstate_layout.h
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(XSTATE_LAYOUT_SRC)

.PHONY: xstate-layout
xstate-layout: $(BUILD)/host/xstate-layout

setup:
	tools/setup-host.sh

# ---- comparison with Linux (README.md "Comparing with Linux") ----
# The suite's Linux port, a static program run as /init of an initramfs.
LBENCH_SRC := $(sort $(wildcard tools/linux_bench/*.c))
$(BUILD)/linux/lbench: $(LBENCH_SRC) $(wildcard tools/linux_bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -std=gnu11 $(WARN) -pthread -o $@ $(LBENCH_SRC)

PLATFORM ?= qemu-bios
SMP      ?=
OURS_LOG ?=
PTI      ?=
compare-linux:
	tools/setup-host.sh $(if $(filter bochs%,$(PLATFORM)),,--no-bochs)
	$(MAKE) all $(BUILD)/linux/lbench
	$(PYTHON) tools/compare_linux.py --platform $(PLATFORM) $(if $(SMP),--smp $(SMP)) \
	    $(if $(OURS_LOG),--ours-log $(OURS_LOG)) $(foreach p,$(PTI),--pti $(p)) $(COMPARE_ARGS)

# ---- the path-length profiler (README.md "Benchmarks") ----
# Bochs with the ukprof instrumentation (tools/bochs/), beside the stock one.
BOCHS_PROF ?= /var/cache/ukernel/bochs-prof
export BOCHS_PROF_PREFIX := $(BOCHS_PROF)
OP       ?=
SWITCHES ?=
bochs-prof: setup
	nice tools/bochs/build.sh $(BOCHS_PROF) --enable-instrumentation=instrument/ukprof

profile: bochs-prof
	$(if $(OP),,$(error name the benchmark: make profile OP=null_syscall [SWITCHES="pti=off"]))
	$(MAKE) all
	$(PYTHON) tools/pathprof.py '$(OP)' $(if $(SWITCHES),--switches '$(SWITCHES)') $(PROFILE_ARGS)

run: setup
	$(MAKE) all
	$(PYTHON) tools/runner.py run

# The build first, on every core, then the rows,
# side by side on every core (tools/test.py --jobs; TEST_JOBS=1: one at a time).
NPROC     := $(shell nproc 2>/dev/null || echo 1)
TEST_JOBS ?= $(NPROC)
test: bochs-prof
	$(MAKE) -j$(NPROC) all ubsan $(HOST_TESTS) $(BUILD)/host/xstate-layout
	$(PYTHON) tools/test.py --jobs $(TEST_JOBS)

# Minutes of torture tests, fuzzer and benchmarks at -smp 8 (tools/soak.py).
SOAK_STALE_MINUTES ?= 3
SOAK_MINUTES ?= 5
soak: setup
	$(MAKE) all
	SOAK_MINUTES=$(SOAK_MINUTES) $(PYTHON) tools/soak.py
	$(PYTHON) tools/soak.py --stale --minutes $(SOAK_STALE_MINUTES)

# The CPU-interface fuzzer at full size, 10^6 sequences a boot (tools/soak.py --cpu-fuzz).
soak-cpu-fuzz: setup
	$(MAKE) all
	SOAK_MINUTES=$(SOAK_MINUTES) $(PYTHON) tools/soak.py --cpu-fuzz

test-large: setup
	$(MAKE) all
	$(PYTHON) tools/test.py --large

debug: all
	$(PYTHON) tools/runner.py debug

compile_commands.json:
	@$(PYTHON) tools/compdb.py "$(CC) $(KCFLAGS)" "$(HOST_CC) $(HOST_CFLAGS)" $(KERNEL_C) \
	    -- $(wildcard tests/*.c) > $@.tmp && mv $@.tmp $@

# (not tools/bochs/: code built into Bochs keeps Bochs's C++ style)
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^tools/bochs/')
check-format:
	clang-format --dry-run -Werror $(FORMAT_FILES)

format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf $(BUILD) compile_commands.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
