# SPDX-License-Identifier: GPL-2.0
#
# af_toy top-level Makefile: a thin wrapper around Kbuild and scripts/.
#
#   make                    build af_toy.ko for the running kernel
#   make KERNEL=6.1|6.12    ... for a Debian kernel (fetched into the cache)
#   make KDIR=/path         ... for any kernel build directory
#   make check              build + run all tests in a VM for $(KERNELS)
#   make run                the demo: echo server/client in a VM (KERNEL=)
#   make shell              interactive VM shell with module + tools (KERNEL=)
#   make check-runner       VM runner self-test (a planted WARN must fail)
#   make selftests userspace kernels lint clean
#
# The standard `make -C <kdir> M=$PWD modules` also works from the repo root
# (that is what Kbuild is for); this Makefile builds out of tree instead, in
# build/<release>/, so several kernels never clash.

KERNELS ?= 6.1 6.12 6.12-rt
export KERNELS

CACHE_HOME := $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)
CACHE := $(CACHE_HOME)/af_toy
BUILD := $(CURDIR)/build
HARNESS_DIR := $(CACHE)/kselftest/tools/testing/selftests

# make shell / make run default to the newest stock (non-RT) series
VM_KERNEL := $(if $(KERNEL),$(KERNEL),$(lastword $(filter-out %-rt,$(KERNELS))))

.PHONY: all module selftests userspace kernels harness check check-runner \
	shell run lint clean help

all: module

help:
	@sed -n '3,13p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

module:
	@kos=$$(scripts/build-module.sh $(if $(KDIR),--kdir $(KDIR),$(if $(KERNEL),--kernel $(KERNEL)))) && \
		for k in $$kos; do echo "module: $$k"; done

kernels:
	@scripts/kernels.sh $(KERNELS)

harness:
	@scripts/kernels.sh --print-harness >/dev/null

selftests: harness
	@if [ -f selftests/Makefile ]; then \
		$(MAKE) --no-print-directory -C selftests OUT=$(BUILD)/selftests HARNESS_DIR=$(HARNESS_DIR); \
	else echo "selftests: no selftests/Makefile yet"; fi

userspace:
	@if [ -f userspace/Makefile ]; then \
		$(MAKE) --no-print-directory -C userspace OUT=$(BUILD)/userspace; \
	else echo "userspace: no userspace/Makefile yet"; fi

check:
	@scripts/check.sh

check-runner:
	@scripts/check.sh --runner-only

# every .ko built from Kbuild goes to / in the guest
VM_MODULES = $$(for k in $$kos; do printf -- '--module %s ' "$$k"; done)

shell: selftests userspace
	@kos=$$(scripts/build-module.sh --kernel $(VM_KERNEL)) && \
	scripts/vm --kernel $(VM_KERNEL) $(VM_MODULES) \
		--add $(BUILD)/selftests:/selftests --add $(BUILD)/userspace:/usr/bin \
		--add scripts/demo-guest.sh:/bin/demo-guest \
		--console-log $(BUILD)/logs/console-shell.log --shell

run: userspace
	@kos=$$(scripts/build-module.sh --kernel $(VM_KERNEL)) && \
	scripts/vm --kernel $(VM_KERNEL) $(VM_MODULES) \
		--add $(BUILD)/userspace:/usr/bin --add scripts/demo-guest.sh:/bin/demo-guest \
		--console-log $(BUILD)/logs/console-run.log --timeout 300 --exec /bin/demo-guest

lint:
	@scripts/lint.sh

clean:
	rm -rf $(BUILD)
	rm -f Module.symvers modules.order
	find . module -maxdepth 1 -type f \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '*.mod.o' -o -name '.*.cmd' -o -name '*.o.d' \) -delete

# Extra targets live in mk/*.mk, one file per concern (bench, debug, install...).
-include $(sort $(wildcard mk/*.mk))
