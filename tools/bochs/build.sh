#!/usr/bin/env bash
# Build Bochs 3.0 from Debian trixie's source with this project's changes.
#
#   tools/bochs/build.sh <prefix> [extra configure flags]
#
# Extracts the .orig tarball of trixie's bochs source package (as
# tools/setup-host.sh does for the stock build), applies every
# tools/bochs/*.patch with `patch -p1` in name order, copies every directory
# of tools/bochs/instrument/ into the source's instrument/ (so that
# `--enable-instrumentation=instrument/<name>` finds it), configures with
# the stock flags plus the extra ones, builds and installs into <prefix>.
# A build is skipped when <prefix>/.build-hash matches the hash of the
# patches, the instrumentation sources and the flags.
#
# The stock build (/var/cache/ukernel/bochs, tools/setup-host.sh) is never
# touched: give another prefix (the profiler's is /var/cache/ukernel/bochs-prof).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 <prefix> [configure flags]" >&2; exit 2; }
prefix=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[bochs-build] %s\n' "$*" >&2; }

flags=(--prefix="$prefix"
	--enable-x86-64 --enable-smp --enable-cpu-level=6 --enable-avx
	--enable-evex --enable-amx --enable-cet --enable-uintr
	--enable-all-optimizations --enable-repeat-speedups
	--enable-trace-linking --enable-pci --with-nogui --disable-sound
	"$@")

hash=$({
	printf '%s\n' "${flags[@]}"
	find "$here" -name '*.patch' -o -path "$here/instrument/*" -type f | LC_ALL=C sort |
		while read -r f; do printf '%s\n' "${f#$here/}"; cat "$f"; done
} | sha256sum | cut -c1-16)

if [ -x "$prefix/bin/bochs" ] && [ "$(cat "$prefix/.build-hash" 2>/dev/null)" = "$hash" ]; then
	log "$prefix is up to date ($hash)"
	exit 0
fi

work=$(mktemp -d /tmp/bochs-build.XXXXXX)
chmod 755 "$work"
log "fetching Bochs source from trixie into $work"
# The archive may lack the .dsc (404) while the tarballs are there.
(cd "$work" && apt-get source --download-only bochs >"$work/source.log" 2>&1) || true
orig=$(ls "$work"/bochs_*.orig.tar.* 2>/dev/null | head -n1 || true)
[ -n "$orig" ] || { log "could not download the Bochs source; see $work/source.log"; exit 1; }
tar -C "$work" -xf "$orig"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'bochs-[0-9]*' | head -n1)

for p in $(find "$here" -maxdepth 1 -name '*.patch' | LC_ALL=C sort); do
	log "applying $(basename "$p")"
	patch -d "$src" -p1 --forward --quiet <"$p"
done
if [ -d "$here/instrument" ]; then
	for d in "$here"/instrument/*/; do
		cp -r "$d" "$src/instrument/"
	done
fi

log "building in $src: ${flags[*]}"
(cd "$src" && ./configure "${flags[@]}" >"$work/configure.log" 2>&1 &&
	make -j"$(nproc)" >"$work/make.log" 2>&1 &&
	make install >"$work/install.log" 2>&1) || {
	log "Bochs build failed; logs in $work"
	exit 1
}
echo "$hash" >"$prefix/.build-hash"
rm -rf "$work"
log "installed in $prefix ($hash)"
