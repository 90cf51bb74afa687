#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh - resolve, fetch and cache the Debian kernels af_toy is tested on.
#
# For each series (default: $KERNELS or "6.1 6.12") the current Debian ABI is
# resolved from the local apt lists (never hard-coded):
#   - if linux-headers-amd64 depends on a release of that series, that one
#     (6.1 on bookworm); its headers are apt-get installed (they do not pull
#     an image);
#   - otherwise the newest linux-image-<series>.*+debNN-amd64 (6.12 from
#     bookworm-backports/security); its headers package depends on the image,
#     so it is NOT installed: headers, -common and linux-kbuild are fetched
#     with apt-get download and unpacked with dpkg -x into the cache.
# The kernel image package is always apt-get download'ed + dpkg -x'ed into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/af_toy/<release>/
# A completed release is marked with a stamp; later runs download nothing.
#
# Also extracts the kselftest harness headers and checkpatch.pl from the
# linux-source-6.12 tarball into the cache.
#
# Usage:
#   scripts/kernels.sh [SERIES...]          fetch and print a summary
#   scripts/kernels.sh --print-release S    print the release of series S
#   scripts/kernels.sh --print-kdir S       print the kbuild dir (fetching)
#   scripts/kernels.sh --print-vmlinuz S    print the vmlinuz path (fetching)
#   scripts/kernels.sh --print-harness      print the kselftest harness dir
#                                           (and install what the selftests
#                                           build with: gcc, make, libc6-dev,
#                                           liburing-dev for toy_uring)
#   scripts/kernels.sh --print-checkpatch   print the checkpatch dir
# Progress goes to stderr, machine-readable answers to stdout.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/af_toy
SOURCE_SERIES=${AF_TOY_SOURCE_SERIES:-6.12}

PROG=kernels
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Progress/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

pkg_known() {
	apt-cache show "$1" >/dev/null 2>&1
}

# Package names a package depends on (first alternative only), no versions.
pkg_deps() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' |
		sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | grep -v '^$' || true
}

# Series "6.12" -> Debian release, e.g. 6.12.107+deb12-amd64.
resolve_once() {
	local series=$1 rel re
	case "$series" in
	*-amd64) # already a full release
		pkg_known "linux-image-$series" && { echo "$series"; return 0; }
		return 1 ;;
	esac
	case "$series" in
	*-rt) # the PREEMPT_RT flavour: newest linux-image-<base>.N+debNN-rt-amd64
		re=$(printf '%s' "${series%-rt}" | sed 's/\./\\./g')
		rel=$(apt-cache pkgnames linux-image-"${series%-rt}". 2>/dev/null |
			sed -n "s/^linux-image-\(${re}\.[0-9][0-9]*+deb[0-9]*-rt-amd64\)\(-unsigned\)\{0,1\}\$/\1/p" |
			sort -Vu | tail -n 1)
		[ -n "$rel" ] || return 1
		echo "$rel"
		return 0 ;;
	esac
	re=$(printf '%s' "$series" | sed 's/\./\\./g')
	# 1) the one linux-headers-amd64 depends on, if it is of this series
	rel=$(pkg_deps linux-headers-amd64 | sed -n 's/^linux-headers-//p' | head -n 1)
	if [ -n "$rel" ] && printf '%s\n' "$rel" | grep -Eq "^${re}[.-]"; then
		echo "$rel"
		return 0
	fi
	# 2) newest linux-image-<series>.N+debNN-amd64 (signed or unsigned)
	rel=$(apt-cache pkgnames linux-image-"$series". 2>/dev/null |
		sed -n "s/^linux-image-\(${re}\.[0-9][0-9]*+deb[0-9]*-amd64\)\(-unsigned\)\{0,1\}\$/\1/p" |
		sort -Vu | tail -n 1)
	[ -n "$rel" ] || return 1
	echo "$rel"
}

# Resolution is memoised per series until the apt lists change.
resolve() {
	local rel memo=$CACHE/.resolved-$1
	if [ -s "$memo" ] && [ "$memo" -nt /var/lib/apt/lists ] &&
		[ -f "$CACHE/$(cat "$memo")/.complete" ]; then
		cat "$memo"
		return 0
	fi
	if ! rel=$(resolve_once "$1"); then
		apt_update_once
		rel=$(resolve_once "$1") ||
			die "no Debian kernel found for series '$1' (apt-cache knows no linux-image-$1.*-amd64)"
	fi
	printf '%s\n' "$rel" >"$memo"
	echo "$rel"
}

# Do the headers of $rel depend on the image (=> must not be installed)?
headers_need_image() {
	pkg_deps "linux-headers-$1" | grep -q '^linux-image-'
}

