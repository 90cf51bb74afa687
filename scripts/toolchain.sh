#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# toolchain.sh - installs with apt-get what building the userspace tools
# needs, if it is missing: gcc and the static C library (libc6-dev).  The
# userspace build (make run, make userspace) comes before anything that
# fetches a kernel or the kselftest harness, which install them too.
#
# Usage: scripts/toolchain.sh

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

apt_install_missing gcc make libc6-dev
