# SPDX-License-Identifier: GPL-2.0
#
# toywrap: the script toywrap.sh (installed as `toywrap`) and the preload
# library libtoywrap.so it runs programs with, of every *.c here.  The
# library is a shared object (no -static: it is loaded into dynamically
# linked programs), mode 644 so that it is not taken for a tool.
# userspace/Makefile and selftests/Makefile include this file; any
# DIR/libtoywrap.so target builds the library into DIR.

TOYWRAP_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
TOYWRAP_SRCS := $(sort $(wildcard $(TOYWRAP_DIR)/*.c))
TOYWRAP_HDRS := $(wildcard $(TOYWRAP_DIR)/*.h) $(TOYWRAP_DIR)/../../module/uapi/linux/toy.h
TOYWRAP_CFLAGS := -D_GNU_SOURCE -shared -fPIC -O2 -g -Wall -Wextra -pthread -Wl,-z,defs \
	-I$(abspath $(TOYWRAP_DIR)/../../module/uapi)

%/libtoywrap.so: $(TOYWRAP_SRCS) $(TOYWRAP_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TOYWRAP_CFLAGS) -o $@ $(TOYWRAP_SRCS) -ldl
	chmod 644 $@

%/toywrap: $(TOYWRAP_DIR)/toywrap.sh
	@mkdir -p $(dir $@)
	install -m 755 $< $@
