#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-harness.sh - finds ASSERT_*()/EXPECT_*() of kselftest_harness.h
# that are the unbraced body of a loop (for/while, maybe under an unbraced
# if/else).  Such a macro is two statements: the check, then a for() that
# runs its TH_LOG and an ASSERT's bail.  As a loop's only statement, the
# check runs per iteration, but the log (with the loop's last index) and
# the bail only after the loop: an ASSERT does not stop the loop.
#
# Usage: scripts/check-harness.sh FILE...
# Prints FILE:LINE: ... per finding; exit status 1 if any, 2 on misuse.

set -eu

[ "$#" -gt 0 ] || { echo "usage: check-harness.sh FILE..." >&2; exit 2; }
awk '
function hdr(l) { return l ~ /^[ \t]*((for|while|if)[ \t]*\(.*\)|else)[ \t]*$/ }
function loop(l) { return l ~ /^[ \t]*(for|while)[ \t]*\(.*\)[ \t]*$/ }
FNR == 1 { p1 = ""; p2 = ""; p3 = "" }
/^[ \t]*(ASSERT|EXPECT)_[A-Z_]+\(/ {
	if (hdr(p1) && (loop(p1) || (hdr(p2) && (loop(p2) ||
	    (hdr(p3) && loop(p3)))))) {
		printf "%s:%d: a harness check as an unbraced loop body: add braces\n",
		       FILENAME, FNR
		bad++
	}
}
{ p3 = p2; p2 = p1; p1 = $0 }
END { exit bad ? 1 : 0 }
' "$@"
