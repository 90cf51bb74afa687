#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-harness.sh - finds ASSERT_*()/EXPECT_*() of kselftest_harness.h
# that are the unbraced body of a loop (for/while, maybe under unbraced
# ifs).  Such a macro is two statements: the check, then a for() that
# runs its TH_LOG and an ASSERT's bail.  As a loop's only statement, the
# check runs per iteration, but the log (with the loop's last index) and
# the bail only after the loop: an ASSERT does not stop the loop.
# Comments (also over several lines), blank lines and the insides of
# character and string literals are ignored, and a header may span lines
# (up to 5); an unbraced else is
# not followed (its if's body sits between it and the loop).
#
# Usage: scripts/check-harness.sh FILE...
# Prints FILE:LINE: ... per finding; exit status 1 if any, 2 on misuse.

set -eu

[ "$#" -gt 0 ] || { echo "usage: check-harness.sh FILE..." >&2; exit 2; }
prog=$(cat <<'AWK'
function strip(l) {
	gsub(/'(\\.|[^'\\])'/, "0", l)
	gsub(/"(\\.|[^"\\])*"/, "0", l)
	gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", l)
	sub(/\/\/.*$/, "", l)
	return l
}
function depth(l,    i, c, d) {
	d = 0
	for (i = 1; i <= length(l); i++) {
		c = substr(l, i, 1)
		if (c == "(")
			d++
		else if (c == ")")
			d--
	}
	return d
}
function hdr(l) { return l ~ /^[ \t]*((for|while|if)[ \t]*\(.*\)|else)[ \t]*$/ }
function loop(l) { return l ~ /^[ \t]*(for|while)[ \t]*\(.*\)[ \t]*$/ }
FNR == 1 { p1 = ""; p2 = ""; p3 = ""; pend = ""; pd = 0; pn = 0; inc = 0 }
{
	l = strip($0)
	if (inc) {			# inside a block comment
		if (l !~ /\*\//)
			next
		sub(/^.*\*\//, "", l)
		inc = 0
	}
	if (l ~ /\/\*/) {		# a block comment that goes on
		sub(/\/\*.*$/, "", l)
		inc = 1
	}
	if (pd > 0) {			# a header that goes on (a for has ;s)
		pend = pend " " l
		pd += depth(l)
		if (pd > 0 && ++pn < 5 && l !~ /{/ &&
		    (l !~ /;/ || pend ~ /^[ \t]*for/))
			next
		l = pd > 0 ? "" : pend	# not a header after all
		pd = 0
	} else if (l ~ /^[ \t]*(for|while|if)[ \t]*\(/ && depth(l) > 0) {
		pend = l
		pd = depth(l)
		pn = 0
		next
	}
	if (l ~ /^[ \t]*$/)
		next
	if (l ~ /^[ \t]*(ASSERT|EXPECT)_[A-Z_]+\(/ && hdr(p1) &&
	    (loop(p1) || (hdr(p2) && (loop(p2) || (hdr(p3) && loop(p3)))))) {
		printf "%s:%d: a harness check as an unbraced loop body: add braces\n",
		       FILENAME, FNR
		bad++
	}
	p3 = p2
	p2 = p1
	p1 = l
}
END { exit bad ? 1 : 0 }
AWK
)
awk "$prog" "$@"
