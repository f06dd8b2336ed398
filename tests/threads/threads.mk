# tests/threads/threads.mk: many Lua states on many threads, fork() among
# them, under ThreadSanitizer, ASan+UBSan and fault storms (included by the
# top-level Makefile, which declares the variants x86_64-tsan, x86_64-asan
# and x86_64-fault; see tests/threads/README.md).
#
#   check-threads  tests/threads/many_states against each of the three
#                  builds for THREADS_SECONDS (20) each: 8 threads with the
#                  background thread on in half of the states, plus a
#                  fork() thread; any sanitizer report fails the run; the
#                  storm uses random fault rates (printed, replayable);
#                  a fourth run puts every heap of the fault build on the
#                  memory-file backing (its fork copy and punch-hole purge)
#   soak-threads   the same for THREADS_SOAK_SECONDS (300) each; `make soak`
#                  runs it too

THREADS_DIR          := tests/threads
THREADS_OUT          := $(BUILD)/threads
THREADS_SECONDS      ?= 20
THREADS_SOAK_SECONDS ?= 300
THREADS_ARGS         ?=
THREADS_VARIANTS     := x86_64-tsan x86_64-asan x86_64-fault
THREADS_CFLAGS       := -std=c99 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer

.PHONY: check-threads soak-threads

# Sanitizer builds: build-variant.sh hands a variant's flags to LuaJIT's
# Makefile as XCFLAGS, which reach every compile, the host tools (minilua,
# buildvm) included, and no link. The host tools stay unsanitized (UBSan
# stops buildvm on dynasm's pointer arithmetic): HOST_CFLAGS comes after
# XCFLAGS on host compiles. The target links (libluajit, luajit) take the
# flags from TARGET_LDFLAGS and TARGET_SHLDFLAGS, which LuaJIT's Makefile
# leaves to the environment.
$(BUILD)/x86_64-tsan/.stamp: export TARGET_LDFLAGS := $(TSAN_XCFLAGS)
$(BUILD)/x86_64-tsan/.stamp: export TARGET_SHLDFLAGS := $(TSAN_XCFLAGS)
$(BUILD)/x86_64-asan/.stamp: export TARGET_LDFLAGS := $(ASAN_XCFLAGS)
$(BUILD)/x86_64-asan/.stamp: export TARGET_SHLDFLAGS := $(ASAN_XCFLAGS)
$(BUILD)/x86_64-tsan/.stamp $(BUILD)/x86_64-asan/.stamp: export HOST_CFLAGS := -fno-sanitize=all

# threads_prog NAME VARIANT SANITIZER-FLAGS EXTRA-SOURCES: many_states-NAME
# linked against build/VARIANT's libluajit (found through its rpath).
define threads_prog
$(THREADS_OUT)/many_states-$(1): $(THREADS_DIR)/many_states.c $(4) $(BUILD)/$(2)/.stamp
	@mkdir -p $$(@D)
	$$(CC) $$(THREADS_CFLAGS) $(3) -I$(BUILD)/$(2)/include/luajit-2.1 $(THREADS_DIR)/many_states.c $(4) \
	  -o $$@ -L$(BUILD)/$(2)/lib -Wl,-rpath,$$(abspath $(BUILD)/$(2)/lib) -lluajit-5.1 -pthread
endef
$(eval $(call threads_prog,tsan,x86_64-tsan,$(TSAN_XCFLAGS),$(THREADS_DIR)/tsan_mremap.c))
$(eval $(call threads_prog,asan,x86_64-asan,$(ASAN_XCFLAGS),))
$(eval $(call threads_prog,fault,x86_64-fault,,))

THREADS_PROGS := $(THREADS_OUT)/many_states-tsan $(THREADS_OUT)/many_states-asan \
                 $(THREADS_OUT)/many_states-fault

# threads_runs SECONDS: the four runs; every run goes even if one failed.
define threads_runs
	@export THREADS_OUT=$(THREADS_OUT); failed=; \
	for run in tsan asan storm file; do \
	  echo "== threads: $$run, $(1) s"; \
	  $(THREADS_DIR)/run.sh $$run $(1) $(THREADS_ARGS) || failed="$$failed $$run"; \
	done; \
	if [ -n "$$failed" ]; then echo "threads: FAILED:$$failed"; exit 1; fi; \
	echo "threads: tsan, asan, storm and file runs passed"
endef

check-threads: $(THREADS_PROGS)
	$(call threads_runs,$(THREADS_SECONDS))

soak-threads: $(THREADS_PROGS)
	$(call threads_runs,$(THREADS_SOAK_SECONDS))

soak: soak-threads
