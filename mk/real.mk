# SPDX-License-Identifier: GPL-2.0
#
# make check-real: real, unmodified programs (python3 http.server + curl,
# socat TCP and UDP, iperf3, a Python asyncio server with 200 clients) over
# AF_TOY through toywrap, plus the io_uring and edge-triggered epoll
# selftests, in a VM booted on the host's root file system
# (scripts/vm --rootfs host) per stock kernel of $(KERNELS), one after the
# other (scripts/check-real.sh).  Prints TAP, "<release>: N passed, N
# failed" with iperf3's AF_TOY and TCP loopback figures, and a total.
#
#   make check-real                 6.1 and 6.12
#   make check-real KERNELS=6.12    one kernel
#   make check-real IPERF_SECS=10   a longer iperf3 run

#: IPERF_SECS=3          seconds of each iperf3 run of make check-real
IPERF_SECS ?= 3

.PHONY: check-real

check-real: ## real programs (curl, socat, iperf3, asyncio) over AF_TOY via toywrap, VM on the host's root per stock kernel
	@IPERF_SECS=$(IPERF_SECS) scripts/check-real.sh $(filter-out %-rt,$(KERNELS))
