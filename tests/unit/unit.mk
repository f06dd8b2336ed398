# tests/unit/unit.mk: Make fragment for the allocator's C tests (included by
# the top-level Makefile; paths relative to the repo root; BUILD and CC come
# from there). Needs libcunit1-dev; valgrind only for check-unit-valgrind.
#
#   check-unit     CUnit suites (fault injection compiled in) + the embedded
#                  smoke test; CUnit's basic-mode summary is printed; fails
#                  on any failed assertion. The suites that purge, map and
#                  unmap (UNIT_FILE_SUITES) run again on the memory-file
#                  backing (LUAJIT_RECLAIM_TEST_BACKING=file, docs/mesh.md)
#   check-stress   randomized stress, ASan+UBSan, fixed seed (STRESS_SEED),
#                  STRESS_OPS operations (10^7), background thread on for
#                  the middle third; then STRESS_FILE_OPS on the memory-file
#                  backing
#   soak           the same with SOAK_OPS (10^9) operations
#   check-unit-valgrind  stress under valgrind memcheck (RCL_VALGRIND client
#                  requests), VALGRIND_OPS operations
#   check-stress-pagesim  the stress test (no sanitizer) under the LD_PRELOAD
#                  page-size simulator at 4K, 16K and 64K, strict (any
#                  unaligned or spilling OS call fails), at 16K and 64K
#                  also on the memory-file backing; then the deliberate
#                  RCL_TEST_FIXED_GRANULE=4096 build, which must pass at 4K
#                  and must FAIL at 16K and 64K (proves the check has teeth)
#   check-stress-arm64  the stress test cross-compiled static for aarch64,
#                  run under qemu-aarch64-static with AT_PAGESZ 4K/16K/64K
#                  (qemu-user does not emulate madvise: this covers the
#                  page-size bookkeeping and invariants, not zeroing)
#   microbench-unit  ns/op against glibc (and LuaJIT's lj_alloc when
#                  LUAJIT_SRC points at an unpacked LuaJIT src/ directory)

include runtime/reclaim/reclaim.mk    # guarded: including it twice is harmless

UNIT_DIR     := tests/unit
UNIT_OUT     := $(BUILD)/unit
UNIT_CFLAGS  := -std=gnu99 -O2 -g -Wall -Wextra -Werror -DRCL_TEST_HOOKS -I$(RCL_DIR) -I$(UNIT_DIR)
UNIT_SAN     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_TESTS   := $(UNIT_DIR)/unit_main.c $(UNIT_DIR)/unit_util.c $(UNIT_DIR)/test_class.c \
                $(UNIT_DIR)/test_alloc.c $(UNIT_DIR)/test_purge.c $(UNIT_DIR)/test_os.c \
                $(UNIT_DIR)/test_config.c $(UNIT_DIR)/test_bg.c \
                $(UNIT_DIR)/test_harden.c $(UNIT_DIR)/test_registry.c \
                $(UNIT_DIR)/test_cgroup.c $(UNIT_DIR)/test_mesh.c $(UNIT_DIR)/test_mesh_core.c \
                $(UNIT_DIR)/test_backing.c
STRESS_SEED  ?= 20251121
STRESS_OPS   ?= 10000000
STRESS_FILE_OPS ?= 3000000
UNIT_FILE_SUITES := alloc purge os background
SOAK_OPS     ?= 1000000000
VALGRIND_OPS ?= 300000
LUAJIT_SRC   ?=

.PHONY: check-unit check-stress soak check-unit-valgrind microbench-unit \
        check-stress-pagesim check-stress-arm64

PAGESIM_OPS  ?= 1000000
ARM64_OPS    ?= 200000
QEMU_AARCH64 ?= qemu-aarch64-static

$(UNIT_OUT)/unit: $(UNIT_TESTS) $(UNIT_DIR)/unit_util.h $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
	$(CC) $(UNIT_CFLAGS) -DRCL_FAULT_INJECTION $(UNIT_TESTS) $(RCL_DIR)/rcl_all.c -o $@ -lcunit -pthread

$(UNIT_OUT)/embed_smoke: $(UNIT_DIR)/embed_smoke.c $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
	$(CC) $(UNIT_CFLAGS) $(UNIT_DIR)/embed_smoke.c -o $@ -pthread

$(UNIT_OUT)/stress: $(UNIT_DIR)/stress.c $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
	$(CC) $(UNIT_CFLAGS) $(UNIT_SAN) $(UNIT_DIR)/stress.c $(RCL_DIR)/rcl_all.c -o $@ -pthread

$(UNIT_OUT)/stress-vg: $(UNIT_DIR)/stress.c $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
	$(CC) $(UNIT_CFLAGS) -DRCL_VALGRIND $(UNIT_DIR)/stress.c $(RCL_DIR)/rcl_all.c -o $@ -pthread

check-unit: $(UNIT_OUT)/unit $(UNIT_OUT)/embed_smoke
	$(UNIT_OUT)/unit
	LUAJIT_RECLAIM_TEST_BACKING=file $(UNIT_OUT)/unit $(UNIT_FILE_SUITES)
	$(UNIT_OUT)/embed_smoke

