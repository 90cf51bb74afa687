#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# manifest-check.sh - compare a selftest run (the TAP of run_selftests)
# with selftests/MANIFEST (its header describes the format).  Per test
# binary of the run, from its own TAP: the "1..N" plan is the number of
# test cases, "skip:" of its "# Totals:" line the number of skipped cases.
# A mismatch is:
#   - a binary of the manifest that did not run (missing, or not copied
#     into the VM), or that ran twice;
#   - a binary that ran but is not in the manifest;
#   - a different number of test cases, or of skipped cases, than the
#     manifest says for this kernel series;
#   - a binary without a plan or a "# Totals:" line (nothing to count), or
#     whose totals do not add up to its plan;
#   - for a "?" entry: skipped as a whole, or no test case at all; it may
#     be absent from the run only while selftests/<binary>.c does not
#     exist yet (a binary still being written).
# A binary that failed (not ok) is a failure of the run already: for it
# only the counts that it did print are compared.  Entries of the run that
# are not test binaries (the runner's "rmmod af_toy") are ignored.
#
# Usage:
#   scripts/manifest-check.sh [--manifest FILE] SERIES TAP
#       SERIES as in $KERNELS (6.1, 6.12, 6.12-rt) or "debug"; prints one
#       line per mismatch on stdout, "manifest: SERIES: toy_x: ...";
#       exit status 1 if there is any, 0 if the run matches
#   scripts/manifest-check.sh [--manifest FILE] --self-test
#       host-only self-test, no VM: the manifest lists exactly the
#       selftests/toy_*.c sources, a run made up from the manifest matches
#       it for every series, and doctored runs (a binary removed, one not
#       in the manifest, a case less, a skip more, a "?" binary skipped or
#       removed, a series override ignored) are all caught
# Exit status 2 on a usage error or a malformed manifest.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
MANIFEST=$REPO_DIR/selftests/MANIFEST

PROG=manifest
DIE_STATUS=2
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ------------------------------------------------------------ the manifest
declare -A M_CASES=() M_SKIPS=() M_OVR=()
M_NAMES=()

count_ok() { [[ "$1" =~ ^([0-9]+|\?)$ ]]; }

