# SPDX-License-Identifier: GPL-2.0
#
# make bench: toyperf (userspace/toyperf/) over AF_TOY, AF_UNIX and TCP/UDP
# loopback, in ONE VM boot per stock kernel of $(KERNELS) (-smp 2; not
# PREEMPT_RT, a test kernel).  Prints the
# table and saves build/bench/<release>.txt and .json.
#
#   make bench                         all kernels, 10 rounds x 0.2 s per cell
#   make bench KERNELS=6.1             one kernel
#   make bench BENCH_ARGS=--quick      2 short rounds (smoke run)
#   make bench BENCH_ARGS="--only stream,pingpong --rounds 5"
#   make bench BENCH_ARGS=--profile    also sample the kernel (profile in .txt)
#   make bench BENCH_ARGS="--only idlemem,bindlat"   only the two figures
#                                      (idle memory per socketpair, bind latency)

BENCH_ARGS ?=
# A loaded TCG host makes the clocksource watchdog mark the TSC unstable
# mid-run; the switch live-patches sched_clock's static key, which under TCG
# crashed a 6.12 guest once (Oops: int3 in sched_clock_cpu). tsc=reliable
# turns the watchdog off, and the vDSO clock stays fast.
BENCH_APPEND ?= tsc=reliable
BENCH_TIMEOUT ?= 1500
BENCH_DIR := $(BUILD)/bench

.PHONY: bench

bench: userspace
	@set -e; mkdir -p $(BENCH_DIR) $(BUILD)/logs; \
	for k in $(filter-out %-rt,$(KERNELS)); do \
		rel=$$(scripts/kernels.sh --print-release $$k); \
		echo "bench: $$rel: building af_toy.ko"; \
		ko=$$(scripts/build-module.sh --kernel $$k | grep '/af_toy\.ko$$' | head -n1); \
		[ -n "$$ko" ] || { echo "bench: $$rel: build-module.sh printed no af_toy.ko" >&2; exit 1; }; \
		echo "bench: $$rel: booting one VM (TCG: several minutes)"; \
		rc=0; \
		scripts/vm --kernel $$k --smp 2 --tcg-thread multi --load "$$ko" --append "$(BENCH_APPEND)" \
			--add $(BUILD)/userspace:/usr/bin \
			--add scripts/bench-guest.sh:/bin/bench-guest \
			--timeout $(BENCH_TIMEOUT) \
			--console-log $(BUILD)/logs/console-bench-$$rel.log \
			--output $(BENCH_DIR)/$$rel.raw \
			--exec "/bin/bench-guest $(BENCH_ARGS)" || rc=$$?; \
		touch $(BENCH_DIR)/$$rel.raw; \
		tr -d '\r' <$(BENCH_DIR)/$$rel.raw | sed '/^@@JSON@@/,$$d' >$(BENCH_DIR)/$$rel.txt; \
		tr -d '\r' <$(BENCH_DIR)/$$rel.raw | sed '1,/^@@JSON@@/d' >$(BENCH_DIR)/$$rel.json; \
		if [ $$rc != 0 ]; then echo "bench: $$rel: VM exit status $$rc (see $(BUILD)/logs/console-bench-$$rel.log)"; fi; \
		echo "bench: $$rel: saved $(BENCH_DIR)/$$rel.txt and $(BENCH_DIR)/$$rel.json"; \
	done; \
	echo; echo "== bench summary"; \
	for k in $(filter-out %-rt,$(KERNELS)); do \
		rel=$$(scripts/kernels.sh --print-release $$k); \
		echo; echo "$$rel:"; \
		sed -n '/^\(workload\|figure\) /,$$p' $(BENCH_DIR)/$$rel.txt | sed '/^## profile/,$$d'; \
	done
