#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (once, cached) a 6.12 debug kernel from Debian's
# linux-source-6.12 with KASAN (generic, inline), lockdep (PROVE_LOCKING),
# DEBUG_ATOMIC_SLEEP, kmemleak, UBSAN, DEBUG_LIST, DEBUG_OBJECTS and failslab:
#   make tinyconfig + scripts/debug-kernel.config, then olddefconfig.
#
# Usage: scripts/debug-kernel.sh [--print-kdir | --print-vmlinuz | --print-release]
#                                [--force] [--check]
#   (no option)      build if needed, print "kdir vmlinuz" on stdout
#   --print-kdir     build if needed, print the kernel build directory
#   --print-vmlinuz  build if needed, print the bzImage path
#   --print-release  build if needed, print the kernel release
#   --force          rebuild even if the cache stamp exists
#   --check          `make check-debug`: build the kernel (cached), af_toy.ko
#                    against it and the selftests, then in the debug VM run
#                    the whole suite, the fuzzer with failslab, rmmod and a
#                    kmemleak scan.  Fails on a failed test, a kernel splat
#                    (KASAN, lockdep, UBSAN, ...), a kmemleak report, a
#                    module that does not unload or a run that does not
#                    match selftests/MANIFEST (series "debug").  Also
#                    prints af_toy's gcov line/branch coverage of the run
#                    (scripts/coverage.sh --summary).  Environment:
#                      FUZZ_OPS (default 1000000), FUZZ_SECS (default 600),
#                      FUZZ_FAILSLAB percent (default 5), FUZZ_SEED (default 1),
#                      FUZZ_FAILPAGE percent for fail_page_alloc (default 2),
#                      DEBUG_VM_TIMEOUT (default 5400), DEBUG_VM_MEM (2G)
#                    Logs: build/logs/debug-*.  The fuzzer's corpus (KCOV)
#                    is kept in build/fuzz-corpus/corpus.txt: given to the
#                    next run, replaced by what the run printed.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/af_toy/debug-6.12/
#   src-<pkgversion>/     extracted source (shared by all configs)
#   build-<key>/          O= build tree; key = hash(source package version +
#                         config fragment + this script's config steps)
#   vmlinuz-<release>     copy of the bzImage (what scripts/vm boots)
# Progress goes to stderr; the full build log to build-<key>/build.log.

set -eu

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/af_toy
DIR=$CACHE/debug-6.12
FRAGMENT=$SCRIPT_DIR/debug-kernel.config
PKG=linux-source-6.12
TARBALL=/usr/src/linux-source-6.12.tar.xz
CONFIG_STEPS_VERSION=1 # bump when the config recipe below changes

PROG=debug-kernel
# shellcheck source-path=SCRIPTDIR
. "$SCRIPT_DIR/lib.sh"

what=both
force=0
check=0
while [ $# -gt 0 ]; do
	case "$1" in
	--check) check=1 ;;
	--print-kdir) what=kdir ;;
	--print-vmlinuz) what=vmlinuz ;;
	--print-release) what=release ;;
	--force) force=1 ;;
	-h | --help) sed -n '/^# Usage:/,/^# Progress/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
	*) die "unknown option $1" ;;
	esac
	shift
done

[ -f "$FRAGMENT" ] || die "config fragment missing: $FRAGMENT"
# Build dependencies of a kernel, installed when missing (fresh Debian 12).
need_pkgs=""
for pc in make:make gcc:gcc flex:flex bison:bison bc:bc xz:xz-utils \
	sha256sum:coreutils cpio:cpio; do
	command -v "${pc%%:*}" >/dev/null 2>&1 || need_pkgs="$need_pkgs ${pc#*:}"
done
[ -f /usr/include/libelf.h ] || need_pkgs="$need_pkgs libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || need_pkgs="$need_pkgs libssl-dev"
# shellcheck disable=SC2086
apt_install_missing $need_pkgs
for c in make gcc flex bison bc xz sha256sum; do
	command -v "$c" >/dev/null 2>&1 || die "$c missing (apt-get install build-essential flex bison bc xz-utils)"
done
[ -f /usr/include/libelf.h ] || die "libelf.h missing (apt-get install libelf-dev; objtool needs it)"

