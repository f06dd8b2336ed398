# tests/cgroup/cgroup.mk: Make fragment (included by the top-level Makefile).
#
#   check-cgroup   two processes in one real memory cgroup (tests/cgroup/two_procs.sh):
#                  stock LuaJIT's pair is OOM-killed, ours lives; prints both peaks.
#                  Needs root (make check runs as root); soft_limit=auto against a real
#                  cgroup is covered by check-unit (tests/unit/test_cgroup.c).
#   bench-cgroup   figures behind soft_limit's default (tests/cgroup/soft_limit_bench.sh):
#                  soft_limit=0 vs auto in a memory cgroup, interleaved pairs
#                  (BENCH_CGROUP_PAIRS, default 3) plus stock once per pair; about 40 s
#                  per pair. Needs root.

.PHONY: check-cgroup bench-cgroup
check-cgroup: $(BUILD)/x86_64/.stamp $(BUILD)/stock-x86_64/.stamp
	tests/cgroup/two_procs.sh $(BUILD)/stock-x86_64/bin/luajit $(BUILD)/x86_64/bin/luajit

bench-cgroup: $(BUILD)/x86_64/.stamp $(BUILD)/stock-x86_64/.stamp
	tests/cgroup/soft_limit_bench.sh $(BUILD)/x86_64/bin/luajit $(or $(BENCH_CGROUP_PAIRS),3) \
	  $(BUILD)/stock-x86_64/bin/luajit
