# tests/docs/docs.mk: the documentation check, included by the top-level Makefile.
#
#   check-docs   tests/docs/check-docs.sh: every option of runtime/reclaim/rcl_config.c's
#                table is in README.md's options table and luajit-reclaim(7) with its
#                default (and no other option is); no reference to notes outside the
#                repository; every relative link of *.md and docs/*.md reaches a file and
#                heading; runtime/doc/* render without a groff or man warning; rendering
#                the committed benchmark results (docs/bench-results/) reproduces
#                docs/benchmarks.md and the generated blocks of README.md and TUNING.md;
#                no measured figure in README.md/TUNING.md outside those blocks; a
#                self-test that the option, link, report and figure checks can fail.
#                About 3 s.
#
# Invariant: needs the stock build (its luajit runs tests/bench/report/render.lua) and
# groff-base, man-db; work files in $(BUILD)/docs/.

.PHONY: check-docs
check-docs: $(BUILD)/stock-x86_64/.stamp
	@tests/docs/check-docs.sh $(BUILD)/docs $(BUILD)/stock-x86_64/bin/luajit
