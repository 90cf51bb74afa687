#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh - the `make run` demo, run inside the VM (as /bin/demo-guest)
# with af_toy.ko already loaded and toy_echo in /usr/bin:
# an echo server and client talk over AF_TOY while the kernel side is
# narrated by dynamic debug (dmesg) and /proc/net/toy.

set -eu

step() { printf '\n== %s\n' "$*"; }

if ! grep -q '^af_toy ' /proc/modules; then
	insmod /af_toy.ko
fi

step "enable dynamic debug for af_toy"
ctl=/sys/kernel/debug/dynamic_debug/control
if [ -w "$ctl" ]; then
	echo 'module af_toy +p' >"$ctl"
	echo "echo 'module af_toy +p' > $ctl"
else
	echo "(no $ctl: pr_debug messages stay off)"
fi
dmesg -c >/dev/null

step "start the server: toy_echo server 7"
toy_echo server 7 &
server=$!
# wait until it listens
i=0
while ! grep -q ' LISTEN ' /proc/net/toy 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done

step "cat /proc/net/toy (server listening)"
cat /proc/net/toy

step "run the client: toy_echo client 7 hello world (shows /proc/net/toy while connected)"
rc=0
TOY_ECHO_SHOW_PROC=1 toy_echo client 7 hello world || rc=$?

sleep 0.2
step "cat /proc/net/toy (after the client closed)"
cat /proc/net/toy

kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true

step "dmesg | grep af_toy (state changes and segments, via dynamic debug)"
dmesg | grep af_toy || true

step "toyflow: the same echo conversation, traced (tracepoints in /sys/kernel/tracing/events/toy)"
if command -v toyflow >/dev/null 2>&1; then
	toyflow --svg /tmp/toyflow.svg || rc=$?
else
	echo "(toyflow is not installed in /usr/bin)"
fi

step "toyflow --kernel=socket,accept: the kernel path of the demo's socket() and accept() (function_graph)"
if command -v toyflow >/dev/null 2>&1; then
	toyflow --kernel=socket,accept || rc=$?
fi

step "cat /proc/net/toy_stat (counters of this network namespace)"
cat /proc/net/toy_stat
exit "$rc"
