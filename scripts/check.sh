#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - `make check`: from a fresh Debian 12 to a verdict.
#   1. install missing host packages (apt-get, only what is missing)
#   2. fetch the kernels of $KERNELS (default "6.1 6.12 6.12-rt") into the cache
#   3. build the selftests and userspace tools (static), and the guest
#      archive of tcpdump and tshark (scripts/guest-tools.sh, for toy_mon)
#   4. VM runner self-test: a module that WARN_ONs must fail the run;
#      manifest self-test (host only): doctored runs must not match
#      selftests/MANIFEST
#   5. per kernel: build af_toy.ko (W=1, -Werror), run the selftests in the
#      VM, print the TAP, compare it with selftests/MANIFEST (every binary
#      ran, with the expected number of cases and of skips; each mismatch
#      is printed and counted as a failure) and print
#      "<release>: N passed, N failed"
#   6. one final line "N passed, N failed" over all kernels
# Exit status non-zero on any failure, kernel splat or timeout.
# Logs: build/logs/ (<release>.tap, console-<release>.log).
#
# Environment: KERNELS, CHECK_PARALLEL=0 (VMs one at a time, TAP printed
# live), VM_TIMEOUT (seconds per VM, default 1200).
#
# Usage: scripts/check.sh [--runner-only]

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
BUILD=$REPO_DIR/build
LOGS=$BUILD/logs
read -r -a SERIES <<<"${KERNELS:-6.1 6.12 6.12-rt}"
VM_TIMEOUT=${VM_TIMEOUT:-1200}
RUNNER_ONLY=0
# run the VMs concurrently (default) or one after the other, output live
PARALLEL=${CHECK_PARALLEL:-1}
[ "${1:-}" = --runner-only ] && RUNNER_ONLY=1

PROG=check
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

cd "$REPO_DIR"
T0=$(date +%s)
SAY_T0=$T0
mkdir -p "$LOGS"
# one `make check` per tree at a time: they share build/ and build/logs/
exec 8>"$BUILD/.check.lock"
if ! flock -n 8; then
	say "waiting for another make check in $REPO_DIR"
	flock 8
fi

# ------------------------------------------------------------ host packages
host_deps() {
	apt_install_missing qemu-system-x86 busybox-static cpio linux-headers-amd64 \
		"linux-source-${AF_TOY_SOURCE_SERIES:-6.12}" gcc make libc6-dev liburing-dev
}

