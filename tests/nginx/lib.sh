# shellcheck shell=bash
# tests/nginx/lib.sh: what run.sh (check-nginx), throughput.sh (bench-nginx)
# and measure.sh (bench-nginx-idle) share (sourced, never run): nginx from
# Debian with its lua module on our library (or stock's), one worker on
# 127.0.0.1, the burst and the quiet time after it.
#
# The sourcing script sets top, build (absolute), memstat (absolute) and
# port, and sources lib/shell.sh first. Globals set here: nginx_pid, worker
# (the one worker's pid), wrk_pid, rss_start, rss_peak, samples ("ms kB"
# lines of VmRSS after the last request), wrk_requests, wrk_rate;
# nginx_setup also sets port_variable (NGINX_TEST_PORT: the variable named
# when the port is taken; a script with its own port variable overrides it).
#
# Invariants: nginx and wrk are killed when the sourcing script ends, however
# it ends (at_exit); every wait is bounded; a check prints "ok: ..." or ends
# the script with "FAIL: ..." on stderr; nothing is written outside BUILD/nginx-test.

# The sourcing script sets top, build, memstat and port and reads the globals:
# shellcheck disable=SC2154,SC2034

WRK_CONNECTIONS=${WRK_CONNECTIONS:-200}
WRK_SECONDS=${WRK_SECONDS:-6}
FALL_SECONDS=${FALL_SECONDS:-5}   # no request during this long after the burst
SAMPLE=0.1                        # seconds between VmRSS samples
MODULES=/usr/lib/nginx/modules

# fail goes to stderr: seen also where stdout is captured ($(...), a log).
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

nginx_pid=
worker=
wrk_pid=

