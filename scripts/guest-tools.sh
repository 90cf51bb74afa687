#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-tools.sh - the host's tcpdump and tshark, with their shared
# libraries, the dynamic loader, tshark's plugins and data files, as one
# uncompressed cpio archive for the VM's initramfs (scripts/vm --cpio):
# the selftest toy_mon and `make run` capture AF_TOY traffic with them.
# Installs the Debian packages tcpdump and tshark when missing.
#
# The archive (~180 MB: libwireshark alone is 110 MB) is built once per
# package versions and cached in ~/.cache/af_toy/vm/; uncompressed, the
# guest kernel only copies it (decompressing it under TCG costs seconds
# per boot).
#
# Usage: scripts/guest-tools.sh     prints the archive's path on stdout

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/af_toy

PROG=guest-tools
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

[ $# = 0 ] || { sed -n '/^# Usage:/p' "$0" | sed 's/^# //' >&2; exit 2; }

apt_install_missing tcpdump tshark cpio
TOOLS=(/usr/bin/tcpdump /usr/bin/tshark)
for t in "${TOOLS[@]}"; do
	[ -x "$t" ] || die "$t missing after installing tcpdump and tshark"
done

lib=$(ldd /usr/bin/tshark | awk '/libwireshark\.so/ { print $3 }')
[ -n "$lib" ] || die "cannot find libwireshark of /usr/bin/tshark"
libdir=$(dirname "$lib")
plugins=$libdir/wireshark/plugins
data=/usr/share/wireshark
[ -d "$data" ] || die "$data missing (package libwireshark-data)"

# the packages' versions and this script: what the archive is made of
key=$({ dpkg-query -W -f='${Version}' tcpdump tshark libwireshark-data libpcap0.8 2>/dev/null
	cat "$0"; } | cksum | cut -d' ' -f1)
out=$CACHE/vm/guest-tools-$key.cpio
mkdir -p "$CACHE/vm"
exec 9>"$out.lock"
flock 9
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi

say "building the guest archive of tcpdump and tshark (once per version)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-tools.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

copy() { # path, kept at the same place in the guest
	mkdir -p "$tmp$(dirname "$1")"
	cp -L "$1" "$tmp$1"
}

objs=("${TOOLS[@]}")
[ -d "$plugins" ] && mapfile -t -O "${#objs[@]}" objs < <(find "$plugins" -name '*.so')
for o in "${objs[@]}"; do
	copy "$o"
	# every library ldd resolves, and the loader (the line without "=>")
	ldd "$o" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	[ -e "$tmp$lib" ] || copy "$lib"
done
# tshark's data: dissector tables, services, colour rules (no manuals)
mkdir -p "$tmp$data"
(cd "$data" && find . -name '*.html' -prune -o -type f -print0 |
	cpio --null -pdm --quiet "$tmp$data")
(cd "$tmp" && find . -print0 | cpio --null -o -H newc --quiet --owner=0:0) >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
say "guest archive: $(du -h "$out" | cut -f1) ($out)"
echo "$out"