# ------------------------------------------------------- runner self-test
runner_selftest() {
	local s=${SERIES[${#SERIES[@]} - 1]} ko rc=0 log=$LOGS/console-runner-selftest.log
	say "runner self-test: booting a module that WARN_ONs ($s)"
	ko=$("$SCRIPT_DIR/build-module.sh" --kernel "$s" --src "$SCRIPT_DIR/selftest-warn" \
		--out selftest-warn 2>"$LOGS/build-selftest-warn.log") ||
		{ cat "$LOGS/build-selftest-warn.log" >&2; die "cannot build scripts/selftest-warn"; }
	"$SCRIPT_DIR/vm" --kernel "$s" --load "$ko" --exec 'echo toy_warn loaded' \
		--timeout 300 --console-log "$log" >/dev/null 2>"$LOGS/runner-selftest.log" || rc=$?
	if [ "$rc" = "$VM_RC_SPLAT" ] && grep -q 'WARNING:.*toy_warn' "$log"; then
		echo "runner self-test: planted WARN detected: ok"
	else
		cat "$LOGS/runner-selftest.log" >&2
		echo "runner self-test: planted WARN NOT detected (vm exit $rc): FAIL"
		return 1
	fi
}

# --------------------------------------------------- manifest self-test
manifest_selftest() {
	local out=$LOGS/manifest-selftest.out
	if "$SCRIPT_DIR/manifest-check.sh" --self-test >"$out" 2>&1; then
		echo "manifest self-test: removed/unknown binaries, case and skip counts caught: ok"
	else
		cat "$out"
		echo "manifest self-test: FAIL"
		return 1
	fi
}

host_deps
if [ "$RUNNER_ONLY" = 1 ]; then
	rc=0
	manifest_selftest || rc=1
	runner_selftest || rc=1
	exit "$rc"
fi

say "kernels: ${SERIES[*]}"
"$SCRIPT_DIR/kernels.sh" "${SERIES[@]}" >"$LOGS/kernels.txt"
HARNESS=$("$SCRIPT_DIR/kernels.sh" --print-harness)

say "building selftests and userspace"
[ -f selftests/Makefile ] || die "selftests/Makefile missing"
make --no-print-directory -C selftests OUT="$BUILD/selftests" HARNESS_DIR="$HARNESS" >&2 ||
	die "selftests build failed"
if [ -f userspace/Makefile ]; then
	make --no-print-directory -C userspace OUT="$BUILD/userspace" >&2 ||
		die "userspace build failed"
fi
mkdir -p "$BUILD/userspace"
say "guest archive of tcpdump and tshark"
TOOLS_CPIO=$("$SCRIPT_DIR/guest-tools.sh") || die "cannot build the guest archive of tcpdump and tshark"

FAIL=0
TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()
declare -A MODARGS=() RELS=() PIDS=()

manifest_selftest || { FAIL=1; SUMMARY+=("manifest self-test: FAILED"); }

# Build the module for every kernel first (fails fast on warnings).
for s in "${SERIES[@]}"; do
	rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s")
	RELS[$s]=$rel
	say "$rel: building the module (W=1, -Werror)"
	if ! kos=$("$SCRIPT_DIR/build-module.sh" --kernel "$s"); then
		SUMMARY+=("$rel: module build FAILED")
		echo "$rel: module build FAILED"
		FAIL=1
		continue
	fi
	args=""
	while read -r ko; do args+=" --module $ko"; done <<<"$kos"
	MODARGS[$s]=$args
done

run_kernel() { # series; TAP to $LOGS/<rel>.tap (and stdout), vm messages to stderr
	local s=$1 rel=${RELS[$1]} args
	read -r -a args <<<"${MODARGS[$1]}"
	rm -f "$LOGS/$rel.tap" "$LOGS/console-$rel.log"
	"$SCRIPT_DIR/vm" --kernel "$s" "${args[@]}" \
		--add "$BUILD/selftests:/selftests" --add "$BUILD/userspace:/usr/bin" \
		--cpio "$TOOLS_CPIO" \
		--timeout "$VM_TIMEOUT" --console-log "$LOGS/console-$rel.log" \
		--output "$LOGS/$rel.tap"
}

report_kernel() { # series rc
	local rel=${RELS[$1]} rc=$2 note='' pass fail tap con mm mrc=0 nmm vm
	tap=$LOGS/$rel.tap
	con=$LOGS/console-$rel.log
	touch "$tap"
	read -r pass fail _ < <(tap_totals "$tap")
	if [ "$rc" != 0 ]; then
		if vm=$(vm_rc_note "$rc" "$con"); then
			note=", $vm"
		elif [ "$fail" = 0 ]; then
			note=", vm/runner exit $rc"
		fi
	fi
	# selftests/MANIFEST: each mismatch is one more failure
	mm=$("$SCRIPT_DIR/manifest-check.sh" "$1" "$tap") || mrc=$?
	if [ "$mrc" != 0 ]; then
		[ -z "$mm" ] || printf '%s\n' "$mm"
		nmm=$(printf '%s\n' "$mm" | grep -c '^manifest: ' || true)
		[ "$nmm" -gt 0 ] || nmm=1
		fail=$((fail + nmm))
		note+=", $nmm MANIFEST MISMATCH(ES)"
	fi
	[ "$rc" = 0 ] || FAIL=1
	[ "$fail" = 0 ] || FAIL=1
	TOTAL_PASS=$((TOTAL_PASS + pass))
	TOTAL_FAIL=$((TOTAL_FAIL + fail))
	SUMMARY+=("$rel: $pass passed, $fail failed$note")
	echo "$rel: $pass passed, $fail failed$note"
}

if [ "$PARALLEL" = 1 ]; then
	# The VMs mostly wait (TCG, sleeps in tests): run the runner self-test
	# and all kernels at once, then print each kernel's TAP in order.
	say "booting the runner self-test and ${#MODARGS[@]} kernel(s) in parallel VMs"
	runner_selftest >"$LOGS/runner-selftest.out" 2>&1 &
	RUNNER_PID=$!
	for s in "${SERIES[@]}"; do
		[ -n "${MODARGS[$s]+x}" ] || continue
		run_kernel "$s" >/dev/null 2>"$LOGS/vm-${RELS[$s]}.err" &
		PIDS[$s]=$!
	done
	rc=0
	wait "$RUNNER_PID" || rc=$?
	cat "$LOGS/runner-selftest.out"
	[ "$rc" = 0 ] || FAIL=1
	for s in "${SERIES[@]}"; do
		[ -n "${PIDS[$s]+x}" ] || continue
		rc=0
		wait "${PIDS[$s]}" || rc=$?
		say "${RELS[$s]}: selftests:"
		cat "$LOGS/${RELS[$s]}.tap" 2>/dev/null || true
		cat "$LOGS/vm-${RELS[$s]}.err" >&2
		report_kernel "$s" "$rc"
	done
else
	runner_selftest || FAIL=1
	for s in "${SERIES[@]}"; do
		[ -n "${MODARGS[$s]+x}" ] || continue
		say "${RELS[$s]}: running the selftests in the VM"
		rc=0
		run_kernel "$s" || rc=$?
		report_kernel "$s" "$rc"
	done
fi

echo
for l in "${SUMMARY[@]}"; do echo "$l"; done
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
say "done in $(($(date +%s) - T0))s; logs in $LOGS"
exit "$FAIL"
