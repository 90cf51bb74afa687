#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (once, cached) a 6.12 debug kernel from Debian's
# linux-source-6.12 with KASAN (generic, inline), lockdep (PROVE_LOCKING),
# DEBUG_ATOMIC_SLEEP, kmemleak, UBSAN, DEBUG_LIST, DEBUG_OBJECTS and failslab:
#   make tinyconfig + scripts/debug-kernel.config, then olddefconfig.
#
# Usage: scripts/debug-kernel.sh [--print-kdir | --print-vmlinuz | --print-release]
#                                [--force]
#   (no option)      build if needed, print "kdir vmlinuz" on stdout
#   --print-kdir     build if needed, print the kernel build directory
#   --print-vmlinuz  build if needed, print the bzImage path
#   --print-release  build if needed, print the kernel release
#   --force          rebuild even if the cache stamp exists
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/af_toy/debug-6.12/
#   src-<pkgversion>/     extracted source (shared by all configs)
#   build-<key>/          O= build tree; key = hash(source package version +
#                         config fragment + this script's config steps)
#   vmlinuz-<release>     copy of the bzImage (what scripts/vm boots)
# Progress goes to stderr; the full build log to build-<key>/build.log.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/af_toy
DIR=$CACHE/debug-6.12
FRAGMENT=$SCRIPT_DIR/debug-kernel.config
PKG=linux-source-6.12
TARBALL=/usr/src/linux-source-6.12.tar.xz
CONFIG_STEPS_VERSION=1 # bump when the config recipe below changes

say() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { printf 'debug-kernel: error: %s\n' "$*" >&2; exit 1; }

what=both
force=0
while [ $# -gt 0 ]; do
	case "$1" in
	--print-kdir) what=kdir ;;
	--print-vmlinuz) what=vmlinuz ;;
	--print-release) what=release ;;
	--force) force=1 ;;
	-h | --help) sed -n '/^# Usage:/,/^# Progress/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
	*) die "unknown option $1" ;;
	esac
	shift
done

[ -f "$FRAGMENT" ] || die "config fragment missing: $FRAGMENT"
for c in make gcc flex bison bc xz sha256sum; do
	command -v "$c" >/dev/null 2>&1 || die "$c missing (apt-get install build-essential flex bison bc xz-utils)"
done
[ -f /usr/include/libelf.h ] || die "libelf.h missing (apt-get install libelf-dev; objtool needs it)"

if [ ! -f "$TARBALL" ]; then
	[ "$(id -u)" = 0 ] || die "$TARBALL missing: apt-get install $PKG"
	say "installing $PKG"
	DEBIAN_FRONTEND=noninteractive apt-get -q install -y "$PKG" >&2 ||
		die "cannot install $PKG"
fi
version=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null) ||
	die "$PKG is not installed (dpkg-query failed)"

key=$( {
	printf '%s\n%s\n' "$version" "$CONFIG_STEPS_VERSION"
	cat "$FRAGMENT"
} | sha256sum | cut -c1-12)
SRC=$DIR/src-$version
OBJ=$DIR/build-$key
STAMP=$OBJ/.af_toy-done

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
if ! flock -n 9; then
	say "another debug kernel build is running; waiting for it"
	flock 9
fi

if [ ! -f "$SRC/.af_toy-extracted" ]; then
	say "extracting $TARBALL ($version) into $SRC"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$TARBALL" -C "$SRC.tmp" --strip-components=1
	touch "$SRC.tmp/.af_toy-extracted"
	mv "$SRC.tmp" "$SRC"
fi

kmake() { make -C "$SRC" O="$OBJ" ARCH=x86_64 "$@"; }

if [ "$force" = 1 ] || [ ! -f "$STAMP" ]; then
	rm -f "$STAMP"
	mkdir -p "$OBJ"
	log=$OBJ/build.log
	: >"$log"
	say "configuring (tinyconfig + $(basename "$FRAGMENT")) in $OBJ"
	kmake tinyconfig >>"$log" 2>&1 || die "make tinyconfig failed (see $log)"
	cat "$FRAGMENT" >>"$OBJ/.config"
	kmake olddefconfig >>"$log" 2>&1 || die "make olddefconfig failed (see $log)"
	# every option of the fragment must have survived olddefconfig
	missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$OBJ/.config" || {
				say "config: wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$OBJ/.config" || echo unset)"
				missing=1
			}
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			! grep -q "^$opt=" "$OBJ/.config" || {
				say "config: wanted $opt off, got: $(grep "^$opt=" "$OBJ/.config")"
				missing=1
			}
			;;
		esac
	done <"$FRAGMENT"
	[ "$missing" = 0 ] || die "config fragment not fully applied (dependencies missing?)"
	jobs=$(nproc 2>/dev/null || echo 2)
	say "building the debug kernel with -j$jobs (takes ~6 min on 2 cores; log: $log)"
	start=$(date +%s)
	kmake -j"$jobs" >>"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		die "kernel build failed (see $log)"
	}
	[ -f "$OBJ/Module.symvers" ] || die "no Module.symvers after the build"
	release=$(cat "$OBJ/include/config/kernel.release")
	cp "$OBJ/arch/x86/boot/bzImage" "$DIR/vmlinuz-$release"
	printf 'version=%s\nkey=%s\nrelease=%s\n' "$version" "$key" "$release" >"$STAMP"
	say "built $release in $(($(date +%s) - start))s"
fi

release=$(sed -n 's/^release=//p' "$STAMP")
vmlinuz=$DIR/vmlinuz-$release
[ -f "$vmlinuz" ] || cp "$OBJ/arch/x86/boot/bzImage" "$vmlinuz"
case "$what" in
kdir) printf '%s\n' "$OBJ" ;;
vmlinuz) printf '%s\n' "$vmlinuz" ;;
release) printf '%s\n' "$release" ;;
both) printf '%s %s\n' "$OBJ" "$vmlinuz" ;;
esac
