#!/bin/bash
# throughput.sh: make bench-nginx: requests/s, latency and worker RSS of
# Debian's nginx + lua module on stock LuaJIT and on ours (issue 16's nginx
# targets). Prints figures; fails only when a run does not work (nginx does not
# start, wrk fails or sees socket errors or non-2xx answers, a handler answers
# differently on one build, error.log has errors), naming the run.
#
#   tests/nginx/throughput.sh BUILD_DIR MEMSTAT
#
# Builds (each a fresh nginx with one worker on 127.0.0.1, LD_LIBRARY_PATH):
#   stock        BUILD_DIR/stock-x86_64/lib: the unpatched OpenResty LuaJIT
#   ours         BUILD_DIR/x86_64/lib with the README's setup for idle workers,
#                init_worker_by_lua_block { require("reclaim").nginx_idle{} }
#   ours-noidle  BUILD_DIR/x86_64/lib without nginx_idle
#   ours-mesh    as ours, with LUAJIT_RECLAIM=mesh=on in the master's
#                environment (the state is created there; the workers inherit
#                it), checked: the worker maps the heap's memory file
#                (memfd:luajit-reclaim)
# Shapes (the site of nginx.conf.in; handlers in shapes.lua and site.lua):
#   cpu   GET /cpu,   50 connections: string and table work, no sleep, small heap
#   hold  GET /burst, 400 connections: ~300 KB of tables and strings per
#         request held across ngx.sleep(0.05)
#   json  GET /json,  50 connections: encode, decode, re-encode a ~12 KB document
# Each run (wrk with one thread; with two CPUs or more, wrk on CPU 0 and the
# worker on CPU 1): start -> 1 s -> VmRSS "start" -> one request, whose answer must be
# the same on every build -> light traffic (wrk -c 2 for 2 s) -> VmRSS "light"
# -> the load (wrk --latency for NGINX_BENCH_SECONDS; VmRSS sampled for
# the peak) -> VmRSS "load" -> 10 s without a request -> VmRSS "idle". VmRSS is
# the one worker's (/proc/PID/status). Per shape the builds run in
# NGINX_BENCH_PAIRS interleaved rounds, each round's order rotated by one
# (stock first in the first round, ours first in the second, ...).
#
# Environment:
#   NGINX_BENCH_SECONDS  seconds of load per run (default 10)
#   NGINX_BENCH_PAIRS    rounds per shape (default 3)
#   NGINX_BENCH_SHAPES   shapes, space or comma separated (default: cpu hold json)
#   NGINX_BENCH_BUILDS   builds (default: stock ours ours-noidle; stock and ours
#                        needed; ours-mesh on request)
#   NGINX_BENCH_PORT     the port (default: the first free one of 18300-18329)
#   BENCH_RESULTS_DIR    if set, also write BENCH_RESULTS_DIR/nginx.tsv: a header,
#                        then one row per shape, build and metric:
#                        shape build metric median min max unit (tab separated)
#
# Each run's error.log and wrk logs stay in BUILD_DIR/nginx-test/bench-logs/.
#
# Invariants: nginx and wrk are killed when the script ends, however it ends
# (lib.sh's at_exit handlers); every wait is bounded, so the whole run takes
# about the time printed first; nothing is written outside BUILD_DIR/nginx-test
# and BENCH_RESULTS_DIR.
set -eu

build=${1:?usage: throughput.sh BUILD_DIR MEMSTAT}
memstat=${2:?usage: throughput.sh BUILD_DIR MEMSTAT}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"
# shellcheck source=tests/nginx/lib.sh
. "$top/tests/nginx/lib.sh"
nginx_setup "$build" "$memstat"
stock_lib=$build/stock-x86_64/lib

IDLE_SECONDS=10
LIGHT_SECONDS=2
seconds=${NGINX_BENCH_SECONDS:-10}
pairs=${NGINX_BENCH_PAIRS:-3}
read -r -a shapes <<<"$(tr ',' ' ' <<<"${NGINX_BENCH_SHAPES:-cpu hold json}")"
read -r -a builds <<<"$(tr ',' ' ' <<<"${NGINX_BENCH_BUILDS:-stock ours ours-noidle}")"

positive() {
	case $2 in '' | *[!0-9]* | 0*) die "$1 must be a whole number of at least 1, not '$2'" ;; esac
}
positive NGINX_BENCH_SECONDS "$seconds"
positive NGINX_BENCH_PAIRS "$pairs"

