#!/bin/bash
# run.sh: make check-nginx: Debian's nginx and lua module on our library; an
# idle worker gives its burst back with reclaim.nginx_idle, one without it
# keeps it.
#
#   tests/nginx/run.sh BUILD_DIR MEMSTAT
#
# Two runs of the site in nginx.conf.in, one worker each, on 127.0.0.1:PORT
# with LD_LIBRARY_PATH=BUILD_DIR/x86_64/lib (nothing is installed):
#   idle     init_worker_by_lua_block { require("reclaim").nginx_idle{} }
#   control  the same without it
# Each: the worker maps our libluajit (/proc/PID/maps, and luajit-memstat
# names it) -> VmRSS at the start -> wrk -c 200 for 6 s on /burst (~300 KB
# held across ngx.sleep(0.05) per request, 2% cached); luajit-memstat reads
# the worker every 0.5 s in the burst's second half (the sample with the
# largest in_use is checked) -> no request at all for 5 s while VmRSS is
# sampled ->
#   idle:    VmRSS fell to start + 8 MiB + 1.2 x live heap (live: /gc, the
#            worker's collectgarbage("count") after the fall) within 5 s of
#            the last request and stays there; luajit-memstat's in_use agrees
#            with /gc within the size-class rounding; /metrics passes
#            promtool; the timer logged its collection; nginx_idle's option
#            errors name the option
#   control: VmRSS is still above that bound after 5 s (its live heap from
#            a full collect afterwards): the idle check can fail
#
# Needs root, nginx, libnginx-mod-http-lua, wrk, jq and promtool (the
# Makefile's DEPS). Environment: NGINX_TEST_PORT (default 18180).
set -eu

build=${1:?usage: run.sh BUILD_DIR MEMSTAT}
memstat=${2:?usage: run.sh BUILD_DIR MEMSTAT}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"
# shellcheck source=tests/nginx/lib.sh
. "$top/tests/nginx/lib.sh"
nginx_setup "$build" "$memstat"
need promtool:prometheus
start=$SECONDS

# burst_checks NAME MID_FILE: what luajit-memstat saw during the burst.
burst_checks() {
	local j
	j=$(jq -c '.processes[0] | { lib: .luajit_library, in_use: .heaps[0].in_use, resident: .heaps[0].resident }' "$2")
	[ "$(jq -r .lib <<<"$j")" = "$ourlib" ] || fail "$1: luajit-memstat names the library '$(jq -r .lib <<<"$j")'"
	[ "$(jq '.in_use > 16 * 1048576' <<<"$j")" = true ] ||
		fail "$1: luajit-memstat sees no burst in the heap during it: $j"
	ok "$1: wrk -c $WRK_CONNECTIONS -d ${WRK_SECONDS}s: $wrk_requests requests ($wrk_rate/s);" \
		"VmRSS start $(mib "$rss_start") MiB, peak $(mib "$rss_peak") MiB; luajit-memstat in the second half (largest in_use):" \
		"in_use $(jq '.in_use / 1048576 | floor' <<<"$j") MiB, resident $(jq '.resident / 1048576 | floor' <<<"$j") MiB"
}

check_log() {
	local log=$work/$1/error.log
	if grep -n '\[alert\]\|\[emerg\]\|\[error\]\|\[crit\]' "$log"; then fail "$1: error.log has the lines above"; fi
	if grep -n 'writing a global Lua variable' "$log"; then fail "$1: a global was written"; fi
	ok "$1: no [error], [crit], [alert] or [emerg] in error.log, no global written"
}

# ---- idle: nginx_idle{} in init_worker_by_lua_block -------------------------
echo "--- idle: init_worker_by_lua_block { require(\"reclaim\").nginx_idle{} }"
start_nginx idle 'require("reclaim").nginx_idle{}'
opts=$(http_get /options)
printf '%s\n' "$opts" | sed 's/^/    /'
want="reclaim.nginx_idle: bad value -1 for option 'tick' (want seconds from 0 to 1)
reclaim.nginx_idle: bad value '2' for option 'idle_after' (want seconds from 0.01 to 3600)
reclaim.nginx_idle: bad value 1.5 for option 'budget_us' (want whole microseconds from 10 to 100000)
reclaim.nginx_idle: unknown option 'bogus' (known: budget_us, idle_after, interval, tick)
reclaim.nginx_idle: options must be a table, not a number
reclaim.nginx_idle: already started in this worker"
[ "$opts" = "$want" ] || fail "nginx_idle's errors are not the expected ones"
ok "idle: nginx_idle names the bad option, and refuses a second start"

