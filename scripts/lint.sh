#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - `make lint`: every static check a kernel reviewer would run.
#   checkpatch  checkpatch.pl --strict --no-tree -f (from linux-source-6.12,
#               extracted into the cache by kernels.sh) on module/*.[ch]
#               and module/uapi/linux/*.h
#   W=1         the module built with W=1 against each kernel of $KERNELS
#               (default "6.1 6.12 6.12-rt"): any compiler warning is a finding
#   sparse      the same build with C=2 (sparse on every file): any sparse
#               warning or error is a finding
#   ShellCheck  every shell script of the repository (scripts/*.sh with
#               scripts/lib.sh, scripts/vm, scripts/vm-init, .ci/run, and
#               any file with a sh/bash #! line), following what they source
#   SPDX        every source file carries an SPDX-License-Identifier line
#               (Kbuild, Makefiles, mk/*.mk, dkms.conf, the shell scripts,
#               module/, userspace/ and its tool directories, selftests/,
#               man/)
#   harness     no ASSERT_*()/EXPECT_*() of kselftest_harness.h is the
#               unbraced body of a loop in selftests/ (scripts/check-harness.sh)
#   difftable   every README sentence the intended-divergence table of
#               selftests/toy_diff.c quotes is in README.md
#               (scripts/check-diff-table.sh)
#   man         every man page (man/*.[1-8]) renders without a word of
#               `groff -ww -z -man`, `mandoc -T lint` or `man --warnings -l`
#               (any output is a finding), and every option of every tool
#               is in its man page (scripts/check-man-options.sh, with its
#               self-test)
# Installs perl/sparse/shellcheck/groff-base/mandoc and the C toolchain
# with apt-get when missing.
# Prints each tool's findings, then a summary line per tool; exit status
# non-zero on any finding.
#
# Usage: scripts/lint.sh [--only TOOL[,TOOL...]]
#        (tools: checkpatch,w1,sparse,shellcheck,spdx,harness,difftable,man)

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
cd "$REPO_DIR"
read -r -a SERIES <<<"${KERNELS:-6.1 6.12 6.12-rt}"
ONLY=checkpatch,w1,sparse,shellcheck,spdx,harness,difftable,man
if [ "${1:-}" = --only ]; then ONLY=${2:?--only needs a list}; fi

PROG=lint
DIE_STATUS=2
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"
want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-lint.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SUMMARY=()
RC=0
result() { # tool, number of findings, detail
	if [ "$2" = 0 ]; then
		SUMMARY+=("$(printf '%-11s ok%s' "$1" "${3:+ ($3)}")")
	else
		SUMMARY+=("$(printf '%-11s %s finding(s)%s' "$1" "$2" "${3:+ ($3)}")")
		RC=1
	fi
}

mapfile -t CSRC < <(ls module/*.[ch] module/uapi/linux/*.h 2>/dev/null)

# ---------------------------------------------------------------- checkpatch
if want checkpatch; then
	CP=$("$SCRIPT_DIR/kernels.sh" --print-checkpatch) || die "no checkpatch (kernels.sh --print-checkpatch)"
	# checkpatch.pl needs the full perl (Term::ANSIColor, Encode), not perl-base
	apt_install_missing perl
	say "checkpatch --strict: ${#CSRC[@]} files"
	echo "== checkpatch --strict"
	n=0
	if [ "${#CSRC[@]}" -gt 0 ]; then
		perl "$CP/checkpatch.pl" --no-tree --terse --show-types --strict \
			--ignore FILE_PATH_CHANGES -f "${CSRC[@]}" >"$WORK/checkpatch" 2>&1 || true
		grep -E ': (ERROR|WARNING|CHECK):' "$WORK/checkpatch" || true
		n=$(grep -cE ': (ERROR|WARNING|CHECK):' "$WORK/checkpatch" || true)
		# a checkpatch crash is a finding too
		if ! grep -qE ': (ERROR|WARNING|CHECK):|total:' "$WORK/checkpatch"; then
			cat "$WORK/checkpatch"
			[ -s "$WORK/checkpatch" ] && n=$((n + 1))
		fi
	fi
	result checkpatch "$n" "${#CSRC[@]} files"
fi

# ------------------------------------------------------- W=1 and sparse
if want w1 || want sparse; then
	want sparse && need_cmd sparse sparse
	for s in "${SERIES[@]}"; do
		kdir=$("$SCRIPT_DIR/kernels.sh" --print-kdir "$s") || die "no kernel build dir for $s"
		rel=$("$SCRIPT_DIR/kernels.sh" --print-release "$s")
		b=$WORK/build-$rel
		mkdir -p "$b"
		cp -a Kbuild module "$b/"
		say "$rel: W=1 build"
		if ! make -C "$kdir" M="$b" W=1 modules >"$WORK/w1-$rel" 2>&1; then
			echo "== W=1 build $rel: FAILED"
			grep -vE '^ *(CC|LD|MODPOST|BTF|CHECK) |^make|Skipping BTF' "$WORK/w1-$rel" || true
			want w1 && result "W=1 $s" 1 "build failed"
			want sparse && result "sparse $s" 1 "build failed"
			continue
		fi
		if want w1; then
			echo "== W=1 build $rel"
			grep -E 'warning:|error:' "$WORK/w1-$rel" || true
			result "W=1 $s" "$(grep -cE 'warning:|error:' "$WORK/w1-$rel" || true)" "$rel"
		fi
		if want sparse; then
			# Objects are up to date: only the C=2 checker runs.
			say "$rel: sparse (C=2)"
			# CHECK lines count the files: not silenced by a make -s above us.
			make --no-silent -C "$kdir" M="$b" W=1 C=2 modules >"$WORK/sparse-$rel" 2>&1 || true
			echo "== sparse $rel"
			grep -E 'warning:|error:' "$WORK/sparse-$rel" || true
			checked=$(grep -c '^ *CHECK ' "$WORK/sparse-$rel" || true)
			n=$(grep -cE 'warning:|error:' "$WORK/sparse-$rel" || true)
			[ "$checked" -gt 0 ] || { echo "sparse did not run"; n=$((n + 1)); }
			result "sparse $s" "$n" "$rel, $checked files checked"
		fi
	done
fi

# ---------------------------------------------------------------- shellcheck
mapfile -t SHELLS < <({
	ls scripts/*.sh scripts/vm scripts/vm-init .ci/run 2>/dev/null
	git ls-files -co --exclude-standard 2>/dev/null | while read -r f; do
		[ -f "$f" ] || continue
		case "$f" in build/* | *.c | *.h | *.md) continue ;; esac
		head -c 64 "$f" | head -n 1 | grep -qE '^#! */(usr/)?bin/(env +)?(ba|da)?sh\b' && echo "$f"
	done
} | sort -u)
if want shellcheck; then
	need_cmd shellcheck shellcheck
	say "shellcheck: ${#SHELLS[@]} scripts: ${SHELLS[*]}"
	echo "== shellcheck"
	# -x: follow what the scripts source (scripts/lib.sh)
	shellcheck -x -f gcc "${SHELLS[@]}" >"$WORK/shellcheck" 2>&1 || true
	cat "$WORK/shellcheck"
	result shellcheck "$(grep -cE ':[0-9]+:[0-9]+: ' "$WORK/shellcheck" || true)" "${#SHELLS[@]} scripts"
