#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# toywrap - run a program with its loopback TCP and UDP sockets on AF_TOY
# (LD_PRELOAD=libtoywrap.so; see toywrap(1)).

set -eu

usage() {
	cat <<'USAGE'
usage: toywrap [-v] COMMAND [ARG...]
Runs COMMAND with every IPv4/IPv6 TCP and UDP socket that binds or connects
to a loopback address (127.0.0.0/8, ::1) or binds the wildcard moved onto
AF_TOY (TCP -> SOCK_STREAM, UDP -> SOCK_DGRAM, same port number).  The
program still sees TCP/UDP addresses.  Other addresses stay on TCP/UDP.
  -v, --verbose   log every moved socket to stderr
  -h, --help      this text
Works through LD_PRELOAD: statically linked programs, raw system calls and
io_uring socket operations are out of its reach.  Needs the af_toy module.
USAGE
}

verbose=0
while [ $# -gt 0 ]; do
	case "$1" in
	-v | --verbose) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) printf 'toywrap: unknown option %s\n' "$1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || { usage >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
lib=
for l in "${TOYWRAP_LIB:-}" "$here/libtoywrap.so" "$here/../lib/toywrap/libtoywrap.so"; do
	if [ -n "$l" ] && [ -f "$l" ]; then lib=$l; break; fi
done
[ -n "$lib" ] || { echo "toywrap: libtoywrap.so not found next to $0 or in $here/../lib/toywrap" >&2; exit 2; }
case "$lib" in /*) ;; *) lib=$(pwd)/$lib ;; esac
# LD_PRELOAD splits its list at blanks and colons
case "$lib" in *[[:space:]:]*)
	echo "toywrap: $lib: LD_PRELOAD cannot carry a path with blanks or colons" >&2
	exit 2 ;;
esac

if [ "$verbose" = 1 ]; then TOYWRAP_VERBOSE=1; export TOYWRAP_VERBOSE; fi
LD_PRELOAD=$lib${LD_PRELOAD:+ $LD_PRELOAD}
export LD_PRELOAD
exec "$@"