download_extract() { # dest pkg...
	local dest=$1 tmp f
	shift
	tmp=$(mktemp -d "$CACHE/.dl.XXXXXX")
	say "downloading $*"
	if ! (cd "$tmp" && apt-get "${LIB_APT_OPTS[@]}" download "$@" >&2); then
		apt_update_once
		(cd "$tmp" && apt-get "${LIB_APT_OPTS[@]}" download "$@" >&2) ||
			{ rm -rf "$tmp"; die "apt-get download $* failed"; }
	fi
	for f in "$tmp"/*.deb; do
		say "unpacking $(basename "$f")"
		dpkg -x "$f" "$dest"
	done
	rm -rf "$tmp"
}

kdir_of() { # release -> kbuild dir (no fetching)
	local rel=$1
	if [ -d "$CACHE/$rel/usr/src/linux-headers-$rel" ]; then
		echo "$CACHE/$rel/usr/src/linux-headers-$rel"
	else
		echo "/usr/src/linux-headers-$rel"
	fi
}

fetch_release() {
	local rel=$1 dir=$CACHE/$1 img pkgs p kdir
	if [ -f "$dir/.complete" ] && [ -f "$(kdir_of "$rel")/Makefile" ]; then
		return 0
	fi
	mkdir -p "$dir"
	say "fetching kernel $rel into $dir"
	img=linux-image-$rel
	pkg_known "$img" || img=linux-image-$rel-unsigned
	pkg_known "$img" || die "no package linux-image-$rel"
	if headers_need_image "$rel"; then
		pkgs=("linux-headers-$rel")
		for p in $(pkg_deps "linux-headers-$rel"); do
			case "$p" in
			linux-headers-* | linux-kbuild-*) pkgs+=("$p") ;;
			esac
		done
		download_extract "$dir" "$img" "${pkgs[@]}"
		# kbuild's own runtime deps (libelf, pahole, ...) are ordinary
		# packages: install those that are missing.
		for p in "${pkgs[@]}"; do
			case "$p" in
			linux-kbuild-*)
				# shellcheck disable=SC2046
				apt_install_missing $(pkg_deps "$p")
				;;
			esac
		done
		kdir=$dir/usr/src/linux-headers-$rel
		# the Debian Makefile includes the -common one by absolute path
		sed -i "s|^include /usr/src/|include $dir/usr/src/|" "$kdir/Makefile"
	else
		download_extract "$dir" "$img"
		apt_install_missing "linux-headers-$rel"
		kdir=/usr/src/linux-headers-$rel
	fi
	# absolute build/source links of lib/modules point at the host: drop
	rm -f "$dir/lib/modules/$rel/build" "$dir/lib/modules/$rel/source"
	# the image has no compiler dep; the headers want gcc-12 & co
	apt_install_missing gcc make
	[ -f "$dir/boot/vmlinuz-$rel" ] || die "no vmlinuz in $img"
	[ -f "$kdir/Makefile" ] || die "no kbuild dir $kdir"
	touch "$dir/.complete"
}

fetch_source_bits() {
	local h=$CACHE/kselftest/tools/testing/selftests c=$CACHE/checkpatch tmp src top
	if [ -f "$h/kselftest_harness.h" ] && [ -f "$c/checkpatch.pl" ]; then
		return 0
	fi
	src=/usr/src/linux-source-$SOURCE_SERIES.tar.xz
	[ -f "$src" ] || apt_install_missing "linux-source-$SOURCE_SERIES"
	[ -f "$src" ] || die "missing $src"
	top=linux-source-$SOURCE_SERIES
	say "extracting kselftest harness and checkpatch from $src"
	tmp=$(mktemp -d "$CACHE/.src.XXXXXX")
	tar -xJf "$src" -C "$tmp" --wildcards \
		"$top/tools/testing/selftests/kselftest*" \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
	mkdir -p "$h" "$c"
	cp -a "$tmp/$top/tools/testing/selftests/." "$h/"
	cp -a "$tmp/$top/scripts/checkpatch.pl" "$tmp/$top/scripts/spelling.txt" \
		"$tmp/$top/scripts/const_structs.checkpatch" "$c/"
	rm -rf "$tmp"
	[ -f "$h/kselftest_harness.h" ] || die "kselftest_harness.h not in $src"
}

with_lock() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
}

main() {
	local mode=summary series=() s rel
	while [ $# -gt 0 ]; do
		case "$1" in
		--print-release | --print-kdir | --print-vmlinuz)
			mode=${1#--print-}
			[ $# -ge 2 ] || usage
			series+=("$2")
			shift 2
			continue ;;
		--print-harness) mode=harness ;;
		--print-checkpatch) mode=checkpatch ;;
		-h | --help) usage 0 ;;
		-*) usage ;;
		*) series+=("$1") ;;
		esac
		shift
	done
	[ "${#series[@]}" -gt 0 ] || read -r -a series <<<"${KERNELS:-6.1 6.12}"

	with_lock
	case "$mode" in
	release)
		resolve "${series[0]}"
		return ;;
	kdir | vmlinuz)
		rel=$(resolve "${series[0]}")
		fetch_release "$rel"
		if [ "$mode" = kdir ]; then kdir_of "$rel"; else echo "$CACHE/$rel/boot/vmlinuz-$rel"; fi
		return ;;
	harness)
		fetch_source_bits
		apt_install_missing gcc make libc6-dev liburing-dev
		echo "$CACHE/kselftest/tools/testing/selftests"
		return ;;
	checkpatch)
		fetch_source_bits
		echo "$CACHE/checkpatch"
		return ;;
	esac
	for s in "${series[@]}"; do
		rel=$(resolve "$s")
		fetch_release "$rel"
	done
	fetch_source_bits
	for s in "${series[@]}"; do
		rel=$(resolve "$s")
		printf '%s\trelease=%s\tkdir=%s\tvmlinuz=%s\n' "$s" "$rel" \
			"$(kdir_of "$rel")" "$CACHE/$rel/boot/vmlinuz-$rel"
	done
	printf 'harness\t%s\n' "$CACHE/kselftest/tools/testing/selftests"
	printf 'checkpatch\t%s\n' "$CACHE/checkpatch"
}

main "$@"
