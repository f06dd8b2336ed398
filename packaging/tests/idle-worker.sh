#!/bin/bash
# idle-worker.sh: an idle nginx worker gives its burst back, seen from inside
# and from outside, on an installed system: run inside a package test chroot
# (tests/in-chroot.sh) and inside the example image (docker/check-images.sh),
# the same checks check-nginx (tests/nginx/run.sh) makes on the build tree.
#
#   idle-worker.sh LABEL PORT
#
# Expects: nginx running from /run/nginx.pid with one worker, the one-line
# setup init_worker_by_lua_block { require("reclaim").nginx_idle{} }, and
# idle-site.conf.in's server on 127.0.0.1:PORT for Host idle.test; wrk, jq
# and luajit-memstat installed. LABEL names the system in every line.
#
# Checks: wrk -c 200 for 6 s on /burst (~300 KB held across ngx.sleep(0.05)
# per request), then no request for 5 s while the worker's VmRSS is sampled:
# it falls to start + 8 MiB + 1.2 x live heap within the 5 s and stays there
# (live: /gc, the worker's collectgarbage("count"), read last so nothing
# else allocates after it). luajit-memstat --nginx MASTER, as a table and as
# --json, halfway through the burst and after the 5 s: it lists the master and
# the worker, one heap each, the worker on the installed libluajit-5.1.so.2;
# during the burst the worker's heap shows it (resident: in_use is as of the
# last GC cycle end, which may be a low point); after it in_use agrees with
# /gc within check-nginx's size-class rounding bound.
#
# Invariants: wrk is bounded (timeout) and targets 127.0.0.1 only; every check
# prints "ok [LABEL]: ..." or ends the script with "FAIL [LABEL]: ..."
# (followed by the end of nginx's error.log); outputs are kept in /tmp.
set -eu

label=${1:?usage: idle-worker.sh LABEL PORT}
port=${2:?usage: idle-worker.sh LABEL PORT}
host=idle.test
errlog=/var/log/nginx/error.log
WRK_CONNECTIONS=200
WRK_SECONDS=6
FALL_SECONDS=5

fail() { echo "FAIL [$label]: $*"; [ -f "$errlog" ] && tail -n 20 "$errlog"; exit 1; }
ok() { echo "ok [$label]: $*"; }
for t in wrk jq luajit-memstat; do command -v "$t" >/dev/null || fail "$t is not installed"; done