# ------------------------------------------------------------ check-debug
# The guest side: runs in the VM as /bin/debug-guest (busybox sh).
guest_script() {
	cat <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# af_toy check-debug, guest side: suite, fuzzer with failslab, kmemleak.
set -u
KL=/sys/kernel/debug/kmemleak
rc=0
. /etc/debug-check.conf
echo "# debug-guest: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
if [ -w "$KL" ]; then
	# forget everything allocated so far (boot): only new leaks count
	echo scan >"$KL"
	echo clear >"$KL"
else
	echo "# debug-guest: $KL missing: kmemleak not available"
	rc=1
fi
tests=$(cd /selftests && for f in toy_*; do
	[ -x "$f" ] && [ "$f" != toy_fuzz ] && echo "$f"
done | sort)
start=$(date +%s)
# shellcheck disable=SC2086
run_selftests $tests || rc=1
echo "# debug-guest: suite took $(($(date +%s) - start))s"
start=$(date +%s)
if [ -x /selftests/toy_fuzz ]; then
	TOY_FUZZ_OPS=$FUZZ_OPS TOY_FUZZ_SECS=$FUZZ_SECS TOY_FUZZ_FAILSLAB=$FUZZ_FAILSLAB \
		TOY_FUZZ_FAILPAGE=$FUZZ_FAILPAGE TOY_FUZZ_CORPUS=$FUZZ_CORPUS \
		TOY_FUZZ_SEED=$FUZZ_SEED run_selftests toy_fuzz || rc=1
fi
echo "# debug-guest: fuzz took $(($(date +%s) - start))s"
if grep -q '^af_toy ' /proc/modules; then
	echo "# debug-guest: af_toy still loaded after the runs"
	rmmod af_toy || rc=1
fi
if [ -w "$KL" ]; then
	# kmemleak only reports objects older than 5 s, found unreferenced twice
	sleep 6
	echo scan >"$KL"
	sleep 2
	echo scan >"$KL"
	n=$(grep -c '^unreferenced object' "$KL")
	if [ "$n" -gt 0 ]; then
		echo "# debug-guest: kmemleak: $n unreferenced objects:"
		head -n 400 "$KL" | sed 's/^/# kmemleak: /'
		echo "# debug-guest: kmemleak: $n leaks ($(grep -c 'af_toy\|toy_' "$KL") af_toy frames)"
		rc=1
	else
		echo "# debug-guest: kmemleak: 0 leaks"
	fi
fi
# af_toy's gcov counters (kept by gcov_persist after rmmod, summed over
# every load): a gzipped tar, base64 between markers; the host cuts it out
# of the log (scripts/coverage.sh --summary).  debugfs reports a size of 0:
# copy with cat, not tar.
G=/sys/kernel/debug/gcov
if [ -d "$G" ]; then
	find "$G" -name '*.gcda' | while read -r f; do
		mkdir -p "/tmp/gcov/${f%/*}"
		cat "$f" >"/tmp/gcov/$f"
	done
	echo "# gcov-data-begin"
	tar -C /tmp/gcov -czf - . | base64
	echo "# gcov-data-end"
fi
exit "$rc"
EOF
}

