#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - `make bench`: toyperf (userspace/toyperf/) over AF_TOY, AF_UNIX
# and TCP/UDP loopback, in ONE VM boot per kernel (-smp 2, one host thread
# per vCPU), running scripts/bench-guest.sh there: both ends of each pair
# pinned to one CPU, then placed by the scheduler.  Per kernel it saves
# build/bench/<release>.txt (the tables) and <release>-pinned.json and
# -unpinned.json (toyperf --json), prints a summary of all kernels' tables
# and draws the AF_TOY/AF_UNIX ratios into build/bench/ratios.svg
# (scripts/bench-chart.sh).  The userspace tools must be built already
# (make userspace).  BENCH_IPERF=N (seconds, default 0: off) adds iperf3
# over AF_TOY (toywrap) and over TCP loopback (scripts/real-guest.sh
# iperf3) after the tables; the VM then boots on the host's root file
# system (scripts/vm --rootfs host), where iperf3 is.
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
	local s=$1 rel ko rc=0 con try extra=()
	rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s")
	echo "bench: $rel: building af_toy.ko"
	ko=$("$SCRIPT_DIR/build-module.sh" --kernel "$s" | grep '/af_toy\.ko$' | head -n1)
	[ -n "$ko" ] || die "$rel: build-module.sh printed no af_toy.ko"
	echo "bench: $rel: booting one VM (TCG: several minutes)"
	con=$LOGS/console-bench-$rel.log
	[ "$IPERF" = 0 ] || extra=(--rootfs host
		--add "$SCRIPT_DIR/real-guest.sh:/usr/local/bin/real-guest")
	# Multi-threaded TCG may crash a kernel while it boots (int3 of a
	# static key patched under a running vCPU): then boot once more.
	for try in 1 2; do
		rc=0
		"$SCRIPT_DIR/vm" --kernel "$s" --smp 2 --tcg-thread multi --load "$ko" \
			--add "$BUILD/userspace:/usr/bin" \
			--add "$SCRIPT_DIR/bench-guest.sh:/bin/bench-guest" "${extra[@]}" \
			--timeout "$TIMEOUT" --console-log "$con" \
			--output "$BENCH_DIR/$rel.raw" \
			--exec "BENCH_IPERF=$IPERF /bin/bench-guest $ARGS" || rc=$?
		touch "$BENCH_DIR/$rel.raw"
		if [ "$rc" = 0 ] || [ "$try" = 2 ] ||
		   grep -q '^bench-guest:' "$BENCH_DIR/$rel.raw"; then
			break
		fi
		echo "bench: $rel: the guest did not start (VM exit status $rc, see $con); booting again"
	done
	split_raw "$rel"
	if [ "$rc" != 0 ]; then echo "bench: $rel: VM exit status $rc (see $con)"; fi
	echo "bench: $rel: saved $BENCH_DIR/$rel.txt and" "$BENCH_DIR/$rel"-*.json
}

# The guest's output into the tables (.txt) and one JSON file per
# placement ("@@JSON@@ same|none" lines start them; bench-guest.sh).
split_raw() { # release
	local rel=$1
	# Nothing of an earlier run may pass for this one's.
	rm -f "$BENCH_DIR/$rel".txt "$BENCH_DIR/$rel".json "$BENCH_DIR/$rel"-*.json
	tr -d '\r' <"$BENCH_DIR/$rel.raw" | awk -v dir="$BENCH_DIR" -v rel="$rel" '
		/^@@JSON@@/ {
			out = dir "/" rel "-" ($2 == "none" ? "unpinned" : "pinned") ".json"
			next
		}
		out == "" { print > (dir "/" rel ".txt"); next }
		{ print > out }'
}

# The tables of a .txt without progress lines and profiles.
tables() { # file
	awk '/^toyperf: (round|profiling)/ || /^bench-guest:/ { next }
		/^## profile/ { skip = 1 }
		/^toyperf: kernel/ { skip = 0; if (n++) print "" }
		!skip' "$1"
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
		tables "$BENCH_DIR/$rel.txt"
	done
	"$SCRIPT_DIR/bench-chart.sh" "$BENCH_DIR"/*-pinned.json "$BENCH_DIR"/*-unpinned.json \
		>"$BENCH_DIR/ratios.svg" && echo "bench: chart of the ratios: $BENCH_DIR/ratios.svg"
}

main "$@"
