#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - `make bench`: toyperf (userspace/toyperf/) over AF_TOY, AF_UNIX
# and TCP/UDP loopback, in ONE VM boot per kernel (-smp 2, one host thread
# per vCPU), running scripts/bench-guest.sh there.  Per kernel it saves
# build/bench/<release>.txt (the table) and .json (toyperf --json), then
# prints a summary of all kernels' tables.  The userspace tools must be
# built already (make userspace).  BENCH_IPERF=N (seconds, default 0: off)
# adds iperf3 over AF_TOY (toywrap) and over TCP loopback
# (scripts/real-guest.sh iperf3) after the table; the VM then boots on the
# host's root file system (scripts/vm --rootfs host), where iperf3 is.
#
# Usage: scripts/bench.sh [--args "TOYPERF OPTIONS"] [--timeout SEC] [SERIES...]
#   SERIES          kernels (default: the non-RT ones of $KERNELS, else 6.1 6.12)
#   --args A        options for toyperf (via bench-guest; default $BENCH_ARGS)
#   --timeout SEC   per VM (default $BENCH_TIMEOUT, else 1500)
# Exit status non-zero when a module build fails; a VM that fails is
# reported and the others still run.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
BUILD=$REPO_DIR/build
BENCH_DIR=$BUILD/bench
LOGS=$BUILD/logs

PROG=bench
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

bench_kernel() { # series
	local s=$1 rel ko rc=0 con extra=()
	rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s")
	echo "bench: $rel: building af_toy.ko"
	ko=$("$SCRIPT_DIR/build-module.sh" --kernel "$s" | grep '/af_toy\.ko$' | head -n1)
	[ -n "$ko" ] || die "$rel: build-module.sh printed no af_toy.ko"
	echo "bench: $rel: booting one VM (TCG: several minutes)"
	con=$LOGS/console-bench-$rel.log
	[ "$IPERF" = 0 ] || extra=(--rootfs host
		--add "$SCRIPT_DIR/real-guest.sh:/usr/local/bin/real-guest")
	"$SCRIPT_DIR/vm" --kernel "$s" --smp 2 --tcg-thread multi --load "$ko" \
		--add "$BUILD/userspace:/usr/bin" \
		--add "$SCRIPT_DIR/bench-guest.sh:/bin/bench-guest" "${extra[@]}" \
		--timeout "$TIMEOUT" --console-log "$con" \
		--output "$BENCH_DIR/$rel.raw" \
		--exec "BENCH_IPERF=$IPERF /bin/bench-guest $ARGS" || rc=$?
	touch "$BENCH_DIR/$rel.raw"
	tr -d '\r' <"$BENCH_DIR/$rel.raw" | sed '/^@@JSON@@/,$d' >"$BENCH_DIR/$rel.txt"
	tr -d '\r' <"$BENCH_DIR/$rel.raw" | sed '1,/^@@JSON@@/d' >"$BENCH_DIR/$rel.json"
	if [ "$rc" != 0 ]; then echo "bench: $rel: VM exit status $rc (see $con)"; fi
	echo "bench: $rel: saved $BENCH_DIR/$rel.txt and $BENCH_DIR/$rel.json"
}

main() {
	local series=() s rel
	ARGS=${BENCH_ARGS:-}
	TIMEOUT=${BENCH_TIMEOUT:-1500}
	IPERF=${BENCH_IPERF:-0}
	[ "$IPERF" = 0 ] || apt_install_missing iperf3 python3
	while [ $# -gt 0 ]; do
		case "$1" in
		--args) ARGS=${2?}; shift ;;
		--timeout) TIMEOUT=${2:?}; shift ;;
		-h | --help) usage 0 ;;
		-*) usage ;;
		*) series+=("$1") ;;
		esac
		shift
	done
	if [ "${#series[@]}" = 0 ]; then
		for s in ${KERNELS:-6.1 6.12}; do
			case "$s" in *-rt) ;; *) series+=("$s") ;; esac
		done
	fi

	mkdir -p "$BENCH_DIR" "$LOGS"
	for s in "${series[@]}"; do
		bench_kernel "$s"
	done
	echo
	echo "== bench summary"
	for s in "${series[@]}"; do
		rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s")
		echo
		echo "$rel:"
		sed -n '/^\(workload\|figure\) /,$p' "$BENCH_DIR/$rel.txt" | sed '/^## profile/,$d'
	done
}

main "$@"