fi

# ---------------------------------------------------------------------- SPDX
if want spdx; then
	echo "== SPDX lines"
	n=0
	for f in Kbuild Makefile mk/*.mk dkms.conf "${SHELLS[@]}" "${CSRC[@]}" userspace/*.[ch] \
		userspace/*/*.[ch] selftests/*.[ch] man/*.[1-8]; do
		[ -f "$f" ] || continue
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0' ||
			{ echo "$f: missing SPDX-License-Identifier line"; n=$((n + 1)); }
	done
	result SPDX "$n"
fi

# ------------------------------------------------------------- harness
if want harness; then
	echo "== selftests: harness checks as loop bodies"
	"$SCRIPT_DIR/check-harness.sh" selftests/*.[ch] >"$WORK/harness" || true
	cat "$WORK/harness"
	result harness "$(wc -l <"$WORK/harness")"
fi

# ----------------------------------------------------------- difftable
if want difftable; then
	echo "== toy_diff table: README sentences"
	rc=0
	"$SCRIPT_DIR/check-diff-table.sh" >"$WORK/difftable" 2>&1 || rc=$?
	grep -v '^check-diff-table: [0-9]* README sentences' "$WORK/difftable" || true
	n=$(grep -vc '^check-diff-table: [0-9]* README sentences' "$WORK/difftable" || true)
	# a failure that printed no finding (a crash) is a finding too
	[ "$rc" = 0 ] || [ "$n" -gt 0 ] || n=1
	result difftable "$n" "$(sed -n 's/^check-diff-table: \([0-9]*\) README sentences.*/\1 sentences/p' "$WORK/difftable")"
fi

# ----------------------------------------------------------------------- man
if want man; then
	need_cmd groff groff-base
	need_cmd mandoc mandoc
	mapfile -t PAGES < <(ls man/*.[1-8] 2>/dev/null)
	say "man: ${#PAGES[@]} pages: ${PAGES[*]}"
	echo "== man pages: groff -ww, mandoc -T lint, man --warnings"
	n=0
	[ "${#PAGES[@]}" -gt 0 ] || { echo "man/: no man pages"; n=1; }
	for p in "${PAGES[@]}"; do
		# every word on stdout or stderr is a finding
		{
			groff -ww -z -man -Tutf8 "$p" || echo "$p: groff failed"
			mandoc -T lint "$p" || true
			if command -v man >/dev/null 2>&1; then
				MANWIDTH=80 man --warnings -l "$p" >/dev/null ||
					echo "$p: man -l failed"
			fi
		} >"$WORK/man" 2>&1
		cat "$WORK/man"
		n=$((n + $(grep -c . "$WORK/man" || true)))
	done
	echo "== man pages: every option of every tool (scripts/check-man-options.sh)"
	rc=0
	"$SCRIPT_DIR/check-man-options.sh" --self-test >"$WORK/manopt-self" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { cat "$WORK/manopt-self"; n=$((n + 1)); }
	rc=0
	"$SCRIPT_DIR/check-man-options.sh" >"$WORK/manopt" || rc=$?
	grep -v '^check-man-options: [0-9]* tools' "$WORK/manopt" || true
	f=$(grep -vc -e '^check-man-options: [0-9]* tools' -e '^note: ' "$WORK/manopt" || true)
	# a failure that printed no finding (a crash, a failed build) is one too
	[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
	n=$((n + f))
	result man "$n" "${#PAGES[@]} pages$(sed -n 's/^check-man-options: \([0-9]* tools, [0-9]* options\),.*/, \1/p' "$WORK/manopt")"
fi

echo "== lint summary"
for l in "${SUMMARY[@]}"; do echo "lint: $l"; done
if [ "$RC" = 0 ]; then echo "lint: clean"; else echo "lint: FAILED"; fi
exit "$RC"
