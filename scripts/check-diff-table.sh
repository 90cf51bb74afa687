#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-diff-table.sh - the intended-divergence table of the differential
# selftest (selftests/toy_diff.c) justifies each entry with a sentence of
# README.md: its `#define RM_<NAME> "..."` lines, one sentence per line.
# Each sentence must occur in README.md word for word; a run of blanks and
# line breaks (Markdown wraps lines) compares as one space.  A sentence no
# table entry uses is a finding too.
# Prints one line per finding, then a summary; exit status 1 if there is
# any finding, 2 if the files cannot be read.
#
# Usage: scripts/check-diff-table.sh [SOURCE [README]]
#        (default: selftests/toy_diff.c and README.md of the repository)

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
SRC=${1:-$REPO_DIR/selftests/toy_diff.c}
README=${2:-$REPO_DIR/README.md}

PROG=check-diff-table
DIE_STATUS=2
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"
[ -r "$SRC" ] || die "cannot read $SRC"
[ -r "$README" ] || die "cannot read $README"

squeeze() { tr -s '[:space:]' ' '; }
readme=$(squeeze <"$README")

n=0
bad=0
while IFS= read -r line; do
	lineno=${line%%:*}
	def=${line#*:}
	name=${def#\#define }
	name=${name%%[[:space:]]*}
	# the string literal: from the first to the last double quote
	text=${def#*\"}
	text=${text%\"*}
	n=$((n + 1))
	case "$text" in
	*\\*) echo "${SRC##*/}:$lineno: $name: escape sequences are not supported"
		bad=$((bad + 1)); continue ;;
	esac
	want=$(printf '%s' "$text" | squeeze)
	case "$readme" in
	*"$want"*) ;;
	*) echo "${SRC##*/}:$lineno: $name: not in ${README##*/}: \"$text\""
		bad=$((bad + 1)) ;;
	esac
	uses=$(grep -cwF "$name" "$SRC" || true)
	if [ "$uses" -lt 2 ]; then
		echo "${SRC##*/}:$lineno: $name: no table entry quotes it"
		bad=$((bad + 1))
	fi
done < <(grep -nE '^#define RM_[A-Z0-9_]+[[:space:]]+".*"[[:space:]]*$' "$SRC" || true)

if [ "$n" = 0 ]; then
	echo "${SRC##*/}: no README sentences (#define RM_... \"...\") found"
	bad=$((bad + 1))
fi
echo "check-diff-table: $n README sentences, $bad finding(s)"
[ "$bad" = 0 ]