sleep 2   # both runs start the burst 2 s after /t (here: after the first idle collection)
burst_and_fall idle "$work/idle/memstat-mid.json"
burst_checks idle "$work/idle/memstat-mid.json"
after=$(memstat_json)
gc=$(http_get /gc)
live_kb=$(field gc_kb "$gc" | cut -d. -f1)
bound=$((rss_start + 8 * 1024 + live_kb * 12 / 10))
print_samples
fell=$(first_at_or_below "$bound")
[ -n "$fell" ] || fail "idle: VmRSS did not fall to start + 8 MiB + 1.2 x live ($(mib "$bound") MiB) within ${FALL_SECONDS} s; last: $(last_sample)"
read -r fell_ms fell_kb <<<"$fell"
read -r last_ms last_kb <<<"$(last_sample)"
ok "idle: VmRSS start $(mib "$rss_start") MiB, peak $(mib "$rss_peak") MiB, $(mib "$fell_kb") MiB ${fell_ms} ms after the last request," \
	"$(mib "$last_kb") MiB after ${last_ms} ms (bound $(mib "$bound") MiB = start + 8 MiB + 1.2 x live heap $(mib "$live_kb") MiB);" \
	"$(field requests "$gc") requests left $(field cache "$gc") cache entries"
[ "$last_kb" -le "$bound" ] || fail "idle: VmRSS rose above the bound again: $last_kb kB at $last_ms ms"

# The timer logged the collection, in slices.
collected=$(collected_line idle)
[ -n "$collected" ] || fail "idle: the nginx_idle timer logged no collection"
echo "    $collected"
calls=$(sed -n 's/.*: \([0-9]*\) calls,.*/\1/p' <<<"$collected")
cpu_us=$(sed -n 's/.*longest call [0-9]* us, CPU \([0-9]*\) us).*/\1/p' <<<"$collected")
[ "${calls:-0}" -ge 2 ] || fail "idle: the collection after the burst took ${calls:-no} calls: not sliced"
# The slices' length is a figure, not a test (a shared machine stretches any
# call): the unit suite proves each slice's work is bounded, and
# `make bench-nginx-idle` prints the longest call against the budget.
ok "idle: the collection ran in $calls slices (longest ${cpu_us:-?} us CPU, budget 500 us), then purged"

# luajit-memstat from outside after the collection: in_use is the heap walk
# of the purge, gc_kb was read after it by /gc. Every block is rounded up to
# its size class (in_use >= gc), classes are at most 1/16 apart, plus partly
# used span tails: in_use <= 1.15 x gc + 1 MiB. 64 KiB covers what the /gc
# request and the timer's checks allocated after the walk.
in_use=$(jq '.processes[0].heaps[0].in_use' <<<"$after")
gc_b=$(awk -v k="$(field gc_kb "$gc")" 'BEGIN { printf "%d", k * 1024 }')
awk -v u="$in_use" -v g="$gc_b" 'BEGIN { exit !(u >= g - 65536 && u <= g * 1.15 + 1048576) }' ||
	fail "idle: luajit-memstat in_use $in_use is not within gc - 64 KiB .. 1.15 x gc + 1 MiB of /gc's $gc_b"
ok "idle: luajit-memstat in_use $(awk -v u="$in_use" 'BEGIN { printf "%.2f", u / 1048576 }') MiB," \
	"/gc $(awk -v g="$gc_b" 'BEGIN { printf "%.2f", g / 1048576 }') MiB (ratio $(awk -v u="$in_use" -v g="$gc_b" 'BEGIN { printf "%.3f", u / g }'))"

http_get /metrics >"$work/idle/metrics.txt"
promtool check metrics <"$work/idle/metrics.txt" >"$work/idle/promtool.log" 2>&1 ||
	{ cat "$work/idle/promtool.log"; fail "idle: promtool check metrics rejects /metrics"; }
grep -q "^luajit_reclaim_in_use_bytes{pid=\"$worker\",heap=\"0x[0-9a-f]*\"} [0-9]*\$" "$work/idle/metrics.txt" ||
	fail "idle: /metrics has no luajit_reclaim_in_use_bytes sample of worker $worker"
ok "idle: /metrics ($(grep -c '^luajit_reclaim_' "$work/idle/metrics.txt") samples) passes promtool check metrics"
check_log idle
stop_nginx

# ---- control: the same without nginx_idle -----------------------------------
echo "--- control: no nginx_idle"
start_nginx control '-- no reclaim.nginx_idle'
sleep 2
burst_and_fall control "$work/control/memstat-mid.json"
burst_checks control "$work/control/memstat-mid.json"
print_samples
read -r last_ms last_kb <<<"$(last_sample)"
# Its live heap: /gc after a full collect (which purges too, so VmRSS falls).
gc=$(http_get '/gc?collect=1')
live_kb=$(field gc_kb "$gc" | cut -d. -f1)
bound=$((rss_start + 8 * 1024 + live_kb * 12 / 10))
ok "control: VmRSS start $(mib "$rss_start") MiB, peak $(mib "$rss_peak") MiB, $(mib "$last_kb") MiB ${last_ms} ms after the last request;" \
	"live heap $(mib "$live_kb") MiB; $(mib "$(rss_kb "$worker")") MiB after collectgarbage(\"collect\")"
[ "$last_kb" -gt "$bound" ] ||
	fail "control: VmRSS $(mib "$last_kb") MiB is within the bound $(mib "$bound") MiB without nginx_idle: the idle check cannot fail"
ok "control: without nginx_idle VmRSS stays above start + 8 MiB + 1.2 x live heap ($(mib "$bound") MiB) for ${FALL_SECONDS} s"
check_log control
stop_nginx

echo "check-nginx: $((SECONDS - start)) s"
