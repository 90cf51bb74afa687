# SPDX-License-Identifier: GPL-2.0
#
# af_toy top-level Makefile: a thin wrapper around Kbuild and scripts/.
#
#   make help               every target and variable, from the makefiles
#
# Each target's rule carries its one-line description after "## " (on the
# rule line: `target: prerequisites ## text`), each variable a "#: " line;
# `make help` extracts both from this file and mk/*.mk, and lists a .PHONY
# target without a description too, marked undocumented.
#
# The standard `make -C <kdir> M=$PWD modules` also works from the repo root
# (that is what Kbuild is for); this Makefile builds out of tree instead, in
# build/<release>/, so several kernels never clash.

#: KERNEL=6.1|6.12       build (make, make install) for a Debian kernel, fetched into the cache
#: KDIR=/path            build for any kernel build directory (default: the running kernel)
#: KERNELS="6.1 6.12 6.12-rt"  the kernels of make check, lint, bench, check-autoload, dkms-check
KERNELS ?= 6.1 6.12 6.12-rt
export KERNELS

CACHE_HOME := $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)
CACHE := $(CACHE_HOME)/af_toy
BUILD := $(CURDIR)/build
HARNESS_DIR := $(CACHE)/kselftest/tools/testing/selftests

#: ROOTFS=host          make shell: the guest on the host's root file system (read-only, tmpfs overlay)
# make shell / make run default to the newest stock (non-RT) series
VM_KERNEL := $(if $(KERNEL),$(KERNEL),$(lastword $(filter-out %-rt,$(KERNELS))))

.PHONY: all module selftests userspace kernels harness check check-runner \
	shell run lint clean help

all: module ## build af_toy.ko (the default; KERNEL=, KDIR= or the running kernel)

# One awk over every makefile: "target: ... ## text" rules, "#: " variable
# lines, and the .PHONY targets (with continuation lines) that have no text.
help: ## this list
	@awk ' \
	phony || /^\.PHONY:/ { \
		l = $$0; sub(/^\.PHONY:/, "", l); phony = sub(/\\$$/, "", l); \
		n = split(l, w, /[ \t]+/); for (i = 1; i <= n; i++) if (w[i] != "") ph[w[i]] = 1; \
		next } \
	/^[A-Za-z0-9_.-]+:.*## / { \
		t = $$0; sub(/:.*/, "", t); d = $$0; sub(/^[^#]*## /, "", d); \
		if (!(t in doc)) order[++nt] = t; doc[t] = d; next } \
	/^#: / { v[++nv] = substr($$0, 4) } \
	END { \
		print "Targets (make TARGET):"; \
		for (i = 1; i <= nt; i++) printf "  %-16s %s\n", order[i], doc[order[i]]; \
		for (t in ph) if (!(t in doc)) printf "  %-16s (undocumented)\n", t; \
		print ""; print "Variables (make TARGET VAR=value):"; \
		for (i = 1; i <= nv; i++) print "  " v[i] }' $(MAKEFILE_LIST)

module: ## build the modules (af_toy.ko, af_toy_diag.ko, af_toy_mon.ko) into build/<release>/
	@kos=$$(scripts/build-module.sh $(if $(KDIR),--kdir $(KDIR),$(if $(KERNEL),--kernel $(KERNEL)))) && \
		for k in $$kos; do echo "module: $$k"; done

kernels: ## fetch the kernels of $(KERNELS) into the cache
	@scripts/kernels.sh $(KERNELS)

harness: ## extract the kselftest harness headers into the cache
	@scripts/kernels.sh --print-harness >/dev/null

selftests: harness ## build the selftests into build/selftests/
	@if [ -f selftests/Makefile ]; then \
		$(MAKE) --no-print-directory -C selftests OUT=$(BUILD)/selftests HARNESS_DIR=$(HARNESS_DIR); \
	else echo "selftests: no selftests/Makefile yet"; fi

userspace: ## build the userspace tools into build/userspace/
	@scripts/toolchain.sh
	@if [ -f userspace/Makefile ]; then \
		$(MAKE) --no-print-directory -C userspace OUT=$(BUILD)/userspace; \
	else echo "userspace: no userspace/Makefile yet"; fi

check: ## module + selftests in a VM per kernel of $(KERNELS): "N passed, N failed"
	@scripts/check.sh

check-runner: ## VM runner self-test (a planted WARN must fail the run)
	@scripts/check.sh --runner-only

# every .ko built from Kbuild goes to / in the guest
VM_MODULES = $$(for k in $$kos; do printf -- '--module %s ' "$$k"; done)

shell: selftests userspace ## interactive VM shell with the modules and tools (KERNEL=, ROOTFS=host)
	@kos=$$(scripts/build-module.sh --kernel $(VM_KERNEL)) && \
	scripts/vm --kernel $(VM_KERNEL) $(VM_MODULES) $(if $(ROOTFS),--rootfs $(ROOTFS)) \
		--add $(BUILD)/selftests:/selftests --add $(BUILD)/userspace:/usr/bin \
		--add scripts/demo-guest.sh:/bin/demo-guest --cpio "$$(scripts/guest-tools.sh)" \
		--console-log $(BUILD)/logs/console-shell.log --shell

run: userspace ## the demo in a VM: echo over AF_TOY, toyflow, tcpdump; build/toy.pcap, build/toyflow.svg (KERNEL=)
	@kos=$$(scripts/build-module.sh --kernel $(VM_KERNEL)) && \
	tools=$$(scripts/guest-tools.sh) && \
	scripts/vm --kernel $(VM_KERNEL) $(VM_MODULES) --cpio "$$tools" \
		--add $(BUILD)/userspace:/usr/bin --add scripts/demo-guest.sh:/bin/demo-guest \
		--console-log $(BUILD)/logs/console-run.log --timeout 300 --exec /bin/demo-guest \
		--fetch $(BUILD)

lint: ## checkpatch, W=1, sparse, shellcheck, SPDX, README table, man pages
	@scripts/lint.sh

clean: ## remove build/ and in-tree kbuild leftovers
	rm -rf $(BUILD)
	rm -f Module.symvers modules.order
	find . module -maxdepth 1 -type f \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '*.mod.o' -o -name '.*.cmd' -o -name '*.o.d' \) -delete

# Extra targets live in mk/*.mk, one file per concern (bench, debug, install...).
-include $(sort $(wildcard mk/*.mk))
