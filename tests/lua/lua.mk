# tests/lua/lua.mk: Lua test suites, included by the top-level Makefile (needs BUILD and the
# arch/*.mk facts, e.g. arm64_RUN).
#
#   check-lua          tests/lua/*.lua on build/x86_64, JIT modes on, off and hotloop
#   check-lua-arm64    the same on build/arm64 under qemu-user ($(arm64_RUN))
#   check-reclaim      tests/reclaim/*.lua on build/x86_64, JIT modes on and off
#   check-lua-assert   tests/lua/*.lua and tests/reclaim/*.lua on build/x86_64-assert (VM and
#                      allocator assertions on), JIT modes on and off
#   check-lua-stock    tests/lua/*.lua on build/stock-x86_64 (what upstream passes; the
#                      luajit-reclaim specific checks are expected to fail there)
#   check-lua-openresty  tests/lua/*.lua and tests/reclaim/*.lua on build/x86_64-openresty
#                      (OpenResty's LuaJIT flags, the -openresty tarballs of make dist), JIT on
#                      and off, with LUAJIT_TEST_LUA52COMPAT=1 (tests expect Lua 5.2 behaviour)
#
# Invariants: every test file runs as its own process through tests/lua/runner.lua, which prints
# "N passed, N failed" last and exits non-zero on any failure; each target depends on the stamp
# of the build it tests; LUA_PATH points at that build's own jit.* modules.
# Variables: LUA_TEST_TIMEOUT (seconds per test process), LUA_TEST_ARGS (extra runner options).

LUA_TEST_RUNNER  := tests/lua/runner.lua
LUA_TEST_FILES   := $(filter-out $(LUA_TEST_RUNNER),$(sort $(wildcard tests/lua/*.lua)))
RECLAIM_TEST_FILES := $(sort $(wildcard tests/reclaim/*.lua))
LUA_TEST_TIMEOUT ?= 300
LUA_TEST_ARGS    ?=

# lua_test_run BUILD-VARIANT RUN-PREFIX MODE FILES [ENV]: runs the runner for one build; an empty
# MODE means the runner's default (on and off).  The runner itself runs on the build under test.
define lua_test_run
	LUA_PATH='$(BUILD)/$(1)/share/luajit-2.1/?.lua;;' $(5) \
	  $(strip $(2) $(BUILD)/$(1)/bin/luajit) $(LUA_TEST_RUNNER) \
	  --luajit '$(strip $(2) $(BUILD)/$(1)/bin/luajit)' $(if $(3),--mode $(3)) \
	  --timeout $(LUA_TEST_TIMEOUT) $(LUA_TEST_ARGS) $(4)
endef

.PHONY: check-lua check-lua-arm64 check-reclaim check-lua-assert check-lua-stock check-lua-openresty

check-lua: $(BUILD)/x86_64/.stamp
	$(call lua_test_run,x86_64,,all,$(LUA_TEST_FILES))

check-lua-arm64: $(BUILD)/arm64/.stamp
	$(call lua_test_run,arm64,$(arm64_RUN),all,$(LUA_TEST_FILES),LUAJIT_TEST_SMALL=1)

check-reclaim: $(BUILD)/x86_64/.stamp
	$(call lua_test_run,x86_64,,,$(RECLAIM_TEST_FILES))

check-lua-assert: $(BUILD)/x86_64-assert/.stamp
	$(call lua_test_run,x86_64-assert,,,$(LUA_TEST_FILES) $(RECLAIM_TEST_FILES))

check-lua-stock: $(BUILD)/stock-x86_64/.stamp
	$(call lua_test_run,stock-x86_64,,all,$(LUA_TEST_FILES))

check-lua-openresty: $(BUILD)/x86_64-openresty/.stamp
	$(call lua_test_run,x86_64-openresty,,,$(LUA_TEST_FILES) $(RECLAIM_TEST_FILES),LUAJIT_TEST_LUA52COMPAT=1)
