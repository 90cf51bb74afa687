#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# real-guest.sh - in a `scripts/vm --rootfs host` guest with af_toy loaded:
# real, unmodified host programs talking over AF_TOY through toywrap, one
# TAP test each.  Every program test proves its traffic crossed AF_TOY:
# /proc/net/toy_stat's bytes_sent and bytes_received grow by at least the
# bytes it moved, and the guest's TCP and UDP counters of /proc/net/snmp
# (segments, opens, datagrams) do not move at all.
#   http      python3 -m http.server + curl, a 10 MiB file, sha256 compared
#   socat     socat TCP-LISTEN,fork EXEC:cat echo, 1 MiB through it
#   socat-udp socat UDP4-RECVFROM,fork answering a socat UDP4-SENDTO
#   iperf3    iperf3 -s / -c 127.0.0.1 for IPERF_SECS (default 3) s, then
#             the same on real TCP loopback; both figures printed
#   asyncio   a Python asyncio echo server with 200 concurrent clients, then
#             an asyncio UDP exchange (a client endpoint watched before its
#             first sendto() moves it)
#   toy_uring, toy_epoll_et   the static selftests using AF_TOY directly
#             (io_uring; epoll edge-triggered), from /selftests
# Prints TAP and "# Totals: pass:N fail:N" of the program tests; the
# selftests' own Totals lines count their cases (the host's tap_totals sums
# every Totals line, as for the selftest runner).
#
# Usage: real-guest [TEST...]   (default: all)

set -u

LIBDIR=${REAL_LIBDIR:-/usr/local/lib/af_toy}
IPERF_SECS=${IPERF_SECS:-3}
W=/tmp/real
mkdir -p "$W"
N=0
PASS=0
FAIL=0
PIDS=()

note() { printf '# %s\n' "$*"; }

toy_stat() { awk -v n="$1" '$1 == n { print $2 }' /proc/net/toy_stat; }

# The sum of named fields of one /proc/net/snmp protocol.
snmp() { # proto field...
	awk -v p="$1:" -v f=" ${*:2} " '
		$1 == p && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
		$1 == p && h { for (i = 2; i <= NF; i++) if (index(f, " " n[i] " ")) s += $i }
		END { print s + 0 }' /proc/net/snmp
}

real_traffic() {
	echo $(($(snmp Tcp ActiveOpens PassiveOpens InSegs OutSegs) +
		$(snmp Udp InDatagrams OutDatagrams NoPorts)))
}

snap() { S_SENT=$(toy_stat bytes_sent); S_RECV=$(toy_stat bytes_received); S_REAL=$(real_traffic); }

# The bytes went over AF_TOY (at least BYTES each way counted), none over TCP/UDP.
moved() { # label bytes
	local sent recv real
	sent=$(($(toy_stat bytes_sent) - S_SENT))
	recv=$(($(toy_stat bytes_received) - S_RECV))
	real=$(($(real_traffic) - S_REAL))
	note "$1: AF_TOY bytes_sent +$sent, bytes_received +$recv (moved: $2); TCP/UDP counters +$real"
	[ "$sent" -ge "$2" ] && [ "$recv" -ge "$2" ] && [ "$real" = 0 ]
}

# A socket of TYPE bound to PORT shows in /proc/net/toy (LISTEN for STREAM).
wait_toy() { # type port

	for _ in $(seq 300); do
		awk -v t="$1" -v p="$2" '$2 == t && $4 == p && (t != "STREAM" || $3 == "LISTEN") { f = 1 }
			END { exit !f }' /proc/net/toy && return 0
		sleep 0.1
	done
	note "no AF_TOY $1 socket on port $2 after 30 s"
	return 1
}

# A real TCP listener on PORT (/proc/net/tcp, state 0A).
wait_tcp() { # port
	local hex
	hex=$(printf ':%04X' "$1")
	for _ in $(seq 300); do
		awk -v h="$hex" '$2 ~ h "$" && $4 == "0A" { f = 1 } END { exit !f }' \
			/proc/net/tcp /proc/net/tcp6 && return 0
		sleep 0.1
	done
	note "no TCP listener on port $1 after 30 s"
	return 1
}

bg() { "$@" & PIDS+=($!); }

stop_bg() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}

run() { # name
	local rc=0 out=$W/$1.out
	N=$((N + 1))
	"t_${1//-/_}" >"$out" 2>&1 || rc=$?
	stop_bg
	sed 's/^/# /; s/^# # /# /' "$out"
	if [ "$rc" = 0 ]; then
		echo "ok $N $1"
	else
		echo "not ok $N $1 # exit=$rc"
	fi
	# A selftest's cases count through its own "Totals" line (tap_totals
	# sums them); only one that failed without reporting a failed case
	# counts here, as the runner does.
	case "$1" in
	toy_*)
		[ "$rc" = 0 ] || grep -qE 'Totals: pass:[0-9]+ fail:[1-9]' "$out" || FAIL=$((FAIL + 1))
		;;
	*) if [ "$rc" = 0 ]; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi ;;
	esac
}