check-stress: $(UNIT_OUT)/stress
	$(UNIT_OUT)/stress -s $(STRESS_SEED) -n $(STRESS_OPS)
	LUAJIT_RECLAIM_TEST_BACKING=file $(UNIT_OUT)/stress -s $(STRESS_SEED) -n $(STRESS_FILE_OPS)

soak: $(UNIT_OUT)/stress
	$(UNIT_OUT)/stress -s $(STRESS_SEED) -n $(SOAK_OPS) -q

check-unit-valgrind: $(UNIT_OUT)/stress-vg
	@command -v valgrind >/dev/null || { echo "check-unit-valgrind: valgrind not found (apt-get install valgrind)"; exit 1; }
	valgrind --error-exitcode=99 --leak-check=no --quiet $(UNIT_OUT)/stress-vg -s $(STRESS_SEED) -n $(VALGRIND_OPS)

$(UNIT_OUT)/stress-plain: $(UNIT_DIR)/stress.c $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
	$(CC) $(UNIT_CFLAGS) $(UNIT_DIR)/stress.c $(RCL_DIR)/rcl_all.c -o $@ -pthread

$(UNIT_OUT)/stress-granule: $(UNIT_DIR)/stress.c $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
	$(CC) $(UNIT_CFLAGS) -DRCL_TEST_FIXED_GRANULE=4096 $(UNIT_DIR)/stress.c $(RCL_DIR)/rcl_all.c -o $@ -pthread

$(UNIT_OUT)/stress-aarch64: $(UNIT_DIR)/stress.c $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
	@command -v $(AARCH64_CC) >/dev/null || { echo "check-stress-arm64: $(AARCH64_CC) not found"; exit 1; }
	$(AARCH64_CC) $(UNIT_CFLAGS) -static $(UNIT_DIR)/stress.c $(RCL_DIR)/rcl_all.c -o $@ -pthread

check-stress-pagesim: $(UNIT_OUT)/stress-plain $(UNIT_OUT)/stress-granule $(BUILD)/tools/pagesim.so
	@set -e; for p in 4096 16384 65536; do \
	  echo "== stress under pagesim -p $$p --strict"; \
	  PAGESIM_SO=$(BUILD)/tools/pagesim.so tests/tools/pagesim/pagesim -p $$p --strict -- \
	    $(UNIT_OUT)/stress-plain -s $(STRESS_SEED) -n $(PAGESIM_OPS) -q; \
	done
	@set -e; for p in 16384 65536; do \
	  echo "== stress under pagesim -p $$p --strict, memory-file backing"; \
	  LUAJIT_RECLAIM_TEST_BACKING=file PAGESIM_SO=$(BUILD)/tools/pagesim.so tests/tools/pagesim/pagesim -p $$p --strict -- \
	    $(UNIT_OUT)/stress-plain -s $(STRESS_SEED) -n $(PAGESIM_OPS) -q; \
	done
	@set -e; for p in 4096 16384 65536; do \
	  echo "== deliberate 4096-granule build under pagesim -p $$p (must fail at 16K/64K)"; \
	  if PAGESIM_SO=$(BUILD)/tools/pagesim.so tests/tools/pagesim/pagesim -p $$p --strict -- \
	       $(UNIT_OUT)/stress-granule -s $(STRESS_SEED) -n 300000 -q; then r=pass; else r=fail; fi; \
	  case $$p:$$r in 4096:pass|16384:fail|65536:fail) echo "   as expected: $$r";; \
	    *) echo "check-stress-pagesim: granule canary at $$p: $$r (unexpected)"; exit 1;; esac; \
	done
	@echo "check-stress-pagesim: ok"

check-stress-arm64: $(UNIT_OUT)/stress-aarch64
	@command -v $(QEMU_AARCH64) >/dev/null || { echo "check-stress-arm64: $(QEMU_AARCH64) not found"; exit 1; }
	@set -e; for p in 4096 16384 65536; do \
	  echo "== aarch64 stress, AT_PAGESZ $$p"; \
	  $(QEMU_AARCH64) -p $$p $(UNIT_OUT)/stress-aarch64 -s $(STRESS_SEED) -n $(ARM64_OPS) -q; \
	done

$(UNIT_OUT)/microbench: $(UNIT_DIR)/microbench.c $(RCL_SOURCES) $(RCL_HEADERS)
	@mkdir -p $(UNIT_OUT)
ifneq ($(LUAJIT_SRC),)
	$(CC) -O2 -c -I$(LUAJIT_SRC) $(LUAJIT_SRC)/lj_alloc.c -o $(UNIT_OUT)/lj_alloc.o
	$(CC) -O2 -c -I$(LUAJIT_SRC) $(LUAJIT_SRC)/lj_prng.c -o $(UNIT_OUT)/lj_prng.o
	$(CC) $(UNIT_CFLAGS) -DWITH_LJ_ALLOC $(UNIT_DIR)/microbench.c $(RCL_DIR)/rcl_all.c \
	  $(UNIT_OUT)/lj_alloc.o $(UNIT_OUT)/lj_prng.o -o $@ -pthread
else
	$(CC) $(UNIT_CFLAGS) $(UNIT_DIR)/microbench.c $(RCL_DIR)/rcl_all.c -o $@ -pthread
endif

microbench-unit: $(UNIT_OUT)/microbench
	$(UNIT_OUT)/microbench 5
