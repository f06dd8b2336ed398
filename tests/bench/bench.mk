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
#   BENCH_OURS_RECLAIM       bench-cpu: run ours (only) with LUAJIT_RECLAIM set to this, e.g.
#                            mesh=on (default empty: unset, ours' defaults); the report is
#                            labelled with it and bench-report refuses it
#   BENCH_CG, BENCH_CG_LL    bench-cg: "name[:iterations] ..." run under cachegrind, and its
#                            simulated last level (see tests/bench/run-cachegrind.sh)
#   BENCH_MEM_WORKLOADS      subset of "a b c d e"; BENCH_MEM_RUNS runs each (default 1)
#   BENCH_PEER               the measured peer for (d) and (e): an unpatched luajit on glibc
#                            malloc, run with malloc_trim(0) after each full collect
#                            (default build/sysmalloc-x86_64, built on demand; empty = skip);
#                            BENCH_PEER_RUNS runs each (default 3: its result varies a lot)
#   PAGESIM                  e.g. "16384 65536": also run the memory workloads under the
#                            page-size simulator PAGESIM_TOOL, tables marked "emulated"
#   NGINX_SERIES_PORT        the port of the nginx series (default: a free one of 18270-18299)
#   SERIES_IDLE_SECONDS      seconds without a request after the nginx load (default 10)
# The helpers cputime and rss-sampler are built for the build machine with BENCH_CC (default cc).
#
# RSS over time (tests/bench/plot/): the series are rss-sampler CSVs in $(BENCH_SERIES):
#   sawtooth-{stock,ours,peer}.csv  workload (e), trickle variant: bench-mem records them as a
#                                   side effect (its first native run of (e) on each build)
#   nginx-{stock,ours}.csv          tests/bench/plot/nginx-series.sh (needs root: nginx, wrk)
#   bench-series   records all five alone (three sawtooth runs and the nginx run, ~3 min)
#   plot           draws $(BENCH_PLOTS)/{sawtooth,nginx}.{png,svg} from existing CSVs; a missing
#                  one is an error naming it and bench-series. `make bench` records and plots.
#   check-plot     tests/bench/plot/check-plot.sh: a short real run on stock and ours, plotted
#                  and checked (file(1), series names, reproducible SVG, bad inputs), ~6 s
#
# check-bench-cpu: tests/bench/check-cpu.sh, every CPU benchmark at a small size on stock and
# ours; fails unless each prints the same checksum on both (~12 s, serial). BENCH_CPU selects.

BUILD ?= build
BENCH_OUT      := $(BUILD)/bench
BENCH_STOCK    ?= $(BUILD)/stock-x86_64/bin/luajit
BENCH_OURS     ?= $(BUILD)/x86_64/bin/luajit
BENCH_PEER     ?= $(BUILD)/sysmalloc-x86_64/bin/luajit
BENCH_CPUTIME  := $(BENCH_OUT)/cputime
BENCH_COPYDIST := $(BENCH_OUT)/copydist
BENCH_CC       ?= cc
BENCH_CFLAGS   ?= -std=c99 -O2 -Wall -Wextra -Werror
PAGESIM_TOOL   ?= tests/tools/pagesim/pagesim

BENCH_SAMPLER  := $(BENCH_OUT)/rss-sampler
BENCH_SERIES   := $(BENCH_OUT)/series
BENCH_PLOTS    := $(BENCH_OUT)/plots

BENCH_ENV = BENCH_STOCK='$(BENCH_STOCK)' BENCH_OURS='$(BENCH_OURS)' BENCH_OUT='$(BENCH_OUT)' \
	BENCH_SAMPLER='$(BENCH_SAMPLER)' BENCH_SERIES='$(BENCH_SERIES)' \
	BENCH_PEER='$(BENCH_PEER)' BENCH_PEER_RUNS='$(or $(BENCH_PEER_RUNS),3)' \
	BENCH_CPUTIME='$(BENCH_CPUTIME)' BENCH_PAIRS='$(or $(BENCH_PAIRS),11)' BENCH_CPU='$(BENCH_CPU)' \
	BENCH_OURS_RECLAIM='$(BENCH_OURS_RECLAIM)' \
	BENCH_MEM_WORKLOADS='$(or $(BENCH_MEM_WORKLOADS),a b c d e)' \
	BENCH_MEM_RUNS='$(or $(BENCH_MEM_RUNS),1)' PAGESIM='$(PAGESIM)' PAGESIM_TOOL='$(PAGESIM_TOOL)'

