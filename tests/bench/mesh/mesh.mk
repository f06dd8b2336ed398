# tests/bench/mesh/mesh.mk: `make bench-mesh`, what meshing would give back (issue 17, step 1):
# the real memory workloads (d), (e) and a phased one run on luajit-reclaim, and after each
# full collect the mesh estimate (runtime/reclaim/rcl_mesh.c) reports the pages SplitMesher,
# a greedy first-fit and a lower bound would release, at 4K pages natively and at 16K and
# 64K under the page-size simulator. Figures, never a pass/fail check (a dev target, about
# 3-4 minutes on one core). Included by the top-level Makefile; BUILD and CC come from there.
#
# Variables: MESH_WORKLOADS (default "d e p"), MESH_PAGES (default "4096 16384 65536").
# The module meshest.so is built from the same allocator headers as $(BUILD)/x86_64, which
# is brought up to date first (the driver refuses a mismatch).

MESH_DIR     := tests/bench/mesh
MESH_OUT     := $(BUILD)/bench/mesh
MESH_SO      := $(MESH_OUT)/meshest.so
MESH_LUAJIT  := $(BUILD)/x86_64/bin/luajit
MESH_CFLAGS  := -std=gnu99 -O2 -Wall -Wextra -Werror -fPIC -shared

.PHONY: bench-mesh bench-mesh-ab bench-mesh-fork

# bench-mesh-fork: fork()'s cost in the parent with meshing off and on, for live heaps of
# MESH_FORK_MIB MiB (default "16 64 256"), MESH_FORK_N forks each (default 21), the two
# settings alternating per heap size (fork.lua prints median and range). Figures only.
bench-mesh-fork: $(BUILD)/x86_64/.stamp
	@set -e; for mib in $(or $(MESH_FORK_MIB),16 64 256); do for mesh in off on; do \
	  LUAJIT_RECLAIM=mesh=$$mesh $(MESH_LUAJIT) $(MESH_DIR)/fork.lua $$mib $(or $(MESH_FORK_N),21); \
	done; done

# bench-mesh-ab: two builds side by side with meshing on, (d) and (e), interleaved runs,
# medians and ranges (ab.sh). MESH_AB_A and MESH_AB_B name the two luajit binaries (copy
# a build away before rebuilding the other); MESH_AB_RUNS (default 5).
bench-mesh-ab:
	@MESH_AB_A='$(MESH_AB_A)' MESH_AB_B='$(MESH_AB_B)' MESH_AB_RUNS='$(or $(MESH_AB_RUNS),5)' \
	  MESH_AB_OUT='$(BUILD)/bench/mesh-ab' $(MESH_DIR)/ab.sh

$(MESH_SO): $(MESH_DIR)/meshest.c $(RCL_SOURCES) $(RCL_DIR)/rcl_mesh.c $(RCL_HEADERS) $(BUILD)/x86_64/.stamp
	@mkdir -p $(@D)
	$(CC) $(MESH_CFLAGS) -I$(RCL_DIR) -I$(BUILD)/x86_64/include/luajit-2.1 $< -o $@

bench-mesh: $(MESH_SO) $(PAGESIM_LIB)
	@MESH_LUAJIT='$(MESH_LUAJIT)' MESH_SO='$(MESH_SO)' MESH_OUT='$(MESH_OUT)' \
	  PAGESIM_SO='$(PAGESIM_LIB)' MESH_WORKLOADS='$(or $(MESH_WORKLOADS),d e p)' \
	  MESH_PAGES='$(or $(MESH_PAGES),4096 16384 65536)' $(MESH_DIR)/run.sh
