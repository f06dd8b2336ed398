#!/bin/bash
# run.sh: make check-bundle: luajit-reclaim swapped into an OpenResty-layout
# bundle and out again, with the tarball of make dist.
#
#   tests/bundle/run.sh BUILD_DIR DIST_TARBALL OPENRESTY_TARBALL
#
# DIST_TARBALL and OPENRESTY_TARBALL: make dist's amd64 and amd64-openresty.
# BUILD_DIR/bundle/openresty.tar (make-bundle.sh) is unpacked afresh; its
# nginx (PREFIX/nginx/sbin/nginx, run path PREFIX/luajit/lib) serves
# nginx.conf.in on 127.0.0.1:PORT with one worker. In order:
#   tools     shellcheck of the tools and these scripts; usage errors exit 2
#             naming the thing
#   tarball   luajit-reclaim-swap verify passes on the tarball of make dist
#   original  ldd and /proc/PID/maps: nginx and its worker load the bundle's
#             stock library and no other; no require("reclaim")
#   run       luajit-reclaim-run nginx: the worker maps our library only,
#             require("reclaim") works; no file of the bundle changed
#   check     compatible; --json names nginx and the lua module as loaders
#   install   while nginx serves: exit 0; nginx -s reload keeps serving (on
#             the library its master started with); a binary upgrade (USR2,
#             QUIT) gives a worker that maps our library only and runs
#             require("reclaim") in a handler; after a wrk burst VmRSS falls
#             to start + 8 MiB + 1.2 x live heap within 5 s (nginx_idle)
#   revert    every file of the prefix byte for byte as before (sha256, modes,
#             links), no backup left; nginx upgraded again serves on the
#             bundle's library
#   kill -9   install killed after the backup, after the 1st and 3rd swap,
#             revert after the 2nd restore: a rerun of install or revert
#             finishes, and the prefix is all ours or exactly the original
#   refusals  a Lua C module importing a symbol we lack, a GC64 mismatch,
#             OpenResty's flags (NUMMODE=2, LUA52COMPAT; the -openresty
#             tarball then installs and reverts), a read-only prefix, a corrupted tarball (a file, the manifest, the
#             archive), no key: each exit 1 with a message naming it, nothing
#             changed
#
# Needs root (bind mounts, nginx as nobody), nginx, libnginx-mod-http-lua,
# wrk, jq, patchelf, shellcheck, gpgv (the Makefile's DEPS). Environment:
# BUNDLE_TEST_PORT (default 18190).
set -eu

build=$(cd "${1:?usage: run.sh BUILD_DIR DIST_TARBALL OPENRESTY_TARBALL}" && pwd)
tarball=$(readlink -f "${2:?usage: run.sh BUILD_DIR DIST_TARBALL OPENRESTY_TARBALL}")
tarball_openresty=$(readlink -f "${3:?usage: run.sh BUILD_DIR DIST_TARBALL OPENRESTY_TARBALL}")
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"
# shellcheck source=tests/nginx/lib.sh
. "$top/tests/nginx/lib.sh"
need_root "the read-only prefix is a bind mount; nginx runs its worker as nobody"
need nginx wrk:wrk jq:jq patchelf:patchelf shellcheck:shellcheck gpgv:gpgv gcc
port=${BUNDLE_TEST_PORT:-18190}
WRK_SECONDS=5
start=$SECONDS

work=$build/bundle/test
bundle=$build/bundle/openresty
prefix=$bundle/luajit
keyring=$(dirname "$tarball")/luajit-reclaim-archive-keyring.gpg
stock_lib=$(readlink -f "$build/stock-x86_64/lib/libluajit-5.1.so.2")
version=$(sed -n 's/^RECLAIM_VERSION := //p' "$top/runtime/version.mk")
rm -rf "$work" "$bundle"
mkdir -p "$work"
tar -C "$build/bundle" -xf "$build/bundle/openresty.tar"
old_master=
at_exit stop_wrk
at_exit stop_nginx
at_exit 'if [ -n "$old_master" ]; then kill -KILL "$old_master" 2>/dev/null || true; fi'

