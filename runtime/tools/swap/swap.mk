# runtime/tools/swap/swap.mk: luajit-reclaim-swap and luajit-reclaim-run, the tools
# that put our LuaJIT into a bundle's prefix (OpenResty, Kong, APISIX) or preload
# it for a trial (included by the top-level Makefile after memstat.mk; needs BUILD
# and the arch/*.mk facts).
#
#   swap-install   into the install tree of each dynamic release variant (x86_64,
#                  arm64 cross-built): bin/luajit-reclaim-swap, bin/luajit-reclaim-run,
#                  the private directory lib/luajit-reclaim/ (libluajit-5.1.so.2 -> ours,
#                  luajit-reclaim-probe, fingerprint.lua, shell.sh) and the man pages;
#                  `make` (all) runs it, make dist packs it
#
# Invariants: the probe is linked to libluajit-5.1.so.2 by SONAME with no run path
# (LD_LIBRARY_PATH picks the library it probes); lib/shell.sh is copied as the
# private shell.sh, never forked; each tree's files follow the variant's stamp,
# since build-variant.sh recreates the tree.

SWAP_DIR    := runtime/tools/swap
SWAP_TOOLS  := $(SWAP_DIR)/luajit-reclaim-swap $(SWAP_DIR)/luajit-reclaim-run
SWAP_MAN    := $(SWAP_DIR)/luajit-reclaim-swap.1 $(SWAP_DIR)/luajit-reclaim-run.1
SWAP_DEPS   := $(SWAP_DIR)/probe.c $(SWAP_DIR)/fingerprint.lua $(SWAP_TOOLS) $(SWAP_MAN) \
               lib/shell.sh $(SWAP_DIR)/swap.mk
SWAP_CFLAGS := -std=c99 -O2 -g -Wall -Wextra -Werror

# swap_install VARIANT TARGET: the rule of VARIANT's stamp (packaging/dist/dist.mk
# calls it for the -openresty variants too).
define swap_install
$(BUILD)/$(1)/lib/luajit-reclaim/.stamp: $(SWAP_DEPS) $(BUILD)/$(1)/.stamp
	@mkdir -p $$(@D) $(BUILD)/$(1)/share/man/man1
	$$($(2)_CROSS)gcc $(SWAP_CFLAGS) \
	  $$$$(DEB_HOST_ARCH=$($(2)_DEB_ARCH) dpkg-buildflags --get CFLAGS) \
	  $$$$(DEB_HOST_ARCH=$($(2)_DEB_ARCH) dpkg-buildflags --get LDFLAGS) \
	  -I$(BUILD)/$(1)/include/luajit-2.1 $(SWAP_DIR)/probe.c -o $$(@D)/luajit-reclaim-probe \
	  -L$(BUILD)/$(1)/lib -l:libluajit-5.1.so.2
	install -m 755 $(SWAP_TOOLS) $(BUILD)/$(1)/bin/
	install -m 644 $(SWAP_DIR)/fingerprint.lua $$(@D)/
	install -m 644 lib/shell.sh $$(@D)/shell.sh
	ln -sfn ../libluajit-5.1.so.2 $$(@D)/libluajit-5.1.so.2
	install -m 644 $(SWAP_MAN) $(BUILD)/$(1)/share/man/man1/
	@touch $$@
endef
$(eval $(call swap_install,x86_64,x86_64))
$(eval $(call swap_install,arm64,arm64))
swap-install: $(BUILD)/x86_64/lib/luajit-reclaim/.stamp $(BUILD)/arm64/lib/luajit-reclaim/.stamp

.PHONY: swap-install
all: swap-install
