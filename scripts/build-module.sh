#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh - build af_toy.ko (or another Kbuild dir) for one kernel,
# out of the source tree so several kernels never clash:
#   Kbuild + module/ are copied to build/<release>/ and built there with
#   make -C <kdir> M=build/<release> modules W=1 KCFLAGS=-Werror
#
# Usage: scripts/build-module.sh [--kernel SERIES | --kdir DIR] [--src DIR]
#                                [--out NAME] [--no-werror] [--coverage]
#   --kernel S   a Debian series/release from scripts/kernels.sh (6.1, 6.12)
#   --kdir D     an explicit kernel build directory
#   (neither)    $KDIR, else $KERNEL, else /lib/modules/$(uname -r)/build
#   --src D      directory holding Kbuild (default: the repo root, which
#                copies Kbuild and module/)
#   --out NAME   subdirectory of build/<release>/ (default: none)
#   --coverage   TOY_COVERAGE=1: gcov + KCOV instrumentation (see Kbuild;
#                only for a kernel with CONFIG_GCOV_KERNEL / CONFIG_KCOV)
# Prints the path of the built .ko on stdout; kbuild output goes to stderr.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
BUILD=${AF_TOY_BUILD:-$REPO_DIR/build}

kernel=${KERNEL:-}
kdir=${KDIR:-}
src=$REPO_DIR
out=
werror=${WERROR:-1}
coverage=0

PROG=build-module
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:?}; kdir=; shift ;;
	--kdir) kdir=${2:?}; kernel=; shift ;;
	--src) src=$(cd "${2:?}" && pwd); shift ;;
	--out) out=${2:?}; shift ;;
	--no-werror) werror=0 ;;
	--coverage) coverage=1 ;;
	-h | --help) sed -n '/^# Usage:/,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
	*) die "unknown option $1" ;;
	esac
	shift
done

if [ -z "$kdir" ]; then
	if [ -n "$kernel" ]; then
		kdir=$("$SCRIPT_DIR/kernels.sh" --print-kdir "$kernel") ||
			die "cannot get the kernel build dir for '$kernel'"
	else
		kdir=/lib/modules/$(uname -r)/build
		[ -f "$kdir/Makefile" ] || die "no headers for the running kernel $(uname -r) ($kdir missing).
  Build for a Debian kernel instead:  make KERNEL=6.1   or   make KERNEL=6.12
  or point at a kernel build tree:    make KDIR=/path/to/build"
	fi
fi
[ -f "$kdir/Makefile" ] || die "$kdir is not a kernel build directory (no Makefile)"
uts=$kdir/include/generated/utsrelease.h
if [ -f "$uts" ]; then
	release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$uts")
elif [ -f "$kdir/include/config/kernel.release" ]; then
	release=$(cat "$kdir/include/config/kernel.release")
fi
if [ -z "${release:-}" ]; then
	release=$(basename "$(cd "$kdir" && pwd -P)")
	release=${release#linux-headers-}
fi
[ -f "$src/Kbuild" ] || die "no Kbuild in $src"

dest=$BUILD/$release${out:+/$out}
mkdir -p "$dest"
# one build per directory at a time (parallel `make check`/`make run`)
exec 9>"$dest.lock"
flock 9
# Copy the sources (only what changed, keeping mtimes so kbuild stays
# incremental). Kbuild at the top, plus module/ when building af_toy.
copy() { # src-path dest-dir
	if command -v rsync >/dev/null 2>&1; then
		rsync -a --delete --exclude='*.o' --exclude='.*.cmd' --exclude='*.ko' \
			--exclude='*.mod*' --exclude='*.o.d' --exclude='*.gcno' "$1" "$2/"
	else
		cp -a -u "$1" "$2/"
	fi
}
if [ "$src" = "$REPO_DIR" ]; then
	copy "$src/Kbuild" "$dest"
	copy "$src/module" "$dest"
else
	for f in "$src"/*; do copy "$f" "$dest"; done
fi

name=$(basename "$src")
[ "$src" = "$REPO_DIR" ] && name=af_toy
printf 'build-module: building %s for %s (%s)\n' "$name" "$release" "$kdir" >&2
flags=(W=1)
[ "$werror" = 1 ] && flags+=(KCFLAGS=-Werror)
[ "$coverage" = 1 ] && flags+=(TOY_COVERAGE=1)
make -C "$kdir" M="$dest" "${flags[@]}" modules >&2 ||
	die "module build failed for $release"
ls "$dest"/*.ko >/dev/null 2>&1 || die "no .ko produced in $dest"
for ko in "$dest"/*.ko; do echo "$ko"; done