# ---- helpers ------------------------------------------------------------------

# digest DIR: one sha256 over every entry's name, type, mode and link target
# and every file's contents.
digest() {
	(cd "$1" && { find . -printf '%P %y %m %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; }) | sha256sum | cut -d' ' -f1
}

# expect STATUS WANT_TEXT NAME CMD...: CMD exits STATUS and its output
# (stdout and stderr) contains WANT_TEXT; the output is in $work/NAME.out.
expect() {
	local status=$1 text=$2 name=$3 rc=0
	shift 3
	"$@" >"$work/$name.out" 2>&1 || rc=$?
	if [ "$rc" != "$status" ]; then
		sed 's/^/    /' "$work/$name.out"
		fail "$name: exit $rc, want $status: $*"
	fi
	if ! grep -qF -- "$text" "$work/$name.out"; then
		sed 's/^/    /' "$work/$name.out"
		fail "$name: the output does not say '$text'"
	fi
}

# luajit_maps PID: the distinct libluajit files PID maps.
luajit_maps() { awk '$6 ~ /libluajit/ { print $6 }' "/proc/$1/maps" | sort -u; }

# maps_only PID LIB WHAT: PID maps LIB and no other libluajit.
maps_only() {
	local got
	got=$(luajit_maps "$1")
	[ "$got" = "$2" ] || fail "$3: process $1 maps '$(echo "$got" | tr '\n' ' ')', want only $2"
}

# children PID: the child pids of PID on one line (empty if none or gone).
children() { cat "/proc/$1/task/$1/children" 2>/dev/null | sed 's/ *$//' || true; }

the_worker() {
	local w
	w=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || fail "cannot read the children of nginx $1"
	w=${w% }
	case $w in '' | *' '*) fail "nginx $1 has children '$w', want one worker" ;; esac
	echo "$w"
}

# start_bundle NAME [LAUNCHER...]: the bundle's nginx with the site in
# $work/NAME; sets nginx_pid and worker.
start_bundle() {
	local name=$1 dir=$work/$1
	shift
	mkdir -p "$dir/tmp"
	sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@MODULES@|$bundle/nginx/modules|g" \
		-e "s|@TESTS@|$top/tests/nginx|g" "$top/tests/bundle/nginx.conf.in" >"$dir/nginx.conf"
	! port_open || fail "port $port is already in use (set BUNDLE_TEST_PORT)"
	"$@" "$bundle/nginx/sbin/nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ||
		{ tail -n 20 "$dir/error.log"; fail "$name: nginx did not start"; }
	for _ in $(seq 100); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
	nginx_pid=$(cat "$dir/nginx.pid" 2>/dev/null) || fail "$name: nginx wrote no pid file"
	for _ in $(seq 100); do port_open && break; sleep 0.1; done
	worker=$(the_worker "$nginx_pid")
	[ "$(field pid "$(http_get /t)")" = "$worker" ] || fail "$name: /t does not answer from worker $worker"
}

# upgrade NAME: nginx's binary upgrade (USR2 to the master, QUIT to the old
# one once the new one runs): a new master loads the libraries anew.
upgrade() {
	local dir=$work/$1 new
	old_master=$nginx_pid
	kill -USR2 "$old_master"
	for _ in $(seq 100); do
		new=$(cat "$dir/nginx.pid" 2>/dev/null || true)
		[ -n "$new" ] && [ "$new" != "$old_master" ] && [ -s "/proc/$new/task/$new/children" ] && break
		sleep 0.1
	done
	{ [ -n "$new" ] && [ "$new" != "$old_master" ]; } || { tail -n 20 "$dir/error.log"; fail "$1: no new master after USR2"; }
	kill -QUIT "$old_master"
	for _ in $(seq 100); do kill -0 "$old_master" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$old_master" 2>/dev/null || fail "$1: the old master $old_master did not quit"
	old_master=
	nginx_pid=$new
	worker=$(the_worker "$nginx_pid")
	[ "$(field pid "$(http_get /t)")" = "$worker" ] || fail "$1: /t does not answer from the new worker $worker"
}

check_log() {
	local log=$work/$1/error.log
	if grep -n '\[alert\]\|\[emerg\]\|\[crit\]' "$log"; then fail "$1: error.log has the lines above"; fi
}

# ---- tools ---------------------------------------------------------------------------
echo "--- tools"
shellcheck -x -S warning "$top/runtime/tools/swap/luajit-reclaim-swap" "$top/runtime/tools/swap/luajit-reclaim-run" \
	"$top"/tests/bundle/*.sh "$top/packaging/dist/make-dist.sh" || fail "shellcheck -x -S warning (above)"
ok "shellcheck: no warnings in the tools, make-dist.sh and tests/bundle"

dist_top=$work/dist
mkdir -p "$dist_top"
tar -C "$dist_top" -xzf "$tarball"
dist=$(echo "$dist_top"/luajit-reclaim-*)
swap=$dist/bin/luajit-reclaim-swap
runner=$dist/bin/luajit-reclaim-run
our_lib=$(readlink -f "$dist/lib/libluajit-5.1.so.2")
expect 0 "luajit-reclaim-swap COMMAND" help "$swap" --help
expect 0 "LD_PRELOAD" run-help "$runner" --help
expect 2 "no PREFIX given" usage-noprefix "$swap" check ""
expect 2 "$work/nonexistent: no such directory" usage-missing "$swap" check "$work/nonexistent"
expect 2 "no lib/libluajit-5.1.so.2 here" usage-notluajit "$swap" check "$bundle/nginx"
expect 2 "unknown command 'swap'" usage-command "$swap" swap "$prefix"
expect 2 "unknown option '--bogus'" usage-option "$swap" check --bogus "$prefix"
expect 2 "usage: luajit-reclaim-run" run-noargs "$runner"
expect 2 "no-such-command: command not found" run-nocmd "$runner" no-such-command
ok "--help of both tools; bad usage exits 2 naming the thing"

# ---- tarball ---------------------------------------------------------------------------
echo "--- tarball"
expect 0 "signature good" verify-tarball "$swap" verify --keyring "$keyring" "$tarball"
expect 0 "signature good" verify-tree "$swap" verify --keyring "$keyring" "$dist"
expect 0 "signature good" verify-openresty "$swap" verify --keyring "$keyring" "$tarball_openresty"
ok "$(basename "$tarball"): $(wc -l <"$dist/MANIFEST.sha256") files match MANIFEST.sha256, signature good"

# ---- original ---------------------------------------------------------------------------
echo "--- original: the bundle on its own LuaJIT"
d0=$(digest "$prefix")
bundle_lib=$(readlink -f "$prefix/lib/libluajit-5.1.so.2")
for f in "$bundle/nginx/sbin/nginx" "$bundle/nginx/modules/ngx_http_lua_module.so"; do
	got=$(ldd "$f" | awk '$1 == "libluajit-5.1.so.2" { print $3 }')
	[ "$(readlink -f "$got")" = "$bundle_lib" ] || fail "ldd $f: libluajit-5.1.so.2 => $got, want $bundle_lib"
done
cmp -s "$bundle_lib" "$stock_lib" || fail "$bundle_lib is not the stock build $stock_lib"
start_bundle original
maps_only "$nginx_pid" "$bundle_lib" "original master"
maps_only "$worker" "$bundle_lib" "original worker"
t=$(http_get /t)
[ "$(field reclaim "$t")" = none ] || fail "original: the stock library has require('reclaim')"
ok "original: ldd and /proc/PID/maps of master $nginx_pid and worker $worker: only the bundle's $bundle_lib ($(field jit.version "$t"), no reclaim)"
stop_nginx

# ---- luajit-reclaim-run ---------------------------------------------------------------------
echo "--- luajit-reclaim-run: a trial, no file changed"
start_bundle run "$runner"
maps_only "$nginx_pid" "$our_lib" "luajit-reclaim-run master"
maps_only "$worker" "$our_lib" "luajit-reclaim-run worker"
t=$(http_get /t)
[ "$(field reclaim "$t")" = "$version" ] || fail "luajit-reclaim-run: /t says reclaim=$(field reclaim "$t"), want $version"
ok "luajit-reclaim-run: master $nginx_pid and worker $worker map only $our_lib; require(\"reclaim\") gives $version"
stop_nginx
[ "$(digest "$prefix")" = "$d0" ] || fail "luajit-reclaim-run changed files in $prefix"
ok "luajit-reclaim-run: every file of $prefix unchanged"

# ---- check ---------------------------------------------------------------------------------
echo "--- check"
expect 0 "verdict: compatible" check "$swap" check "$prefix"
sed 's/^/    /' "$work/check.out"
"$swap" check --json "$prefix" >"$work/check.json" || fail "check --json exited $?"
jq -e --arg n "$bundle/nginx/sbin/nginx" --arg m "$bundle/nginx/modules/ngx_http_lua_module.so" '
	.verdict == "compatible" and .problems == [] and
	([.loaders[].file] | index($n) != null and index($m) != null) and
	.bundle.gc64 == .luajit_reclaim.gc64 and .luajit_reclaim.reclaim != "none"' "$work/check.json" >/dev/null ||
	{ cat "$work/check.json"; fail "check --json: not compatible with nginx and the lua module as loaders"; }
ok "check: compatible; --json names nginx and ngx_http_lua_module.so as loaders"
[ "$(digest "$prefix")" = "$d0" ] || fail "check changed files in $prefix"

# ---- install --------------------------------------------------------------------------------
echo "--- install while nginx serves"
start_bundle swapped
expect 0 "luajit-reclaim installed" install "$swap" install --keyring "$keyring" "$prefix"
[ "$(cat "$prefix/.luajit-reclaim-backup/state")" = installed ] || fail "install: the state is not 'installed'"
cmp -s "$prefix/lib/libluajit-5.1.so.2" "$our_lib" || fail "install: $prefix/lib/libluajit-5.1.so.2 is not ours"
cmp -s "$prefix/bin/luajit" "$(readlink -f "$dist/bin/luajit")" || fail "install: $prefix/bin/luajit is not ours"
cmp -s "$prefix/share/luajit-2.1/jit/vmdef.lua" "$dist/share/luajit-2.1/jit/vmdef.lua" || fail "install: jit/vmdef.lua is not ours"
[ -f "$bundle_lib" ] || fail "install removed the bundle's library file $bundle_lib (running masters map it)"
ok "install: library, CLI and jit.* modules are ours; $bundle_lib is still there"
expect 0 "reclaim=$version" installed-probe env LD_LIBRARY_PATH="$prefix/lib" \
	"$dist/lib/luajit-reclaim/luajit-reclaim-probe" "$dist/lib/luajit-reclaim/fingerprint.lua"
http_get /t >/dev/null
kill -HUP "$nginx_pid"
# The old worker finishes its requests and exits; then the new one is the only child.
for _ in $(seq 50); do w=$(children "$nginx_pid"); [ -n "$w" ] && [ "$w" != "$worker" ] && [ "$w" = "${w% *}" ] && break; sleep 0.1; done
{ [ -n "$w" ] && [ "$w" != "$worker" ] && [ "$w" = "${w% *}" ]; } || fail "reload: no single new worker (children of $nginx_pid: '$w')"
worker=$w
t=$(http_get /t)
[ "$(field pid "$t")" = "$worker" ] || fail "reload: /t does not answer from the new worker $worker"
maps_only "$worker" "$bundle_lib" "reloaded worker"
ok "reload: nginx keeps serving; the new worker $worker still maps $bundle_lib, which its master started with"
upgrade swapped
maps_only "$nginx_pid" "$prefix/lib/libluajit-5.1.so.2" "upgraded master"
maps_only "$worker" "$prefix/lib/libluajit-5.1.so.2" "upgraded worker"
t=$(http_get /t)
[ "$(field reclaim "$t")" = "$version" ] || fail "upgrade: /t says reclaim=$(field reclaim "$t"), want $version"
ok "binary upgrade: master $nginx_pid and worker $worker map only $prefix/lib/libluajit-5.1.so.2 (ours); require(\"reclaim\") in a handler gives $version"

sleep 1
burst_and_fall swapped
gc=$(http_get /gc)
live_kb=$(field gc_kb "$gc" | cut -d. -f1)
bound=$((rss_start + 8 * 1024 + live_kb * 12 / 10))
print_samples
fell=$(first_at_or_below "$bound")
[ -n "$fell" ] || fail "burst: VmRSS did not fall to start + 8 MiB + 1.2 x live ($(mib "$bound") MiB) within ${FALL_SECONDS} s; last: $(last_sample)"
read -r fell_ms fell_kb <<<"$fell"
ok "burst: wrk -c $WRK_CONNECTIONS -d ${WRK_SECONDS}s: $wrk_requests requests; VmRSS start $(mib "$rss_start") MiB," \
	"peak $(mib "$rss_peak") MiB, $(mib "$fell_kb") MiB ${fell_ms} ms after the last request (bound $(mib "$bound") MiB)"
check_log swapped

# ---- revert ---------------------------------------------------------------------------------
echo "--- revert"
expect 0 "reverted" revert "$swap" revert "$prefix"
[ "$(digest "$prefix")" = "$d0" ] || fail "revert: $prefix differs from before install"
ok "revert: every file, mode and link of $prefix as before install (sha256), no backup left"
upgrade swapped
maps_only "$worker" "$bundle_lib" "worker after revert"
t=$(http_get /t)
[ "$(field reclaim "$t")" = none ] || fail "revert: the worker still has require('reclaim')"
ok "revert: after a binary upgrade worker $worker serves on $bundle_lib again"
check_log swapped
stop_nginx

# ---- kill -9 mid-way ---------------------------------------------------------------------------
echo "--- kill -9 during install and revert"
# installed_fully: every entry install swaps is ours.
installed_fully() {
	local rel src
	[ "$(cat "$prefix/.luajit-reclaim-backup/state")" = installed ] || fail "$1: the state is not 'installed'"
	while IFS=$'\t' read -r rel src _; do
		cmp -s "$src" "$prefix/$rel" || fail "$1: $prefix/$rel is not ours"
	done <"$prefix/.luajit-reclaim-backup/entries"
}
killed() {  # killed NAME STEP CMD: CMD dies of SIGKILL after STEP
	expect 137 "killing myself after step $2" "$1" env LUAJIT_RECLAIM_SWAP_DIE_AFTER="$2" "$swap" "$3" --keyring "$keyring" "$prefix"
}
killed kill-swap1 swap-1 install
cmp -s "$prefix/lib/libluajit-5.1.so.2" "$our_lib" || fail "kill-swap1: the library was not swapped before the kill"
! cmp -s "$prefix/bin/luajit" "$(readlink -f "$dist/bin/luajit")" || fail "kill-swap1: the CLI was swapped before the kill"
expect 0 "resuming an interrupted install" rerun-install "$swap" install --keyring "$keyring" "$prefix"
installed_fully "rerun of install"
ok "install killed after swapping the library (CLI not yet): a rerun of install finishes it"
killed kill-restore2 restore-2 revert
[ "$(digest "$prefix")" != "$d0" ] || fail "kill-restore2: the prefix was all restored before the kill"
expect 0 "reverted" rerun-revert "$swap" revert "$prefix"
[ "$(digest "$prefix")" = "$d0" ] || fail "a rerun of revert after a kill: $prefix differs from the original"
ok "revert killed after restoring 2 files: a rerun of revert restores the original byte for byte"
killed kill-swap3 swap-3 install
expect 0 "reverted" revert-after-kill "$swap" revert "$prefix"
[ "$(digest "$prefix")" = "$d0" ] || fail "revert after a killed install: $prefix differs from the original"
ok "install killed after 3 swaps: revert restores the original byte for byte"
killed kill-backup backup install
[ "$(cat "$prefix/.luajit-reclaim-backup/state")" = swapping ] || fail "kill-backup: no complete backup"
expect 0 "luajit-reclaim installed" rerun-install2 "$swap" install --keyring "$keyring" "$prefix"
installed_fully "rerun of install after the backup"
expect 0 "reverted" revert2 "$swap" revert "$prefix"
[ "$(digest "$prefix")" = "$d0" ] || fail "revert: $prefix differs from the original"
ok "install killed after its backup: a rerun installs; revert restores the original"

# ---- refusals -----------------------------------------------------------------------------------
echo "--- refusals"
# A Lua C module under the prefix's parent needs a symbol we lack.
sym=$work/refuse-symbol
mkdir -p "$sym/lualib"
cp -a "$prefix" "$sym/luajit"
gcc -std=c99 -Wall -Wextra -shared -fPIC -I"$prefix/include/luajit-2.1" "$top/tests/bundle/kong_extra.c" -o "$sym/lualib/kong_extra.so"
ds=$(digest "$sym")
expect 1 "symbol lua_kong_only_function, imported by $sym/lualib/kong_extra.so, is not exported by our library" \
	refuse-symbol-check "$swap" check "$sym/luajit"
expect 1 "refused: $sym/luajit is not compatible" refuse-symbol-install "$swap" install --keyring "$keyring" "$sym/luajit"
[ "$(digest "$sym")" = "$ds" ] || fail "refused install (symbol) changed files"
ok "a module importing lua_kong_only_function: check names symbol and module (exit 1), install refuses, nothing changed"

# GC64 off in the bundle's library.
g=$work/refuse-gc64/luajit
mkdir -p "$g/lib"
cp -a "$build/stock-x86_64-nogc64/bin" "$build/stock-x86_64-nogc64/share" "$g/"
cp -a "$build/stock-x86_64-nogc64"/lib/libluajit-5.1.so* "$g/lib/"
dg=$(digest "$g")
expect 1 "GC64 mode (1 = on) differs: the bundle's is '0', ours '1'" refuse-gc64-check "$swap" check "$g"
expect 1 "refused: $g is not compatible" refuse-gc64-install "$swap" install --keyring "$keyring" "$g"
[ "$(digest "$g")" = "$dg" ] || fail "refused install (GC64) changed files"
ok "a GC64-off library: check names the GC64 mode (exit 1), install refuses, nothing changed"

# OpenResty's flags: our default build refuses, the -openresty tarball fits.
of=$work/openresty-flags/luajit
mkdir -p "$of/lib"
cp -a "$build/stock-x86_64-openresty/bin" "$build/stock-x86_64-openresty/share" "$of/"
cp -a "$build/stock-x86_64-openresty"/lib/libluajit-5.1.so* "$of/lib/"
dof=$(digest "$of")
expect 1 "LUA52COMPAT (1 = on) differs: the bundle's is '1', ours '0'" refuse-flags-check "$swap" check "$of"
grep -qF "number behaviour (NUMMODE) differs" "$work/refuse-flags-check.out" ||
	{ cat "$work/refuse-flags-check.out"; fail "check does not tell the number mode (LUAJIT_NUMMODE=2) apart"; }
expect 1 "refused: $of is not compatible" refuse-flags-install "$swap" install --keyring "$keyring" "$of"
[ "$(digest "$of")" = "$dof" ] || fail "refused install (flags) changed files"
mkdir -p "$work/dist-openresty"
tar -C "$work/dist-openresty" -xzf "$tarball_openresty"
oswap=$(echo "$work"/dist-openresty/luajit-reclaim-*/bin/luajit-reclaim-swap)
expect 0 "verdict: compatible" openresty-flags-check "$oswap" check "$of"
expect 0 "luajit-reclaim installed" openresty-flags-install "$oswap" install --keyring "$keyring" "$of"
expect 0 "reverted" openresty-flags-revert "$oswap" revert "$of"
[ "$(digest "$of")" = "$dof" ] || fail "revert (OpenResty's flags): $of differs from before"
ok "OpenResty's flags (NUMMODE=2, LUA52COMPAT): the default tarball refuses naming both; the -openresty one checks compatible, installs and reverts byte for byte"