load_manifest() {
	local line n=0 name cases skips rest ovr series cs
	[ -f "$MANIFEST" ] || die "$MANIFEST missing"
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		read -r name cases skips rest <<<"$line" || true
		[ -n "$name" ] || continue
		[[ "$name" =~ ^toy_[A-Za-z0-9_]+$ ]] ||
			die "$MANIFEST:$n: '$name' is not a toy_* binary name"
		if ! count_ok "${cases:-}" || ! count_ok "${skips:-}"; then
			die "$MANIFEST:$n: $name: expected '<cases> <skips>' (numbers or ?)"
		fi
		[ -z "${M_CASES[$name]+x}" ] || die "$MANIFEST:$n: $name listed twice"
		M_NAMES+=("$name")
		M_CASES[$name]=$cases
		M_SKIPS[$name]=$skips
		for ovr in $rest; do
			series=${ovr%%=*}
			cs=${ovr#*=}
			if [[ "$ovr" != *=*/* || -z "$series" ]] ||
				! count_ok "${cs%%/*}" || ! count_ok "${cs#*/}"; then
				die "$MANIFEST:$n: $name: bad override '$ovr' (want <series>=<cases>/<skips>)"
			fi
			M_OVR["$name $series"]=$cs
		done
	done <"$MANIFEST"
	[ "${#M_NAMES[@]}" -gt 0 ] || die "$MANIFEST lists no binary"
}

# expected NAME SERIES: sets EC (cases) and ES (skips) for that series
expected() {
	local o=${M_OVR["$1 $2"]:-}
	if [ -n "$o" ]; then
		EC=${o%%/*}
		ES=${o#*/}
	else
		EC=${M_CASES[$1]}
		ES=${M_SKIPS[$1]}
	fi
}

# ------------------------------------------------------------ the TAP
# One line per entry of the run, tab-separated:
#   name  plan|-  pass,fail,skip,sum|-  ok|skip|fail|none  skipped-case-names
parse_tap() {
	awk '
	function flush(res) {
		printf "%s\t%s\t%s\t%s\t%s\n", name, plan == "" ? "-" : plan,
			tot == "" ? "-" : tot, res, skipped
		inblk = 0
	}
	/^# selftests: [^:]*: / {
		if (inblk)
			flush("none")
		name = $0
		sub(/^# selftests: [^:]*: /, "", name)
		inblk = 1
		plan = tot = skipped = ""
		next
	}
	!inblk { next }
	plan == "" && /^# 1\.\.[0-9]+/ {
		plan = $2
		sub(/^1\.\./, "", plan)
		sub(/[^0-9].*/, "", plan)
		next
	}
	/^# # Totals: / {
		p = f = s = sum = 0
		for (i = 4; i <= NF; i++) {
			split($i, kv, ":")
			if (kv[1] == "pass") p = kv[2] + 0
			if (kv[1] == "fail") f = kv[2] + 0
			if (kv[1] == "skip") s = kv[2] + 0
			sum += kv[2] + 0
		}
		tot = p "," f "," s "," sum
		next
	}
	/^# ok [0-9]+ .* # SKIP/ {
		c = $0
		sub(/^# ok [0-9]+ /, "", c)
		sub(/ # SKIP.*/, "", c)
		skipped = skipped (skipped == "" ? "" : " ") c
		next
	}
	/^(not )?ok [0-9]+ selftests: / {
		flush($1 == "not" ? "fail" : / # SKIP/ ? "skip" : "ok")
		next
	}
	END {
		if (inblk)
			flush("none")
	}' "$1"
}

# ------------------------------------------------------------ comparison
NBAD=0
bad() {
	printf 'manifest: %s: %s\n' "$SERIES" "$*"
	NBAD=$((NBAD + 1))
}

# check_run SERIES TAP: prints the mismatches, sets NBAD
check_run() {
	local name plan tot res skipped s sum list cases
	local -A r_plan=() r_tot=() r_res=() r_skipped=() twice=()
	SERIES=$1
	NBAD=0
	[ -r "$2" ] || { bad "no TAP file $2"; return; }
	while IFS=$'\t' read -r name plan tot res skipped; do
		case "$name" in toy_*) ;; *) continue ;; esac
		if [ -n "${r_res[$name]+x}" ]; then
			twice[$name]=1
			continue
		fi
		r_plan[$name]=$plan
		r_tot[$name]=$tot
		r_res[$name]=$res
		r_skipped[$name]=$skipped
	done < <(parse_tap "$2")

	for name in "${M_NAMES[@]}"; do
		expected "$name" "$SERIES"
		if [ -z "${r_res[$name]+x}" ] && [ "$EC" = '?' ]; then
			if [ -f "$REPO_DIR/selftests/$name.c" ]; then
				bad "$name: did not run (the manifest lists it, counts unchecked)"
			else
				say "$SERIES: note: $name (\"?\") did not run: no selftests/$name.c yet"
			fi
			continue
		elif [ -z "${r_res[$name]+x}" ]; then
			bad "$name: did not run (the manifest expects $EC cases, $ES skipped)"
			continue
		fi
		[ -z "${twice[$name]+x}" ] || bad "$name: ran more than once"
		plan=${r_plan[$name]}
		tot=${r_tot[$name]}
		res=${r_res[$name]}
		IFS=, read -r _ _ s sum <<<"$tot"
		if [ "$res" = skip ]; then
			bad "$name: skipped as a whole (exit status 4)"
		fi
		# not ok / cut short: a failure already; compare what it printed
		if [ "$plan" = - ]; then
			[ "$res" = fail ] || [ "$res" = none ] ||
				bad "$name: printed no plan (\"1..N\"): its cases cannot be counted"
		elif [ "$EC" = '?' ]; then
			[ "$plan" -gt 0 ] || bad "$name: planned no test case"
		elif [ "$plan" != "$EC" ]; then
			bad "$name: $plan test cases, the manifest expects $EC"
		fi
		if [ "$tot" = - ]; then
			[ "$res" = fail ] || [ "$res" = none ] ||
				bad "$name: printed no \"# Totals:\" line: its skips cannot be counted"
			continue
		fi
		if [ "$plan" != - ] && [ "$sum" != "$plan" ]; then
			bad "$name: its Totals count $sum results for a plan of $plan cases"
		fi
		if [ "$ES" != '?' ] && [ "$s" != "$ES" ]; then
			read -r -a cases <<<"${r_skipped[$name]}"
			[ "${#cases[@]}" -le 4 ] || cases=("${cases[@]:0:4}" "...")
			list=$(printf '%s, ' "${cases[@]}")
			bad "$name: $s skipped, the manifest expects $ES${list:+ (skipped: ${list%, })}"
		fi
	done
	for name in $(printf '%s\n' "${!r_res[@]}" | sort); do
		[ -z "${M_CASES[$name]+x}" ] || continue
		IFS=, read -r _ _ s _ <<<"${r_tot[$name]}"
		bad "$name: not in selftests/MANIFEST (ran ${r_plan[$name]} cases, ${s:--} skipped): add a line"
	done
}

