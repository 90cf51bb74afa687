# SPDX-License-Identifier: GPL-2.0
#
# Install, DKMS and autoload.
#
#   make install         build for KERNEL=6.1|6.12, KDIR=<kbuild dir> or the
#                        running kernel, then install:
#                          af_toy.ko, af_toy_diag.ko, af_toy_mon.ko ->
#                            $(DESTDIR)/lib/modules/
#                            <release>/extra (kbuild modules_install, so
#                            compressed as the kernel's config says) + depmod
#                          UAPI headers -> $(DESTDIR)/usr/include/linux/
#                            toy.h, toy_diag.h
#                          userspace tools -> $(DESTDIR)$(PREFIX)/bin
#                          toywrap's preload library -> $(DESTDIR)$(PREFIX)/
#                            lib/toywrap/libtoywrap.so
#                          man pages man/*.<n> -> $(DESTDIR)$(PREFIX)/share/
#                            man/man<n> (uncompressed)
#                        PREFIX defaults to /usr/local, DESTDIR to empty.
#   make uninstall       remove what install put there (same variables)
#   make dkms-check      dkms add/build/install/remove against the Debian
#                        kernels' headers, and the dkms-built modules must
#                        autoload in a VM of each kernel (scripts/dkms-check.sh;
#                        KERNELS=, DKMS_VM=0 skips the VM step)
#   make check-autoload  per kernel of $(KERNELS): `make install` into a VM's
#                        root, then a plain socket(AF_TOY) must load af_toy
#                        through the net-pf-25 alias (no insmod), and a
#                        sock_diag request must load af_toy_diag, and
#                        `ip link add ... type toymon` af_toy_mon

#: PREFIX=/usr/local     install prefix of the tools and man pages
#: DESTDIR=              staging root of install/uninstall
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL ?= install

# The tools userspace/Makefile builds: NAME.c (but the library toy_util.c)
# and NAME/*.c.
USERSPACE_TOOLS = $(filter-out toy_util,$(notdir $(basename $(wildcard userspace/*.c)))) \
	$(sort $(notdir $(patsubst %/,%,$(dir $(wildcard userspace/*/*.c)))))

# The kernel the install is for: the same choice as `make module`.
INSTALL_KSEL = $(if $(KDIR),--kdir $(KDIR),$(if $(KERNEL),--kernel $(KERNEL)))
INSTALL_KDIR = $(if $(KDIR),$(KDIR),$(if $(KERNEL),$$(scripts/kernels.sh --print-kdir $(KERNEL)),/lib/modules/$$(uname -r)/build))

