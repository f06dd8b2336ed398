# runtime/reclaim/reclaim.mk: Make fragment for the reclaiming allocator.
# Included by the top-level Makefile (paths relative to the repo root;
# BUILD and CC come from there). Defines the source list for dependency
# tracking and `check-reclaim-build`, which proves the library compiles
# warning-free (-Werror) in every supported way:
#   standalone and embedded (RCL_EMBED, one translation unit), x86_64 and
#   aarch64 (AARCH64_CC), plus the valgrind, fault-injection and the
#   deliberate fixed-granule (RCL_TEST_FIXED_GRANULE=4096) test variants.
# LuaJIT embeds it: lj_alloc.c does `#define RCL_EMBED` + `#include "rcl_all.c"`
# with -I$(RCL_DIR); link with -pthread (glibc >= 2.34 has it in libc).

ifndef RCL_MK_INCLUDED
RCL_MK_INCLUDED := 1

RCL_DIR     ?= runtime/reclaim
RCL_HEADERS := $(RCL_DIR)/rcl.h $(RCL_DIR)/rcl_test.h $(RCL_DIR)/rcl_internal.h $(RCL_DIR)/rcl_bitmap.h \
               $(RCL_DIR)/rcl_registry.h
RCL_SOURCES := $(RCL_DIR)/rcl_all.c $(RCL_DIR)/rcl_os.c $(RCL_DIR)/rcl_config.c $(RCL_DIR)/rcl_mesh.c \
               $(RCL_DIR)/rcl_class.c $(RCL_DIR)/rcl_large.c $(RCL_DIR)/rcl_span.c $(RCL_DIR)/rcl_mesh_core.c $(RCL_DIR)/rcl_mesher.c \
               $(RCL_DIR)/rcl_purge.c $(RCL_DIR)/rcl_stats.c $(RCL_DIR)/rcl_registry.c \
               $(RCL_DIR)/rcl_bg.c $(RCL_DIR)/rcl_api.c
RCL_CFLAGS  := -std=gnu99 -O2 -Wall -Wextra -Werror
AARCH64_CC  ?= aarch64-linux-gnu-gcc
RCL_OUT     := $(BUILD)/reclaim

.PHONY: check-reclaim-build
check-reclaim-build: $(RCL_SOURCES) $(RCL_HEADERS) tests/unit/embed_smoke.c
	@mkdir -p $(RCL_OUT)
	@command -v $(AARCH64_CC) >/dev/null || { echo "check-reclaim-build: $(AARCH64_CC) not found (apt-get install gcc-aarch64-linux-gnu)"; exit 1; }
	$(CC) $(RCL_CFLAGS) -c $(RCL_DIR)/rcl_all.c -o $(RCL_OUT)/rcl_x86_64.o
	$(CC) $(RCL_CFLAGS) -DRCL_VALGRIND -DRCL_FAULT_INJECTION -c $(RCL_DIR)/rcl_all.c -o $(RCL_OUT)/rcl_x86_64_test.o
	$(CC) $(RCL_CFLAGS) -DRCL_TEST_FIXED_GRANULE=4096 -c $(RCL_DIR)/rcl_all.c -o $(RCL_OUT)/rcl_x86_64_granule.o
	$(CC) $(RCL_CFLAGS) -I$(RCL_DIR) tests/unit/embed_smoke.c -o $(RCL_OUT)/embed_smoke
	$(AARCH64_CC) $(RCL_CFLAGS) -c $(RCL_DIR)/rcl_all.c -o $(RCL_OUT)/rcl_aarch64.o
	$(AARCH64_CC) $(RCL_CFLAGS) -I$(RCL_DIR) -c tests/unit/embed_smoke.c -o $(RCL_OUT)/embed_smoke_aarch64.o
	$(RCL_OUT)/embed_smoke
	@echo "check-reclaim-build: ok (x86_64 + aarch64, standalone + embedded, -Werror)"

endif
