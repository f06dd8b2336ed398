# tests/shell/shell.mk: the checks of the shell code, included by the top-level Makefile.
#
#   check-shell   syntax (bash -n, dash -n) and shellcheck of every script of ci/, packaging/,
#                 docker/, lib/, tests/ and runtime/; lib/shell.sh's POSIX part under dash; the job pool
#                 (tests/shell/pool.sh): statuses, concurrency, jobs that end at once, the first
#                 failure and INT/TERM/HUP/error exits killing whole process trees
#
# Invariant: needs no build (only the Debian packages of DEPS); work files in $(BUILD)/shell/.

.PHONY: check-shell
check-shell: $(BUILD)/.deps-ok
	@tests/shell/check-shell.sh $(BUILD)/shell
