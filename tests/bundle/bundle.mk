# tests/bundle/bundle.mk: make check-bundle, luajit-reclaim in an OpenResty-layout
# bundle (included by the top-level Makefile after dist.mk and nginx.mk).
#
#   check-bundle   tests/bundle/run.sh: the amd64 tarball of make dist verified and
#                  unpacked; an OpenResty-layout prefix (Debian's nginx and lua module
#                  with their run path on PREFIX/luajit/lib by patchelf, the stock build
#                  of our pinned upstream in PREFIX/luajit) serving Lua on 127.0.0.1;
#                  luajit-reclaim-run, check, install, reload and binary upgrade, our
#                  library in /proc/PID/maps, require("reclaim"), memory falling after a
#                  wrk burst, revert byte for byte, kill -9 during install and revert,
#                  and the refusals (a symbol we lack, GC64, OpenResty's flags with our
#                  default build - the -openresty tarball then fits -, read-only prefix,
#                  corrupted tarball)
#
# Invariants: the pristine bundle is cached as $(BUILD)/bundle/openresty.tar and
# rebuilt only when its inputs change (Debian's nginx or lua module, the stock
# build, the scripts); every run unpacks it afresh; nginx runs on 127.0.0.1:
# $(BUNDLE_TEST_PORT) only and is killed when the test ends; the GC64 refusal uses
# the cached stock variant stock-x86_64-nogc64, the flags refusal stock-x86_64-openresty.

BUNDLE_TEST_PORT ?= 18190
BUNDLE_OUT := $(BUILD)/bundle

$(eval $(call variant,stock-x86_64-nogc64,x86_64,1,0,-DLUAJIT_DISABLE_GC64))
$(eval $(call variant,stock-x86_64-openresty,x86_64,1,0,$(OPENRESTY_XCFLAGS)))

$(BUNDLE_OUT)/openresty.tar: tests/bundle/make-bundle.sh tests/bundle/bundle.mk \
  $(BUILD)/stock-x86_64/.stamp /usr/sbin/nginx /usr/lib/nginx/modules/ngx_http_lua_module.so \
  /usr/lib/nginx/modules/ndk_http_module.so | $(BUILD)/.deps-ok
	@tests/bundle/make-bundle.sh $(BUILD)/stock-x86_64 $(BUNDLE_OUT)

.PHONY: check-bundle
check-bundle: $(BUNDLE_OUT)/openresty.tar $(BUILD)/stock-x86_64-nogc64/.stamp \
  $(BUILD)/stock-x86_64-openresty/.stamp \
  $(DIST_OUT)/luajit-reclaim-$(RECLAIM_VERSION)-linux-amd64.tar.gz \
  $(DIST_OUT)/luajit-reclaim-$(RECLAIM_VERSION)-linux-amd64-openresty.tar.gz
	@BUNDLE_TEST_PORT=$(BUNDLE_TEST_PORT) tests/bundle/run.sh $(BUILD) \
	  $(DIST_OUT)/luajit-reclaim-$(RECLAIM_VERSION)-linux-amd64.tar.gz \
	  $(DIST_OUT)/luajit-reclaim-$(RECLAIM_VERSION)-linux-amd64-openresty.tar.gz
