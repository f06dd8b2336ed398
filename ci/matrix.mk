# ci/matrix.mk: Make fragment for the QEMU test matrix (included by the top-level Makefile).
#
#   make matrix                     every target of ci/targets.mk, release + assert builds
#   make matrix TARGETS=arm64-16k   one target (comma or space separated list)
#   make check-matrix               the same as `make matrix` (the part `make check` runs)
#   make kernels                    build (or find cached) the guest kernels and print times
#   make matrix-granule             deliberate-bug check: a runtime purging with a fixed 4096-byte
#                                   granule (variant $(GRANULE_VARIANT), static arm64 built with
#                                   -DRCL_TEST_FIXED_GRANULE=4096) must fail on 16k and 64k and
#                                   pass on 4k
# Variables: TARGETS, MATRIX_BUILD (build root, default $(BUILD) or build), MATRIX_ARGS (extra
# ci/matrix.sh options, e.g. --builds release), GRANULE_VARIANT.
#
# Invariants: the variants a selected target runs are prerequisites of `matrix` when the top
# Makefile defines them (so `make matrix` builds what it tests); kernels are built one at a
# time (each uses -j2), before any guest runs. The granule variant is a prerequisite of
# matrix-granule when the top Makefile lists it in TEST_VARIANTS.

CI_MATRIX_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
include $(CI_MATRIX_DIR)/targets.mk

TARGETS       ?= $(MATRIX_TARGETS)
MATRIX_BUILD  ?= $(or $(BUILD),build)
MATRIX_ARGS   ?=
GRANULE_VARIANT ?= arm64-static-granule4k
GRANULE_TARGETS := arm64-4k arm64-16k arm64-64k

ci_selected = $(filter $(MATRIX_TARGETS),$(subst $(comma), ,$(1)))
comma := ,
# "<page>:<va>" of each selected system target.
ci_kernels_of = $(sort $(foreach t,$(call ci_selected,$(1)),\
	$(if $(filter system,$($(t).kind)),$(subst $(eval) ,:,$($(t).kernel)))))
# Variant directories the selected targets run, as prerequisites if the top Makefile has them.
ci_variants_of = $(sort $(foreach t,$(call ci_selected,$(1)),\
	$(foreach b,$($(t).builds),$(filter-out -,$($(t).build.$(b))))))
# x86_64 is always needed: its -joff difftest output is the reference every target must match.
MATRIX_REFERENCE_VARIANT := x86_64
MATRIX_VARIANT_DEPS := $(filter $(call ci_variants_of,$(TARGETS)) $(MATRIX_REFERENCE_VARIANT),\
	$(RELEASE_VARIANTS) $(ASSERT_VARIANTS))

.PHONY: matrix check-matrix kernels matrix-granule
kernels:
	@set -e; for k in $(call ci_kernels_of,$(TARGETS)); do \
	  $(CI_MATRIX_DIR)/kernel/build-kernel.sh $${k%%:*} $${k##*:} >/dev/null; done

matrix: kernels $(MATRIX_VARIANT_DEPS)
	@$(CI_MATRIX_DIR)/matrix.sh --build $(MATRIX_BUILD) --targets "$(TARGETS)" $(MATRIX_ARGS)

check-matrix: matrix

matrix-granule: TARGETS := $(GRANULE_TARGETS)
matrix-granule: kernels $(filter $(GRANULE_VARIANT),$(TEST_VARIANTS)) \
	$(filter $(MATRIX_REFERENCE_VARIANT),$(RELEASE_VARIANTS))
	@$(CI_MATRIX_DIR)/matrix.sh --build $(MATRIX_BUILD) --targets "$(GRANULE_TARGETS)" \
	  --builds release --variant release=$(GRANULE_VARIANT) \
	  --expect-fail arm64-16k,arm64-64k --out $(MATRIX_BUILD)/matrix-granule $(MATRIX_ARGS)