# A read-only prefix (a read-only bind mount in a private mount namespace).
expect 1 "is not writable" refuse-readonly unshare --mount --propagation private bash -c \
	'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" install --keyring "$3" "$1"' \
	ro "$prefix" "$swap" "$keyring"
[ "$(digest "$prefix")" = "$d0" ] || fail "refused install (read-only) changed files"
ok "a read-only prefix: install refuses naming the directory, nothing changed"

# Corrupted tarballs: a changed file, a re-hashed manifest, a broken archive, no key.
bad=$work/bad-file
cp -a "$dist" "$bad"
printf 'X' | dd of="$bad/bin/luajit-memstat" bs=1 seek=1000 conv=notrunc status=none
expect 1 "bin/luajit-memstat: FAILED" refuse-file-verify "$bad/bin/luajit-reclaim-swap" verify --keyring "$keyring" "$bad"
expect 1 "files do not match MANIFEST.sha256" refuse-file-install "$bad/bin/luajit-reclaim-swap" install --keyring "$keyring" "$prefix"
bad=$work/bad-manifest
cp -a "$dist" "$bad"
printf 'X' | dd of="$bad/bin/luajit-memstat" bs=1 seek=1000 conv=notrunc status=none
(cd "$bad" && sed -i "s|^[0-9a-f]*  bin/luajit-memstat\$|$(sha256sum bin/luajit-memstat | cut -d' ' -f1)  bin/luajit-memstat|" MANIFEST.sha256)
expect 1 "MANIFEST.sha256.asc: bad signature" refuse-manifest-verify "$bad/bin/luajit-reclaim-swap" verify --keyring "$keyring" "$bad"
expect 1 "bad signature" refuse-manifest-install "$bad/bin/luajit-reclaim-swap" install --keyring "$keyring" "$prefix"
echo extra >"$bad/lib/luajit-reclaim/extra.lua"
expect 1 "not in MANIFEST.sha256: lib/luajit-reclaim/extra.lua" refuse-extra-verify "$bad/bin/luajit-reclaim-swap" verify --no-signature "$bad"
head -c 100000 "$tarball" >"$work/truncated.tar.gz"
expect 1 "cannot unpack" refuse-truncated "$swap" verify --keyring "$keyring" "$work/truncated.tar.gz"
expect 1 "$work/no-key.gpg is missing" refuse-nokey "$swap" install --keyring "$work/no-key.gpg" "$prefix"
[ "$(digest "$prefix")" = "$d0" ] || fail "a refused install (tarball) changed files"
ok "corrupted tarball: a changed file (names it), a re-hashed manifest (bad signature), an extra file, a truncated archive, a missing key: exit 1, nothing changed"

echo "check-bundle: $((SECONDS - start)) s"
