#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# coverage.sh - af_toy's line and branch coverage (gcov) on the debug kernel.
# The debug kernel (scripts/debug-kernel.sh) has CONFIG_GCOV_KERNEL, af_toy
# is built for it with TOY_COVERAGE=1 (Kbuild: GCOV_PROFILE, KCOV_INSTRUMENT;
# the .gcno files land in build/<release>/module/), and at the end of its
# run the guest prints the module's .gcda files (gcov_persist keeps them
# after rmmod, summed over every load) as a base64 tar.gz between the lines
# "# gcov-data-begin" and "# gcov-data-end".  gcov/lcov turn them into:
#   build/coverage/af_toy.info         lcov tracefile (module/*.c and *.h)
#   build/coverage/html/index.html     lcov HTML report (lines + branches)
#   build/coverage/fuzz-coverage.svg   the fuzzer's coverage over time, from
#                                      its "fuzz: coverage t=S ops=N
#                                      corpus=N lines=N" lines (if any)
#
# Usage: scripts/coverage.sh [--summary RELEASE TAP | --report]
#   (no option)   `make coverage`: `make check-debug` (the whole suite and
#                 the fuzzer for FUZZ_SECS, default here 120; FUZZ_* and
#                 DEBUG_VM_* as for check-debug), then --report.  Exit
#                 status: the check's (the report is printed either way)
#   --summary R T used by debug-kernel.sh --check: cut the gcov data out of
#                 the run's TAP T (rewritten without it) of debug kernel
#                 release R, capture build/coverage/af_toy.info, print the
#                 coverage line
#   --report      from the last captured run: per-file line and branch
#                 coverage, every uncovered line (file:line: source), the
#                 functions never called, the HTML report and the SVG
# The last line printed is always
#   module coverage: lines NN.N% (H/T), branches NN.N% (H/T)
# Installs lcov with apt-get when missing.  Progress goes to stderr.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
BUILD=$REPO_DIR/build
COV=$BUILD/coverage
INFO=$COV/af_toy.info
# lcov 1.x spelling; branch data is off by default
LCOV_RC=(--rc lcov_branch_coverage=1)

PROG=coverage
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