declare -A path=([cpu]=/cpu [hold]=/burst [json]=/json)
declare -A conns=([cpu]=50 [hold]=400 [json]=50)
declare -A about=(
	[cpu]="string and table work, no sleep, small heap"
	[hold]="~300 KB of tables and strings per request held across ngx.sleep(0.05)"
	[json]="encode, decode and re-encode a ~12 KB JSON document")
[ ${#shapes[@]} -gt 0 ] || die "NGINX_BENCH_SHAPES names no shape (known: cpu hold json)"
for s in "${shapes[@]}"; do
	[ -n "${path[$s]:-}" ] || die "NGINX_BENCH_SHAPES: unknown shape '$s' (known: cpu hold json)"
done
for b in "${builds[@]}"; do
	case $b in
	stock | ours | ours-noidle | ours-mesh) ;;
	*) die "NGINX_BENCH_BUILDS: unknown build '$b' (known: stock ours ours-noidle ours-mesh)" ;;
	esac
done
case " ${builds[*]} " in *" stock "*) ;; *) die "NGINX_BENCH_BUILDS must name stock, not only '${builds[*]}'" ;; esac
case " ${builds[*]} " in *" ours "*) ;; *) die "NGINX_BENCH_BUILDS must name ours, not only '${builds[*]}'" ;; esac

port_variable=NGINX_BENCH_PORT
if [ -n "${NGINX_BENCH_PORT:-}" ]; then
	port=$NGINX_BENCH_PORT
else
	for port in $(seq 18300 18329); do port_open || break; done
	! port_open || fail "no free port in 18300-18329 (set NGINX_BENCH_PORT)"
fi

# With two CPUs or more the worker runs on CPU 1 and wrk (one thread) on CPU
# 0, so the client never takes the server's CPU; with one, nothing is pinned.
server_cpu='' client_pin=()
if [ "$(nproc)" -ge 2 ]; then server_cpu=1 client_pin=(taskset -c 0); fi

# lib_of BUILD, init_of BUILD: the library directory and the init_worker Lua.
lib_of() { if [ "$1" = stock ]; then echo "$stock_lib"; else echo "$lib"; fi; }
init_of() {
	case $1 in
	stock) echo '-- stock LuaJIT: no reclaim module' ;;
	ours | ours-mesh) echo 'require("reclaim").nginx_idle{}' ;;
	ours-noidle) echo '-- ours without reclaim.nginx_idle' ;;
	esac
}
# reclaim_of BUILD: the LUAJIT_RECLAIM value nginx starts with (empty: unset).
reclaim_of() { if [ "$1" = ours-mesh ]; then echo mesh=on; fi; }

# The metrics, in the order of the table: name, unit, label.
METRICS=(rps p50_ms p99_ms rss_start_kib rss_light_kib rss_load_kib rss_peak_kib rss_idle_kib)
declare -A unit=([rps]=req/s [p50_ms]=ms [p99_ms]=ms [rss_start_kib]=KiB [rss_light_kib]=KiB
	[rss_load_kib]=KiB [rss_peak_kib]=KiB [rss_idle_kib]=KiB)
declare -A label=([rps]=requests/s [p50_ms]="p50 latency ms" [p99_ms]="p99 latency ms"
	[rss_start_kib]="RSS at start KiB" [rss_light_kib]="RSS after light traffic KiB"
	[rss_load_kib]="RSS after the load KiB" [rss_peak_kib]="RSS peak during the load KiB"
	[rss_idle_kib]="RSS after ${IDLE_SECONDS} s idle KiB")
# Issue 16's targets, ours against stock's median: the text, and an awk test of o (ours) and s (stock).
declare -A target=([rps]=">= stock" [p99_ms]="<= stock" [rss_start_kib]="<= stock + 256 KiB"
	[rss_light_kib]="<= stock + 1 MiB")
declare -A target_test=([rps]="o >= s" [p99_ms]="o <= s" [rss_start_kib]="o <= s + 256"
	[rss_light_kib]="o <= s + 1024")
declare -A values=()   # "SHAPE BUILD METRIC" -> the runs' values, space separated
declare -A answer=()   # SHAPE -> the first run's answer to one request

# wrk_ms VALUE: wrk's latency (e.g. 812.00us, 3.41ms, 1.02s, 1.00m) in ms.
wrk_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
		if (f < 0) exit 1
		printf "%.3f", n * f }' || fail "cannot read wrk's latency '$1'"
}