# nginx_setup BUILD_DIR MEMSTAT: absolute build and memstat paths, the port
# (NGINX_TEST_PORT, default 18180), and the prerequisites (nginx_prereqs).
nginx_setup() {
	build=$(cd "$1" && pwd)
	memstat=$(cd "$(dirname "$2")" && pwd)/${2##*/}
	port=${NGINX_TEST_PORT:-18180}
	port_variable=NGINX_TEST_PORT  # what a user sets to choose another port
	nginx_prereqs
}

nginx_prereqs() {
	local m
	need_root "nginx runs its worker as nobody and luajit-memstat reads it"
	need nginx wrk:wrk jq:jq
	for m in ndk_http_module.so ngx_http_lua_module.so; do
		[ -f "$MODULES/$m" ] || fail "$MODULES/$m is missing: apt-get install libnginx-mod-http-lua (make deps)"
	done
	[ -x "$memstat" ] || fail "$memstat is not built"
	lib=$build/x86_64/lib
	ourlib=$(readlink -f "$lib/libluajit-5.1.so.2") || fail "our library $lib/libluajit-5.1.so.2 is not built"
	[ -f "$ourlib" ] || fail "our library $lib/libluajit-5.1.so.2 is not built"
	version=$(sed -n 's/^RECLAIM_VERSION := //p' "$top/runtime/version.mk")
	work=$build/nginx-test
	mkdir -p "$work"
	at_exit stop_wrk
	at_exit stop_nginx
}

stop_nginx() {
	local pid=$nginx_pid
	[ -n "$pid" ] || return 0
	nginx_pid=
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	[ -z "$worker" ] || kill -KILL "$worker" 2>/dev/null || true
}
stop_wrk() {  # (wrk_pid is timeout's, which passes TERM on to wrk)
	[ -z "$wrk_pid" ] || kill -TERM "$wrk_pid" 2>/dev/null || true
	wrk_pid=
}

port_open() { timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' port "$port" 2>/dev/null; }

# http_get PATH: the body of http://127.0.0.1:PORT/PATH; fails unless 200.
http_get() {
	local resp
	resp=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$2" >&3
		cat <&3' http_get "$port" "$1") || fail "GET $1: no answer"
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
# cpu_ns PID: CPU time the process has run, in ns (/proc/PID/schedstat).
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }

# start_nginx NAME INIT_WORKER [LIB_DIR [CONF_IN]]: nginx in BUILD/nginx-test/NAME
# on the libluajit-5.1.so.2 of LIB_DIR (default ours, BUILD/x86_64/lib) with the
# site CONF_IN (default tests/nginx/nginx.conf.in), INIT_WORKER the Lua of its
# init_worker_by_lua_block; sets nginx_pid and worker. Checks that the master
# has one worker, that it maps that library and no other libluajit, and that
# /t reports reclaim.version: ours with our library, "none" (no reclaim
# module) with any other.
start_nginx() {
	local dir=$work/$1 libdir=${3:-$lib} conf_in=${4:-$top/tests/nginx/nginx.conf.in} so want pid body
	so=$(readlink -f "$libdir/libluajit-5.1.so.2") || so=
	[ -f "$so" ] || fail "the library $libdir/libluajit-5.1.so.2 is not built"
	want=none
	[ "$so" != "$ourlib" ] || want=$version
	rm -rf "$dir"
	mkdir -p "$dir/tmp"
	sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@TESTS@|$top/tests/nginx|g" \
		-e "s|@INIT_WORKER@|$2|" "$conf_in" >"$dir/nginx.conf"
	! port_open || fail "port $port is already in use (set $port_variable)"
	LD_LIBRARY_PATH=$libdir nginx -t -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
		>"$dir/nginx-t.log" 2>&1 || { cat "$dir/nginx-t.log"; fail "nginx -t ($1)"; }
	LD_LIBRARY_PATH=$libdir nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ||
		{ tail -n 20 "$dir/error.log"; fail "nginx did not start ($1)"; }
	for _ in $(seq 100); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
	nginx_pid=$(cat "$dir/nginx.pid" 2>/dev/null) || fail "nginx wrote no pid file ($1)"
	for _ in $(seq 100); do port_open && break; sleep 0.1; done
	body=$(http_get /t)
	worker=$(field pid "$body")
	pid=$(cat "/proc/$nginx_pid/task/$nginx_pid/children") || fail "cannot read the children of nginx $nginx_pid"
	[ "$pid" = "$worker " ] || fail "the children of master $nginx_pid are '$pid', /t says '$worker' (want one worker)"
	[ "$(field reclaim.version "$body")" = "$want" ] ||
		fail "/t: reclaim.version is '$(field reclaim.version "$body")', want $want (library $so)"
	# The worker runs that library, not a system one.
	grep -qF " $so" "/proc/$worker/maps" ||
		{ grep luajit "/proc/$worker/maps"; fail "worker $worker does not map $so"; }
	if grep 'libluajit' "/proc/$worker/maps" | grep -vqF " $so"; then
		grep libluajit "/proc/$worker/maps"; fail "worker $worker maps another libluajit too"
	fi
	ok "$1: nginx $nginx_pid, worker $worker maps $so ($(field jit.version "$body"), reclaim $want)"
}

# memstat_json: luajit-memstat --json of the worker, checked to show one heap.
memstat_json() {
	local j
	j=$(timeout 20 "$memstat" --json "$worker") || fail "luajit-memstat --json $worker failed"
	[ "$(jq '.processes[0].heaps | length' <<<"$j")" = 1 ] ||
		{ echo "$j"; fail "luajit-memstat does not show one heap in worker $worker"; }
	printf '%s\n' "$j"
}

# burst_and_fall NAME [MID_FILE]: wrk on /burst, then FALL_SECONDS with no
# request while VmRSS is sampled; with MID_FILE, luajit-memstat's JSON of the
# worker goes there: of the samples taken about every 0.5 s in the second
# half of the burst, the one with the largest in_use (the heap publishes
# in_use at GC cycle ends, so one sample may fall in a trough of the burst).
# Sets rss_start, rss_peak, samples, wrk_requests, wrk_rate.
burst_and_fall() {
	local name=$1 mid=${2:-} dir=$work/$1 t0 t_end rss wrk_out t_mid='' j
	rss_start=$(rss_kb "$worker")
	rss_peak=$rss_start
	timeout $((WRK_SECONDS + 20)) wrk -t 2 -c "$WRK_CONNECTIONS" -d "${WRK_SECONDS}s" --timeout 10s \
		"http://127.0.0.1:$port/burst" >"$dir/wrk.log" 2>&1 &
	wrk_pid=$!
	t0=$EPOCHREALTIME
	while kill -0 "$wrk_pid" 2>/dev/null; do
		rss=$(rss_kb "$worker")
		[ "$rss" -le "$rss_peak" ] || rss_peak=$rss
		if [ -n "$mid" ] && [ "$(ms_since "$t0")" -ge $((WRK_SECONDS * 500)) ] &&
			[ "$(ms_since "$t0")" -lt $((WRK_SECONDS * 950)) ] &&
			{ [ -z "$t_mid" ] || [ "$(ms_since "$t_mid")" -ge 500 ]; }; then
			t_mid=$EPOCHREALTIME
			j=$(memstat_json)
			if [ ! -s "$mid" ] || [ "$(jq '.processes[0].heaps[0].in_use' <<<"$j")" -gt \
				"$(jq '.processes[0].heaps[0].in_use' "$mid")" ]; then
				printf '%s\n' "$j" >"$mid"
			fi
		fi
		sleep "$SAMPLE"
	done
	wait "$wrk_pid" || { cat "$dir/wrk.log"; fail "$name: wrk failed"; }
	wrk_pid=
	t_end=$EPOCHREALTIME
	samples=
	while [ "$(ms_since "$t_end")" -lt $((FALL_SECONDS * 1000)) ]; do
		rss=$(rss_kb "$worker")
		[ "$rss" -le "$rss_peak" ] || rss_peak=$rss
		samples+="$(ms_since "$t_end") $rss"$'\n'
		sleep "$SAMPLE"
	done
	wrk_out=$(cat "$dir/wrk.log")
	wrk_requests=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$wrk_out")
	wrk_rate=$(sed -n 's/^Requests\/sec: *\([0-9]*\).*/\1/p' <<<"$wrk_out")
	if grep -q 'Non-2xx\|Socket errors' <<<"$wrk_out"; then echo "$wrk_out"; fail "$name: wrk saw errors"; fi
	[ "${wrk_requests:-0}" -ge 1000 ] || { echo "$wrk_out"; fail "$name: only ${wrk_requests:-0} requests in the burst"; }
	# The burst must show: otherwise there is nothing to fall back from.
	[ $((rss_peak - rss_start)) -ge $((64 * 1024)) ] ||
		fail "$name: the burst raised RSS by only $(mib $((rss_peak - rss_start))) MiB"
}

print_samples() {
	printf '    VmRSS after the last request (ms:kB):'
	awk 'NF { printf " %s:%s", $1, $2 } END { print "" }' <<<"$samples"
}
# first_at_or_below KB: the first "ms kB" sample at or below KB.
first_at_or_below() { awk -v b="$1" 'NF && $2 <= b { print; exit }' <<<"$samples"; }
last_sample() { awk 'NF { l = $0 } END { print l }' <<<"$samples"; }

# collected_line NAME: the last collection the nginx_idle timer logged.
collected_line() {
	grep -o 'reclaim.nginx_idle: collected and purged.*' "$work/$1/error.log" | tail -n 1 | sed 's/, context: .*//'
}
