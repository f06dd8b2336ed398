# tests/fuzz/fuzz.mk: Make fragment for the libFuzzer targets of the
# allocator (included by the top-level Makefile; paths relative to the repo
# root; BUILD comes from there, RCL_DIR, RCL_SOURCES and RCL_HEADERS from
# runtime/reclaim/reclaim.mk). Needs clang and libFuzzer (Debian packages
# clang and libclang-rt-14-dev, in DEPS). See tests/fuzz/README.md.
#
#   fuzz          each target for FUZZ_SECONDS (600) seconds
#   check-fuzz    the heap target's seeds once (they must mesh pages; the
#                 count is printed), then
#                 each target for FUZZ_CHECK_SECONDS (60) seconds from the
#                 generated seed corpus (the regression cases included; the
#                 heap target's input picks its backing, so one run covers
#                 anonymous and memory-file segments) and
#                 the working corpus in $(BUILD)/fuzz/corpus/<target>; fails
#                 on any crash, leak or timeout, naming the reproducer; prints
#                 libFuzzer's summary lines (the full log: $(BUILD)/fuzz/<target>.log)
#   fuzz-repro FILE=path [FUZZ_TARGET=heap|config] [TRACE=1]
#                 runs one input; the target is taken from the path (config
#                 if it contains "config") unless given; TRACE=1 prints the
#                 heap target's backing and decoded ops

include runtime/reclaim/reclaim.mk    # guarded: including it twice is harmless

FUZZ_DIR           := tests/fuzz
FUZZ_OUT           := $(BUILD)/fuzz
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 600
FUZZ_CHECK_SECONDS ?= 60
FUZZ_TARGETS       := heap config
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu99 -O1 -g -Wall -Wextra -Werror -I$(RCL_DIR) -I$(FUZZ_DIR) $(FUZZ_SAN)
# The heap target's allocator makes its system calls through fuzz_os.c
# (the memory-file backing's memfd_create, ftruncate and fallocate too).
FUZZ_SHIM    := -Dmmap=fuzz_os_mmap -Dmunmap=fuzz_os_munmap -Dmremap=fuzz_os_mremap \
                -Dmadvise=fuzz_os_madvise -Dmemfd_create=fuzz_os_memfd_create \
                -Dftruncate=fuzz_os_ftruncate -Dfallocate=fuzz_os_fallocate
FUZZ_FLAGS_heap   := -max_len=4096 -timeout=30
FUZZ_FLAGS_config := -max_len=512 -timeout=10 -dict=$(FUZZ_DIR)/fuzz_config.dict
FUZZ_BINS    := $(FUZZ_OUT)/fuzz_heap $(FUZZ_OUT)/fuzz_config

.PHONY: fuzz check-fuzz fuzz-repro fuzz-build

# Loud when the toolchain is missing (first line of every clang rule).
define fuzz_need_clang
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found: run 'make deps' (Debian packages clang libclang-rt-14-dev)"; exit 1; }
	@test -f "$$($(FUZZ_CC) --print-runtime-dir)/libclang_rt.fuzzer-$$(uname -m).a" || { echo "fuzz: libFuzzer not found in $$($(FUZZ_CC) --print-runtime-dir): run 'make deps' (Debian package libclang-rt-14-dev)"; exit 1; }
endef

$(FUZZ_OUT)/rcl_heap.o: $(RCL_SOURCES) $(RCL_HEADERS) $(FUZZ_DIR)/fuzz.mk
	$(fuzz_need_clang)
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DRCL_FAULT_INJECTION $(FUZZ_SHIM) \
	  -c $(RCL_DIR)/rcl_all.c -o $@

$(FUZZ_OUT)/rcl_config.o: $(RCL_SOURCES) $(RCL_HEADERS)
	$(fuzz_need_clang)
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $(RCL_DIR)/rcl_all.c -o $@