.PHONY: bench bench-mem bench-cpu bench-cg bench-copydist bench-series plot check-plot check-bench-cpu bench-report \
	bench-report-render

$(BENCH_CPUTIME): tests/bench/cputime.c
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $<

$(BENCH_COPYDIST): tests/bench/copydist.c
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $<

# memcpy's speed by destination-past-source distance modulo 4 KiB, and backward in 32-byte steps
# (patch 0013; runtime/reclaim/README.md, "Strings copied from the temp buffer"), ~10 s.
bench-copydist: $(BENCH_COPYDIST)
	@$(BENCH_COPYDIST) 2048 8 && $(BENCH_COPYDIST) 15000 8

$(BENCH_SAMPLER): tests/bench/plot/rss-sampler.c
	@mkdir -p $(@D)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $<

# With PAGESIM set, the simulator library (tests/tools/pagesim/pagesim.mk) is built first.
# The measured peer (glibc malloc + malloc_trim) is built unless BENCH_PEER names another.
BENCH_BUILDS := $(if $(filter $(BUILD)/stock-x86_64/bin/luajit,$(BENCH_STOCK)),stock-x86_64) \
	$(if $(filter $(BUILD)/x86_64/bin/luajit,$(BENCH_OURS)),x86_64)
BENCH_MEM_PREREQS := $(BENCH_BUILDS) $(if $(PAGESIM),$(PAGESIM_LIB)) \
	$(if $(filter $(BUILD)/sysmalloc-x86_64/bin/luajit,$(BENCH_PEER)),sysmalloc-x86_64)

BENCH_NGINX_SERIES = BENCH_SAMPLER='$(BENCH_SAMPLER)' NGINX_SERIES_PORT='$(NGINX_SERIES_PORT)' \
	SERIES_IDLE_SECONDS='$(SERIES_IDLE_SECONDS)' tests/bench/plot/nginx-series.sh $(BUILD) $(MEMSTAT) $(BENCH_SERIES)

bench: $(BENCH_CPUTIME) $(BENCH_SAMPLER) $(BENCH_MEM_PREREQS) $(MEMSTAT)
	@$(BENCH_ENV) sh tests/bench/run-bench.sh mem cpu
	@$(BENCH_NGINX_SERIES)
	@$(MAKE) --no-print-directory plot

bench-mem: $(BENCH_SAMPLER) $(BENCH_MEM_PREREQS)
	@$(BENCH_ENV) sh tests/bench/run-bench.sh mem

# The sawtooth runs here are the same commands run-mem.sh wraps (trickle, LUAJIT_RECLAIM
# unset; the peer with BENCH_MALLOC_TRIM=1); their MEM lines go next to the CSVs.
SAWTOOTH := tests/bench/mem/e_sawtooth.lua
bench-series: $(BENCH_SAMPLER) $(BENCH_MEM_PREREQS) $(MEMSTAT)
	@[ -x '$(BENCH_PEER)' ] || { echo "bench-series: BENCH_PEER='$(BENCH_PEER)' is not an executable"; exit 1; }
	@mkdir -p $(BENCH_SERIES)
	@set -e; for b in stock ours peer; do \
	  case $$b in stock) bin='$(BENCH_STOCK)'; trim= ;; ours) bin='$(BENCH_OURS)'; trim= ;; \
	    peer) bin='$(BENCH_PEER)'; trim=BENCH_MALLOC_TRIM=1 ;; esac; \
	  echo "bench-series: sawtooth on $$b ($$bin)"; \
	  BENCH_SAMPLER='$(BENCH_SAMPLER)' sh tests/bench/plot/record-sawtooth.sh $$b $(BENCH_SERIES) \
	    env -u LUAJIT_RECLAIM $$trim "$$bin" $(SAWTOOTH) trickle >$(BENCH_SERIES)/sawtooth-$$b.txt; \
	done
	@$(BENCH_NGINX_SERIES)

PLOT = tests/bench/plot/plot.sh --made-by bench-series
plot: $(BUILD)/.deps-ok
	@$(PLOT) $(BENCH_PLOTS)/sawtooth "RSS over time, workload (e) sawtooth: stock LuaJIT, ours, glibc malloc + malloc_trim" \
	  $(foreach b,stock ours peer,$(BENCH_SERIES)/sawtooth-$(b).csv)
	@$(PLOT) --shade 'load=wrk load' $(BENCH_PLOTS)/nginx "RSS over time, nginx worker: load, then idle (stock LuaJIT, ours with reclaim.nginx_idle{})" \
	  $(BENCH_SERIES)/nginx-stock.csv $(BENCH_SERIES)/nginx-ours.csv

