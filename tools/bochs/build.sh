#!/usr/bin/env bash
# Build Bochs 3.0 from Debian trixie's source package with this project's
# patches, into a prefix of its own.
#
#   tools/bochs/build.sh [--stock] <prefix> [extra configure flags...]
#
# Steps: download the source package (apt-get source --download-only),
# extract the .orig tarball, apply every tools/bochs/fixes/*.patch (fixes
# of Bochs bugs that hang or corrupt a guest: every build gets them), then,
# without --stock, every tools/bochs/*.patch (the project's models: the
# PCID-faithful TLB), each with `patch -p1` in name order; copy each
# directory of tools/bochs/instrument/ into the source's instrument/ (for
# --enable-instrumentation=instrument/<name>), configure with the stock
# flags plus the extra ones, build and install into <prefix>.
#
# Cached: <prefix>/.build-hash holds a hash of this script, the patches
# applied, the instrumentation sources (instrumented builds only) and the
# flags; a build with the same hash is skipped, any change rebuilds. The
# builds: the stock one (--stock, /var/cache/ukernel/bochs: Bochs's own
# TLB, for comparison, and the fixes), /var/cache/ukernel/bochs-pcid
# (tools/setup-host.sh builds both) and the profiler's
# /var/cache/ukernel/bochs-prof.
set -euo pipefail

stock=0
[ "${1:-}" = --stock ] && { stock=1; shift; }
[ $# -ge 1 ] || { echo "usage: $0 [--stock] <prefix> [configure flags...]" >&2; exit 2; }
prefix=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[bochs-build] %s\n' "$*" >&2; }
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

flags=(--prefix="$prefix"
	--enable-x86-64 --enable-smp --enable-cpu-level=6 --enable-avx
	--enable-evex --enable-amx --enable-cet --enable-uintr
	--enable-all-optimizations --enable-repeat-speedups
	--enable-trace-linking --enable-pci --with-nogui --disable-sound
	"$@")

# The patches this build applies, in order: the fixes, then (not --stock)
# the models.
patches() {
	find "$here/fixes" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
	[ $stock = 1 ] || find "$here" -maxdepth 1 -name '*.patch' | LC_ALL=C sort
}

# The instrumentation sources count only for a build that compiles one in
# (--enable-instrumentation): a change to the profiler's callback must not
# rebuild the stock and PCID builds.
instrumented=0
case " ${flags[*]} " in *" --enable-instrumentation"*) instrumented=1 ;; esac

inputs() {
	printf '%s\n' "${flags[@]}" "stock=$stock"
	{
		patches
		echo "$here/build.sh"
		[ $instrumented = 0 ] || find "$here/instrument" -type f | LC_ALL=C sort
	} |
		while read -r f; do
		printf '%s\n' "${f#"$here"/}"
		cat "$f"
	done
}
hash=$(inputs | sha256sum | cut -c1-16)

# One build per prefix at a time: two callers (a make test and a make
# profile, or two worktrees) building into the same prefix would install
# over each other. The second waits here, then finds the build done.
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9

if [ -x "$prefix/bin/bochs" ] && [ "$(cat "$prefix/.build-hash" 2>/dev/null)" = "$hash" ]; then
	log "$prefix is up to date ($hash)"
	exit 0
fi

work=$(mktemp -d /tmp/bochs-build.XXXXXX)
chmod 755 "$work"
log "fetching Bochs source from trixie into $work"
# The archive may lack the .dsc (404) while the tarballs are there; the
# .orig.tar.xz is all that is needed, so a partial download is fine.
(cd "$work" && apt-get source --download-only bochs >"$work/source.log" 2>&1) || true
orig=$(ls "$work"/bochs_*.orig.tar.* 2>/dev/null | head -n1 || true)
[ -n "$orig" ] || { log "could not download the Bochs source; see $work/source.log"; exit 1; }
tar -C "$work" -xf "$orig"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'bochs-[0-9]*' | head -n1)

while read -r p; do
	[ -n "$p" ] || continue
	log "applying $(basename "$p")"
	patch -d "$src" -p1 --forward --batch --quiet <"$p" || {
		log "$(basename "$p") does not apply; source in $src"
		exit 1
	}
done < <(patches)
if [ -d "$here/instrument" ]; then
	for d in "$here"/instrument/*/; do
		[ -d "$d" ] && cp -r "$d" "$src/instrument/"
	done
fi

log "building in $src (a few minutes): ${flags[*]}"
(cd "$src" && ./configure "${flags[@]}" >"$work/configure.log" 2>&1 &&
	nice make -j"$(nproc)" >"$work/make.log" 2>&1 &&
	as_root make install >"$work/install.log" 2>&1) || {
	log "Bochs build failed; logs in $work"
	exit 1
}
echo "$hash" | as_root tee "$prefix/.build-hash" >/dev/null
rm -rf "$work"
log "installed in $prefix ($hash)"
