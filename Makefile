# luajit-reclaim: top-level build.
#
#   make            build the runtime for every target (installs missing Debian
#                   packages first when run as root)
#   make check      the full test suite, with the time each part took
#   make help       every target
#
# Upstream is fetched (runtime/upstream.mk), never vendored; our changes are
# runtime/patches/series plus the files in runtime/src and runtime/reclaim.
# Each build variant is installed under build/<variant>/ by
# runtime/build-variant.sh; a stamp per variant makes a second `make` a no-op.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

BUILD := build
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/luajit-reclaim
JOBS  ?= 2

include runtime/upstream.mk runtime/version.mk
include arch/x86_64.mk arch/arm64.mk
export UPSTREAM_SRCPKG UPSTREAM_VERSION UPSTREAM_SUITE UPSTREAM_TARBALL UPSTREAM_SHA256
export RECLAIM_VERSION

# Debian packages needed to build and to run `make check`, in one place.
DEPS := build-essential dpkg-dev patch xz-utils binutils \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu \
	qemu-user-static libcunit1-dev valgrind clang libclang-rt-14-dev \
	qemu-system-arm linux-source-6.1 flex bison libelf-dev bc cpio \
	mmdebstrap apt-utils gnupg gpgv debian-archive-keyring rpm rpmlint createrepo-c dnf \
	binfmt-support arch-test file umoci skopeo jq shellcheck \
	prometheus python3-jsonschema nginx libnginx-mod-http-lua wrk gnuplot-nox patchelf groff-base man-db pkgconf

TARBALL := $(or $(LUAJIT_SRC_TARBALL),$(CACHE)/$(UPSTREAM_TARBALL))

