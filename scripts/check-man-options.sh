#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-man-options.sh - every option a userspace tool accepts is
# documented in its man page, and the man page documents no option the
# tool does not accept.  The tools are the executables `make userspace`
# puts in build/userspace/ (what `make install` installs), built from
# userspace/<tool>.c or userspace/<tool>/*.c.  Per tool:
#   accepted   the options the binary prints in its help text: every word
#              starting with - or -- in the output of `<tool> --help` and
#              of `<tool> -h` (stdout and stderr, whatever the exit
#              status); -h and --help themselves when they exit with
#              status 0; and the options its source names (getopt()
#              option strings, getopt_long() tables, strcmp() of an
#              argument with a "-x"/"--xx" literal)
#   documented the OPTIONS section of its rendered man page
#              man/<tool>.<section>: each accepted option must occur
#              there; each option that starts a tagged paragraph there
#              must be accepted
# An option of the source that the help text does not show is printed as
# a "note:" line (the tool's help is incomplete; not a finding here).
# Runs `make userspace` first (which rebuilds only what is out of date).
# Needs groff (groff-base).
# Prints one line per finding, then a summary; exit status 1 if there is
# any finding, 2 on an error.
#
# Usage: scripts/check-man-options.sh [TOOL...]   (default: every tool)
#        scripts/check-man-options.sh --self-test
#            a made-up tool and man page: an undocumented option and a
#            documented option the tool lacks must both be found

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
BIN_DIR=$REPO_DIR/build/userspace

PROG=check-man-options
DIE_STATUS=2
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

command -v groff >/dev/null 2>&1 || die "groff missing: apt-get install groff-base"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-manopt.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# An option word: - or -- and a letter, then letters, digits, _ and -.
OPT_RE='--?[A-Za-z][A-Za-z0-9_-]*'

# The options a help text shows: words starting with a dash, after a
# blank, a bracket, a comma or a bar ("[-a | -l]", "[--svg FILE]").
help_options() { # file
	grep -oE "(^|[][ ,|(])$OPT_RE" "$1" | sed -E 's/^[][ ,|(]//' || true
}

# The options a C source names: getopt() strings, getopt_long() tables,
# strcmp(arg, "-x") literals.
source_options() { # file
	local s
	# getopt(argc, argv, "ab:c") and getopt_long(..., "ab:c", ...)
	grep -oE 'getopt(_long(_only)?)?\([^,]*,[^,]*, *"[^"]*"' "$1" |
		sed -E 's/.*"([^"]*)"$/\1/' | while IFS= read -r s; do
			s=${s#[+-]}
			s=${s//:/}
			while [ -n "$s" ]; do
				printf -- '-%s\n' "${s:0:1}"
				s=${s:1}
			done
		done
	# { "name", required_argument, ... } of a struct option table
	grep -oE '\{ *"[A-Za-z0-9][A-Za-z0-9_-]*" *, *(no|required|optional)_argument' "$1" |
		sed -E 's/^\{ *"([^"]*)".*/--\1/' || true
	# strcmp(argv[i], "--raw"), strncmp(arg, "-x", 2)
	grep -oE "str(n|case)?cmp\([^,()]*, *\"$OPT_RE\"" "$1" |
		sed -E 's/.*"([^"]*)"$/\1/' || true
}

# The OPTIONS section of a man page as plain text, one paragraph a line.
man_options_text() { # page
	groff -man -Tascii -P-cbou -rLL=5000n "$1" 2>/dev/null |
		awk '/^[A-Z][A-Z ]*$/ { in_opt = ($0 == "OPTIONS"); next } in_opt'
}

# The options that start a tagged paragraph of the OPTIONS section:
# "       -t type", "       -h, --help", "       -a     All sockets...".
man_tagged_options() { # options text
	sed -nE 's/^ {7}(-.*)/\1/p' "$1" | sed -E 's/  .*//' | tr -s ' ,|' '\n' |
		grep -xE -- "$OPT_RE" || true
}

has_option() { # options text, option
	grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)" "$1"
}

FINDINGS=0
NOPTS=0
finding() { echo "$*"; FINDINGS=$((FINDINGS + 1)); }

# check_tool NAME BINARY SOURCE PAGE [SOURCE-NAME]
check_tool() {
	local name=$1 bin=$2 src=$3 page=$4 srcname=${5:-$3} d=$WORK/$1 o rc
	local -A acc=() from=()
	mkdir -p "$d/run"
	for o in --help -h; do
		rc=0
		(cd "$d/run" && timeout 10 "$bin" "$o" </dev/null >"$d/help$o" 2>&1) || rc=$?
		[ "$rc" != 124 ] || finding "$name: '$name $o' did not exit within 10 s"
		if [ "$rc" = 0 ]; then acc[$o]=1; from[$o]="exits 0"; fi
	done
	cat "$d/help--help" "$d/help-h" >"$d/help"
	while IFS= read -r o; do
		acc[$o]=1; from[$o]="--help"
	done < <(help_options "$d/help" | sort -u)
	while IFS= read -r o; do
		[ -n "${acc[$o]:-}" ] && continue
		acc[$o]=1; from[$o]="source"
		case "$o" in
		-h | --help) ;;
		*) echo "note: $name: $o: accepted ($srcname) but not in its --help output" ;;
		esac
	done < <(source_options "$src" | sort -u)

	if [ -z "$page" ]; then
		finding "man/$name.[1-8]: missing (documents ${#acc[@]} options)"
		return
	fi
	man_options_text "$page" >"$d/options"
	local rel=${page#"$REPO_DIR"/}
	[ -s "$d/options" ] || { finding "$rel: no OPTIONS section"; return; }
	while IFS= read -r o; do
		NOPTS=$((NOPTS + 1))
		has_option "$d/options" "$o" ||
			finding "$rel: $o: not documented in OPTIONS (accepted: ${from[$o]})"
	done < <(printf '%s\n' "${!acc[@]}" | sort)
	while IFS= read -r o; do
		[ -n "${acc[$o]:-}" ] ||
			finding "$rel: $o: documented in OPTIONS, but $name does not accept it"
	done < <(man_tagged_options "$d/options" | sort -u)
}

