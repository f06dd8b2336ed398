# runtime/tools/memstat/memstat.mk: luajit-memstat, the tool that shows a running
# process's memory from outside (included by the top-level Makefile; needs BUILD,
# RECLAIM_VERSION and the arch/*.mk facts).
#
#   $(BUILD)/tools/luajit-memstat   the native build (-Werror), what the tests run
#   memstat-install                 bin/luajit-memstat and share/man/man1/luajit-memstat.1
#                                   in the install tree of each release variant
#                                   (x86_64, arm64 cross-built, arm64-static static);
#                                   `make` (all) runs it
#   check-memstat                   tests/memstat/: against live processes (ours, stock
#                                   LuaJIT, none), permissions, --all, --watch, --record,
#                                   JSON against tests/memstat/schema.json, Prometheus
#                                   through promtool and a strict parser, the man page
#
# Invariant: the tool reads the registry format of runtime/reclaim/rcl_registry.h, so
# any change of that header rebuilds it; it links nothing but libc.

MEMSTAT_DIR     := runtime/tools/memstat
MEMSTAT_SOURCES := $(wildcard $(MEMSTAT_DIR)/*.c)
MEMSTAT_DEPS    := $(MEMSTAT_SOURCES) $(MEMSTAT_DIR)/memstat.h runtime/reclaim/rcl_registry.h \
                   runtime/reclaim/rcl.h runtime/version.mk $(MEMSTAT_DIR)/memstat.mk
MEMSTAT_CFLAGS  := -std=c99 -O2 -g -Wall -Wextra -Werror -I$(MEMSTAT_DIR) -Iruntime/reclaim \
                   -DMEMSTAT_VERSION='"$(RECLAIM_VERSION)"'
MEMSTAT_MAN     := runtime/doc/luajit-memstat.1
MEMSTAT         := $(BUILD)/tools/luajit-memstat

$(MEMSTAT): $(MEMSTAT_DEPS)
	@mkdir -p $(@D)
	$(CC) $(MEMSTAT_CFLAGS) $(MEMSTAT_SOURCES) -o $@

# memstat_install VARIANT TARGET STATIC: the tool and its man page in a variant's
# install tree, built with that target's compiler and Debian's hardening flags.
# It follows the variant's stamp, since build-variant.sh recreates the tree.
define memstat_install
$(BUILD)/$(1)/bin/luajit-memstat: $(MEMSTAT_DEPS) $(MEMSTAT_MAN) $(BUILD)/$(1)/.stamp
	$$($(2)_CROSS)gcc $(MEMSTAT_CFLAGS) \
	  $$$$(DEB_HOST_ARCH=$($(2)_DEB_ARCH) dpkg-buildflags --get CFLAGS) \
	  $$$$(DEB_HOST_ARCH=$($(2)_DEB_ARCH) dpkg-buildflags --get LDFLAGS) \
	  $(if $(filter 1,$(3)),-static) $(MEMSTAT_SOURCES) -o $$@
	@mkdir -p $(BUILD)/$(1)/share/man/man1
	cp $(MEMSTAT_MAN) $(BUILD)/$(1)/share/man/man1/luajit-memstat.1
memstat-install: $(BUILD)/$(1)/bin/luajit-memstat
endef
$(eval $(call memstat_install,x86_64,x86_64,0))
$(eval $(call memstat_install,arm64,arm64,0))
$(eval $(call memstat_install,arm64-static,arm64,1))

.PHONY: memstat-install check-memstat
all: memstat-install

# The tests compare with a stock LuaJIT process (no registry) and read our own.
check-memstat: $(MEMSTAT) $(BUILD)/x86_64/.stamp $(BUILD)/stock-x86_64/.stamp
	@tests/memstat/run.sh $(MEMSTAT) $(BUILD)