# Inputs of a patched build: any change rebuilds the patched variants.
RUNTIME_INPUTS := $(wildcard runtime/patches/* runtime/src/* runtime/reclaim/*) runtime/doc/luajit-reclaim.7 runtime/doc/luajit-reclaim.3 \
	runtime/prepare-tree.sh runtime/build-variant.sh runtime/upstream.mk runtime/version.mk
STOCK_INPUTS := runtime/prepare-tree.sh runtime/build-variant.sh runtime/upstream.mk

ASSERT_XCFLAGS := -DLUA_USE_ASSERT -DLUA_USE_APICHECK

# variant NAME TARGET STOCK STATIC XCFLAGS
define variant
$(BUILD)/$(1)/.stamp: $(BUILD)/.upstream-ok $(if $(filter 1,$(3)),$(STOCK_INPUTS),$(RUNTIME_INPUTS)) arch/$(2).mk | $(BUILD)/.deps-ok
	@VARIANT=$(1) TARBALL=$(TARBALL) CROSS=$($(2)_CROSS) DEB_ARCH=$($(2)_DEB_ARCH) \
	  STOCK=$(3) STATIC=$(4) EXTRA_XCFLAGS='$(5)' JOBS=$(JOBS) runtime/build-variant.sh
	@touch $$@
$(1): $(BUILD)/$(1)/.stamp
.PHONY: $(1)
endef

$(eval $(call variant,x86_64,x86_64,0,0,))
$(eval $(call variant,arm64,arm64,0,0,))
$(eval $(call variant,arm64-static,arm64,0,1,))
$(eval $(call variant,stock-x86_64,x86_64,1,0,))
$(eval $(call variant,stock-arm64,arm64,1,0,))
$(eval $(call variant,x86_64-assert,x86_64,0,0,$(ASSERT_XCFLAGS)))
# Unpatched, with glibc malloc instead of LuaJIT's allocator: the benchmark peer
# (make bench-mem runs it with malloc_trim after each collection the workload finishes).
$(eval $(call variant,sysmalloc-x86_64,x86_64,1,0,-DLUAJIT_USE_SYSMALLOC))
$(eval $(call variant,arm64-static-assert,arm64,0,1,$(ASSERT_XCFLAGS)))
# Deliberately broken: purges with a fixed 4096-byte granule. The page-size
# checks (check-pagesim, the QEMU matrix) must catch it at 16K and 64K.
$(eval $(call variant,x86_64-granule4k,x86_64,0,0,-DRCL_TEST_FIXED_GRANULE=4096))
$(eval $(call variant,arm64-static-granule4k,arm64,0,1,-DRCL_TEST_FIXED_GRANULE=4096))
# tests/threads: ThreadSanitizer, ASan+UBSan and fault-injection builds (their
# link flags are set in tests/threads/threads.mk).
TSAN_XCFLAGS  := -fsanitize=thread
ASAN_XCFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer
FAULT_XCFLAGS := -DRCL_FAULT_INJECTION
$(eval $(call variant,x86_64-tsan,x86_64,0,0,$(TSAN_XCFLAGS)))
$(eval $(call variant,x86_64-asan,x86_64,0,0,$(ASAN_XCFLAGS)))
$(eval $(call variant,x86_64-fault,x86_64,0,0,$(FAULT_XCFLAGS)))

RELEASE_VARIANTS := x86_64 arm64 arm64-static
STOCK_VARIANTS   := stock-x86_64 stock-arm64
ASSERT_VARIANTS  := x86_64-assert arm64-static-assert
TEST_VARIANTS    := x86_64-granule4k arm64-static-granule4k x86_64-valgrind

.PHONY: all stock assert deps clean distclean help check
all: $(RELEASE_VARIANTS)
stock: $(STOCK_VARIANTS)
assert: $(ASSERT_VARIANTS)

# `make` installs what it needs when run as root; otherwise it names the command.
$(BUILD)/.deps-ok: Makefile runtime/deps.sh
	@runtime/deps.sh ensure $(DEPS)
	@mkdir -p $(BUILD) && touch $@
deps:
	runtime/deps.sh install $(DEPS)

$(BUILD)/.upstream-ok: runtime/upstream.mk runtime/fetch-upstream.sh | $(BUILD)/.deps-ok
	@runtime/fetch-upstream.sh $(CACHE) >/dev/null
	@touch $@

clean:
	rm -rf $(BUILD)
distclean: clean
	@echo "the download and kernel cache stays in $(CACHE); remove it by hand if wanted"

# Test and tool fragments (each owns its own targets; see `make help`).
include tests/build/build.mk
include tests/pagesim/pagesim.mk
include tests/valgrind/valgrind.mk
include runtime/reclaim/reclaim.mk
include tests/unit/unit.mk
include tests/fuzz/fuzz.mk
include tests/threads/threads.mk
include tests/lua/lua.mk
include tests/tools/pagesim/pagesim.mk
include tests/cgroup/cgroup.mk
include runtime/tools/memstat/memstat.mk
include runtime/tools/swap/swap.mk
include tests/nginx/nginx.mk
include tests/bench/bench.mk
include tests/bench/mesh/mesh.mk
include tests/shell/shell.mk
include tests/docs/docs.mk
include ci/matrix.mk
include packaging/packaging.mk
include packaging/dist/dist.mk
include tests/bundle/bundle.mk
include docker/images.mk

# The parts of `make check`, in order. tests/check.sh runs each as its own
# make invocation, times it and prints a summary table.
CHECK_PARTS ?= check-build check-reclaim-build check-unit check-stress check-threads check-fuzz \
	check-stress-pagesim check-lua check-reclaim check-nginx check-plot check-bundle check-lua-openresty check-memstat check-cgroup check-valgrind check-pagesim \
	check-bench-cpu check-shell check-docs check-matrix matrix-granule check-packages check-images
check: all stock assert $(THREADS_VARIANTS)
	@tests/check.sh $(CHECK_PARTS)

help:
	@echo "make              build x86_64, arm64 (dynamic) and arm64-static into build/"
	@echo "make check        run every test part below, timed (what CI runs)"
	@echo "check parts:      $(CHECK_PARTS)"
	@echo "make stock        unpatched upstream builds (baselines): build/stock-*"
	@echo "make sysmalloc-x86_64  unpatched build on glibc malloc (the bench-mem peer)"
	@echo "make assert       assertion builds (-DLUA_USE_ASSERT -DLUA_USE_APICHECK)"
	@echo "make check-lua-arm64  tests/lua on arm64 under qemu-user"
	@echo "make matrix [TARGETS=arm64-16k]  the QEMU matrix (ci/README.md)"
	@echo "make kernels      build or find the cached guest kernels"
	@echo "make debs apt-repo rpms yum-repo  packages and repositories (packaging/README.md)"
	@echo "make images       container images (OCI layout + docker-archives) in build/images/"
	@echo "make bench        memory and CPU benchmarks, ours vs stock (figures, not tests)"
	@echo "make bench-cpu [BENCH_OURS_RECLAIM=mesh=on]  CPU suite only; BENCH_OURS_RECLAIM runs ours with that LUAJIT_RECLAIM (labelled in the report)"
	@echo "make check-bench-cpu  every CPU benchmark at a small size: checksums must match stock (~12 s)"
	@echo "make bench-report every benchmark the docs quote, in one run (root, ~45 min): results in docs/bench-results/, renders docs/benchmarks.md and the README's figures"
	@echo "make bench-report-render  render those documents again from docs/bench-results/ (no run)"
	@echo "make bench-nginx  nginx + lua module, stock vs ours: requests/s, p50/p99, worker RSS (NGINX_BENCH_SECONDS, _PAIRS, _SHAPES)"
	@echo "make bench-nginx-idle  the figures behind reclaim.nginx_idle's defaults"
	@echo "make bench-series RSS over time as CSV (sawtooth: stock/ours/peer; nginx load-then-idle) in build/bench/series/"
	@echo "make plot         PNG+SVG charts from those CSVs into build/bench/plots/ (make bench does both)"
	@echo "make bench-mesh   what meshing would give back (issue 17), 4K/16K/64K"
	@echo "make bench-mesh-ab MESH_AB_A=bin MESH_AB_B=bin  two builds, mesh=on, (d) and (e) side by side"
	@echo "make bench-mesh-fork  fork() cost in the parent with mesh=off and on, heaps of MESH_FORK_MIB MiB"
	@echo "make bench-copydist  memcpy GB/s by destination-past-source distance mod 4 KiB, and backward in 32-byte steps (~10 s)"
	@echo "make bench-cgroup soft_limit=0 vs auto in a memory cgroup (the figures behind its default)"
	@echo "make soak         the long allocator stress run (10^9 operations), and soak-threads"
	@echo "make check-threads  8 threads of Lua states + fork() under TSan, ASan+UBSan, a fault storm"
	@echo "make soak-threads   the same, THREADS_SOAK_SECONDS (300) each"
	@echo "make fuzz         libFuzzer on the allocator, FUZZ_SECONDS (600) a target; fuzz-repro FILE=.. (tests/fuzz/README.md)"
	@echo "make deps         install the Debian packages the build and tests need"
	@echo "make clean        remove build/ (keeps the download cache in $(CACHE))"
