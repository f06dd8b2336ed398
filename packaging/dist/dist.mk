# packaging/dist/dist.mk: make dist, the relocatable tarball per architecture for
# bundles with their own LuaJIT (OpenResty, Kong, APISIX) and for unpacking
# anywhere (included by the top-level Makefile after packaging.mk and swap.mk).
#
#   make dist   $(BUILD)/dist/luajit-reclaim-VERSION-linux-{amd64,arm64}.tar.gz (our
#               flags) and -linux-{amd64,arm64}-openresty.tar.gz (OPENRESTY_XCFLAGS), each
#               with MANIFEST.sha256 (every file) and MANIFEST.sha256.asc (signed with
#               the repository key of packaging/signing-key.sh), plus the public key
#               $(BUILD)/dist/luajit-reclaim-archive-keyring.gpg to check them
#
# Invariants: `make` (all) builds none of this (the -openresty variants are built
# for make dist and check-bundle only); the tarball holds the files of the variant's install tree that a user
# runs or builds against (no static library); its bytes depend only on its inputs
# (sorted, owner 0, mtime of the last commit of runtime/version.mk), except the
# signature's time stamp.

DIST_OUT   := $(BUILD)/dist
# The LuaJIT flags OpenResty's own builds use (its docker images and Homebrew
# formula: --with-luajit-xcflags): bundles built from them need our library
# built the same way, shipped as the -openresty tarballs.
OPENRESTY_XCFLAGS := -DLUAJIT_NUMMODE=2 -DLUAJIT_ENABLE_LUA52COMPAT
DIST_DEPS  := packaging/dist/make-dist.sh packaging/dist/README.md packaging/dist/dist.mk \
              $(PKG_OUT)/signing/env
DIST_EPOCH := $(or $(shell git log -1 --format=%ct -- runtime/version.mk 2>/dev/null),0)

$(eval $(call variant,x86_64-openresty,x86_64,0,0,$(OPENRESTY_XCFLAGS)))
$(eval $(call variant,arm64-openresty,arm64,0,0,$(OPENRESTY_XCFLAGS)))
$(eval $(call swap_install,x86_64-openresty,x86_64))
$(eval $(call swap_install,arm64-openresty,arm64))

# dist_tarball VARIANT DEB_ARCH[-FLAVOUR] MEMSTAT_VARIANT: luajit-memstat links only
# libc, so the -openresty tarballs take the release variant's.
define dist_tarball
$(DIST_OUT)/luajit-reclaim-$(RECLAIM_VERSION)-linux-$(2).tar.gz: $(BUILD)/$(1)/.stamp \
  $(BUILD)/$(3)/bin/luajit-memstat $(BUILD)/$(1)/lib/luajit-reclaim/.stamp $(DIST_DEPS)
	@SOURCE_DATE_EPOCH=$(DIST_EPOCH) packaging/dist/make-dist.sh $(BUILD)/$(1) $(2) \
	  $(RECLAIM_VERSION) $(PKG_OUT)/signing $(DIST_OUT) $(BUILD)/$(3)/bin/luajit-memstat
dist: $(DIST_OUT)/luajit-reclaim-$(RECLAIM_VERSION)-linux-$(2).tar.gz
endef
$(eval $(call dist_tarball,x86_64,amd64,x86_64))
$(eval $(call dist_tarball,arm64,arm64,arm64))
$(eval $(call dist_tarball,x86_64-openresty,amd64-openresty,x86_64))
$(eval $(call dist_tarball,arm64-openresty,arm64-openresty,arm64))

.PHONY: dist
