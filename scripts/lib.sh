# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - what the host-side scripts share; sourced, never run:
#   PROG=name DIE_STATUS=N; . "$SCRIPT_DIR/lib.sh"
#
#   PROG          prefix of every message ("PROG: ...")
#   DIE_STATUS    exit status of die (default 1; scripts/vm, lint.sh and
#                 the checkers document 2 for a usage/setup error)
#   SAY_T0        if set (a `date +%s`), say prints the seconds since then
#
#   say MSG...                 progress on stderr
#   die MSG...                 "PROG: error: MSG" on stderr, exit $DIE_STATUS
#   apt_update_once            apt-get update, at most once per run
#   apt_install_missing PKG... apt-get install the packages `dpkg -s` does
#                              not know as installed (root only), retried
#                              once after an apt-get update
#   need_cmd CMD PKG           CMD missing: apt_install_missing PKG
#   tap_totals TAP             "pass fail skip" summed over every
#                              "# Totals: pass:N fail:N ... skip:N" line of
#                              a TAP file, at any nesting level (status 1
#                              if it has none)
#   VM_RC_TIMEOUT, VM_RC_NO_STATUS, VM_RC_SPLAT
#                              scripts/vm's own exit codes (124/125/126)
#   vm_rc_note RC [CONSOLE]    what such an exit code means, for a report
#                              line; nothing and status 1 for any other
#
# Guest-side scripts (busybox sh in the VM: scripts/vm-init,
# scripts/demo-guest.sh, scripts/bench-guest.sh) do not use this file.

: "${PROG:=${0##*/}}"
: "${DIE_STATUS:=1}"

say() {
	if [ -n "${SAY_T0:-}" ]; then
		printf '%s: [%3ss] %s\n' "$PROG" "$(($(date +%s) - SAY_T0))" "$*" >&2
	else
		printf '%s: %s\n' "$PROG" "$*" >&2
	fi
}

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit "$DIE_STATUS"
}

# ------------------------------------------------------------ host packages
LIB_APT_OPTS=(-q -o APT::Sandbox::User=root -o Dpkg::Use-Pty=0)
LIB_APT_UPDATED=0

apt_update_once() {
	[ "$LIB_APT_UPDATED" = 1 ] && return 0
	[ "$(id -u)" = 0 ] || die "need root to run apt-get update"
	say "apt-get update"
	apt-get "${LIB_APT_OPTS[@]}" update >&2 || die "apt-get update failed"
	LIB_APT_UPDATED=1
}

apt_install_missing() {
	local p todo=()
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || todo+=("$p")
	done
	[ "${#todo[@]}" = 0 ] && return 0
	[ "$(id -u)" = 0 ] ||
		die "missing packages: ${todo[*]} (run as root, or apt-get install them)"
	say "installing ${todo[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get "${LIB_APT_OPTS[@]}" install -y \
		--no-install-recommends "${todo[@]}" >&2; then
		apt_update_once
		DEBIAN_FRONTEND=noninteractive apt-get "${LIB_APT_OPTS[@]}" install -y \
			--no-install-recommends "${todo[@]}" >&2 ||
			die "apt-get install ${todo[*]} failed"
	fi
}

need_cmd() { # command package
	command -v "$1" >/dev/null 2>&1 || apt_install_missing "$2"
}

# ---------------------------------------------------------------- TAP
tap_totals() { # TAP file
	[ -f "$1" ] || { echo "0 0 0"; return 1; }
	awk '
	/^(# )*# Totals: pass:[0-9]+ fail:[0-9]+/ {
		n++
		for (i = 1; i <= NF; i++) {
			split($i, kv, ":")
			if (kv[1] == "pass") p += kv[2]
			else if (kv[1] == "fail") f += kv[2]
			else if (kv[1] == "skip") s += kv[2]
		}
	}
	END { print p + 0, f + 0, s + 0; exit n ? 0 : 1 }' "$1"
}

# ------------------------------------------------------- scripts/vm verdicts
# shellcheck disable=SC2034 # used by the scripts that source this file
VM_RC_TIMEOUT=124 VM_RC_NO_STATUS=125 VM_RC_SPLAT=126

vm_rc_note() { # exit code of scripts/vm, [its console log]
	case "$1" in
	"$VM_RC_TIMEOUT") echo "TIMEOUT" ;;
	"$VM_RC_NO_STATUS") echo "guest crashed (no exit status${2:+; see $2})" ;;
	"$VM_RC_SPLAT") echo "KERNEL SPLAT${2:+ (see $2)}" ;;
	*) return 1 ;;
	esac
}