# run_wrk NAME LOG ARGS...: wrk, bounded, into LOG; fails naming NAME on an
# error, on socket errors or on non-2xx answers. Samples the worker's VmRSS
# meanwhile into rss_peak.
run_wrk() {
	local name=$1 log=$2 rss secs=$seconds
	shift 2
	rss_peak=$(rss_kb "$worker")
	timeout $((secs + 30)) "${client_pin[@]}" wrk -t 1 "$@" >"$log" 2>&1 &
	wrk_pid=$!
	while kill -0 "$wrk_pid" 2>/dev/null; do
		rss=$(rss_kb "$worker") || fail "$name: the worker $worker is gone (see $(dirname "$log")/error.log)"
		[ "$rss" -le "$rss_peak" ] || rss_peak=$rss
		sleep 0.25
	done
	wait "$wrk_pid" || { cat "$log"; fail "$name: wrk $* failed (exit status above, log $log)"; }
	wrk_pid=
	if grep -q 'Non-2xx\|Socket errors' "$log"; then
		cat "$log"
		fail "$name: wrk saw $(grep -o 'Non-2xx or 3xx responses: [0-9]*\|Socket errors: .*' "$log" | tr '\n' ' ')"
	fi
	grep -q '^Requests/sec:' "$log" || { cat "$log"; fail "$name: wrk printed no Requests/sec"; }
}

# run_one SHAPE BUILD ROUND: one fresh nginx through the phases; appends to values.
run_one() {
	local shape=$1 b=$2 name="$1/$2 #$3" dir=$work/bench url body rps p50 p99 start light load peak idle reclaim
	url=http://127.0.0.1:$port${path[$shape]}
	echo "$name" >"$work/bench-start.log"
	reclaim=$(reclaim_of "$b")
	if [ -n "$reclaim" ]; then
		LUAJIT_RECLAIM=$reclaim start_nginx bench "$(init_of "$b")" "$(lib_of "$b")" >>"$work/bench-start.log"
		# With mesh=on the heap maps a memory file (anonymous memory otherwise).
		grep -qF 'memfd:luajit-reclaim ' "/proc/$worker/maps" ||
			fail "$name: worker $worker maps no memfd:luajit-reclaim with LUAJIT_RECLAIM=$reclaim"
	else
		start_nginx bench "$(init_of "$b")" "$(lib_of "$b")" >>"$work/bench-start.log"  # (fail: stderr)
	fi
	[ -z "$server_cpu" ] || taskset -pc "$server_cpu" "$worker" >>"$work/bench-start.log" ||
		fail "$name: taskset -pc $server_cpu $worker failed"
	sleep 1
	start=$(rss_kb "$worker")
	body=$(http_get "${path[$shape]}")
	if [ -z "${answer[$shape]:-}" ]; then
		answer[$shape]=$body
	elif [ "$body" != "${answer[$shape]}" ]; then
		fail "$name: GET ${path[$shape]} answered '$body', the first run '${answer[$shape]}'"
	fi
	run_wrk "$name (light traffic)" "$dir/wrk-light.log" -c 2 -d "${LIGHT_SECONDS}s" --timeout 10s "$url"
	light=$(rss_kb "$worker")
	run_wrk "$name" "$dir/wrk.log" -c "${conns[$shape]}" -d "${seconds}s" --timeout 10s --latency "$url"
	load=$(rss_kb "$worker")
	peak=$rss_peak
	sleep "$IDLE_SECONDS"
	idle=$(rss_kb "$worker")
	if grep -n '\[alert\]\|\[emerg\]\|\[error\]\|\[crit\]' "$dir/error.log"; then
		fail "$name: $dir/error.log has the lines above"
	fi
	stop_nginx
	for f in error.log wrk-light.log wrk.log; do cp "$dir/$f" "$work/bench-logs/$shape-$b-$3.$f"; done
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$dir/wrk.log")
	p50=$(wrk_ms "$(awk '$1 == "50%" { print $2 }' "$dir/wrk.log")")
	p99=$(wrk_ms "$(awk '$1 == "99%" { print $2 }' "$dir/wrk.log")")
	local m v
	for m in rps p50 p99 start light load peak idle; do
		v=${!m}
		case $m in p50 | p99) m=${m}_ms ;; rps) ;; *) m=rss_${m}_kib ;; esac
		values["$shape $b $m"]+="$v "
	done
	printf '  %-22s %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms  VmRSS start %6d light %6d load %7d peak %7d idle %7d KiB\n' \
		"$name" "$rps" "$p50" "$p99" "$start" "$light" "$load" "$peak" "$idle"
}

