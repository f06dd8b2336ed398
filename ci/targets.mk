# ci/targets.mk: per-target facts of the QEMU test matrix (the one place ci/
# reads them from). Included by ci/matrix.mk; ci/matrix.sh reads a target's
# facts through `make -s -f ci/targets.mk ci-target-facts T=<target>`.
#
# Invariants:
# - Every target in MATRIX_TARGETS defines every key in MATRIX_KEYS (an unset
#   key is an error in ci-target-facts, not an empty default).
# - A build name maps to a variant directory under the build root
#   (build/<variant>/bin/luajit); which suites run is chosen per build name.
# - Facts that belong to an architecture rather than to a matrix row (how to
#   run its binaries, its sysroot) come from arch/<arch>.mk.
#
# Keys (<target>.<key>):
#   kind          native | user (qemu-user) | system (qemu-system guest)
#   run           command prefix that runs the target's binaries on this host ("-" = none)
#   page_size     OS page size the target must report (bytes)
#   kernel        system only: "<page> <va_bits>" for ci/kernel/build-kernel.sh
#   cpu           system only: qemu -cpu model
#   highmap_above probe bits: plain/hinted mmap must return an address >= 2^N
#                 ("-" = the probe proves nothing on this target: no row)
#   builds        build names run on this target
#   build.<name>  variant directory of that build under the build root
#   timeout       seconds for the whole target (guest run or native suites)

CI_TARGETS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
ifndef arm64_RUN
include $(CI_TARGETS_DIR)/../arch/x86_64.mk $(CI_TARGETS_DIR)/../arch/arm64.mk
endif

MATRIX_TARGETS := x86_64 arm64-user arm64-4k arm64-16k arm64-64k arm64-64k-lva
MATRIX_KEYS := kind run page_size kernel cpu highmap_above builds \
	build.release build.assert build.dynamic timeout

# Suites each build name runs (rows of the table: target x build x suite).
# The "dynamic" build (glibc + ffi.C inside the guests) re-runs the parts
# that differ between static and dynamic linking.
MATRIX_SUITES.release := lua-on lua-hotloop lua-off reclaim diff addr47 counters
MATRIX_SUITES.assert  := lua-on lua-hotloop lua-off reclaim diff addr47 counters
MATRIX_SUITES.dynamic := lua-on reclaim diff counters

x86_64.kind          := native
x86_64.run           := $(or $(x86_64_RUN),-)
x86_64.page_size     := 4096
x86_64.kernel        := -
x86_64.cpu           := -
x86_64.highmap_above := -
x86_64.builds        := release assert
x86_64.build.release := x86_64
x86_64.build.assert  := x86_64-assert
x86_64.build.dynamic := -
x86_64.timeout       := 600

arm64-user.kind          := user
arm64-user.run           := $(or $(arm64_RUN),-)
arm64-user.page_size     := 4096
arm64-user.kernel        := -
arm64-user.cpu           := -
arm64-user.highmap_above := -
arm64-user.builds        := release assert
arm64-user.build.release := arm64
arm64-user.build.assert  := arm64-static-assert
arm64-user.build.dynamic := -
arm64-user.timeout       := 900

# The four guests differ in page size, VA bits and CPU only.
define ci_system_target
$(1).kind          := system
$(1).run           := -
$(1).page_size     := $(2)
$(1).kernel        := $(3)
$(1).cpu           := $(4)
$(1).highmap_above := $(5)
$(1).builds        := release assert dynamic
$(1).build.release := arm64-static
$(1).build.assert  := arm64-static-assert
$(1).build.dynamic := arm64
$(1).timeout       := 900
endef
# 48-bit VA: a plain mmap(NULL) lands above 2^47. 52-bit VA (FEAT_LVA, needs
# -cpu max): a hint above 2^48 is honoured.
$(eval $(call ci_system_target,arm64-4k,4096,4k 48,neoverse-n1,47))
$(eval $(call ci_system_target,arm64-16k,16384,16k 48,neoverse-n1,47))
$(eval $(call ci_system_target,arm64-64k,65536,64k 48,neoverse-n1,47))
$(eval $(call ci_system_target,arm64-64k-lva,65536,64k 52,max,48))

# Kernels the system targets boot, for `make kernels`.
MATRIX_KERNELS := $(sort $(foreach t,$(MATRIX_TARGETS),\
	$(if $(filter system,$($(t).kind)),$(subst $(eval) ,:,$($(t).kernel)))))

# Shell assignments for target T (key.name -> key_name), each value quoted.
.PHONY: ci-target-facts
ci-target-facts:
	@$(if $(filter $(T),$(MATRIX_TARGETS)),,echo "unknown target '$(T)' (known: $(MATRIX_TARGETS))" >&2; exit 1;)
	@$(foreach k,$(MATRIX_KEYS),$(if $(value $(T).$(k)),,echo "ci/targets.mk: $(T).$(k) is not set" >&2; exit 1;))
	@$(foreach k,$(MATRIX_KEYS),printf "%s='%s'\n" '$(subst .,_,$(k))' '$($(T).$(k))';)
	@$(foreach b,release assert dynamic,printf "suites_%s='%s'\n" '$(b)' '$(MATRIX_SUITES.$(b))';)
	@printf "all_targets='%s'\n" '$(MATRIX_TARGETS)'
