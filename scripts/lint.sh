#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - `make lint`: shellcheck on every script, checkpatch.pl (from
# linux-source-6.12, extracted into the cache by kernels.sh) on the C
# sources, and an SPDX line check. Installs shellcheck if missing.
# Exit status non-zero if anything is reported.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
cd "$REPO_DIR"
rc=0

say() { printf 'lint: %s\n' "$*" >&2; }

if ! command -v shellcheck >/dev/null 2>&1; then
	say "installing shellcheck"
	DEBIAN_FRONTEND=noninteractive apt-get -q install -y shellcheck >&2
fi

mapfile -t shells < <({
	ls scripts/*.sh scripts/vm .ci/run selftests/runner/*.sh 2>/dev/null
	grep -lE '^#!/bin/(ba)?sh' userspace/*.sh selftests/*.sh 2>/dev/null
} | sort -u)
say "shellcheck: ${#shells[@]} scripts"
shellcheck "${shells[@]}" || rc=1

CP=$("$SCRIPT_DIR/kernels.sh" --print-checkpatch)
mapfile -t csrc < <(ls module/*.[ch] module/uapi/linux/*.h 2>/dev/null)
say "checkpatch: ${#csrc[@]} module files"
if [ "${#csrc[@]}" -gt 0 ]; then
	perl "$CP/checkpatch.pl" --no-tree --terse --show-types --strict \
		--ignore FILE_PATH_CHANGES \
		-f "${csrc[@]}" || rc=1
fi

say "SPDX lines"
for f in Kbuild Makefile "${shells[@]}" "${csrc[@]}" userspace/*.c selftests/*.[ch]; do
	[ -f "$f" ] || continue
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0' ||
		{ echo "$f: missing SPDX-License-Identifier line"; rc=1; }
done

if [ "$rc" = 0 ]; then say "clean"; else say "problems found"; fi
exit "$rc"
