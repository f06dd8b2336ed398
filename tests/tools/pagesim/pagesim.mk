# tests/tools/pagesim/pagesim.mk -- build and check the page-size simulator.
#
# A Make fragment included by the top-level Makefile (paths relative to the
# repository root; BUILD and CC come from the includer). It defines no
# default goal. Targets:
#   $(BUILD)/tools/pagesim.so   the LD_PRELOAD library (native host only)
#   check-pagesim-tool          proves the tool at 4K, 16K and 64K
#   pagesim-luajit-demo         runs two LuaJIT one-liners under the tool
#                               at each page size and prints the reports
#                               (a demonstration, it asserts only that the
#                               runs succeed); LUAJIT=path selects the binary
# Standalone: make -f tests/tools/pagesim/pagesim.mk check-pagesim-tool

BUILD ?= build
PAGESIM_DIR := tests/tools/pagesim
PAGESIM_LIB := $(BUILD)/tools/pagesim.so
PAGESIM_PROBE := $(BUILD)/tools/pagesim_probe
PAGESIM_CFLAGS := -std=c99 -O2 -g -Wall -Wextra
LUAJIT ?= $(BUILD)/stock-x86_64/bin/luajit

$(PAGESIM_LIB): $(PAGESIM_DIR)/pagesim.c $(PAGESIM_DIR)/pagesim.mk
	@mkdir -p $(@D)
	$(CC) $(PAGESIM_CFLAGS) -fPIC -shared -o $@ $< -ldl -pthread

$(PAGESIM_PROBE): $(PAGESIM_DIR)/pagesim_probe.c $(PAGESIM_DIR)/pagesim.mk
	@mkdir -p $(@D)
	$(CC) $(PAGESIM_CFLAGS) -o $@ $< -pthread

check-pagesim-tool: $(PAGESIM_LIB) $(PAGESIM_PROBE)
	sh $(PAGESIM_DIR)/check-pagesim.sh $(BUILD)/tools

PAGESIM_DEMO_ALLOC := local t={} for i=1,1e6 do t[i]={i} end t=nil collectgarbage()
PAGESIM_DEMO_JIT := local s=0 for i=1,3e6 do s=s+(i%7)*(i%13) end \
  local t={} for i=1,2e5 do t[i]=tostring(i):rep(3) end \
  local f=require("ffi") local cb=f.cast("int(*)(int)",function(x) return x+1 end) \
  assert(cb(s%100)>0)

pagesim-luajit-demo: $(PAGESIM_LIB)
	@test -x "$(LUAJIT)" || { echo "pagesim-luajit-demo: no LuaJIT at '$(LUAJIT)' (set LUAJIT=)"; exit 1; }
	@set -e; for p in 4096 16384 65536; do \
	  echo "== -p $$p: allocation churn"; \
	  $(PAGESIM_DIR)/pagesim -p $$p -- $(LUAJIT) -e '$(PAGESIM_DEMO_ALLOC)'; \
	  echo "== -p $$p: JIT loops, strings, an FFI callback, -Osizemcode=16"; \
	  $(PAGESIM_DIR)/pagesim -p $$p -- $(LUAJIT) -Osizemcode=16 -e '$(PAGESIM_DEMO_JIT)'; \
	done

.PHONY: check-pagesim-tool pagesim-luajit-demo
