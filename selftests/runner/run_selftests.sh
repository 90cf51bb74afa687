#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest af_toy selftest runner (busybox sh). Installed as /bin/run_selftests
# in the VM initramfs by scripts/vm; it is the default --exec command.
#
#   run_selftests [NAME...]   run /selftests/toy_* (or only the named ones)
#
# Loads /af_toy.ko unless already loaded (then any companion /af_toy_*.ko,
# e.g. af_toy_diag), runs every /selftests/toy_* binary
# in sorted order under the per-binary timeout from /selftests/settings
# (kselftest style `timeout=N`, default 45), and prints kselftest TAP:
#
#   TAP version 13
#   1..N
#   # selftests: af_toy: toy_x
#   # <binary output, each line prefixed with "# ">
#   ok 1 selftests: af_toy: toy_x
#   not ok 2 selftests: af_toy: toy_y # exit=1
#   not ok 3 selftests: af_toy: toy_z # TIMEOUT 45 seconds
#
# A binary that fails without reporting a failing case itself (crash,
# timeout, no harness output) gets a synthetic `# Totals: pass:0 fail:1`
# line, so the host can simply sum all `# Totals: pass:X fail:Y` lines.
# Finally the modules are unloaded (catches leaked sockets/references) and
# that check is reported as the last TAP test.
# Exit status: 0 if everything passed, 1 otherwise.

set -u

DIR=${SELFTEST_DIR:-/selftests}
KO=${AF_TOY_KO:-/af_toy.ko}
MOD=af_toy
TIMEOUT=45
SUITE=af_toy

if [ -f "$DIR/settings" ]; then
	t=$(sed -n 's/^timeout=\([0-9][0-9]*\).*/\1/p' "$DIR/settings" | tail -n 1)
	[ -n "$t" ] && TIMEOUT=$t
fi

loaded() { grep -q "^$1 " /proc/modules; }

load() { # path
	m=$(basename "$1" .ko)
	loaded "$m" && return 0
	if ! insmod "$1"; then
		echo "# run_selftests: insmod $1 failed:"
		dmesg | tail -n 5 | sed 's/^/# /'
	fi
}

extras=""
if [ -f "$KO" ]; then
	load "$KO"
	for k in "$(dirname "$KO")/${MOD}"_*.ko; do
		[ -f "$k" ] || continue
		load "$k"
		extras="$(basename "$k" .ko) $extras"
	done
fi

if [ $# -gt 0 ]; then
	tests=""
	for t in "$@"; do tests="$tests ${t##*/}"; done
else
	tests=$(cd "$DIR" 2>/dev/null && for f in toy_*; do
		[ -f "$f" ] && [ -x "$f" ] && echo "$f"
	done | sort)
fi
n=0
for t in $tests; do n=$((n + 1)); done

echo "TAP version 13"
if [ "$n" = 0 ]; then
	echo "1..0 # no test binaries in $DIR"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
	exit 1
fi
unload=0
[ -f "$KO" ] && unload=1
echo "1..$((n + unload))"

failed=0
i=0
out=/tmp/run_selftests.out
for t in $tests; do
	i=$((i + 1))
	echo "# selftests: $SUITE: $t"
	start=$(date +%s)
	(cd "$DIR" && timeout "$TIMEOUT" "./$t" >"$out" 2>&1 </dev/null; echo $? >"$out.rc")
	rc=$(cat "$out.rc" 2>/dev/null || echo 255)
	elapsed=$(($(date +%s) - start))
	sed 's/^/# /' "$out"
	selffail=$(sed -n 's/^# Totals: pass:[0-9]* fail:\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	if [ "$rc" = 0 ]; then
		echo "ok $i selftests: $SUITE: $t"
	elif [ "$rc" = 4 ]; then
		echo "ok $i selftests: $SUITE: $t # SKIP"
	else
		failed=$((failed + 1))
		if [ "$rc" = 124 ] || { [ "$rc" = 143 ] && [ "$elapsed" -ge "$TIMEOUT" ]; }; then
			echo "not ok $i selftests: $SUITE: $t # TIMEOUT $TIMEOUT seconds"
		else
			echo "not ok $i selftests: $SUITE: $t # exit=$rc"
		fi
		if [ "${selffail:-0}" = 0 ]; then
			echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
		fi
	fi
done
rm -f "$out" "$out.rc"

if [ "$unload" = 1 ]; then
	i=$((i + 1))
	echo "# selftests: $SUITE: rmmod $MOD"
	for m in $extras; do
		loaded "$m" && { rmmod "$m" 2>&1 | sed 's/^/# /'; }
	done
	if ! loaded "$MOD"; then
		echo "# $MOD not loaded at the end (a test must leave it loaded)"
		echo "not ok $i selftests: $SUITE: rmmod $MOD # not loaded"
		echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
		failed=$((failed + 1))
	elif rmmod "$MOD" 2>&1 | sed 's/^/# /'; ! loaded "$MOD"; then
		echo "ok $i selftests: $SUITE: rmmod $MOD"
		echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
	else
		echo "# refcount: $(sed -n "s/^$MOD [0-9]* \([0-9]*\).*/\1/p" /proc/modules)"
		echo "not ok $i selftests: $SUITE: rmmod $MOD # still in use"
		echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
		failed=$((failed + 1))
	fi
fi

[ "$failed" = 0 ]
