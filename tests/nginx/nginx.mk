# tests/nginx/nginx.mk: Debian's nginx and lua module on our runtime, included by the
# top-level Makefile after tests/lua/lua.mk and runtime/tools/memstat/memstat.mk.
#
#   check-nginx   tests/nginx/idle.lua (reclaim.idle, luaJIT_reclaim_idle and nginx_idle's
#                 errors in the CLI, JIT on and off), then tests/nginx/run.sh: a burst on
#                 one worker, then no request: with reclaim.nginx_idle{} VmRSS falls within
#                 5 s, without it it stays up; luajit-memstat and /metrics (promtool)
#   bench-nginx   tests/nginx/throughput.sh: requests/s, p50/p99 latency and worker RSS
#                 (start, light traffic, after the load, 10 s idle) on stock LuaJIT and on
#                 ours (with reclaim.nginx_idle{}, and without), three shapes (cpu, hold,
#                 json), interleaved rounds, medians and ranges against issue 16's targets;
#                 NGINX_BENCH_SECONDS (10), NGINX_BENCH_PAIRS (3), NGINX_BENCH_SHAPES
#                 (cpu hold json), NGINX_BENCH_BUILDS, BENCH_RESULTS_DIR (nginx.tsv);
#                 about 12 min with the defaults (it prints its estimate first)
#   bench-nginx-idle  tests/nginx/measure.sh: the figures behind nginx_idle's defaults
#
# Invariants: nothing is installed; nginx runs with LD_LIBRARY_PATH=$(BUILD)/x86_64/lib
# (or $(BUILD)/stock-x86_64/lib), on 127.0.0.1 only (check-nginx and bench-nginx-idle on
# $(NGINX_TEST_PORT), bench-nginx on a free port of 18300-18329), its files in
# $(BUILD)/nginx-test/; nginx and wrk are killed when the script ends. check-nginx takes
# about 45 s.

NGINX_TEST_PORT ?= 18180

.PHONY: check-nginx bench-nginx bench-nginx-idle
check-nginx: $(BUILD)/.deps-ok $(BUILD)/x86_64/.stamp $(MEMSTAT)
	$(call lua_test_run,x86_64,,,tests/nginx/idle.lua)
	@NGINX_TEST_PORT=$(NGINX_TEST_PORT) tests/nginx/run.sh $(BUILD) $(MEMSTAT)

bench-nginx: $(BUILD)/.deps-ok $(BUILD)/x86_64/.stamp $(BUILD)/stock-x86_64/.stamp $(MEMSTAT)
	@tests/nginx/throughput.sh $(BUILD) $(MEMSTAT)

bench-nginx-idle: $(BUILD)/.deps-ok $(BUILD)/x86_64/.stamp $(MEMSTAT)
	@NGINX_TEST_PORT=$(NGINX_TEST_PORT) tests/nginx/measure.sh $(BUILD) $(MEMSTAT)
