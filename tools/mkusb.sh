#!/usr/bin/env bash
# Build a disk image to write raw to a USB stick (or any disk): GPT with
#   1: BIOS boot partition (EF02, 1 MiB): GRUB i386-pc core.img
#   2: EFI system partition (EF00, FAT32, 64 MiB): EFI/BOOT/BOOTX64.EFI
#      (GRUB x86_64-efi), /boot/grub/grub.cfg and GRUB's modules for both
#      targets, /boot/kernel.elf and the user programs as /boot/<name>.elf
# and GRUB's boot.img in the protective MBR, pointing at core.img.
#
# Needs no root and no loop device: sgdisk, mkfs.fat and mtools work on
# files, grub-mkimage builds both GRUB images, and boot.img and core.img are
# patched (what grub-bios-setup would do) and written with dd.
#
# Usage: mkusb.sh [--cmdline S] [--timeout N] <out.img> <kernel.elf> [module-file ...]
#   without --cmdline: a menu (tests, benchmarks if there is a bench module,
#     boot report only), default the tests, timeout 5 s
#   with --cmdline: one entry with exactly that command line, timeout 0
#     (the test matrix boots these; tools/runner.py --media usb|disk)
# Modules are loaded as module2 /boot/<file> <file without .elf>, as the
# runner's ISOs do.
set -euo pipefail

cmdline= menu=1 timeout=
while [ $# -gt 0 ]; do
	case $1 in
	--cmdline) cmdline=$2 menu=0; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || { sed -n 's/^# Usage: /usage: /p' "$0" >&2; exit 2; }
out=$1 kernel=$2
shift 2
timeout=${timeout:-$([ $menu = 1 ] && echo 5 || echo 0)}

for t in sgdisk mkfs.fat mcopy grub-mkimage; do
	command -v $t >/dev/null || {
		echo "mkusb.sh: $t is missing; tools/setup-host.sh installs it" >&2
		exit 1
	}
done
GRUB_LIB=/usr/lib/grub
for p in i386-pc x86_64-efi; do
	[ -f $GRUB_LIB/$p/moddep.lst ] || {
		echo "mkusb.sh: GRUB $p is missing (grub-pc-bin, grub-efi-amd64-bin)" >&2
		exit 1
	}
done

# Layout in 512-byte sectors; partitions 1 MiB aligned, 1 MiB at the end
# for the backup GPT.
SECTOR=512
BIOS_START=2048 BIOS_SECTORS=2048
ESP_START=4096 ESP_MIB=64
ESP_SECTORS=$((ESP_MIB * 2048))
TOTAL_SECTORS=$((ESP_START + ESP_SECTORS + 2048))

work=$(mktemp -d "${TMPDIR:-/tmp}/ukernel-usb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/EFI/BOOT" "$root/boot/grub"

# The ESP's FAT volume serial doubles as the UUID GRUB searches for, so
# that GRUB finds this stick's ESP whatever the firmware numbers the disks.
serial=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
uuid=$(printf '%s-%s' "${serial:0:4}" "${serial:4:4}" | tr a-f A-F)

# ---- grub.cfg ----
entry() { # title, kernel command line
	printf 'menuentry "%s" {\n' "$1"
	printf '\techo "usb-image: loading from ($root)"\n'
	printf '\tmultiboot2 /boot/kernel.elf %s\n' "$2"
	local m
	for m in "${mods[@]}"; do
		printf '\tmodule2 /boot/%s %s\n' "$m" "${m%.elf}"
	done
	printf '\tboot\n}\n'
}
mods=()
for m in "$@"; do mods+=("$(basename "$m")"); done
{
	cat <<EOF
# Written by tools/mkusb.sh. The kernel command line is the rest of the
# multiboot2 line; press e in the menu to edit it for one boot.
set timeout=$timeout
set default=0
insmod all_video
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console

EOF
	if [ $menu = 1 ]; then
		entry "ukernel: tests (in-kernel and user-level)" "ktest=all utest=all"
		case " ${mods[*]} " in
		*" bench.elf "*) entry "ukernel: benchmarks" "bench=all" ;;
		esac
		entry "ukernel: boot report only" ""
	else
		entry "ukernel" "$cmdline"
	fi
} >"$root/boot/grub/grub.cfg"

