#!/usr/bin/env bash
# Idempotent host set-up for building and testing the kernel on Debian 12.
#
# Installs (only what is missing):
#   - build tools: gcc, binutils, make, grub-mkrescue (BIOS + UEFI), xorriso, mtools
#   - QEMU 10 from bookworm-backports (QEMU 7.2 in bookworm lacks x2APIC under TCG)
#   - OVMF (UEFI firmware), SeaBIOS comes with QEMU
#   - host test tools: libcmocka-dev, spin, gnuplot, python3
#   - Bochs 3.0 built from Debian trixie's source package into a cache
#     directory outside the checkout (BOCHS_PREFIX), reused when present.
#   - the same Bochs with this project's patches (tools/bochs/build.sh,
#     PCID-faithful TLB and page-walk counters) into BOCHS_PCID_PREFIX,
#     rebuilt when tools/bochs/ changes.
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

build_bochs() {
	bochs_ok && return 0
	apt_update
	local work
	work=$(mktemp -d /tmp/bochs-build.XXXXXX)
	log "fetching Bochs source from trixie into $work"
	chmod 755 "$work"
	# The archive may lack the .dsc (404) while the tarballs are there; the
	# .orig.tar.xz is all that is needed, so a partial download is fine.
	(cd "$work" && apt-get source --download-only bochs >"$work/source.log" 2>&1) || true
	local orig
	orig=$(ls "$work"/bochs_*.orig.tar.* 2>/dev/null | head -n1 || true)
	if [ -z "$orig" ]; then
		log "could not download the Bochs source; see $work/source.log"
		exit 1
	fi
	tar -C "$work" -xf "$orig"
	local dir
	dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'bochs-[0-9]*' | head -n1)
	log "building Bochs in $dir (a few minutes)"
	(cd "$dir" && ./configure --prefix="$BOCHS_PREFIX" \
		--enable-x86-64 --enable-smp --enable-cpu-level=6 --enable-avx \
		--enable-evex --enable-amx --enable-cet --enable-uintr \
		--enable-all-optimizations --enable-repeat-speedups \
		--enable-trace-linking --enable-pci --with-nogui --disable-sound \
		>"$work/configure.log" 2>&1 &&
		make -j"$(nproc)" >"$work/make.log" 2>&1 &&
		as_root make install >"$work/install.log" 2>&1) || {
		log "Bochs build failed; logs in $work"
		exit 1
	}
	rm -rf "$work"
	bochs_ok || { log "Bochs built but lacks the sapphire_rapids model"; exit 1; }
	log "Bochs installed in $BOCHS_PREFIX"
}

add_sources
install_packages
[ $want_bochs = 1 ] && build_bochs
[ $want_bochs = 1 ] && "$(dirname "$0")/bochs/build.sh" "$BOCHS_PCID_PREFIX"
log "host ready: $(qemu-system-x86_64 --version | head -n1)"
