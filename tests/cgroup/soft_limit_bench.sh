#!/bin/bash
# soft_limit_bench.sh: figures behind the default of soft_limit (bench-cgroup).
#
# Each workload runs in a fresh child memory cgroup (tests/cgroup/lib.sh) with
# a limit, once with LUAJIT_RECLAIM=soft_limit=0 (none) and once with
# soft_limit=auto (a share of that limit), in PAIRS interleaved pairs whose
# order alternates. Per run: exit status (137 = OOM-killed), CPU seconds of the
# process (os.clock), the group's peak usage and the process's VmHWM (MiB),
# and the allocator's purge calls; then the median and range of each figure
# per setting. Figures, not a test: it fails only if a run fails for another
# reason than the OOM killer.
#
# Workloads (run with the build given):
#   service  tests/cgroup/service.lua 100 2000 300 20 in a 1000 MiB group: a
#            server heap whose uncollected garbage keeps mapped above half the
#            limit (auto purges on every growth step: the CPU cost)
#   phases   tests/cgroup/phases.lua 6 200 in a 600 MiB group: the heap's
#            shape changes faster than the decay (auto purges what decay keeps)
#
# With STOCK_LUAJIT, each pair also runs the workloads once on it (setting
# "stock"), for scale.
#
# Usage: tests/cgroup/soft_limit_bench.sh LUAJIT [PAIRS [STOCK_LUAJIT]]   (as root)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../lib/shell.sh
. "$top/lib/shell.sh"
# shellcheck source=lib.sh
. "$top/tests/cgroup/lib.sh"

[ $# -ge 1 ] || die "usage: $0 LUAJIT [PAIRS [STOCK_LUAJIT]]"
luajit=$1 pairs=${2:-3} stock=${3:-}
[ -x "$luajit" ] || die "$luajit: not an executable (make x86_64)"
[ -z "$stock" ] || [ -x "$stock" ] || die "$stock: not an executable (make stock-x86_64)"
need_root "a memory cgroup needs root"
work=$(mktemp -d)
at_exit 'cgroup_remove; rm -rf "$work"'

# one WORKLOAD SETTING LIMIT_MIB SCRIPT ARGS...: one run; appends a row to
# $work/WORKLOAD.rows: setting status cpu_s group_peak_mib hwm_mib purge_calls
one() {
	local name=$1 setting=$2 limit=$3 status=0 out bin=$luajit
	shift 3
	[ "$setting" = stock ] && bin=$stock
	cgroup_make "rcl-soft-limit-$$" "$limit"
	out=$([ "$setting" = stock ] || export LUAJIT_RECLAIM="soft_limit=$setting"
		cgroup_run "$bin" "$@" 2>&1) || status=$?
	case $status in
	0) ;;
	137) out="done cpu_s=- hwm_kib=0 purge_calls=-" ;;
	*) die "$name with soft_limit=$setting exited $status: $out" ;;
	esac
	awk -v s="$setting" -v st="$status" -v peak="$(cgroup_peak_mib)" '
		/^done / {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			printf "%s %s %s %s %d %s\n", s, st, f["cpu_s"], peak, f["hwm_kib"] / 1024, f["purge_calls"]
		}' <<<"$out" >>"$work/$name.rows"
	cgroup_remove
}

# report WORKLOAD: every run, then median [min-max] per setting.
report() {
	echo "### $1"
	echo "setting  exit  cpu_s   group_peak_MiB  VmHWM_MiB  purge_calls"
	awk '{ printf "%-8s %-5s %-7s %-15s %-10s %s\n", $1, $2, $3, $4, $5, $6 }' "$work/$1.rows"
	for s in 0 auto ${stock:+stock}; do  # medians per setting ("stock": the stock build)
		awk -v s="$s" '
			function med(a, n,   i, j, t) {
				for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			}
			$1 == s { n++; if ($2 == 137) oom++; else { c[++m] = $3; cmin = (m == 1 || $3 < cmin) ? $3 : cmin; cmax = ($3 > cmax) ? $3 : cmax }
			          p[n] = $4; pmin = (n == 1 || $4 < pmin) ? $4 : pmin; pmax = ($4 > pmax) ? $4 : pmax }
			END { printf "median %s: cpu %s s [%s-%s], group peak %s MiB [%s-%s], OOM-killed %d of %d\n",
			      s == "stock" ? "stock" : "soft_limit=" s, m ? med(c, m) : "-", m ? cmin : "-", m ? cmax : "-", med(p, n), pmin, pmax, oom, n }' "$work/$1.rows"
	done
	echo
}

echo "bench-cgroup: $luajit${stock:+ (stock: $stock)}, $pairs interleaved pairs per workload, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: tests/cgroup/soft_limit_bench.sh $luajit $pairs $stock"
for ((i = 1; i <= pairs; i++)); do
	if [ $((i % 2)) = 1 ]; then order="0 auto"; else order="auto 0"; fi
	[ -z "$stock" ] || order="$order stock"
	for s in $order; do
		one service "$s" 1000 "$top/tests/cgroup/service.lua" 100 2000 300 20
		one phases "$s" 600 "$top/tests/cgroup/phases.lua" 6 200
	done
done
echo
report service
report phases