run_check() {
	local repo build logs work ko kos modargs=() rc=0 out con pass fail t0 ops faults
	local mm mrc=0 nmm=0 cov corpus corpus_args=() pfaults fcov
	repo=$(cd "$SCRIPT_DIR/.." && pwd)
	build=$repo/build
	logs=$build/logs
	corpus=$build/fuzz-corpus/corpus.txt
	t0=$(date +%s)
	mkdir -p "$logs"
	say "building af_toy.ko against $release ($OBJ)"
	kos=$("$SCRIPT_DIR/build-module.sh" --kdir "$OBJ" --coverage 2>"$logs/debug-module-build.log") || {
		tail -n 30 "$logs/debug-module-build.log" >&2
		die "module build against the debug kernel failed"
	}
	while read -r ko; do [ -n "$ko" ] && modargs+=(--module "$ko"); done <<<"$kos"
	say "building the selftests"
	make --no-print-directory -C "$repo" selftests >"$logs/debug-selftests-build.log" 2>&1 || {
		tail -n 30 "$logs/debug-selftests-build.log" >&2
		die "selftests build failed"
	}
	if [ -f "$repo/userspace/Makefile" ]; then
		make --no-print-directory -C "$repo" userspace >"$logs/debug-userspace-build.log" 2>&1 ||
			die "userspace build failed (see $logs/debug-userspace-build.log)"
	fi
	mkdir -p "$build/userspace"
	work=$(mktemp -d "${TMPDIR:-/tmp}/af_toy-debug.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	guest_script >"$work/debug-guest"
	chmod 755 "$work/debug-guest"
	{
		printf 'FUZZ_OPS=%s\nFUZZ_SECS=%s\n' "${FUZZ_OPS:-1000000}" "${FUZZ_SECS:-600}"
		printf 'FUZZ_FAILSLAB=%s\nFUZZ_SEED=%s\n' "${FUZZ_FAILSLAB:-5}" "${FUZZ_SEED:-1}"
		printf 'FUZZ_FAILPAGE=%s\n' "${FUZZ_FAILPAGE:-2}"
		# the corpus of the previous run, if any (toy_fuzz reads it with KCOV)
		[ -s "$corpus" ] && corpus_args=(--add "$corpus:/etc/fuzz-corpus.txt")
		printf 'FUZZ_CORPUS=%s\n' "${corpus_args:+/etc/fuzz-corpus.txt}"
	} >"$work/debug-check.conf"
	# KASAN + lockdep under TCG: a much longer per-binary timeout
	printf 'timeout=%s\n' "$((${FUZZ_SECS:-600} + 900))" >"$work/settings"
	out=$logs/debug-$release.tap
	con=$logs/console-debug-$release.log
	rm -f "$out" "$con"
	say "running the suite + fuzzer in the debug VM (KASAN, lockdep, kmemleak; slow under TCG)"
	"$SCRIPT_DIR/vm" --kernel "$vmlinuz" "${modargs[@]}" --mem "${DEBUG_VM_MEM:-2G}" \
		--add "$build/selftests:/selftests" --add "$build/userspace:/usr/bin" \
		--add "$work/settings:/selftests/settings" \
		--add "$work/debug-guest:/bin/debug-guest" \
		--add "$work/debug-check.conf:/etc/debug-check.conf" "${corpus_args[@]}" \
		--append "sysctl.kernel.hung_task_timeout_secs=120" \
		--timeout "${DEBUG_VM_TIMEOUT:-5400}" --console-log "$con" --output "$out" \
		--exec /bin/debug-guest | sed -u -e '/^# gcov-data-begin/,/^# gcov-data-end/d' -e '/# fuzz-corpus: /d'
	rc=${PIPESTATUS[0]}
	touch "$out"
	# cuts the gcov data out of $out; never changes the verdict
	cov=$("$SCRIPT_DIR/coverage.sh" --summary "$release" "$out" 2>"$logs/debug-coverage.log") ||
		cov="module coverage: unavailable (see $logs/debug-coverage.log)"
	read -r pass fail _ < <(tap_totals "$out")
	# selftests/MANIFEST (series "debug"): each mismatch is one more failure
	mm=$("$SCRIPT_DIR/manifest-check.sh" debug "$out") || mrc=$?
	if [ "$mrc" != 0 ]; then
		nmm=$(printf '%s\n' "$mm" | grep -c '^manifest: ' || true)
		[ "$nmm" -gt 0 ] || nmm=1
		fail=$((fail + nmm))
	fi
	ops=$(sed -n 's/.*fuzz: \([0-9]*\) operations in.*/\1/p' "$out" | tail -n 1)
	faults=$(sed -n 's/.*fuzz: failslab injected faults: \([0-9-]*\).*/\1/p' "$out" | tail -n 1)
	pfaults=$(sed -n 's/.*fuzz: fail_page_alloc injected faults: \([0-9-]*\).*/\1/p' "$out" | tail -n 1)
	fcov=$(sed -n 's/.*fuzz: summary: \([0-9]* af_toy PCs covered, corpus [0-9]* programs\).*/\1/p' "$out" | tail -n 1)
	# the fuzzer's corpus, printed between markers at the end of its run: for the next run
	if grep -q 'fuzz-corpus-end' "$out"; then
		mkdir -p "${corpus%/*}"
		sed -n '/fuzz-corpus-begin/,/fuzz-corpus-end/s/^.*# fuzz-corpus: //p' "$out" >"$corpus.new"
		mv -f "$corpus.new" "$corpus"
	fi
	echo
	[ -z "$mm" ] || printf '%s\n' "$mm"
	if [ "$nmm" = 0 ]; then
		echo "$release: $pass passed, $fail failed"
	else
		echo "$release: $pass passed, $fail failed, $nmm MANIFEST MISMATCH(ES)"
	fi
	echo "$release: fuzz: ${ops:-?} operations, ${faults:-?} injected allocation faults, ${pfaults:-?} injected page allocation faults"
	[ -z "$fcov" ] || echo "$release: fuzz: $fcov (KCOV; corpus kept in $corpus)"
	echo "$release: $cov"
	sed -n 's/^# debug-guest: \(kmemleak: [0-9]* leaks.*\)/'"$release"': \1/p' "$out"
	case "$rc" in
	0) echo "$release: no kernel splat, guest checks passed" ;;
	*) echo "$release: $(vm_rc_note "$rc" "$con" || echo "guest checks failed (exit $rc)")" ;;
	esac
	say "done in $(($(date +%s) - t0))s; logs: $out $con"
	[ "$rc" = 0 ] && [ "$fail" = 0 ]
}