# The harnesses get no coverage instrumentation: libFuzzer steers by the
# allocator's code, and the pattern checks run at full speed.
$(FUZZ_OUT)/%.o: $(FUZZ_DIR)/%.c $(wildcard $(FUZZ_DIR)/*.h) $(RCL_HEADERS)
	$(fuzz_need_clang)
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DRCL_FAULT_INJECTION -c $< -o $@

$(FUZZ_OUT)/fuzz_heap: $(FUZZ_OUT)/fuzz_heap.o $(FUZZ_OUT)/fuzz_os.o $(FUZZ_OUT)/rcl_heap.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ -pthread

$(FUZZ_OUT)/fuzz_config: $(FUZZ_OUT)/fuzz_config.o $(FUZZ_OUT)/rcl_config.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ -pthread

$(FUZZ_OUT)/gen_seeds: $(FUZZ_DIR)/gen_seeds.c $(FUZZ_DIR)/fuzz_ops.h
	@mkdir -p $(FUZZ_OUT)
	$(CC) -std=gnu99 -O2 -Wall -Wextra -Werror -I$(FUZZ_DIR) $< -o $@

$(FUZZ_OUT)/seeds/.stamp: $(FUZZ_OUT)/gen_seeds
	@rm -rf $(FUZZ_OUT)/seeds
	$(FUZZ_OUT)/gen_seeds $(FUZZ_OUT)/seeds
	@touch $@

fuzz-build: $(FUZZ_BINS) $(FUZZ_OUT)/seeds/.stamp

# fuzz_run TARGET SECONDS: one libFuzzer run. Old artifacts of the target are
# removed first; after the run, a non-zero exit or any crash-, leak-,
# timeout- or oom- file fails with the reproducer paths. ASan's quarantine
# is capped (the config target frees many small buffers an input; the
# default cap lets RSS approach libFuzzer's limit); ASAN_OPTIONS given by
# the caller come after, so they win.
define fuzz_run
	@set -u; t=$(1); out=$(FUZZ_OUT); art=$$out/artifacts/$$t; log=$$out/$$t.log; \
	mkdir -p $$out/corpus/$$t $$art; rm -f $$art/*; \
	cmd="$$out/fuzz_$$t -max_total_time=$(2) -print_final_stats=1 $(FUZZ_FLAGS_$(1)) -artifact_prefix=$$art/ $$out/corpus/$$t $$out/seeds/$$t"; \
	echo "== fuzz_$$t: $(2) s from $$(ls $$out/seeds/$$t | wc -l) seeds + $$(ls $$out/corpus/$$t | wc -l) corpus inputs"; \
	echo "   $$cmd"; \
	rc=0; ASAN_OPTIONS="quarantine_size_mb=64$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" $$cmd > $$log 2>&1 || rc=$$?; \
	grep -aE '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done [0-9]+ runs|^stat::|^SUMMARY:|^fuzz_|ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|internal error' $$log | sed 's/^/   /'; \
	crashes=$$(ls $$art | grep -E '^(crash|leak|timeout|oom)-' | sed "s|^|$$art/|"); \
	slow=$$(ls $$art | grep -E '^slow-unit-' || true); \
	[ -z "$$slow" ] || echo "   note: slow inputs (not failures) in $$art: $$slow"; \
	if [ $$rc -ne 0 ] || [ -n "$$crashes" ] || ! grep -aq '^Done [0-9]* runs' $$log; then \
	  echo "fuzz_$$t: FAILED (libFuzzer exit $$rc; full log $$log)"; \
	  for c in $$crashes; do echo "fuzz_$$t: reproducer $$c  (make fuzz-repro FILE=$$c)"; done; \
	  exit 1; \
	fi; \
	echo "fuzz_$$t: ok ($$(grep -a '^Done' $$log)); corpus now $$(ls $$out/corpus/$$t | wc -l) inputs"
endef

# The heap target's seed corpus alone, once (a few seconds): fails if a seed
# fails, if the seeds meshed no page through the MESH op or the mesher, or
# if they remeshed no primary (the meshing seeds lost their effect); prints
# the harness's meshing line.
define fuzz_seed_meshes
	@set -u; out=$(FUZZ_OUT); log=$$out/heap-seeds.log; \
	rc=0; ASAN_OPTIONS="quarantine_size_mb=64$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
	  $$out/fuzz_heap -runs=0 $$out/seeds/heap > $$log 2>&1 || rc=$$?; \
	line=$$(grep -a '^fuzz_heap: meshing:' $$log || true); \
	if [ $$rc -ne 0 ] || [ -z "$$line" ]; then \
	  grep -aE '^fuzz_|^Running: |internal error|runtime error|ERROR: ' $$log | sed 's/^/   /'; \
	  echo "fuzz_heap: the seed corpus failed (libFuzzer exit $$rc; log $$log)"; exit 1; \
	fi; \
	echo "== fuzz_heap seed corpus: $${line#fuzz_heap: }"; \
	set -- $$line; \
	if [ "$$3" = 0 ] || [ "$${10}" = 0 ]; then \
	  echo "fuzz_heap: the seed corpus meshed no page through the MESH op or the mesher"; exit 1; \
	fi; \
	remeshed=$$(echo "$$line" | sed -n 's/.* \([0-9][0-9]*\) primaries remeshed.*/\1/p'); \
	if [ -z "$$remeshed" ] || [ "$$remeshed" = 0 ]; then \
	  echo "fuzz_heap: the seed corpus remeshed no primary (rcl_mesh_primary)"; exit 1; \
	fi
endef

check-fuzz: fuzz-build
	$(fuzz_seed_meshes)
	$(call fuzz_run,heap,$(FUZZ_CHECK_SECONDS))
	$(call fuzz_run,config,$(FUZZ_CHECK_SECONDS))
	@echo "check-fuzz: ok (fuzz_heap and fuzz_config, $(FUZZ_CHECK_SECONDS) s each, no crash)"

fuzz: fuzz-build
	$(call fuzz_run,heap,$(FUZZ_SECONDS))
	$(call fuzz_run,config,$(FUZZ_SECONDS))

fuzz-repro: $(FUZZ_BINS)
	@test -n "$(FILE)" || { echo "usage: make fuzz-repro FILE=path [FUZZ_TARGET=heap|config] [TRACE=1]"; exit 2; }
	@test -f "$(FILE)" || { echo "fuzz-repro: no such file: $(FILE)"; exit 2; }
	@t="$(FUZZ_TARGET)"; [ -n "$$t" ] || case "$(FILE)" in *config*) t=config;; *) t=heap;; esac; \
	echo "== $(FUZZ_OUT)/fuzz_$$t $(FILE)"; \
	FUZZ_HEAP_TRACE=$(if $(TRACE),1,0) $(FUZZ_OUT)/fuzz_$$t "$(FILE)"
