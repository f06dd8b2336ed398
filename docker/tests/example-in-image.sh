#!/bin/bash
# example-in-image.sh: the example derived image, run inside an unpacked copy
# of a luajit-reclaim image by check-images (as root, network to Debian's
# archive, our apt repository mounted where the image's .sources points).
#
# Environment: PORT (loopback port for nginx), RECLAIM_VERSION, OUR_PACKAGES
# ("name=version ..." of our packages in the image), EXAMPLE (directory
# holding a copy of docker/examples), TESTS (a directory holding
# packaging/tests/idle-worker.sh, idle-site.conf.in and check-nginx's
# site.lua), IDLE_TEST (1: run the idle-worker test; check-images sets it on
# amd64, where timing bounds mean something, not under qemu-user).
#
# It does what docker/examples/Dockerfile does (install-nginx.sh, the site and
# the handler in the same places), then starts nginx on 127.0.0.1:PORT, asks
# the handler, and checks: it runs on our runtime (reclaim.version and the
# LuaJIT banner). With IDLE_TEST=1: idle-worker.sh (a wrk burst on the
# example's nginx, whose site sets up reclaim.nginx_idle; then no request:
# the worker's VmRSS falls; luajit-memstat --nginx agrees with the worker).
# Then luajit-memstat --nginx --json of the master and GET /metrics go to
# /tmp/results/ (check-images checks them with jq and promtool, which the
# image does not have), and dpkg still has every package of ours at our
# version. For the test, nginx runs one worker (the idle-worker test watches
# it) and the burst's server (idle-site.conf.in) sits next to the example's.
# Invariant: every check prints "ok: ..." or exits non-zero naming it.
set -eu
: "${PORT:?}" "${RECLAIM_VERSION:?}" "${OUR_PACKAGES:?}" "${EXAMPLE:?}" "${TESTS:?}" "${IDLE_TEST:?}"
fail() { echo "FAIL: $*"; [ -f /var/log/nginx/error.log ] && tail -n 20 /var/log/nginx/error.log; exit 1; }

start=$(date +%s)
if [ "$IDLE_TEST" = 1 ]; then
	# The idle-worker test's tools, before the example's own install step
	# (which removes apt's lists again).
	{ apt-get update && apt-get install -y --no-install-recommends wrk jq; } >/tmp/install-tools.log 2>&1 ||
		{ tail -n 40 /tmp/install-tools.log; fail "apt-get install wrk jq (the idle-worker test's tools)"; }
	echo "ok: wrk and jq for the idle-worker test installed in $(( $(date +%s) - start ))s"
	start=$(date +%s)
fi
"$EXAMPLE/install-nginx.sh" >/tmp/install.log 2>&1 || { tail -n 40 /tmp/install.log; fail "install-nginx.sh"; }
grep '^install-nginx:' /tmp/install.log
echo "ok: install-nginx.sh (apt-get update + install from Debian) in $(( $(date +%s) - start ))s"
install -m 0644 "$EXAMPLE/nginx/luajit-reclaim-example.conf" /etc/nginx/conf.d/
install -D -m 0644 "$EXAMPLE/lua/handler.lua" /etc/nginx/lua/handler.lua
sed -i "s/^\([[:space:]]*\)listen 8080;/\1listen 127.0.0.1:$PORT;/" /etc/nginx/conf.d/luajit-reclaim-example.conf
grep -q "listen 127.0.0.1:$PORT;" /etc/nginx/conf.d/luajit-reclaim-example.conf || fail "cannot set the test port in the example site"
sed -i 's/^worker_processes .*/worker_processes 1;/' /etc/nginx/nginx.conf
grep -qx 'worker_processes 1;' /etc/nginx/nginx.conf || fail "cannot set worker_processes 1 in /etc/nginx/nginx.conf"
sed -e "s/@PORT@/$PORT/" -e "s|@SITE@|$TESTS|" "$TESTS/idle-site.conf.in" >/etc/nginx/conf.d/zz-luajit-reclaim-idle-test.conf
if timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' port "$PORT" 2>/dev/null; then
	fail "port $PORT is in use already (set IMAGES_TEST_PORT)"
fi

nginx -t >/tmp/nginx-t.log 2>&1 || { cat /tmp/nginx-t.log; fail "nginx -t"; }
nginx || fail "nginx did not start"
for _ in $(seq 150); do
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' port "$PORT" 2>/dev/null && break
	sleep 0.2
done
resp=$(timeout 60 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
	printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
	cat <&3' get "$PORT") || fail "GET /: no answer on 127.0.0.1:$PORT"
head=$(printf '%s\n' "$resp" | head -n 1 | tr -d '\r')
body=$(printf '%s\n' "$resp" | tr -d '\r' | sed '1,/^$/d')
printf '%s\n' "$body" | sed 's/^/    /'
case "$head" in *" 200 "*) ;; *) fail "GET /: $head" ;; esac
field() { printf '%s\n' "$body" | sed -n "s/^$1=//p"; }
case "$(field jit.version)" in "LuaJIT 2.1."*) ;; *) fail "the handler reports no LuaJIT 2.1 jit.version" ;; esac
[ "$(field reclaim.version)" = "$RECLAIM_VERSION" ] || fail "the handler does not run on luajit-reclaim $RECLAIM_VERSION"
[ "$(field reclaim.resident)" -gt 0 ] || fail "reclaim.stats().resident is not positive"
if grep -n '\[alert\]\|\[emerg\]' /var/log/nginx/error.log; then fail "nginx error.log has [alert]/[emerg] lines"; fi
echo "ok: nginx + Lua handler runs on luajit-reclaim $RECLAIM_VERSION"

if [ "$IDLE_TEST" = 1 ]; then
	bash "$TESTS/idle-worker.sh" example "$PORT" || fail "the idle-worker test on the example's nginx (above)"
fi
mkdir -p /tmp/results
timeout 60 luajit-memstat --nginx "$(cat /run/nginx.pid)" --json >/tmp/results/memstat-nginx.json ||
	fail "luajit-memstat --nginx $(cat /run/nginx.pid) --json"
cat /run/nginx.pid >/tmp/results/nginx.pid
readlink -f /usr/lib/*/libluajit-5.1.so.2 >/tmp/results/libluajit
timeout 60 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
	printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
	cat <&3' get "$PORT" | tr -d '\r' | sed '1,/^$/d' >/tmp/results/metrics.txt || fail "GET /metrics: no answer"
nginx -s quit || true
if grep -n '\[alert\]\|\[emerg\]\|\[crit\]' /var/log/nginx/error.log; then fail "nginx error.log has the lines above"; fi
echo "ok: luajit-memstat --nginx --json and /metrics saved for check-images"

for pv in $OUR_PACKAGES; do
	got=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "${pv%%=*}" 2>/dev/null || true)
	[ "$got" = "ii  ${pv#*=}" ] || fail "${pv%%=*} is '$got' after the install, want ${pv#*=}"
done
echo "ok: dpkg still has ours: $OUR_PACKAGES"
