#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh - `make dkms-check`: exercise dkms.conf with the real dkms
# (Debian's `dkms` package, installed when missing) against each Debian
# kernel's headers:
#   dkms add -> build -k <release> --kernelsourcedir <kdir> -> install ->
#   status -> depmod (net-pf-25 alias present) -> boot the VM with the
#   dkms-installed lib/modules and run selftests/toy_autoload there (the
#   modules dkms built autoload in that kernel; DKMS_VM=0 skips) -> remove
# Everything happens in a private tree (--dkmstree/--sourcetree/
# --installtree under a temp dir, --no-depmod), so the host's
# /var/lib/dkms and /lib/modules are not touched; dkms itself may create
# its module signing key /var/lib/dkms/mok.key (as on any dkms install).
# Prints one line per step and "dkms <release>: ok|FAILED"; exit status
# non-zero on any failure.
#
# Usage: scripts/dkms-check.sh [SERIES...]   (default: $KERNELS or 6.1 6.12)

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)

PROG=dkms-check
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

if [ $# -gt 0 ]; then SERIES=("$@"); else read -r -a SERIES <<<"${KERNELS:-6.1 6.12}"; fi

need_cmd dkms dkms
command -v depmod >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin

conf=$REPO_DIR/dkms.conf
[ -f "$conf" ] || die "no dkms.conf in $REPO_DIR"
name=$(sed -n 's/^PACKAGE_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$conf")
if [ -z "$name" ] || [ -z "$ver" ]; then die "dkms.conf lacks PACKAGE_NAME/PACKAGE_VERSION"; fi

DKMS_VM=${DKMS_VM:-1}
BUILD=$REPO_DIR/build
if [ "$DKMS_VM" = 1 ]; then
	say "building selftests/toy_autoload (for the VM step)"
	HARNESS=$("$SCRIPT_DIR/kernels.sh" --print-harness)
	make --no-print-directory -C "$REPO_DIR/selftests" OUT="$BUILD/selftests" HARNESS_DIR="$HARNESS" \
		"$BUILD/selftests/toy_autoload" >&2 || die "cannot build selftests/toy_autoload"
	mkdir -p "$BUILD/logs"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-dkms.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
src=$WORK/src
tree=$WORK/dkms
root=$WORK/root
mkdir -p "$src/$name-$ver" "$tree" "$root/lib/modules"
# what a package would ship in /usr/src/<name>-<version>
cp -a "$REPO_DIR/Kbuild" "$REPO_DIR/module" "$conf" "$src/$name-$ver/"
find "$src" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \) -delete
D=(--dkmstree "$tree" --sourcetree "$src" --installtree "$root/lib/modules")

log=$WORK/log
run() { # description, command...
	local what=$1
	shift
	if "$@" >"$log" 2>&1; then
		say "  $what: ok"
	else
		sed 's/^/    | /' "$log" >&2
		say "  $what: FAILED"
		return 1
	fi
}

say "dkms $(dkms --version 2>/dev/null | head -n1): $name/$ver"
run "dkms add" dkms add -m "$name" -v "$ver" "${D[@]}" || die "dkms add failed"

FAIL=0
for s in "${SERIES[@]}"; do
	rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s") || die "unknown kernel $s"
	kdir=$("$SCRIPT_DIR/kernels.sh" --print-kdir "$s") || die "no headers for $s"
	say "$rel ($kdir)"
	mkdir -p "$root/lib/modules/$rel"
	K=(-k "$rel" --kernelsourcedir "$kdir")
	ok=1
	run "dkms build" dkms build -m "$name" -v "$ver" "${K[@]}" "${D[@]}" || ok=0
	[ "$ok" = 0 ] || run "dkms install" dkms install --no-depmod -m "$name" -v "$ver" \
		"${K[@]}" "${D[@]}" || ok=0
	if [ "$ok" = 1 ]; then
		dkms status -m "$name" -v "$ver" -k "$rel" "${D[@]}" 2>/dev/null | grep -q installed ||
			{ say "  dkms status: not 'installed'"; ok=0; }
	fi
	if [ "$ok" = 1 ]; then
		for m in af_toy af_toy_diag af_toy_mon; do
			find "$root/lib/modules/$rel" -name "$m.ko*" | grep -q . ||
				{ say "  $m.ko not installed under $root/lib/modules/$rel"; ok=0; }
		done
		say "  installed: $(cd "$root/lib/modules/$rel" && find . -name '*.ko*' | sort | tr '\n' ' ')"
	fi
	if [ "$ok" = 1 ]; then
		run "depmod" depmod -b "$root" -a "$rel" || ok=0
		grep -q '^alias net-pf-25 af_toy$' "$root/lib/modules/$rel/modules.alias" ||
			{ say "  modules.alias lacks 'alias net-pf-25 af_toy'"; ok=0; }
		grep -q '^alias rtnl-link-toymon af_toy_mon$' "$root/lib/modules/$rel/modules.alias" ||
			{ say "  modules.alias lacks 'alias rtnl-link-toymon af_toy_mon'"; ok=0; }
	fi
	if [ "$ok" = 1 ] && [ "$DKMS_VM" = 1 ]; then
		out=$BUILD/logs/dkms-autoload-$rel.tap
		vrc=0
		"$SCRIPT_DIR/vm" --kernel "$s" --add "$root/lib/modules:/lib/modules" \
			--add "$BUILD/selftests/toy_autoload:/selftests/toy_autoload" \
			--timeout 600 --console-log "$BUILD/logs/console-dkms-$rel.log" \
			--output "$out" --exec 'run_selftests toy_autoload' >/dev/null 2>"$log" || vrc=$?
		res=$(tap_totals "$out") || res=
		if [ "$vrc" = 0 ] && [ -n "$res" ] && [ "${res#0 }" = "$res" ] && [ "${res#* }" = "0 0" ]; then
			say "  VM: dkms-built modules autoload (toy_autoload pass/fail/skip $res): ok"
		else
			sed 's/^/    | /' "$log" "$out" >&2
			say "  VM: toy_autoload with the dkms-installed modules: FAILED (vm exit $vrc, pass/fail/skip ${res:-none})"
			ok=0
		fi
	fi
	run "dkms remove" dkms remove --no-depmod -m "$name" -v "$ver" "${K[@]}" "${D[@]}" || ok=0
	if find "$root/lib/modules/$rel" -name 'af_toy*.ko*' | grep -q .; then
		say "  modules left behind after dkms remove"
		ok=0
	fi
	# remove -k drops the last kernel's registration; re-add for the next
	dkms status -m "$name" -v "$ver" "${D[@]}" 2>/dev/null | grep -q . ||
		dkms add -m "$name" -v "$ver" "${D[@]}" >/dev/null 2>&1 || true
	if [ "$ok" = 1 ]; then echo "dkms $rel: ok"; else echo "dkms $rel: FAILED"; FAIL=1; fi
done
dkms remove --no-depmod -m "$name" -v "$ver" --all "${D[@]}" >/dev/null 2>&1 || true
exit "$FAIL"
