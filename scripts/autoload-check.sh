#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# autoload-check.sh - `make check-autoload`: prove that an installed af_toy
# is loaded on demand, with no insmod.  Per kernel series:
#   1. `make install KERNEL=<series> DESTDIR=<tmp root>` (modules_install
#      into lib/modules/<release>/extra + depmod, headers, tools)
#   2. boot the VM with that lib/modules and the tools, WITHOUT loading any
#      module, and run selftests/toy_autoload: socket(AF_TOY) must load
#      af_toy via net-pf-25 (kernel request_module -> /sbin/modprobe, here
#      busybox modprobe reading modules.dep/modules.alias), a sock_diag
#      request must load af_toy_diag, a new toymon link af_toy_mon
#      (rtnl-link-toymon); then toyss lists a socket
# Prints the TAP and "autoload <release>: N passed, N failed", then
# "autoload: N passed, N failed" over all kernels.  Exit status non-zero
# on any failure, skip (nothing was proven), kernel splat or timeout.
#
# Usage: scripts/autoload-check.sh [SERIES...]   (default: $KERNELS or 6.1 6.12)

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
BUILD=$REPO_DIR/build
LOGS=$BUILD/logs

PROG=autoload
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

if [ $# -gt 0 ]; then SERIES=("$@"); else read -r -a SERIES <<<"${KERNELS:-6.1 6.12}"; fi
cd "$REPO_DIR"
mkdir -p "$LOGS"
# `make install` runs depmod: a fresh Debian 12 machine may lack kmod.
need_cmd depmod kmod

HARNESS=$("$SCRIPT_DIR/kernels.sh" --print-harness)
say "building selftests/toy_autoload and the userspace tools"
make --no-print-directory -C selftests OUT="$BUILD/selftests" HARNESS_DIR="$HARNESS" \
	"$BUILD/selftests/toy_autoload" >&2 || die "cannot build selftests/toy_autoload"
make --no-print-directory -C userspace OUT="$BUILD/userspace" >&2 ||
	die "cannot build userspace"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-autoload.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The guest side: no insmod anywhere; run_selftests loads nothing because
# no /af_toy.ko is in the initramfs.
cat >"$WORK/autoload-guest" <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
PATH=$PATH:/usr/local/bin
echo "# kernel.modprobe = $(cat /proc/sys/kernel/modprobe)"
echo "# installed: $(cd /lib/modules/"$(uname -r)" && echo extra/*)"
echo "# loaded before: $(grep -c '^af_toy' /proc/modules) af_toy modules"
run_selftests toy_autoload
rc=$?
echo "# loaded after:"
grep '^af_toy' /proc/modules | sed 's/^/#   /'
toy_echo server 4242 >/dev/null 2>&1 &
sleep 1
echo "# toyss -v (sock_diag via the autoloaded af_toy_diag):"
toyss -v 2>&1 | sed 's/^/#   /'
kill $! 2>/dev/null
exit $rc
EOF
chmod 755 "$WORK/autoload-guest"

FAIL=0
TP=0
TF=0
for s in "${SERIES[@]}"; do
	rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s") || die "unknown kernel $s"
	root=$WORK/root-$rel
	say "$rel: make install DESTDIR=$root"
	make --no-print-directory install KERNEL="$s" DESTDIR="$root" >"$LOGS/install-$rel.log" 2>&1 ||
		{ cat "$LOGS/install-$rel.log" >&2; die "make install failed for $rel"; }
	grep -q 'af_toy' "$root/lib/modules/$rel/modules.alias" ||
		die "$rel: no af_toy alias in modules.alias after make install"
	out=$LOGS/autoload-$rel.tap
	rc=0
	"$SCRIPT_DIR/vm" --kernel "$s" \
		--add "$root/lib/modules:/lib/modules" \
		--add "$root/usr/local/bin:/usr/local/bin" \
		--add "$BUILD/selftests/toy_autoload:/selftests/toy_autoload" \
		--add "$WORK/autoload-guest:/bin/autoload-guest" \
		--timeout 600 --console-log "$LOGS/console-autoload-$rel.log" \
		--output "$out" --exec /bin/autoload-guest || rc=$?
	read -r pass fail skip < <(tap_totals "$out")
	note=
	[ "$rc" = 0 ] || note=", vm exit $rc"
	[ "$skip" = 0 ] || note="$note, $skip SKIPPED (nothing proven)"
	[ "$pass" -gt 0 ] || note="$note, no test ran"
	if [ "$rc" != 0 ] || [ "$fail" != 0 ] || [ "$skip" != 0 ] || [ "$pass" = 0 ]; then
		FAIL=1
		fail=$((fail + skip))
		[ "$fail" -gt 0 ] || fail=1
	fi
	TP=$((TP + pass))
	TF=$((TF + fail))
	echo "autoload $rel: $pass passed, $fail failed$note"
done
echo "autoload: $TP passed, $TF failed"
exit "$FAIL"