[ -f "$TARBALL" ] || apt_install_missing "$PKG"
version=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null) ||
	die "$PKG is not installed (dpkg-query failed)"

key=$( {
	printf '%s\n%s\n' "$version" "$CONFIG_STEPS_VERSION"
	cat "$FRAGMENT"
} | sha256sum | cut -c1-12)
SRC=$DIR/src-$version
OBJ=$DIR/build-$key
STAMP=$OBJ/.af_toy-done

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
if ! flock -n 9; then
	say "another debug kernel build is running; waiting for it"
	flock 9
fi

if [ ! -f "$SRC/.af_toy-extracted" ]; then
	say "extracting $TARBALL ($version) into $SRC"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$TARBALL" -C "$SRC.tmp" --strip-components=1
	touch "$SRC.tmp/.af_toy-extracted"
	mv "$SRC.tmp" "$SRC"
fi

kmake() { make -C "$SRC" O="$OBJ" ARCH=x86_64 "$@"; }

if [ "$force" = 1 ] || [ ! -f "$STAMP" ]; then
	rm -f "$STAMP"
	if [ ! -d "$OBJ" ]; then
		# Seed from the newest other build tree: kbuild then recompiles
		# only what the changed options touch (minutes instead of many).
		prev=$(find "$DIR" -maxdepth 1 -name 'build-*' -type d -printf '%T@ %p\n' |
			sort -rn | head -n 1 | cut -d' ' -f2-)
		if [ -n "$prev" ] && [ -f "$prev/.af_toy-done" ]; then
			say "seeding $OBJ from $prev"
			cp -a "$prev" "$OBJ.tmp" && mv "$OBJ.tmp" "$OBJ"
		elif [ -n "$prev" ]; then
			say "taking over the unfinished build tree $prev"
			mv "$prev" "$OBJ"
		fi
	fi
	mkdir -p "$OBJ"
	log=$OBJ/build.log
	: >"$log"
	say "configuring (tinyconfig + $(basename "$FRAGMENT")) in $OBJ"
	kmake tinyconfig >>"$log" 2>&1 || die "make tinyconfig failed (see $log)"
	cat "$FRAGMENT" >>"$OBJ/.config"
	kmake olddefconfig >>"$log" 2>&1 || die "make olddefconfig failed (see $log)"
	# every option of the fragment must have survived olddefconfig
	missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$OBJ/.config" || {
				say "config: wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$OBJ/.config" || echo unset)"
				missing=1
			}
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			! grep -q "^$opt=" "$OBJ/.config" || {
				say "config: wanted $opt off, got: $(grep "^$opt=" "$OBJ/.config")"
				missing=1
			}
			;;
		esac
	done <"$FRAGMENT"
	[ "$missing" = 0 ] || die "config fragment not fully applied (dependencies missing?)"
	jobs=$(nproc 2>/dev/null || echo 2)
	say "building the debug kernel with -j$jobs (takes ~6 min on 2 cores; log: $log)"
	start=$(date +%s)
	kmake -j"$jobs" >>"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		die "kernel build failed (see $log)"
	}
	[ -f "$OBJ/Module.symvers" ] || die "no Module.symvers after the build"
	release=$(cat "$OBJ/include/config/kernel.release")
	cp "$OBJ/arch/x86/boot/bzImage" "$DIR/vmlinuz-$release"
	printf 'version=%s\nkey=%s\nrelease=%s\n' "$version" "$key" "$release" >"$STAMP"
	say "built $release in $(($(date +%s) - start))s"
fi

release=$(sed -n 's/^release=//p' "$STAMP")
vmlinuz=$DIR/vmlinuz-$release
[ -f "$vmlinuz" ] || cp "$OBJ/arch/x86/boot/bzImage" "$vmlinuz"
exec 9>&-	# release the build lock

if [ "$check" = 1 ]; then
	run_check
	exit
fi
case "$what" in
kdir) printf '%s\n' "$OBJ" ;;
vmlinuz) printf '%s\n' "$vmlinuz" ;;
release) printf '%s\n' "$release" ;;
both) printf '%s %s\n' "$OBJ" "$vmlinuz" ;;
esac