# http_get PATH: the body of http://127.0.0.1:PORT/PATH for Host idle.test;
# fails unless 200.
http_get() {
	local resp
	resp=$(timeout 30 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$3" >&3
		cat <&3' http_get "$port" "$1" "$host") || fail "GET $1: no answer"
	case "$(printf '%s\n' "$resp" | head -n 1)" in
	*" 200 "*) ;;
	*) printf '%s\n' "$resp"; fail "GET $1: not 200" ;;
	esac
	printf '%s\n' "$resp" | tr -d '\r' | sed '1,/^$/d'
}
# field NAME TEXT: the value of a "NAME=value" line.
field() { printf '%s\n' "$2" | sed -n "s/^$1=//p"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# ms_since T0: milliseconds since EPOCHREALTIME T0.
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# worker_figure JSON_FILE JQ_EXPR: JQ_EXPR applied to the worker's process object.
worker_figure() { jq --argjson w "$worker" ".processes[] | select(.pid == \$w) | $2" "$1"; }

# memstat_nginx NAME: luajit-memstat --nginx MASTER as a table
# (/tmp/memstat-NAME.txt) and as JSON (/tmp/memstat-NAME.json), checked to
# list the master and its worker, one heap each, the worker on our library.
memstat_nginx() {
	local txt=/tmp/memstat-$1.txt json=/tmp/memstat-$1.json want
	timeout 30 luajit-memstat --nginx "$master" >"$txt" 2>&1 || { cat "$txt"; fail "luajit-memstat --nginx $master ($1)"; }
	if ! grep -q "^PID $master " "$txt" || ! grep -q "^PID $worker " "$txt"; then
		cat "$txt"; fail "luajit-memstat --nginx $master ($1) does not show the master and its worker $worker"
	fi
	timeout 30 luajit-memstat --nginx "$master" --json >"$json" || fail "luajit-memstat --nginx $master --json ($1)"
	want=$(printf '%s\n' "$master" "$worker" | sort -n | jq -sc .)
	[ "$(jq -c '[.processes[].pid] | sort' "$json")" = "$want" ] ||
		fail "luajit-memstat --nginx $master --json ($1) lists the pids $(jq -c '[.processes[].pid]' "$json"), want $want"
	[ "$(jq -c '[.processes[] | .heaps | length]' "$json")" = "[1,1]" ] ||
		fail "luajit-memstat --nginx $master --json ($1): heaps per process $(jq -c '[.processes[] | .heaps | length]' "$json"), want one each"
	[ "$(worker_figure "$json" .luajit_library | jq -r .)" = "$ourlib" ] ||
		fail "luajit-memstat ($1): the worker's library is $(worker_figure "$json" .luajit_library), not $ourlib"
}

ourlib=$(readlink -f /usr/lib/*/libluajit-5.1.so.2)
master=$(cat /run/nginx.pid) || fail "no /run/nginx.pid"
worker=$(cat "/proc/$master/task/$master/children")
worker=${worker% }
case "$worker" in '' | *[!0-9]*) fail "nginx master $master has the children '$worker' (want one worker)" ;; esac
grep -qF " $ourlib" "/proc/$worker/maps" || fail "worker $worker does not map $ourlib"
http_get /gc >/dev/null
sleep 2   # the burst starts 2 s after the first request, as in check-nginx

rss_start=$(rss_kb "$worker")
rss_peak=$rss_start
timeout $((WRK_SECONDS + 20)) wrk -t 2 -c "$WRK_CONNECTIONS" -d "${WRK_SECONDS}s" --timeout 10s \
	-H "Host: $host" "http://127.0.0.1:$port/burst" >/tmp/wrk.log 2>&1 &
wrk_pid=$!
t0=$EPOCHREALTIME
during=
while kill -0 "$wrk_pid" 2>/dev/null; do
	rss=$(rss_kb "$worker")
	[ "$rss" -le "$rss_peak" ] || rss_peak=$rss
	if [ -z "$during" ] && [ "$(ms_since "$t0")" -ge $((WRK_SECONDS * 500)) ]; then
		memstat_nginx during
		during=$(worker_figure /tmp/memstat-during.json .heaps[0].resident)
	fi
	sleep 0.1
done
wait "$wrk_pid" || { cat /tmp/wrk.log; fail "wrk failed"; }
t_end=$EPOCHREALTIME
samples=
while [ "$(ms_since "$t_end")" -lt $((FALL_SECONDS * 1000)) ]; do
	rss=$(rss_kb "$worker")
	[ "$rss" -le "$rss_peak" ] || rss_peak=$rss
	samples+="$(ms_since "$t_end") $rss"$'\n'
	sleep 0.1
done
memstat_nginx after
gc=$(http_get /gc) || fail "GET /gc after the burst"

requests=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' /tmp/wrk.log)
if grep -q 'Non-2xx\|Socket errors' /tmp/wrk.log; then cat /tmp/wrk.log; fail "wrk saw errors"; fi
[ "${requests:-0}" -ge 1000 ] || { cat /tmp/wrk.log; fail "only ${requests:-0} requests in the burst"; }
[ -n "$during" ] || fail "luajit-memstat did not run during the burst"
[ $((rss_peak - rss_start)) -ge $((64 * 1024)) ] ||
	fail "the burst raised the worker's VmRSS by only $(mib $((rss_peak - rss_start))) MiB"
[ "$during" -gt $((16 * 1048576)) ] || fail "luajit-memstat sees no burst in the worker's heap during it (resident $during)"
ok "wrk -c $WRK_CONNECTIONS -d ${WRK_SECONDS}s: $requests requests; worker $worker VmRSS start $(mib "$rss_start") MiB," \
	"peak $(mib "$rss_peak") MiB; luajit-memstat --nginx $master halfway: worker heap resident $((during / 1048576)) MiB," \
	"in_use $(worker_figure /tmp/memstat-during.json '.heaps[0].in_use / 1048576 | floor') MiB"

live_kb=$(field gc_kb "$gc" | cut -d. -f1)
bound=$((rss_start + 8 * 1024 + live_kb * 12 / 10))
printf '    VmRSS after the last request (ms:kB):'
awk 'NF { printf " %s:%s", $1, $2 } END { print "" }' <<<"$samples"
fell=$(awk -v b="$bound" 'NF && $2 <= b { print; exit }' <<<"$samples")
last=$(awk 'NF { l = $0 } END { print l }' <<<"$samples")
[ -n "$fell" ] || fail "VmRSS did not fall to start + 8 MiB + 1.2 x live heap ($(mib "$bound") MiB) within ${FALL_SECONDS} s; last (ms kB): $last"
[ "${last#* }" -le "$bound" ] || fail "VmRSS rose above the bound again: $last (ms kB)"
ok "idle worker: VmRSS $(mib "${fell#* }") MiB ${fell% *} ms after the last request, $(mib "${last#* }") MiB after ${last% *} ms" \
	"(bound $(mib "$bound") MiB = start + 8 MiB + 1.2 x live heap $(mib "$live_kb") MiB)"

sed -n "/^PID $worker /p; /^  diagnosis /p" /tmp/memstat-after.txt | sed 's/^/    /'
# check-nginx's bound (tests/nginx/run.sh): every block is rounded up to its
# size class (in_use >= gc), classes are at most 1/16 apart, plus partly used
# span tails: in_use <= 1.15 x gc + 1 MiB; 64 KiB covers what the idle timer
# and /gc allocated after the heap walk.
in_use=$(worker_figure /tmp/memstat-after.json .heaps[0].in_use)
gc_b=$(awk -v k="$(field gc_kb "$gc")" 'BEGIN { printf "%d", k * 1024 }')
awk -v u="$in_use" -v g="$gc_b" 'BEGIN { exit !(u >= g - 65536 && u <= g * 1.15 + 1048576) }' ||
	fail "luajit-memstat's in_use of the worker, $in_use, is not within gc - 64 KiB .. 1.15 x gc + 1 MiB of /gc's $gc_b"
ok "luajit-memstat --nginx after the burst: worker in_use $(awk -v u="$in_use" 'BEGIN { printf "%.2f", u / 1048576 }') MiB," \
	"its collectgarbage(\"count\") $(awk -v g="$gc_b" 'BEGIN { printf "%.2f", g / 1048576 }') MiB: within the size-class bound"
