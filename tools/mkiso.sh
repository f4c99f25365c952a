#!/usr/bin/env bash
# Build a hybrid BIOS/UEFI ISO with grub-mkrescue.
# Usage: mkiso.sh <out.iso> <grub.cfg> <kernel.elf> [module-file ...]
# Modules are copied to /boot/<basename>; grub.cfg refers to them by that path.
set -euo pipefail
out=$1 cfg=$2 kernel=$3
shift 3
root=$(mktemp -d "${TMPDIR:-/tmp}/ukernel-iso.XXXXXX")
# The log lives outside the tree being imaged: xorriso fails ("file has
# changed") if a file in the tree grows while it is copied.
log=$(mktemp "${TMPDIR:-/tmp}/ukernel-mkrescue.XXXXXX")
trap 'rm -rf "$root" "$log"' EXIT
mkdir -p "$root/boot/grub"
cp "$cfg" "$root/boot/grub/grub.cfg"
cp "$kernel" "$root/boot/kernel.elf"
for m in "$@"; do cp "$m" "$root/boot/$(basename "$m")"; done
# grub-mkrescue puts both i386-pc (El Torito + MBR hybrid) and x86_64-efi
# (EFI system partition image) on the ISO when both platforms are installed.
grub-mkrescue -o "$out.tmp" "$root" >"$log" 2>&1 || {
	cat "$log" >&2
	exit 1
}
mv "$out.tmp" "$out"
