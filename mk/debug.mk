# SPDX-License-Identifier: GPL-2.0
#
# Debug kernel: a 6.12 kernel from Debian's linux-source-6.12 with
# KASAN, lockdep, kmemleak, UBSAN, DEBUG_LIST/OBJECTS and failslab, built
# once into $(CACHE)/debug-6.12/ by scripts/debug-kernel.sh.
#
#   make debug-kernel      build it (cached; ~6 min on 2 idle cores)
#   make check-debug       module + selftests against it; in the debug VM:
#                          whole suite, fuzzer (toy_fuzz) with failslab,
#                          rmmod, kmemleak scan.  Fails on any failed test,
#                          kernel splat, leak or failure to unload.
#   make check-debug FUZZ_OPS=200000 FUZZ_SECS=120 FUZZ_FAILSLAB=2 FUZZ_SEED=7
#   make coverage          af_toy's gcov line/branch coverage: check-debug's
#                          run with the fuzzer for FUZZ_SECS (default 120
#                          here), then per-file figures, every uncovered
#                          line, an lcov HTML report and the fuzzer's
#                          coverage curve in build/coverage/; last line
#                          "module coverage: lines NN.N% (H/T), branches ..."

#: FUZZ_OPS= FUZZ_SECS= FUZZ_FAILSLAB= FUZZ_SEED= DEBUG_VM_TIMEOUT=  the fuzzer of check-debug/coverage (mk/debug.mk)
FUZZ_OPS ?= 1000000
FUZZ_SECS ?= 600
FUZZ_FAILSLAB ?= 5
FUZZ_SEED ?= 1
DEBUG_VM_TIMEOUT ?= 5400

.PHONY: debug-kernel check-debug coverage

debug-kernel: ## build the 6.12 debug kernel (KASAN, lockdep, kmemleak, UBSAN; cached)
	@scripts/debug-kernel.sh >/dev/null && \
		echo "debug-kernel: $$(scripts/debug-kernel.sh --print-release) in $$(scripts/debug-kernel.sh --print-kdir)"

check-debug: harness ## suite + fuzzer with failslab + kmemleak on the debug kernel
	@FUZZ_OPS=$(FUZZ_OPS) FUZZ_SECS=$(FUZZ_SECS) FUZZ_FAILSLAB=$(FUZZ_FAILSLAB) \
		FUZZ_SEED=$(FUZZ_SEED) DEBUG_VM_TIMEOUT=$(DEBUG_VM_TIMEOUT) \
		scripts/debug-kernel.sh --check

# FUZZ_SECS from the command line or the environment wins; else 120 s
coverage: harness ## af_toy gcov line/branch coverage of a check-debug run (build/coverage/)
	@FUZZ_OPS=$(FUZZ_OPS) FUZZ_FAILSLAB=$(FUZZ_FAILSLAB) FUZZ_SEED=$(FUZZ_SEED) \
		FUZZ_SECS=$(if $(filter file,$(origin FUZZ_SECS)),120,$(FUZZ_SECS)) \
		DEBUG_VM_TIMEOUT=$(DEBUG_VM_TIMEOUT) scripts/coverage.sh