usage() {
	sed -n '/^# Usage:/,/^# Installs/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

need_lcov() {
	need_cmd lcov lcov
	need_cmd genhtml lcov
}

# The one-line summary of a tracefile (DA/BRDA records; a branch whose
# block never ran is "-": not taken).
summary_line() { # info
	awk -F'[:,]' '
	/^DA:/ { lt++; if ($3 > 0) lh++ }
	/^BRDA:/ { bt++; if ($5 != "-" && $5 > 0) bh++ }
	function pct(h, t) { return t ? 100 * h / t : 0 }
	END {
		printf "module coverage: lines %.1f%% (%d/%d), branches %.1f%% (%d/%d)\n",
			pct(lh, lt), lh, lt, pct(bh, bt), bh, bt
	}' "$1"
}

# ------------------------------------------------------------- --summary
capture() { # release tap
	local rel=$1 tap=$2 moddir tmp g b n=0
	moddir=$BUILD/$rel/module
	[ -f "$tap" ] || die "no TAP file $tap"
	[ -d "$moddir" ] || die "no module build directory $moddir"
	rm -f "$INFO" "$COV/fuzz-coverage.txt" "$COV/release"
	if ! grep -q '^# gcov-data-begin' "$tap" || ! grep -q '^# gcov-data-end' "$tap"; then
		die "no gcov data in $tap (the guest did not reach its end, or a kernel without CONFIG_GCOV_KERNEL)"
	fi
	need_lcov
	mkdir -p "$COV"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-cov.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	sed -n '/^# gcov-data-begin/,/^# gcov-data-end/p' "$tap" | sed '1d;$d' | tr -d '\r' |
		base64 -d >"$COV/gcda.tar.gz" || die "the gcov data in $tap is corrupt"
	sed -i '/^# gcov-data-begin/,/^# gcov-data-end/d' "$tap"
	grep -o 'fuzz: coverage t=.*' "$tap" >"$COV/fuzz-coverage.txt" || true
	mkdir -p "$tmp/guest"
	tar -xzf "$COV/gcda.tar.gz" -C "$tmp/guest" || die "the gcov data in $tap is corrupt"
	# the guest's paths are the host's build paths (debugfs mirrors them)
	rm -rf "$COV/data"
	mkdir -p "$COV/data"
	while IFS= read -r g; do
		b=$(basename "$g" .gcda)
		if [ ! -f "$moddir/$b.gcno" ]; then
			say "no $moddir/$b.gcno for $b.gcda (module not built with --coverage?)"
			continue
		fi
		cp "$g" "$COV/data/$b.gcda"
		ln -s "$moddir/$b.gcno" "$COV/data/$b.gcno"
		n=$((n + 1))
	done < <(find "$tmp/guest" -path "*/$rel/module/*.gcda" | sort)
	[ "$n" -gt 0 ] || die "no af_toy .gcda files for $rel in the gcov data of $tap"
	say "$n objects: capturing with lcov"
	lcov --quiet "${LCOV_RC[@]}" --capture --directory "$COV/data" \
		--output-file "$tmp/all.info" >"$COV/lcov.log" 2>&1 ||
		{ cat "$COV/lcov.log" >&2; die "lcov --capture failed"; }
	# only af_toy's own sources (module/*.c, *.h), not the kernel headers
	lcov --quiet "${LCOV_RC[@]}" --extract "$tmp/all.info" "$moddir/*" \
		--output-file "$INFO" >>"$COV/lcov.log" 2>&1 ||
		{ cat "$COV/lcov.log" >&2; die "lcov --extract failed"; }
	printf '%s\n' "$rel" >"$COV/release"
	rm -rf "$tmp"
	trap - EXIT
}

# -------------------------------------------------------------- --report
per_file() { # info prefix
	awk -F'[:,]' -v prefix="$2/" '
	function pct(h, t) { return t ? sprintf("%5.1f%%", 100 * h / t) : "    -" }
	function flush() {
		if (sf == "")
			return
		printf "  %-24s lines %s %11s   branches %s %11s   functions %7s\n", sf,
			pct(lh, lt), "(" lh "/" lt ")", pct(bh, bt), "(" bh "/" bt ")", fh "/" ft
		sf = ""
	}
	/^SF:/ { sf = substr($0, 4); sub("^" prefix, "", sf); lt = lh = bt = bh = ft = fh = 0 }
	/^DA:/ { lt++; if ($3 > 0) lh++ }
	/^BRDA:/ { bt++; if ($5 != "-" && $5 > 0) bh++ }
	/^FNDA:/ { ft++; if ($2 > 0) fh++ }
	/^end_of_record/ { flush() }' "$1"
}

# every DA:<line>,0 as "file:line: source text"; never-called functions
uncovered() { # info prefix
	awk -F'[:,]' -v prefix="$2/" '
	/^SF:/ { path = substr($0, 4); sf = path; sub("^" prefix, "", sf); ln = 0; nf = 0 }
	/^FNDA:0,/ { fn[++nf] = $3 }
	/^DA:/ && $3 == 0 {
		# read the source up to this line (records are in line order)
		while (ln < $2 && (getline text <path) > 0)
			ln++
		sub(/^[ \t]+/, "", text)
		printf "  %s:%d: %s\n", sf, $2, text
		nu++
	}
	/^end_of_record/ {
		close(path)
		for (i = 1; i <= nf; i++)
			never = never sprintf("  %s: %s()\n", sf, fn[i])
	}
	END {
		if (!nu)
			print "  (none)"
		if (never != "")
			printf "coverage: functions never called:\n%s", never
	}' "$1"
}

# The fuzzer's "fuzz: coverage t=S ops=N corpus=N lines=N" lines as an
# SVG: KCOV lines (left axis) and corpus size (right axis) over time.  A
# series that stays above half its maximum gets a zoomed axis (noted).
fuzz_svg() { # samples svg
	awk '
	function val(k,   s) {
		s = " " $0
		if (!match(s, " " k "=[0-9.]+"))
			return ""
		return substr(s, RSTART + length(k) + 2, RLENGTH - length(k) - 2) + 0
	}
	function nice(v,   e, f) {
		if (v <= 0)
			return 1
		e = 1
		while (e * 10 <= v)
			e *= 10
		while (e > v)
			e /= 10
		f = v / e
		return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e
	}
	# axis a: from lo[a] to hi[a] in steps of st[a], about five ticks
	function axis(a, mn, mx,   s) {
		lo[a] = 0
		if (mn > mx / 2) {
			s = nice((mx - mn) / 4)
			lo[a] = s * int(mn / s)
			if (lo[a] >= mn)
				lo[a] -= s
		}
		st[a] = nice((mx - lo[a]) / 5)
		hi[a] = lo[a] + st[a] * int((mx - lo[a]) / st[a] + 0.999999)
		if (hi[a] <= lo[a])
			hi[a] = lo[a] + st[a]
	}
	function X(t) { return L + (t - lo["t"]) / (hi["t"] - lo["t"]) * W }
	function Y(v, a) { return T + H - (v - lo[a]) / (hi[a] - lo[a]) * H }
	{
		t = val("t"); l = val("lines"); c = val("corpus"); o = val("ops")
		if (t == "" || l == "")
			next
		n++; ts[n] = t; ls[n] = l; cs[n] = (c == "" ? 0 : c); os[n] = o
		if (n == 1 || l < lmin) lmin = l
		if (n == 1 || cs[n] < cmin) cmin = cs[n]
		if (t > tmax) tmax = t
		if (l > lmax) lmax = l
		if (cs[n] > cmax) cmax = cs[n]
	}
	END {
		if (!n)
			exit 1
		L = 70; R = 70; T = 40; B = 50; W = 640; H = 300
		axis("t", 0, tmax); axis("l", lmin, lmax); axis("c", cmin, cmax)
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", L + W + R, T + H + B
		printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		printf "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">af_toy fuzzer: coverage over time (%d samples, %d ops, final %d lines, corpus %d)</text>\n", L + W / 2, n, os[n], ls[n], cs[n]
		for (v = lo["t"]; v <= hi["t"] + 1e-9; v += st["t"]) {
			printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", X(v), T, X(v), T + H
			printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", X(v), T + H + 16, v
		}
		for (v = lo["l"]; v <= hi["l"] + 1e-9; v += st["l"]) {
			printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, Y(v, "l"), L + W, Y(v, "l")
			printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1f5fbf\">%g</text>\n", L - 6, Y(v, "l") + 4, v
		}
		for (v = lo["c"]; v <= hi["c"] + 1e-9; v += st["c"])
			printf "<text x=\"%d\" y=\"%.1f\" fill=\"#d0701c\">%g</text>\n", L + W + 6, Y(v, "c") + 4, v
		printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", L, T, W, H
		printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (s)</text>\n", L + W / 2, T + H + 36
		printf "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\" fill=\"#1f5fbf\">KCOV lines (af_toy PCs)%s</text>\n", T + H / 2, lo["l"] ? ", axis from " lo["l"] : ""
		printf "<text transform=\"translate(%d,%d) rotate(90)\" text-anchor=\"middle\" fill=\"#d0701c\">corpus (programs)%s</text>\n", L + W + R - 14, T + H / 2, lo["c"] ? ", axis from " lo["c"] : ""
		printf "<polyline fill=\"none\" stroke=\"#d0701c\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\" points=\""
		for (i = 1; i <= n; i++)
			printf "%.1f,%.1f ", X(ts[i]), Y(cs[i], "c")
		printf "\"/>\n<polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\" points=\""
		for (i = 1; i <= n; i++)
			printf "%.1f,%.1f ", X(ts[i]), Y(ls[i], "l")
		printf "\"/>\n</svg>\n"
	}' "$1" >"$2.tmp" && mv "$2.tmp" "$2"
}

report() {
	local rel prefix ns
	if [ ! -f "$INFO" ] || [ ! -f "$COV/release" ]; then
		die "no captured coverage ($INFO): run make coverage (or make check-debug) first"
	fi
	rel=$(cat "$COV/release")
	prefix=$BUILD/$rel
	need_lcov
	echo
	echo "coverage: af_toy on $rel, per file:"
	per_file "$INFO" "$prefix"
	echo "coverage: uncovered lines:"
	uncovered "$INFO" "$prefix"
	say "genhtml: HTML report"
	rm -rf "$COV/html"
	genhtml --quiet "${LCOV_RC[@]}" --branch-coverage --legend --prefix "$prefix" \
		--title "af_toy on $rel" --output-directory "$COV/html" "$INFO" >"$COV/genhtml.log" 2>&1 ||
		{ cat "$COV/genhtml.log" >&2; die "genhtml failed"; }
	echo "coverage: HTML report: $COV/html/index.html"
	rm -f "$COV/fuzz-coverage.svg"
	ns=0
	[ -f "$COV/fuzz-coverage.txt" ] && ns=$(grep -c . "$COV/fuzz-coverage.txt" || true)
	if [ "$ns" -gt 0 ] && fuzz_svg "$COV/fuzz-coverage.txt" "$COV/fuzz-coverage.svg"; then
		echo "coverage: fuzzer coverage over time ($ns samples): $COV/fuzz-coverage.svg"
	else
		rm -f "$COV/fuzz-coverage.svg.tmp"
		echo "coverage: no \"fuzz: coverage t=... lines=...\" lines in the run: no fuzzer SVG"
	fi
}

case "${1:-}" in
--summary)
	[ $# = 3 ] || usage
	capture "$2" "$3"
	summary_line "$INFO"
	;;
--report)
	[ $# = 1 ] || usage
	report
	summary_line "$INFO"
	;;
"")
	need_lcov
	rm -f "$INFO" "$COV/release"
	t0=$(date +%s)
	say "running the whole suite + fuzzer (FUZZ_SECS=${FUZZ_SECS:=120}) in the debug VM (slow under TCG)"
	export FUZZ_SECS
	crc=0
	"$SCRIPT_DIR/debug-kernel.sh" --check || crc=$?
	report
	[ "$crc" = 0 ] || echo "coverage: note: the debug check FAILED (exit $crc); the coverage is of that run"
	say "done in $(($(date +%s) - t0))s"
	summary_line "$INFO"
	exit "$crc"
	;;
-h | --help) usage ;;
*) usage ;;
esac