check-plot: $(BUILD)/.deps-ok $(BENCH_SAMPLER) $(BUILD)/stock-x86_64/.stamp $(BUILD)/x86_64/.stamp
	@tests/bench/plot/check-plot.sh $(BUILD) $(BENCH_SAMPLER)

bench-cpu: $(BENCH_CPUTIME) $(BENCH_BUILDS)
	@$(BENCH_ENV) sh tests/bench/run-bench.sh cpu

check-bench-cpu: $(BUILD)/stock-x86_64/.stamp $(BUILD)/x86_64/.stamp
	@tests/bench/check-cpu.sh $(BUILD)/stock-x86_64/bin/luajit $(BUILD)/x86_64/bin/luajit $(BENCH_CPU)

# Instructions and simulated cache misses, ours vs stock (valgrind; no timing).
bench-cg: $(BENCH_BUILDS)
	@BENCH_STOCK='$(BENCH_STOCK)' BENCH_OURS='$(BENCH_OURS)' BENCH_OUT='$(BENCH_OUT)' \
	BENCH_CG='$(BENCH_CG)' BENCH_CG_LL='$(BENCH_CG_LL)' bash tests/bench/run-cachegrind.sh

# The benchmark report (tests/bench/report/): every figure the documents quote, from one run.
#   bench-report         runs the parts BENCH_REPORT_PARTS (mem cpu series cgroup nginx; see
#                        run-report.sh) into BENCH_REPORT_RESULTS, copies the TSVs to
#                        BENCH_REPORT_DIR (committed) and renders docs/benchmarks.md and the
#                        generated blocks of README.md and TUNING.md. Needs root. CPU pairs:
#                        BENCH_PAIRS, default BENCH_REPORT_PAIRS (15: a pair of the whole suite
#                        takes 65-110 s on 2 shared cores, so the whole run stays near 35 min
#                        plus bench-nginx); memory
#                        under the page-size simulator: BENCH_REPORT_PAGESIM at
#                        BENCH_REPORT_PAGESIM_WORKLOADS; bench-cgroup pairs: BENCH_CGROUP_PAIRS.
#   bench-report-render  renders the documents again from BENCH_REPORT_DIR (no run; seconds)
BENCH_REPORT_RESULTS           := $(BENCH_OUT)/report
BENCH_REPORT_DIR               ?= docs/bench-results
BENCH_REPORT_PAIRS             ?= 15
BENCH_REPORT_PARTS             ?= mem cpu series cgroup nginx
BENCH_REPORT_PAGESIM           ?= 16384 65536
BENCH_REPORT_PAGESIM_WORKLOADS ?= a d
BENCH_RENDER_LUAJIT            := $(BUILD)/stock-x86_64/bin/luajit
BENCH_RENDER = $(BENCH_RENDER_LUAJIT) tests/bench/report/render.lua $(BENCH_REPORT_DIR) . .

bench-report: $(BENCH_CPUTIME) $(BENCH_SAMPLER) $(BENCH_MEM_PREREQS) $(PAGESIM_LIB) $(MEMSTAT) \
		$(BUILD)/stock-x86_64/.stamp
	@$(BENCH_ENV) BENCH_PAIRS='$(or $(BENCH_PAIRS),$(BENCH_REPORT_PAIRS))' \
	  BENCH_PAIRS_DEFAULT='$(BENCH_REPORT_PAIRS)' PAGESIM='$(BENCH_REPORT_PAGESIM)' \
	  PAGESIM_WORKLOADS='$(BENCH_REPORT_PAGESIM_WORKLOADS)' BENCH_PLOTS='$(BENCH_PLOTS)' \
	  BENCH_RESULTS_DIR='$(BENCH_REPORT_RESULTS)' BENCH_REPORT_PARTS='$(BENCH_REPORT_PARTS)' \
	  BENCH_CGROUP_PAIRS='$(or $(BENCH_CGROUP_PAIRS),3)' BENCH_CGROUP_PAIRS_DEFAULT=3 BUILD='$(BUILD)' MEMSTAT='$(MEMSTAT)' \
	  tests/bench/report/run-report.sh $(BENCH_REPORT_DIR) $(BENCH_RENDER)

bench-report-render: $(BUILD)/stock-x86_64/.stamp
	@$(BENCH_RENDER)
	@echo "bench-report-render: docs/benchmarks.md, README.md and TUNING.md rendered from $(BENCH_REPORT_DIR)"