# ---------------------------------------------------------------- tests
t_http() {
	mkdir -p "$W/www"
	head -c $((10 << 20)) /dev/urandom >"$W/www/blob"
	bg toywrap -v python3 -m http.server --bind 127.0.0.1 --directory "$W/www" 8000
	wait_toy STREAM 8000 || return 1
	snap
	timeout 300 toywrap -v curl -sS -o "$W/blob.got" http://127.0.0.1:8000/blob || return 1
	moved "curl 10 MiB" $((10 << 20)) || return 1
	a=$(sha256sum <"$W/www/blob") b=$(sha256sum <"$W/blob.got")
	note "sha256 sent $a, received $b"
	[ "$a" = "$b" ]
}

t_socat() {
	head -c $((1 << 20)) /dev/urandom >"$W/s.in"
	bg toywrap -v socat TCP-LISTEN:9000,reuseaddr,fork EXEC:cat
	wait_toy STREAM 9000 || return 1
	snap
	timeout 120 toywrap socat -t 30 - TCP:127.0.0.1:9000 <"$W/s.in" >"$W/s.out" || return 1
	moved "socat echo 1 MiB" $((2 << 20)) || return 1
	cmp "$W/s.in" "$W/s.out"
}

t_socat_udp() {
	local got
	bg toywrap -v socat UDP4-RECVFROM:9001,fork EXEC:'tr a-z A-Z'
	wait_toy DGRAM 9001 || return 1
	snap
	got=$(echo hello-over-udp | timeout 60 toywrap socat -t 5 - UDP4-SENDTO:127.0.0.1:9001) ||
		return 1
	note "sent hello-over-udp, answer $got"
	moved "socat udp" 30 || return 1
	[ "$got" = HELLO-OVER-UDP ]
}

iperf_field() { # json file, python expression over j
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}

t_iperf3() {
	local bytes toy tcp
	bg toywrap iperf3 -s -1 -p 5201
	wait_toy STREAM 5201 || return 1
	snap
	timeout 120 toywrap iperf3 -c 127.0.0.1 -p 5201 -t "$IPERF_SECS" -J >"$W/iperf-toy.json" ||
		{ cat "$W/iperf-toy.json"; return 1; }
	bytes=$(iperf_field "$W/iperf-toy.json" "j['end']['sum_received']['bytes']")
	toy=$(iperf_field "$W/iperf-toy.json" "'%.2f' % (j['end']['sum_received']['bits_per_second'] / 1e9)")
	moved "iperf3 ${IPERF_SECS}s" "$bytes" || return 1
	bg iperf3 -s -1 -p 5202
	wait_tcp 5202 || return 1
	timeout 120 iperf3 -c 127.0.0.1 -p 5202 -t "$IPERF_SECS" -J >"$W/iperf-tcp.json" ||
		{ cat "$W/iperf-tcp.json"; return 1; }
	tcp=$(iperf_field "$W/iperf-tcp.json" "'%.2f' % (j['end']['sum_received']['bits_per_second'] / 1e9)")
	note "iperf3 -t $IPERF_SECS: AF_TOY (toywrap) $toy Gbit/s, TCP loopback $tcp Gbit/s"
	echo "$toy $tcp" >"$W/iperf.figures"
}

t_asyncio() {
	local out bytes
	snap
	out=$(timeout 300 toywrap python3 "$LIBDIR/real-asyncio.py" 200) || { echo "$out"; return 1; }
	echo "$out"
	bytes=$(echo "$out" | sed -n 's/.* \([0-9]*\) bytes echoed/\1/p')
	[ -n "$bytes" ] && moved "asyncio 200 clients" "$((2 * bytes))"
}

selftest() {
	[ -x "/selftests/$1" ] || { echo "/selftests/$1 missing"; return 1; }
	timeout 300 "/selftests/$1"
}
t_toy_uring() { selftest toy_uring; }
t_toy_epoll_et() { selftest toy_epoll_et; }

# ----------------------------------------------------------------- main
TESTS=("$@")
[ "${#TESTS[@]}" -gt 0 ] || TESTS=(http socat socat-udp iperf3 asyncio toy_uring toy_epoll_et)
[ -r /proc/net/toy_stat ] || { echo "Bail out! af_toy is not loaded"; exit 1; }
command -v toywrap >/dev/null || { echo "Bail out! toywrap is not in PATH"; exit 1; }
echo "TAP version 13"
echo "1..${#TESTS[@]}"
for t in "${TESTS[@]}"; do
	run "$t"
done
echo "# Totals: pass:$PASS fail:$FAIL xfail:0 xpass:0 skip:0 error:0"
[ "$FAIL" = 0 ]
