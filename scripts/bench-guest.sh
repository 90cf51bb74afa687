#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest.sh - run inside the VM by `make bench` (as /bin/bench-guest),
# with af_toy.ko loaded (or at /af_toy.ko) and toyperf in /usr/bin.
# Runs toyperf twice, both ends of a pair pinned to CPU 0 and then left to
# the scheduler (unless the options choose one with --pin), and prints each
# table, then per run a line "@@JSON@@ same|none" followed by its JSON,
# which the host splits into build/bench/<release>-{pinned,unpinned}.json.
#
# Usage: bench-guest [toyperf options...]
#   BENCH_PROFILE=1 in the environment (or --profile among the options) also
#   samples the kernel while the AF_TOY and AF_UNIX cells run.
#   BENCH_IPERF=N (seconds) then runs iperf3 over AF_TOY (toywrap) and over
#   TCP loopback (real-guest iperf3, on the host's root file system) and
#   prints its line after the table.

set -eu

if ! grep -q '^af_toy ' /proc/modules; then
	if [ -f /af_toy.ko ]; then
		insmod /af_toy.ko
	else
		echo "bench-guest: af_toy is not loaded and there is no /af_toy.ko" >&2
	fi
fi
command -v toyperf >/dev/null 2>&1 || {
	echo "bench-guest: toyperf not found in PATH ($PATH)" >&2
	exit 1
}

# loopback for the TCP/UDP column (the VM init normally did this already)
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null || true
# the profiler needs kernel addresses and system-wide sampling
echo 0 >/proc/sys/kernel/kptr_restrict 2>/dev/null || true
echo -1 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null || true

echo "bench-guest: $(uname -r), $(nproc) CPUs, toyperf $*"
placements="same none"
only=
for a in "$@"; do
	case "$a" in
	--pin | --pin=*) placements= ;;
	--only | --only=*) only=1 ;;
	esac
done
[ -n "$placements" ] || placements=chosen
# the figures do not depend on placement: measured in the first run only
workloads=$(toyperf --list | grep -v -x -e idlemem -e bindlat -e callcost |
	tr '\n' ,)
workloads=${workloads%,}
first=1
for pin in $placements; do
	json=/tmp/toyperf-$pin.json
	if [ "$pin" = chosen ]; then
		toyperf "$@" --json "$json"
	elif [ -n "$first" ] || [ -n "$only" ]; then
		toyperf "$@" --pin "$pin" --json "$json"
	else
		toyperf "$@" --pin "$pin" --only "$workloads" --json "$json"
	fi
	first=
done
if [ "${BENCH_IPERF:-0}" != 0 ]; then
	if out=$(IPERF_SECS=$BENCH_IPERF real-guest iperf3 2>&1); then
		printf '%s\n' "$out" | sed -n 's/^# \(iperf3 -t .*\)/\1/p'
	else
		printf '%s\n' "$out" >&2
		echo "bench-guest: iperf3 failed" >&2
	fi
fi
for pin in $placements; do
	json=/tmp/toyperf-$pin.json
	echo "@@JSON@@ $(sed -n 's/^ *"pin": "\([a-z]*\)".*/\1/p' "$json")"
	cat "$json"
done