# ------------------------------------------------------------ self-test
# synth_tap SERIES [DOCTOR NAME]: a run as the manifest describes it, with
# at most one doctoring: drop, extra, fewer (cases), skipmore, wholeskip
synth_tap() {
	local series=$1 doctor=${2:-} victim=${3:-} name i n=0 c s names
	names=("${M_NAMES[@]}")
	[ "$doctor" != extra ] || names+=(toy_not_in_manifest)
	echo "TAP version 13"
	echo "1..$((${#names[@]} + 1))"
	for name in "${names[@]}"; do
		[ "$doctor" = drop ] && [ "$name" = "$victim" ] && continue
		n=$((n + 1))
		if [ -n "${M_CASES[$name]+x}" ]; then expected "$name" "$series"; else EC=3 ES=0; fi
		c=$EC s=$ES
		[ "$c" != '?' ] || c=5
		[ "$s" != '?' ] || s=0
		if [ "$name" = "$victim" ]; then
			case "$doctor" in
			fewer) c=$((c - 1)) ;;
			skipmore) s=$((s + 1)) ;;
			esac
		fi
		echo "# selftests: af_toy: $name"
		echo "# TAP version 13"
		echo "# 1..$c"
		for ((i = 1; i <= c; i++)); do
			if [ "$i" -le "$s" ]; then
				echo "# ok $i global.case_$i # SKIP not here"
			else
				echo "# ok $i global.case_$i"
			fi
		done
		echo "# # Totals: pass:$((c - s)) fail:0 xfail:0 xpass:0 skip:$s error:0"
		if [ "$doctor" = wholeskip ] && [ "$name" = "$victim" ]; then
			echo "ok $n selftests: af_toy: $name # SKIP"
		else
			echo "ok $n selftests: af_toy: $name"
		fi
	done
	echo "# selftests: af_toy: rmmod af_toy"
	echo "ok $((n + 1)) selftests: af_toy: rmmod af_toy"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
}

