# SPDX-License-Identifier: GPL-2.0
#
# make bench: toyperf (userspace/toyperf/) over AF_TOY, AF_UNIX and TCP/UDP
# loopback, in ONE VM boot per stock kernel of $(KERNELS) (-smp 2; not
# PREEMPT_RT, a test kernel), by scripts/bench.sh: pinned and unpinned.
# Prints the tables, saves build/bench/<release>.txt, <release>-pinned.json,
# <release>-unpinned.json and the chart build/bench/ratios.svg.
#
#   make bench                         all kernels, 10 rounds x 0.2 s per cell,
#                                      pinned and unpinned, chart in ratios.svg
#   make bench KERNELS=6.1             one kernel
#   make bench BENCH_ARGS=--quick      2 short rounds (smoke run)
#   make bench BENCH_ARGS="--only stream,pingpong --rounds 5"
#   make bench BENCH_ARGS=--profile    also sample the kernel (profile in .txt)
#   make bench BENCH_ARGS="--only idlemem,bindlat,callcost"   only the figures
#                                      (idle memory per socketpair, bind latency,
#                                      the cost of each call of a connection)
#   make bench BENCH_IPERF=10          also iperf3 for 10 s over AF_TOY
#                                      (toywrap) and over TCP loopback: the VM
#                                      then runs on the host's root file system

#: BENCH_ARGS=           toyperf options for make bench (--quick, --only LIST, --rounds N, --profile)
#: BENCH_TIMEOUT=1500    seconds per bench VM
#: BENCH_IPERF=0         make bench: seconds of iperf3 over toywrap and over TCP (0: none)
BENCH_ARGS ?=
BENCH_TIMEOUT ?= 1500
BENCH_IPERF ?= 0
# (tsc=reliable for TCG guests: scripts/vm sets it, for every VM)

.PHONY: bench

bench: userspace ## toyperf over AF_TOY, AF_UNIX and TCP/UDP in one VM per stock kernel (BENCH_ARGS=, BENCH_IPERF=)
	@BENCH_ARGS="$(BENCH_ARGS)" BENCH_TIMEOUT=$(BENCH_TIMEOUT) BENCH_IPERF=$(BENCH_IPERF) \
		scripts/bench.sh $(filter-out %-rt,$(KERNELS))
