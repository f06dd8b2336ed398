# Benchmarks (make bench, bench-mem, bench-cpu, bench-cg): memory workloads and CPU benchmarks, ours
# vs stock, written to $(BUILD)/bench/report.md and printed. Figures, not tests: a missed
# performance target prints MISS but never fails make; a crashed run or a checksum mismatch
# between builds does. The default builds (stock-x86_64, x86_64) are brought up to date
# first, so the figures are never those of a stale binary; a BENCH_OURS or BENCH_STOCK given
# on the command line is used as it is (a missing BENCH_OURS gives stock-only figures).
#
# Variables (override on the command line):
#   BENCH_STOCK, BENCH_OURS  the two luajit CLIs compared
#   BENCH_PAIRS              CPU pairs per benchmark (default 11; see README.md)
#   BENCH_CPU                subset of tests/bench/cpu/*.lua names
#   BENCH_CG, BENCH_CG_LL    bench-cg: "name[:iterations] ..." run under cachegrind, and its
#                            simulated last level (see tests/bench/run-cachegrind.sh)
#   BENCH_MEM_WORKLOADS      subset of "a b c d e"; BENCH_MEM_RUNS runs each (default 1)
#   BENCH_PEER               the measured peer for (d) and (e): an unpatched luajit on glibc
#                            malloc, run with malloc_trim(0) after each full collect
#                            (default build/sysmalloc-x86_64, built on demand; empty = skip);
#                            BENCH_PEER_RUNS runs each (default 3: its result varies a lot)
#   PAGESIM                  e.g. "16384 65536": also run the memory workloads under the
#                            page-size simulator PAGESIM_TOOL, tables marked "emulated"
# The helper cputime is built for the build machine with BENCH_CC (default cc).

BUILD ?= build
BENCH_OUT      := $(BUILD)/bench
BENCH_STOCK    ?= $(BUILD)/stock-x86_64/bin/luajit
BENCH_OURS     ?= $(BUILD)/x86_64/bin/luajit
BENCH_PEER     ?= $(BUILD)/sysmalloc-x86_64/bin/luajit
BENCH_CPUTIME  := $(BENCH_OUT)/cputime
BENCH_CC       ?= cc
BENCH_CFLAGS   ?= -std=c99 -O2 -Wall -Wextra -Werror
PAGESIM_TOOL   ?= tests/tools/pagesim/pagesim

BENCH_ENV = BENCH_STOCK='$(BENCH_STOCK)' BENCH_OURS='$(BENCH_OURS)' BENCH_OUT='$(BENCH_OUT)' \
	BENCH_PEER='$(BENCH_PEER)' BENCH_PEER_RUNS='$(or $(BENCH_PEER_RUNS),3)' \
	BENCH_CPUTIME='$(BENCH_CPUTIME)' BENCH_PAIRS='$(or $(BENCH_PAIRS),11)' BENCH_CPU='$(BENCH_CPU)' \
	BENCH_MEM_WORKLOADS='$(or $(BENCH_MEM_WORKLOADS),a b c d e)' \
	BENCH_MEM_RUNS='$(or $(BENCH_MEM_RUNS),1)' PAGESIM='$(PAGESIM)' PAGESIM_TOOL='$(PAGESIM_TOOL)'

.PHONY: bench bench-mem bench-cpu bench-cg

$(BENCH_CPUTIME): tests/bench/cputime.c
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $<

# With PAGESIM set, the simulator library (tests/tools/pagesim/pagesim.mk) is built first.
# The measured peer (glibc malloc + malloc_trim) is built unless BENCH_PEER names another.
BENCH_BUILDS := $(if $(filter $(BUILD)/stock-x86_64/bin/luajit,$(BENCH_STOCK)),stock-x86_64) \
	$(if $(filter $(BUILD)/x86_64/bin/luajit,$(BENCH_OURS)),x86_64)
BENCH_MEM_PREREQS := $(BENCH_BUILDS) $(if $(PAGESIM),$(PAGESIM_LIB)) \
	$(if $(filter $(BUILD)/sysmalloc-x86_64/bin/luajit,$(BENCH_PEER)),sysmalloc-x86_64)

bench: $(BENCH_CPUTIME) $(BENCH_MEM_PREREQS)
	@$(BENCH_ENV) sh tests/bench/run-bench.sh mem cpu

bench-mem: $(BENCH_MEM_PREREQS)
	@$(BENCH_ENV) sh tests/bench/run-bench.sh mem

bench-cpu: $(BENCH_CPUTIME) $(BENCH_BUILDS)
	@$(BENCH_ENV) sh tests/bench/run-bench.sh cpu

# Instructions and simulated cache misses, ours vs stock (valgrind; no timing).
bench-cg: $(BENCH_BUILDS)
	@BENCH_STOCK='$(BENCH_STOCK)' BENCH_OURS='$(BENCH_OURS)' BENCH_OUT='$(BENCH_OUT)' \
	BENCH_CG='$(BENCH_CG)' BENCH_CG_LL='$(BENCH_CG_LL)' bash tests/bench/run-cachegrind.sh