MAN_PAGES = $(sort $(wildcard man/*.[1-8]))
MANDIR = $(DESTDIR)$(PREFIX)/share/man

.PHONY: install install-modules install-headers install-tools install-man \
	uninstall dkms-check check-autoload

install: install-modules install-headers install-tools install-man ## modules + depmod, UAPI headers, tools, man pages (KERNEL=, KDIR=, DESTDIR=, PREFIX=)

install-modules: ## modules_install into lib/modules/<release>/extra + depmod
	@set -e; \
	kos=$$(scripts/build-module.sh $(INSTALL_KSEL)); \
	ko=$$(printf '%s\n' "$$kos" | grep '/af_toy\.ko$$' | head -n1); \
	[ -n "$$ko" ] || { echo "install: build-module.sh printed no af_toy.ko" >&2; exit 1; }; \
	dir=$$(dirname "$$ko"); kdir=$(INSTALL_KDIR); rel=$$(basename "$$dir"); \
	sign=; [ -f "$$kdir/certs/signing_key.pem" ] || sign=CONFIG_MODULE_SIG_ALL=; \
	echo "install: modules for $$rel -> $(DESTDIR)/lib/modules/$$rel/extra"; \
	$(MAKE) --no-print-directory -C "$$kdir" M="$$dir" INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=extra $$sign modules_install 2>&1 | grep -v -e 'System.map' -e '^make' >&2 || true; \
	ls $(DESTDIR)/lib/modules/$$rel/extra/af_toy.ko* >/dev/null 2>&1 || \
		{ echo "install: modules_install did not install af_toy.ko" >&2; exit 1; }; \
	if command -v depmod >/dev/null 2>&1 || [ -x /sbin/depmod ]; then \
		echo "install: depmod $$rel"; \
		log=$$(PATH=$$PATH:/sbin:/usr/sbin depmod $(if $(DESTDIR),-b $(DESTDIR)) -a "$$rel" 2>&1) || \
			{ printf '%s\n' "$$log" >&2; exit 1; }; \
		printf '%s\n' "$$log" | grep -v -e '^$$' -e 'could not open modules\.' >&2 || true; \
	else echo "install: depmod not found (apt-get install kmod); run depmod -a $$rel" >&2; exit 1; fi

install-headers: ## UAPI headers into /usr/include/linux/
	@echo "install: UAPI headers -> $(DESTDIR)/usr/include/linux"
	@$(INSTALL) -d $(DESTDIR)/usr/include/linux
	@$(INSTALL) -m 644 module/uapi/linux/toy.h module/uapi/linux/toy_diag.h \
		$(DESTDIR)/usr/include/linux/

install-tools: userspace ## userspace tools into $(PREFIX)/bin
	@set -e; tools=$$(find $(BUILD)/userspace -maxdepth 1 -type f -perm -u+x | sort); \
	[ -n "$$tools" ] || { echo "install: no userspace tools in $(BUILD)/userspace" >&2; exit 1; }; \
	echo "install: tools -> $(DESTDIR)$(PREFIX)/bin:" $$(for t in $$tools; do basename $$t; done); \
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin; \
	$(INSTALL) -m 755 $$tools $(DESTDIR)$(PREFIX)/bin/; \
	echo "install: libtoywrap.so -> $(DESTDIR)$(PREFIX)/lib/toywrap"; \
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/lib/toywrap; \
	$(INSTALL) -m 644 $(BUILD)/userspace/libtoywrap.so $(DESTDIR)$(PREFIX)/lib/toywrap/

install-man: ## man pages into $(PREFIX)/share/man/man<n>
	@set -e; [ -n "$(MAN_PAGES)" ] || { echo "install: no man pages in man/" >&2; exit 1; }; \
	echo "install: man pages -> $(MANDIR):" $(notdir $(MAN_PAGES)); \
	for p in $(MAN_PAGES); do \
		d=$(MANDIR)/man$${p##*.}; \
		$(INSTALL) -d $$d; \
		$(INSTALL) -m 644 $$p $$d/; \
	done

uninstall: ## remove what install put there (same variables)
	@set -e; \
	kdir=$(INSTALL_KDIR); \
	rel=$$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' "$$kdir/include/generated/utsrelease.h" 2>/dev/null); \
	[ -n "$$rel" ] || { echo "uninstall: cannot tell the kernel release of $$kdir" >&2; exit 1; }; \
	rm -f $(DESTDIR)/lib/modules/$$rel/extra/af_toy.ko* $(DESTDIR)/lib/modules/$$rel/extra/af_toy_diag.ko* \
		$(DESTDIR)/lib/modules/$$rel/extra/af_toy_mon.ko*; \
	if command -v depmod >/dev/null 2>&1 && [ -d $(DESTDIR)/lib/modules/$$rel ]; then \
		depmod $(if $(DESTDIR),-b $(DESTDIR)) -a "$$rel" 2>&1 | \
			grep -v 'could not open modules\.' >&2 || true; fi; \
	rm -f $(DESTDIR)/usr/include/linux/toy.h $(DESTDIR)/usr/include/linux/toy_diag.h; \
	for t in $(USERSPACE_TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t; done; \
	rm -f $(DESTDIR)$(PREFIX)/lib/toywrap/libtoywrap.so; \
	rmdir $(DESTDIR)$(PREFIX)/lib/toywrap 2>/dev/null || true; \
	for p in $(notdir $(MAN_PAGES)); do rm -f $(MANDIR)/man$${p##*.}/$$p; done; \
	echo "uninstall: done ($$rel)"

dkms-check: ## dkms add/build/install/remove per kernel + autoload in a VM (DKMS_VM=0: no VM)
	@scripts/dkms-check.sh $(filter-out %-rt,$(KERNELS))

check-autoload: selftests userspace ## installed module autoloads via net-pf-25 in a VM per kernel
	@scripts/autoload-check.sh $(filter-out %-rt,$(KERNELS))