self_test() {
	local tmp series name rc=0 numeric='' unsure='' overridden='' k out oes
	local -a ovs=()
	local -A src=()
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-manifest.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT

	# the manifest and the sources agree
	for name in "$REPO_DIR"/selftests/toy_*.c; do
		[ -f "$name" ] || continue
		name=$(basename "$name" .c)
		src[$name]=1
		if [ -z "${M_CASES[$name]+x}" ]; then
			echo "manifest self-test: selftests/$name.c has no line in selftests/MANIFEST: FAIL"
			rc=1
		fi
	done
	for name in "${M_NAMES[@]}"; do
		[ -z "${src[$name]+x}" ] || continue
		if [ "${M_CASES[$name]}" = '?' ]; then
			echo "manifest self-test: note: $name (\"?\") has no selftests/$name.c yet"
		else
			echo "manifest self-test: $name is in selftests/MANIFEST but selftests/$name.c does not exist: FAIL"
			rc=1
		fi
	done
	[ "$rc" = 1 ] || echo "manifest self-test: MANIFEST lists the ${#src[@]} selftests/toy_*.c: ok"

	for k in "${!M_OVR[@]}"; do ovs+=("${k#* }"); done
	# victims: the first "?" binary, the first one with cases and no skips
	for name in "${M_NAMES[@]}"; do
		if [ "${M_CASES[$name]}" = '?' ]; then
			[ -n "$unsure" ] || unsure=$name
		elif [ -z "$numeric" ] && [ "${M_SKIPS[$name]}" = 0 ] &&
			[ "${M_CASES[$name]}" -gt 1 ]; then
			numeric=$name
		fi
	done
	for k in "${!M_OVR[@]}"; do overridden=$k; done

	# a run exactly as the manifest says matches, on every series
	for series in 6.1 6.12 6.12-rt $(printf '%s\n' "${ovs[@]}" | sort -u); do
		synth_tap "$series" >"$tmp/tap"
		out=$(check_run "$series" "$tmp/tap" 2>/dev/null)
		if [ -n "$out" ]; then
			echo "$out"
			echo "manifest self-test: an intact $series run does not match: FAIL"
			rc=1
		fi
	done
	[ "$rc" = 1 ] || echo "manifest self-test: intact runs match: ok"

	# doctored runs: each must give exactly the expected complaint
	try() { # what, expected message (regex), synth_tap args...
		local what=$1 want=$2 out
		shift 2
		synth_tap "$@" >"$tmp/tap"
		out=$(check_run "$1" "$tmp/tap" 2>/dev/null)
		if [ "$(grep -c . <<<"$out")" = 1 ] && grep -Eq -- "$want" <<<"$out"; then
			echo "manifest self-test: $what: caught: ${out#manifest: }"
		else
			[ -z "$out" ] || echo "$out"
			echo "manifest self-test: $what: NOT caught as expected: FAIL"
			rc=1
		fi
	}
	[ -n "$numeric" ] || die "no binary with numeric counts to doctor"
	try "$numeric removed" "$numeric: did not run" 6.12 drop "$numeric"
	try "unknown binary added" "toy_not_in_manifest: not in" 6.12 extra x
	try "$numeric with a case less" "$numeric: [0-9]+ test cases, the manifest expects" 6.12 fewer "$numeric"
	try "$numeric with a skip more" "$numeric: [0-9]+ skipped, the manifest expects" 6.12 skipmore "$numeric"
	if [ -n "$unsure" ]; then
		if [ -f "$REPO_DIR/selftests/$unsure.c" ]; then
			try "$unsure (\"?\") removed" "$unsure: did not run" 6.12 drop "$unsure"
		else
			echo "manifest self-test: $unsure (\"?\") may be absent until selftests/$unsure.c exists"
		fi
		try "$unsure (\"?\") skipped as a whole" "$unsure: skipped as a whole" 6.12 wholeskip "$unsure"
	fi
	if [ -n "$overridden" ]; then
		# the default counts on the overridden series must not pass
		name=${overridden% *}
		series=${overridden#* }
		expected "$name" "$series"
		oes=$ES
		if [ "$oes" != '?' ] && [ "$oes" != "${M_SKIPS[$name]}" ]; then
			synth_tap 6.12 >"$tmp/tap"
			out=$(check_run "$series" "$tmp/tap" 2>/dev/null)
			if grep -q "$name: [0-9]* skipped, the manifest expects $oes" <<<"$out"; then
				echo "manifest self-test: $series override of $name: caught: ${out#manifest: }"
			else
				echo "manifest self-test: $series override of $name ignored: FAIL"
				rc=1
			fi
		fi
	fi
	return "$rc"
}

# ------------------------------------------------------------ main
if [ "${1:-}" = --manifest ]; then
	MANIFEST=${2:?--manifest needs a file}
	shift 2
fi
case "${1:-}" in
--self-test)
	[ $# = 1 ] || usage
	load_manifest
	self_test
	;;
-h | --help | '') usage ;;
*)
	[ $# = 2 ] || usage
	load_manifest
	check_run "$1" "$2"
	[ "$NBAD" = 0 ]
	;;
esac