# --------------------------------------------------------------- self-test
if [ "${1:-}" = --self-test ]; then
	t=$WORK/self
	mkdir -p "$t"
	cat >"$t/faketool" <<-'EOF'
	#!/bin/sh
	echo "usage: faketool [-a | -b N] [--long FILE] [--undocumented]" >&2
	exit 2
	EOF
	chmod +x "$t/faketool"
	printf '%s\n' 'int main(void) { return getopt(argc, argv, "ab:z"); }' \
		'static const struct option o[] = { { "long", required_argument, 0, 0 } };' \
		>"$t/faketool.c"
	printf '%s\n' '.TH FAKETOOL 1 2026-01-01 x' '.SH NAME' 'faketool \- test' \
		'.SH OPTIONS' '.TP' '.B \-a' 'A.' '.TP' '.BI \-b " n"' 'B, see \-a.' \
		'.TP' '.BI \-\-long " file"' 'L.' '.TP' '.B \-z' 'Z.' \
		'.TP' '.BR \-\-gone ", " \-g' 'G.' '.SH SEE ALSO' 'nothing' \
		'\-\-undocumented' >"$t/faketool.1"
	check_tool faketool "$t/faketool" "$t/faketool.c" "$t/faketool.1" >"$t/out"
	want=("--undocumented: not documented" "--gone: documented in OPTIONS, but"
		"-g: documented in OPTIONS, but")
	bad=0
	for w in "${want[@]}"; do
		grep -qF -- "$w" "$t/out" || { echo "self-test: not found: $w"; bad=$((bad + 1)); }
	done
	n=$(grep -vc '^note:' "$t/out" || true)
	if [ "$n" != "${#want[@]}" ]; then
		echo "self-test: expected ${#want[@]} findings, got $n:"
		sed 's/^/  /' "$t/out"
		bad=$((bad + 1))
	fi
	if [ "$bad" = 0 ]; then
		echo "check-man-options: self-test ok (${#want[@]} planted findings caught)"
		exit 0
	fi
	echo "check-man-options: self-test FAILED"
	exit 1
fi

# ------------------------------------------------------------------ tools
cd "$REPO_DIR"
say "make userspace"
make --no-print-directory -C "$REPO_DIR" userspace >"$WORK/build.log" 2>&1 ||
	{ cat "$WORK/build.log" >&2; die "make userspace failed"; }
if [ $# -gt 0 ]; then
	TOOLS=("$@")
else
	mapfile -t TOOLS < <(find "$BIN_DIR" -maxdepth 1 -type f -perm -u+x -printf '%f\n' 2>/dev/null | sort)
fi
[ "${#TOOLS[@]}" -gt 0 ] || die "no tools in $BIN_DIR after make userspace"

for t in "${TOOLS[@]}"; do
	[ -x "$BIN_DIR/$t" ] || die "no tool $BIN_DIR/$t"
	# its source: userspace/<tool>.c, or every userspace/<tool>/*.c
	srcs=()
	for c in "userspace/$t.c" "userspace/$t"/*.c; do
		[ -f "$c" ] && srcs+=("$c")
	done
	[ "${#srcs[@]}" -gt 0 ] || die "no source for $t (userspace/$t.c or userspace/$t/*.c)"
	cat "${srcs[@]}" >"$WORK/$t.src"
	pages=()
	for p in man/"$t".[1-8]; do
		[ -f "$p" ] && pages+=("$REPO_DIR/$p")
	done
	[ "${#pages[@]}" -le 1 ] || die "several man pages for $t: ${pages[*]}"
	check_tool "$t" "$BIN_DIR/$t" "$WORK/$t.src" "${pages[0]:-}" "${srcs[*]}"
done

echo "check-man-options: ${#TOOLS[@]} tools, $NOPTS options, $FINDINGS finding(s)"
[ "$FINDINGS" = 0 ]
