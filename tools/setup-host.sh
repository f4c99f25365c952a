#!/usr/bin/env bash
# Idempotent host set-up for building and testing the kernel on Debian 12.
#
# Installs (only what is missing):
#   - build tools: gcc, binutils, make, grub-mkrescue (BIOS + UEFI), xorriso, mtools
#   - QEMU 10 from bookworm-backports (QEMU 7.2 in bookworm lacks x2APIC under TCG)
#   - OVMF (UEFI firmware), SeaBIOS comes with QEMU
#   - host test tools: libcmocka-dev, spin, gnuplot, python3
#   - Bochs 3.0 built from Debian trixie's source package into a cache
#     directory outside the checkout (BOCHS_PREFIX): Bochs's own TLB, with
#     the fixes of tools/bochs/fixes/ only (tools/bochs/build.sh --stock)
#   - the same Bochs with this project's models too (tools/bochs/build.sh,
#     PCID-faithful TLB and page-walk counters) into BOCHS_PCID_PREFIX.
#     Each is rebuilt when its inputs in tools/bochs/ change.
#
# Mirror host names are never written here: the backports and trixie entries
# reuse the URIs: of the machine's own /etc/apt/sources.list.d/debian.sources.
#
# Usage: tools/setup-host.sh [--no-bochs]
set -euo pipefail

BOCHS_PREFIX=${BOCHS_PREFIX:-/var/cache/ukernel/bochs}
BOCHS_PCID_PREFIX=${BOCHS_PCID_PREFIX:-/var/cache/ukernel/bochs-pcid}
want_bochs=1
[ "${1:-}" = "--no-bochs" ] && want_bochs=0

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The archive URI of the main Debian suite, read from the machine's sources.
debian_uri() {
	local f=/etc/apt/sources.list.d/debian.sources
	if [ -f "$f" ]; then
		awk '
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") found = uri }
			/^$/ { uri = "" }
			END { if (found != "") print found }' "$f"
		return
	fi
	# Legacy one-line format.
	awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null
}

apt_updated=0
apt_update() {
	if [ $apt_updated = 0 ]; then
		log "apt-get update"
		as_root apt-get update -qq >&2
		apt_updated=1
	fi
}

add_sources() {
	local uri
	uri=$(debian_uri)
	if [ -z "$uri" ]; then
		log "cannot find the Debian archive URI in the apt sources"
		exit 1
	fi
	local bp=/etc/apt/sources.list.d/ukernel-backports.sources
	if [ ! -f $bp ]; then
		log "adding bookworm-backports (URIs: $uri)"
		as_root tee $bp >/dev/null <<EOS
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
		apt_updated=0
	fi
	local src=/etc/apt/sources.list.d/ukernel-trixie-src.sources
	if [ ! -f $src ]; then
		log "adding trixie deb-src (URIs: $uri)"
		as_root tee $src >/dev/null <<EOS
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
		apt_updated=0
	fi
}

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
	done
}

qemu_major() {
	qemu-system-x86_64 --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1 || true
}

install_packages() {
	local pkgs=(build-essential binutils make gcc grub-common grub-pc-bin
		grub-efi-amd64-bin xorriso mtools ovmf bochsbios vgabios
		libcmocka-dev spin gnuplot-nox python3 xz-utils dpkg-dev
		cpio gdisk dosfstools)
	local miss
	miss=$(missing_pkgs "${pkgs[@]}")
	if [ -n "$miss" ]; then
		apt_update
		log "installing: $(echo $miss)"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss >&2
	fi
	local major
	major=$(qemu_major)
	if [ -z "$major" ] || [ "$major" -lt 10 ]; then
		apt_update
		log "installing qemu-system-x86 from bookworm-backports"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			-t bookworm-backports qemu-system-x86 qemu-utils >&2
	fi
}

bochs_ok() {
	[ -x "$BOCHS_PREFIX/bin/bochs" ] || return 1
	local models
	models=$("$BOCHS_PREFIX/bin/bochs" --help cpu 2>&1 || true)
	case "$models" in *sapphire_rapids*) return 0 ;; esac
	return 1
}

# Both builds go through tools/bochs/build.sh, which skips an unchanged one
# (its hash); the stock one gets the fixes only (tools/bochs/fixes/).
build_bochs() {
	"$(dirname "$0")/bochs/build.sh" --stock "$BOCHS_PREFIX"
	bochs_ok || { log "Bochs built but lacks the sapphire_rapids model"; exit 1; }
}

add_sources
install_packages
[ $want_bochs = 1 ] && build_bochs
[ $want_bochs = 1 ] && "$(dirname "$0")/bochs/build.sh" "$BOCHS_PCID_PREFIX"
log "host ready: $(qemu-system-x86_64 --version | head -n1)"