# ---- GRUB images ----
# Run first by both: find the ESP by its serial (the prefix's device is the
# fallback), then normal mode reads $prefix/grub.cfg.
cat >"$work/early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $uuid
set prefix=(\$root)/boot/grub
EOF
# Built in, so that nothing needs loading before grub.cfg; the rest of both
# module directories is on the ESP for insmod.
common="part_gpt part_msdos fat search search_fs_uuid normal configfile echo test
	multiboot2 boot serial terminal all_video video_bochs video_cirrus ls cat halt reboot"
grub-mkimage -O x86_64-efi -o "$root/EFI/BOOT/BOOTX64.EFI" -p /boot/grub \
	-c "$work/early.cfg" $common efi_gop efi_uga
# (,gpt2): partition 2 of the disk the BIOS booted from.
grub-mkimage -O i386-pc -o "$work/core.img" -p "(,gpt2)/boot/grub" \
	-c "$work/early.cfg" $common biosdisk vbe vga
core_sectors=$((($(stat -c %s "$work/core.img") + SECTOR - 1) / SECTOR))
[ $core_sectors -le $BIOS_SECTORS ] || {
	echo "mkusb.sh: core.img ($core_sectors sectors) does not fit the BIOS boot partition" >&2
	exit 1
}
for p in i386-pc x86_64-efi; do
	mkdir -p "$root/boot/grub/$p"
	cp $GRUB_LIB/$p/*.mod $GRUB_LIB/$p/*.lst "$root/boot/grub/$p/"
done

# ---- kernel and modules ----
cp "$kernel" "$root/boot/kernel.elf"
for m in "$@"; do cp "$m" "$root/boot/"; done

# ---- the ESP, as a file, then into the disk image ----
mkfs.fat -F 32 -n UKERNEL -i "$serial" -C "$work/esp.img" $((ESP_SECTORS / 2)) >/dev/null
mcopy -s -Q -i "$work/esp.img" "$root/EFI" "$root/boot" ::/

img=$work/disk.img
truncate -s $((TOTAL_SECTORS * SECTOR)) "$img"
sgdisk -o \
	-n 1:$BIOS_START:+$BIOS_SECTORS -t 1:EF02 -c 1:"BIOS boot" \
	-n 2:$ESP_START:+$ESP_SECTORS -t 2:EF00 -c 2:"EFI system" \
	"$img" >/dev/null
dd if="$work/esp.img" of="$img" bs=$SECTOR seek=$ESP_START conv=notrunc,sparse status=none

# ---- BIOS boot: what grub-bios-setup does for a GPT disk ----
put_le() { # file, offset, width in bytes, value: a little-endian integer
	local s= i v=$4
	for ((i = 0; i < $3; i++)); do
		s+=$(printf '\\%03o' $((v & 255)))
		v=$((v >> 8))
	done
	printf "$s" | dd of="$1" bs=1 seek=$2 conv=notrunc status=none
}
# core.img at the start of partition 1. Its first sector (diskboot.img)
# ends in a block list: the LBA (8 bytes at 0x1f4) and count (2 bytes at
# 0x1fc) of the rest of core.img.
put_le "$work/core.img" $((0x1f4)) 8 $((BIOS_START + 1))
put_le "$work/core.img" $((0x1fc)) 2 $((core_sectors - 1))
dd if="$work/core.img" of="$img" bs=$SECTOR seek=$BIOS_START conv=notrunc status=none
# boot.img into the MBR's first 440 bytes (the partition table stays): the
# LBA of core.img (8 bytes at 0x5c), and the jump over the boot drive check
# at 0x66 replaced by two NOPs, as for any hard disk (a BIOS that passes a
# drive number below 0x80 gets 0x80).
cp $GRUB_LIB/i386-pc/boot.img "$work/boot.img"
put_le "$work/boot.img" $((0x5c)) 8 $BIOS_START
put_le "$work/boot.img" $((0x66)) 2 $((0x9090))
dd if="$work/boot.img" of="$img" bs=440 count=1 conv=notrunc status=none
# The protective MBR partition marked active: some BIOSes boot no disk
# without an active partition; UEFI ignores the flag.
put_le "$img" $((0x1be)) 1 $((0x80))

# (sgdisk -v finds no problem in a disk without a GPT: check the table too.)
if ! sgdisk -v "$img" | grep -q "No problems found" ||
	[ "$(sgdisk -p "$img" | grep -cE '^ +[12] .* (EF02|EF00) ')" != 2 ]; then
	sgdisk -v -p "$img" >&2
	exit 1
fi
mv "$img" "$out"
