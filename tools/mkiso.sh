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
cp "$kernel" "$root/boot/kernel.elf"
mods=""
for m in "$@"; do
	b=$(basename "$m")
	cp "$m" "$root/boot/$b"
	mods+="\tmodule2 /boot/$b ${b%.elf}\n"
done
# A line "@MODULES@" in the configuration becomes one module2 line per
# module (boot/grub.cfg); the runner's configurations name them already.
while IFS= read -r line; do
	if [[ "$line" =~ ^[[:space:]]*@MODULES@[[:space:]]*$ ]]; then
		printf '%b' "$mods"
	else
		printf '%s\n' "$line"
	fi
done <"$cfg" >"$root/boot/grub/grub.cfg"
# grub-mkrescue puts both i386-pc (El Torito + MBR hybrid) and x86_64-efi
# (EFI system partition image) on the ISO when both platforms are installed.
grub-mkrescue -o "$out.tmp" "$root" >"$log" 2>&1 || {
	cat "$log" >&2
	exit 1
}
mv "$out.tmp" "$out"
