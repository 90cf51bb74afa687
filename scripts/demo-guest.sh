#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh - the `make run` demo, run inside the VM (as /bin/demo-guest)
# with af_toy.ko already loaded and toy_echo in /usr/bin:
# an echo server and client talk over AF_TOY while the kernel side is
# narrated by dynamic debug (dmesg) and /proc/net/toy; then toyflow draws
# the conversation from the tracepoints while tcpdump captures it on a
# toymon device (af_toy_mon.ko, tcpdump from scripts/guest-tools.sh), and
# the tcpdump view follows the diagram.  The capture and the diagram go to
# /output (toy.pcap, toyflow.svg), which `make run` brings back to build/.

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

# tcpdump on a toymon device for the toyflow run: 0 when it listens
capture_start() {
	[ -f /af_toy_mon.ko ] && ! grep -q '^af_toy_mon ' /proc/modules &&
		insmod /af_toy_mon.ko
	command -v tcpdump >/dev/null 2>&1 || return 1
	ip link add toymon0 type toymon && ip link set toymon0 up || return 1
	echo "ip link add toymon0 type toymon && ip link set toymon0 up"
	echo "tcpdump -i toymon0 -w /output/toy.pcap &"
	tcpdump -Z root -n -U --immediate-mode -i toymon0 -w /output/toy.pcap \
		2>/tmp/tcpdump.err &
	tcpdump=$!
	i=0
	while ! grep -q 'listening on' /tmp/tcpdump.err && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	cat /tmp/tcpdump.err
}

# until tcpdump wrote what the device saw, then SIGINT
capture_stop() {
	sent=$(sed -n 's/^ *toymon0: *[0-9]* *\([0-9]*\).*/\1/p' /proc/net/dev)
	i=0
	while [ "$(tcpdump -Z root -r /output/toy.pcap 2>/dev/null | wc -l)" -lt "${sent:-0}" ] &&
		[ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -INT "$tcpdump"
	wait "$tcpdump" 2>/dev/null || true
	ip link del toymon0
}

step "capture on a toymon device (af_toy_mon.ko) while toyflow runs the demo again"
captured=0
if capture_start; then
	captured=1
else
	echo "(no af_toy_mon.ko or tcpdump in this VM: no capture)"
fi

step "toyflow: the same echo conversation, traced (tracepoints in /sys/kernel/tracing/events/toy)"
if command -v toyflow >/dev/null 2>&1; then
	toyflow --svg /output/toyflow.svg || rc=$?
else
	echo "(toyflow is not installed in /usr/bin)"
fi

if [ "$captured" = 1 ]; then
	capture_stop
	step "tcpdump -r toy.pcap -n -t: the same conversation, as tcpdump decodes it"
	tcpdump -Z root -r /output/toy.pcap -n -t 2>/dev/null
fi

step "toyflow --kernel=socket,accept: the kernel path of the demo's socket() and accept() (function_graph)"
if command -v toyflow >/dev/null 2>&1; then
	toyflow --kernel=socket,accept || rc=$?
fi

step "cat /proc/net/toy_stat (counters of this network namespace)"
cat /proc/net/toy_stat
exit "$rc"
