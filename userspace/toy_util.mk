# SPDX-License-Identifier: GPL-2.0
#
# toy_util (toy_util.c, toy_util.h here): the library the tools and the
# selftests share, built as a static archive.  userspace/Makefile and
# selftests/Makefile include this file after setting CC, CFLAGS and
# TOY_UTIL_OBJ (a directory of build products that are no binaries: the
# binaries' directories are copied whole into the test VM), then link
# $(TOY_UTIL_LIB) into every binary and compile with $(TOY_UTIL_CFLAGS).

TOY_UTIL_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
TOY_UTIL_LIB := $(TOY_UTIL_OBJ)/libtoy_util.a
TOY_UTIL_CFLAGS := -I$(TOY_UTIL_DIR)
TOY_UTIL_HDRS := $(TOY_UTIL_DIR)/toy_util.h \
	$(wildcard $(TOY_UTIL_DIR)/../module/uapi/linux/*.h)

$(TOY_UTIL_OBJ)/toy_util.o: $(TOY_UTIL_DIR)/toy_util.c $(TOY_UTIL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TOY_UTIL_CFLAGS) -c -o $@ $<

$(TOY_UTIL_LIB): $(TOY_UTIL_OBJ)/toy_util.o
	rm -f $@
	$(AR) rcs $@ $^
