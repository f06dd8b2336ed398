#!/bin/bash
# nginx-series.sh: the nginx load-then-idle RSS series of `make bench-series` and
# `make bench`: the check-nginx site (tests/nginx/nginx.conf.in, Debian's nginx and lua
# module, one worker on 127.0.0.1) on stock LuaJIT and on ours with
# reclaim.nginx_idle{}; the worker's VmRSS is sampled every 50 ms through 1 s before the
# load, wrk on /burst (tests/nginx/lib.sh's WRK_CONNECTIONS, WRK_SECONDS) and
# SERIES_IDLE_SECONDS (default 10) with no request at all.
#
#   tests/bench/plot/nginx-series.sh BUILD_DIR MEMSTAT OUT_DIR
#
# Writes OUT_DIR/nginx-stock.csv and OUT_DIR/nginx-ours.csv (rss-sampler CSVs, phases
# before, load, idle). Environment: BENCH_SAMPLER (the rss-sampler binary, required),
# NGINX_SERIES_PORT (default: the first free port of 18270-18299, since other work on the
# machine may run nginx on fixed ports), SERIES_IDLE_SECONDS.
# Invariants: each worker is checked to map the intended libluajit and no other; a run
# whose wrk failed or saw errors fails the script; nginx, wrk and the sampler are killed
# when the script ends, however it ends (at_exit); nothing is written outside
# BUILD_DIR/nginx-test and OUT_DIR.
set -eu

build=${1:?usage: nginx-series.sh BUILD_DIR MEMSTAT OUT_DIR}
memstat=${2:?usage: nginx-series.sh BUILD_DIR MEMSTAT OUT_DIR}
out=${3:?usage: nginx-series.sh BUILD_DIR MEMSTAT OUT_DIR}
top=$(cd "$(dirname "$0")/../../.." && pwd)
here=$top/tests/bench/plot
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"
# shellcheck source=tests/nginx/lib.sh
. "$top/tests/nginx/lib.sh"
nginx_setup "$build" "$memstat"
if [ -n "${NGINX_SERIES_PORT:-}" ]; then
	port=$NGINX_SERIES_PORT
else
	for port in $(seq 18270 18299); do port_open || break; done
	! port_open || fail "no free port in 18270-18299 (set NGINX_SERIES_PORT)"
fi
: "${BENCH_SAMPLER:?BENCH_SAMPLER must name the rss-sampler binary}"
idle_seconds=${SERIES_IDLE_SECONDS:-10}
case $idle_seconds in '' | *[!0-9]* | 0) die "SERIES_IDLE_SECONDS must be a positive whole number" ;; esac
mkdir -p "$out"
start=$SECONDS

sampler_pid=
stop_sampler() {
	[ -n "$sampler_pid" ] || return 0
	kill -TERM "$sampler_pid" 2>/dev/null || true
	wait "$sampler_pid" 2>/dev/null || true
	sampler_pid=
}
at_exit stop_sampler

# start_stock_nginx NAME: like lib.sh's start_nginx, on the stock library (which has no
# reclaim module, so the worker is found as the master's one child instead of by /t).
start_stock_nginx() {
	local dir=$work/$1 stock_lib=$build/stock-x86_64/lib stock_so
	stock_so=$(readlink -f "$stock_lib/libluajit-5.1.so.2") || stock_so=
	[ -f "$stock_so" ] || fail "the stock library $stock_lib/libluajit-5.1.so.2 is not built (make stock-x86_64)"
	rm -rf "$dir"
	mkdir -p "$dir/tmp"
	sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@TESTS@|$top/tests/nginx|g" \
		-e "s|@INIT_WORKER@|-- stock LuaJIT: no reclaim module|" "$top/tests/nginx/nginx.conf.in" >"$dir/nginx.conf"
	! port_open || fail "port $port is already in use (set NGINX_TEST_PORT)"
	LD_LIBRARY_PATH=$stock_lib nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ||
		{ tail -n 20 "$dir/error.log"; fail "nginx did not start ($1)"; }
	for _ in $(seq 100); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
	nginx_pid=$(cat "$dir/nginx.pid" 2>/dev/null) || fail "nginx wrote no pid file ($1)"
	for _ in $(seq 100); do port_open && break; sleep 0.1; done
	http_get /gc >/dev/null
	worker=$(cat "/proc/$nginx_pid/task/$nginx_pid/children") || fail "cannot read the children of nginx $nginx_pid"
	worker=${worker% }
	case $worker in '' | *[!0-9]*) fail "nginx $nginx_pid has not exactly one worker: '$worker'" ;; esac
	grep -qF " $stock_so" "/proc/$worker/maps" || fail "worker $worker does not map $stock_so"
	if grep libluajit "/proc/$worker/maps" | grep -vqF " $stock_so"; then
		grep libluajit "/proc/$worker/maps"; fail "worker $worker maps another libluajit too"
	fi
	ok "$1: nginx $nginx_pid, worker $worker maps $stock_so"
}

# record NAME LABEL: samples the running worker through before, load and idle into
# OUT_DIR/nginx-NAME.csv.
record() {
	local name=$1 label=$2 csv=$out/nginx-$1.csv dir=$work/series-$1 wrk_out
	BENCH_SAMPLER=$BENCH_SAMPLER "$here/sample.sh" "$csv" "$label" \
		"nginx + lua module, 1 worker: wrk -c $WRK_CONNECTIONS for ${WRK_SECONDS}s on /burst (~300 KB held per request), then ${idle_seconds}s with no request" \
		50 -p "$worker" -P before,load,idle &
	sampler_pid=$!
	for _ in $(seq 100); do grep -q '^time_ms,' "$csv" 2>/dev/null && break; sleep 0.05; done
	grep -q '^time_ms,' "$csv" || fail "$name: rss-sampler did not start"
	sleep 1
	kill -USR1 "$sampler_pid"
	timeout $((WRK_SECONDS + 20)) wrk -t 2 -c "$WRK_CONNECTIONS" -d "${WRK_SECONDS}s" --timeout 10s \
		"http://127.0.0.1:$port/burst" >"$dir/wrk.log" 2>&1 || { cat "$dir/wrk.log"; fail "$name: wrk failed"; }
	kill -USR1 "$sampler_pid"
	sleep "$idle_seconds"
	stop_sampler
	wrk_out=$(cat "$dir/wrk.log")
	if grep -q 'Non-2xx\|Socket errors' <<<"$wrk_out"; then echo "$wrk_out"; fail "$name: wrk saw errors"; fi
	ok "$name: $(sed -n 's/^ *\([0-9]* requests in [^,]*\).*/\1/p' <<<"$wrk_out"); VmRSS before, peak, last:" \
		"$(awk -F, '/^[0-9]/ { if (!n++) first = $2; if ($2 > peak) peak = $2; last = $2 }
			END { printf "%.1f, %.1f, %.1f MiB", first / 1024, peak / 1024, last / 1024 }' "$csv") -> $csv"
}

echo "--- stock LuaJIT"
start_stock_nginx series-stock
sleep 2
record stock "stock LuaJIT"
stop_nginx

echo "--- ours, init_worker_by_lua_block { require(\"reclaim\").nginx_idle{} }"
start_nginx series-ours 'require("reclaim").nginx_idle{}'
sleep 2
record ours 'ours, reclaim.nginx_idle{}'
stop_nginx
echo "nginx-series: $((SECONDS - start)) s"
