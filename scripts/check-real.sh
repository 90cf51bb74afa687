#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-real.sh - `make check-real`: real, unmodified host programs over
# AF_TOY through toywrap, in a VM per kernel booted on the host's root file
# system (scripts/vm --rootfs host), one kernel after the other.
#   1. install what the programs need on the host (apt-get, only what is
#      missing): python3, curl, socat, iperf3, liburing-dev (the io_uring
#      selftest links liburing.a), and the VM's tools
#   2. build the selftests and userspace (toywrap, libtoywrap.so)
#   3. per kernel: build af_toy.ko, boot, run scripts/real-guest.sh (TAP: the
#      program tests, each also asserting that its bytes crossed AF_TOY and
#      not TCP/UDP, and the toy_uring/toy_epoll_et selftests), print
#      "<release>: N passed, N failed" and iperf3's AF_TOY and TCP figures
#   4. one final line "N passed, N failed"
# A kernel splat, guest crash or timeout fails the kernel's run.
# Logs: build/logs/real-<release>.tap, console-real-<release>.log.
#
# Environment: IPERF_SECS (default 3), VM_TIMEOUT (default 1200).
#
# Usage: scripts/check-real.sh [SERIES...]   (default: 6.1 6.12)

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
BUILD=$REPO_DIR/build
LOGS=$BUILD/logs
VM_TIMEOUT=${VM_TIMEOUT:-1200}
IPERF_SECS=${IPERF_SECS:-3}
SERIES=("$@")
[ "${#SERIES[@]}" -gt 0 ] || SERIES=(6.1 6.12)

PROG=check-real
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

cd "$REPO_DIR"
T0=$(date +%s)
SAY_T0=$T0
mkdir -p "$LOGS"

apt_install_missing qemu-system-x86 busybox-static cpio kmod xz-utils gcc make \
	libc6-dev liburing-dev python3 curl socat iperf3

say "building selftests and userspace"
make --no-print-directory selftests userspace >"$LOGS/real-build.log" 2>&1 ||
	{ cat "$LOGS/real-build.log" >&2; die "selftests/userspace build failed"; }

PASS=0
FAILED=0
RC=0
for s in "${SERIES[@]}"; do
	rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s") || die "cannot resolve kernel $s"
	say "$rel: building the module"
	kos=$("$SCRIPT_DIR/build-module.sh" --kernel "$s" 2>"$LOGS/real-module-$rel.log") ||
		{ cat "$LOGS/real-module-$rel.log" >&2; die "$rel: module build failed"; }
	ko=$(printf '%s\n' "$kos" | grep '/af_toy\.ko$' | head -n1)
	tap=$LOGS/real-$rel.tap
	con=$LOGS/console-real-$rel.log
	say "$rel: real programs in a VM on the host's root file system"
	vrc=0
	"$SCRIPT_DIR/vm" --kernel "$s" --rootfs host --load "$ko" \
		--add "$BUILD/userspace:/usr/local/bin" --add "$BUILD/selftests:/selftests" \
		--add "$SCRIPT_DIR/real-guest.sh:/usr/local/bin/real-guest" \
		--add "$SCRIPT_DIR/real-asyncio.py:/usr/local/lib/af_toy/real-asyncio.py" \
		--exec "IPERF_SECS=$IPERF_SECS real-guest" --timeout "$VM_TIMEOUT" \
		--console-log "$con" --output "$tap" || vrc=$?
	read -r pass fail _ < <(tap_totals "$tap") || true
	note=
	if [ "$vrc" != 0 ]; then
		if n=$(vm_rc_note "$vrc" "$con"); then note=", $n"; else note=", vm exit $vrc"; fi
		[ "$fail" != 0 ] || fail=1
	fi
	[ "$fail" = 0 ] || RC=1
	PASS=$((PASS + pass))
	FAILED=$((FAILED + fail))
	fig=$(sed -n 's/^# iperf3 -t \([0-9]*\): AF_TOY (toywrap) \(.*\) Gbit\/s, TCP loopback \(.*\) Gbit\/s$/iperf3 \1 s: AF_TOY \2 Gbit\/s, TCP loopback \3 Gbit\/s/p' "$tap")
	echo "$rel: $pass passed, $fail failed$note${fig:+ ($fig)}"
done
echo "$PASS passed, $FAILED failed"
say "done in $(($(date +%s) - T0))s"
exit "$RC"
