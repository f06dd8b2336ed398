#!/bin/bash
# measure.sh: make bench-nginx-idle: the figures behind reclaim.nginx_idle's
# defaults (README, "nginx: idle workers"), on the check-nginx site. Prints
# figures, asserts nothing but that the runs work.
#
#   tests/nginx/measure.sh BUILD_DIR MEMSTAT
#
# 1. The burst of check-nginx (wrk -c 200 -d 6s on /burst, then no request)
#    with budget_us 250/500/1000 and tick 0/0.01 (idle_after 1, interval
#    0.5): when VmRSS reached start + 8 MiB + 1.2 x live heap, and the
#    collection as the timer logged it (calls, GC step time, longest call,
#    purge time and bytes).
# 2. An idle worker after its collection, 20 s: CPU time (schedstat) and
#    heap growth per check, with nginx_idle{}, with an empty
#    ngx.timer.every(0.5) and without either.
# 3. A trickle: one /burst request every 0.5 s, 1.5 s and 3 s for 15 s:
#    collections logged and worker CPU time, with nginx_idle{} and without.
#
# Environment: NGINX_TEST_PORT (default 18180).
set -eu

build=${1:?usage: measure.sh BUILD_DIR MEMSTAT}
memstat=${2:?usage: measure.sh BUILD_DIR MEMSTAT}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"
# shellcheck source=tests/nginx/lib.sh
. "$top/tests/nginx/lib.sh"
nginx_setup "$build" "$memstat"
start=$SECONDS

idle_init() { echo "require(\"reclaim\").nginx_idle{ $1 }"; }

echo "--- 1. burst, then no request: wrk -c $WRK_CONNECTIONS -d ${WRK_SECONDS}s on /burst"
printf '| %-30s | %8s | %8s | %9s | %9s | %s |\n' options "peak MiB" "live MiB" "fell (ms)" "MiB then" "collection (timer's log)"
for budget in 250 500 1000; do
	for tick in 0 0.01; do
		opts="budget_us = $budget, tick = $tick"
		start_nginx measure "$(idle_init "$opts")" >"$work/start.log" || { cat "$work/start.log"; exit 1; }
		sleep 2
		burst_and_fall measure
		live_kb=$(field gc_kb "$(http_get /gc)" | cut -d. -f1)
		bound=$((rss_start + 8 * 1024 + live_kb * 12 / 10))
		fell=$(first_at_or_below "$bound")
		[ -n "$fell" ] || fell="- $(last_sample | cut -d' ' -f2)"
		read -r fell_ms fell_kb <<<"$fell"
		printf '| %-30s | %8s | %8s | %9s | %9s | %s |\n' "$opts" "$(mib "$rss_peak")" "$(mib "$live_kb")" \
			"$fell_ms" "$(mib "$fell_kb")" "$(collected_line measure | sed 's/^reclaim.nginx_idle: collected and purged //')"
		stop_nginx
	done
done

# init_of VARIANT: the init_worker_by_lua_block of a variant.
init_of() {
	case $1 in
	nginx_idle) idle_init "" ;;
	bare_timer) echo 'ngx.timer.every(0.5, function() end)' ;;
	control) echo '-- none' ;;
	esac
}

echo "--- 2. an idle worker, 20 s after its collection (bare_timer: an empty ngx.timer.every(0.5))"
for variant in nginx_idle bare_timer control; do
	start_nginx measure "$(init_of $variant)" >"$work/start.log" || { cat "$work/start.log"; exit 1; }
	sleep 3
	gc0=$(field gc_kb "$(http_get /gc)")
	cpu0=$(cpu_ns "$worker")
	sleep 20
	cpu1=$(cpu_ns "$worker")
	gc1=$(field gc_kb "$(http_get /gc)")
	awk -v v=$variant -v c=$((cpu1 - cpu0)) -v g0="$gc0" -v g1="$gc1" 'BEGIN {
		printf "%-10s worker CPU %.2f ms in 20 s (%.1f us/s); heap %+.1f KiB (%.2f KiB per 0.5 s check)\n",
			v, c / 1e6, c / 20e3, g1 - g0, (g1 - g0) / 40 }'
	stop_nginx
done

echo "--- 3. a trickle: one /burst request every P s for 15 s"
for period in 0.5 1.5 3; do
	for variant in nginx_idle control; do
		start_nginx measure "$(init_of $variant)" >"$work/start.log" || { cat "$work/start.log"; exit 1; }
		sleep 3
		before=$(grep -c 'collected and purged' "$work/measure/error.log" || true)
		cpu0=$(cpu_ns "$worker")
		t0=$SECONDS
		n=0
		while [ $((SECONDS - t0)) -lt 15 ]; do
			http_get /burst >/dev/null
			n=$((n + 1))
			sleep "$period"
		done
		cpu1=$(cpu_ns "$worker")
		collections=$(( $(grep -c 'collected and purged' "$work/measure/error.log" || true) - before ))
		printf 'period %-4s %-10s %3d requests, %2d collections, worker CPU %.1f ms, VmRSS %s MiB\n' \
			"$period" "$variant" "$n" "$collections" "$(awk -v c=$((cpu1 - cpu0)) 'BEGIN { print c / 1e6 }')" \
			"$(mib "$(rss_kb "$worker")")"
		stop_nginx
	done
done
echo "bench-nginx-idle: $((SECONDS - start)) s"
