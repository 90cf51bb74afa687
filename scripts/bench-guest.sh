#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest.sh - run inside the VM by `make bench` (as /bin/bench-guest),
# with af_toy.ko loaded (or at /af_toy.ko) and toyperf in /usr/bin.
# Prints the toyperf table, then a line "@@JSON@@" followed by the JSON
# results, which the host splits into build/bench/<release>.{txt,json}.
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
json=/tmp/toyperf.json
toyperf "$@" --json "$json"
if [ "${BENCH_IPERF:-0}" != 0 ]; then
	if out=$(IPERF_SECS=$BENCH_IPERF real-guest iperf3 2>&1); then
		printf '%s\n' "$out" | sed -n 's/^# \(iperf3 -t .*\)/\1/p'
	else
		printf '%s\n' "$out" >&2
		echo "bench-guest: iperf3 failed" >&2
	fi
fi
echo "@@JSON@@"
cat "$json"
