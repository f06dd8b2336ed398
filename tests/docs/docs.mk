# tests/docs/docs.mk: the documentation check, included by the top-level Makefile.
#
#   check-docs   tests/docs/check-docs.sh: every option of runtime/reclaim/rcl_config.c's
#                table is in README.md's options table and luajit-reclaim(7) with its
#                default (and no other option is); no reference to notes outside the
#                repository; every relative link of *.md and docs/*.md reaches a file and
#                heading; runtime/doc/* render without a groff or man warning; a self-test
#                that the option and link checks can fail. About 3 s.
#
# Invariant: needs no build (groff-base, man-db); work files in $(BUILD)/docs/.

.PHONY: check-docs
check-docs:
	@tests/docs/check-docs.sh $(BUILD)/docs