# stats "V1 V2 ...": median min max.
stats() {
	tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s\n", m, v[1], v[NR] }'
}
# fmt METRIC VALUE: the value as the table shows it.
fmt() { case $1 in rps) printf '%.0f' "$2" ;; *_ms) printf '%.2f' "$2" ;; *) printf '%.0f' "$2" ;; esac; }
cell() {
	local med lo hi
	read -r med lo hi <<<"$(stats "${values["$1 $2 $3"]}")"
	printf '%s (%s-%s)' "$(fmt "$3" "$med")" "$(fmt "$3" "$lo")" "$(fmt "$3" "$hi")"
}

runs=$((${#shapes[@]} * ${#builds[@]} * pairs))
per_run=$((seconds + LIGHT_SECONDS + IDLE_SECONDS + 5))
echo "bench-nginx: ${shapes[*]} x ${builds[*]} x $pairs rounds = $runs runs of about $per_run s:" \
	"expect about $(((runs * per_run + 59) / 60)) min"
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), Linux $(uname -r);" \
	"$(nginx -v 2>&1 | sed 's/^nginx version: //') with Debian's lua module; $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2)"
echo "command: NGINX_BENCH_SECONDS=$seconds NGINX_BENCH_PAIRS=$pairs NGINX_BENCH_SHAPES='${shapes[*]}'" \
	"NGINX_BENCH_BUILDS='${builds[*]}' tests/nginx/throughput.sh $build $memstat (make bench-nginx), port $port"
echo "ours: $lib with init_worker_by_lua_block { require(\"reclaim\").nginx_idle{} } (the README's setup for idle workers);" \
	"ours-noidle: the same library without it; ours-mesh: as ours, with LUAJIT_RECLAIM=mesh=on; stock: $stock_lib"
start_time=$SECONDS
rm -rf "$work/bench-logs"
mkdir -p "$work/bench-logs"

for shape in "${shapes[@]}"; do
	echo "--- $shape: GET ${path[$shape]}, ${about[$shape]}; ${client_pin[*]}${client_pin[*]:+ }wrk -t 1 -c ${conns[$shape]} -d ${seconds}s --latency${server_cpu:+ (worker on CPU $server_cpu)}"
	for ((round = 0; round < pairs; round++)); do
		for ((i = 0; i < ${#builds[@]}; i++)); do
			run_one "$shape" "${builds[(i + round) % ${#builds[@]}]}" $((round + 1))
		done
	done
done

echo
echo "median (min-max) of $pairs runs per build; stock/ours: the medians' ratio; targets: issue 16, ours against stock's median"
others=()
for b in "${builds[@]}"; do [ "$b" = stock ] || [ "$b" = ours ] || others+=("$b"); done
for shape in "${shapes[@]}"; do
	echo
	echo "$shape: GET ${path[$shape]}, ${conns[$shape]} connections, ${seconds} s per run"
	header="| metric | stock | ours | stock/ours | target | ours meets it |"
	for b in "${others[@]}"; do header+=" $b |"; done
	echo "$header"
	echo "${header//[^|]/-}"
	for m in "${METRICS[@]}"; do
		read -r s_med _ <<<"$(stats "${values["$shape stock $m"]}")"
		read -r o_med _ <<<"$(stats "${values["$shape ours $m"]}")"
		ratio=$(awk -v s="$s_med" -v o="$o_med" 'BEGIN { if (o > 0) printf "%.3f", s / o; else print "-" }')
		meets=-
		if [ -n "${target[$m]:-}" ]; then
			meets=$(awk -v s="$s_med" -v o="$o_med" "BEGIN { print (${target_test[$m]}) ? \"yes\" : \"NO\" }")
		fi
		row="| ${label[$m]} | $(cell "$shape" stock "$m") | $(cell "$shape" ours "$m") | $ratio | ${target[$m]:--} | $meets |"
		for b in "${others[@]}"; do row+=" $(cell "$shape" "$b" "$m") |"; done
		echo "$row"
	done
done

if [ -n "${BENCH_RESULTS_DIR:-}" ]; then
	mkdir -p "$BENCH_RESULTS_DIR" || die "cannot create BENCH_RESULTS_DIR $BENCH_RESULTS_DIR"
	tsv=$BENCH_RESULTS_DIR/nginx.tsv
	{
		printf 'shape\tbuild\tmetric\tmedian\tmin\tmax\tunit\n'
		for shape in "${shapes[@]}"; do
			for b in "${builds[@]}"; do
				for m in "${METRICS[@]}"; do
					read -r med lo hi <<<"$(stats "${values["$shape $b $m"]}")"
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$shape" "$b" "$m" "$med" "$lo" "$hi" "${unit[$m]}"
				done
			done
		done
	} >"$tsv"
	echo
	echo "wrote $tsv"
fi
echo "bench-nginx: $((SECONDS - start_time)) s"
