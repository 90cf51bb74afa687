# SPDX-License-Identifier: GPL-2.0
#
# Debug kernel (issue 7): a 6.12 kernel from Debian's linux-source-6.12 with
# KASAN, lockdep, kmemleak, UBSAN, DEBUG_LIST/OBJECTS and failslab, built
# once into $(CACHE)/debug-6.12/ by scripts/debug-kernel.sh.
#
#   make debug-kernel      build it (cached; ~6 min on 2 idle cores)
#   make check-debug       module + selftests against it; in the debug VM:
#                          whole suite, fuzzer (toy_fuzz) with failslab,
#                          rmmod, kmemleak scan.  Fails on any failed test,
#                          kernel splat, leak or failure to unload.
#   make check-debug FUZZ_OPS=200000 FUZZ_SECS=120 FUZZ_FAILSLAB=2 FUZZ_SEED=7

FUZZ_OPS ?= 1000000
FUZZ_SECS ?= 600
FUZZ_FAILSLAB ?= 5
FUZZ_SEED ?= 1
DEBUG_VM_TIMEOUT ?= 5400

.PHONY: debug-kernel check-debug

debug-kernel:
	@scripts/debug-kernel.sh >/dev/null && \
		echo "debug-kernel: $$(scripts/debug-kernel.sh --print-release) in $$(scripts/debug-kernel.sh --print-kdir)"

check-debug: harness
	@FUZZ_OPS=$(FUZZ_OPS) FUZZ_SECS=$(FUZZ_SECS) FUZZ_FAILSLAB=$(FUZZ_FAILSLAB) \
		FUZZ_SEED=$(FUZZ_SEED) DEBUG_VM_TIMEOUT=$(DEBUG_VM_TIMEOUT) \
		scripts/debug-kernel.sh --check
