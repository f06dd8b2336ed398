#!/bin/bash
# in-chroot.sh: the package install tests, run inside a fresh test chroot (by
# check-packages.sh) that has Debian's LuaJIT CLI, nginx with the lua module and
# lua-resty-core (and neovim on amd64) installed, and our apt repository
# mounted at /srv/luajit-reclaim/apt.
#
# Environment: DISTRO, ARCH, MODE (full | minimal), PORT, OUR_VERSION (our
# Debian version), RECLAIM_VERSION, DEBIAN_VERSION (Debian's version of the
# packages we replace), DEB_CLI, DEB_LIB, DEB_COMMON. check-nginx's
# tests/nginx/ is bind-mounted at /srv/luajit-reclaim/nginx (site.lua: the
# Lua side of the idle-worker test's burst).
#
# full:    Debian's packages serve nginx first (no reclaim module) -> keyring
#          package + apt-get upgrade moves everything to ours (pin 1001) ->
#          nginx page, RSS falls back after a burst, neovim, luajit -v,
#          luajit-memstat --help, its man page and a read of a luajit process
#          -> idle workers: the one-line nginx_idle setup and idle-worker.sh
#          (a wrk burst then no request: VmRSS falls within 5 s; luajit-memstat
#          --nginx reads master and worker during and after the burst and
#          agrees with the worker's collectgarbage("count")) -> the swap tools
#          (below) -> going back to Debian's packages works, removes the swap
#          tools and nginx still serves -> bookworm only: a
#          system on the stock flavour keeps it on upgrade and moves to ours
#          with the documented explicit install.
# minimal: (arm64 under qemu-user) keyring + upgrade -> nginx page once,
#          luajit -v, luajit-memstat --help, its man page and a read of a
#          luajit process -> the swap tools.
# Swap tools (both modes): --help and man pages of luajit-reclaim-swap and
#          luajit-reclaim-run; the private directory's library is the
#          package's; luajit-reclaim-run moves a program off a bundle's library
#          onto ours; check of a bundle prefix holding Debian's library
#          (copied before the upgrade), and in full mode install and revert.
#
# Invariants: every check prints "ok: ..." or stops the run with "FAIL: ...";
# nothing is skipped silently. Each phase prints the time it took. No network
# is needed: Debian's lists and .debs come cached in the chroot tarball.
set -eu

: "${DISTRO:?}" "${ARCH:?}" "${MODE:?}" "${PORT:?}" "${OUR_VERSION:?}" "${RECLAIM_VERSION:?}"
: "${DEBIAN_VERSION:?}" "${DEB_CLI:?}" "${DEB_LIB:?}" "${DEB_COMMON:?}"
tests=/srv/luajit-reclaim/tests
repo=/srv/luajit-reclaim/apt
errlog=/var/log/nginx/error.log
export DEBIAN_FRONTEND=noninteractive

fail() { echo "FAIL [$DISTRO/$ARCH]: $*"; [ -f "$errlog" ] && tail -n 20 "$errlog"; exit 1; }
ok() { echo "ok [$DISTRO/$ARCH]: $*"; }
phase_start=$(date +%s)
phase() {
	echo "--- [$DISTRO/$ARCH] $* (previous phase: $(( $(date +%s) - phase_start ))s)"
	phase_start=$(date +%s)
}
apt_q() { apt-get -q -y -o Dpkg::Use-Pty=0 "$@" >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; fail "apt-get $*"; }; }
# apt-get update of the sources in sources.list.d only (ours): Debian's lists
# stay the ones cached in the chroot tarball, so the test needs no mirror and
# `apt-get upgrade` only sees our packages as new.
apt_update() { apt_q update -o Dir::Etc::SourceList=/dev/null -o APT::Get::List-Cleanup=false; }

# version_of PKG: the installed version of PKG, empty if not installed.
version_of() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null | awk '$1 == "ii" { print $2 }'; }

expect_version() {
	local got
	got=$(version_of "$1")
	[ "$got" = "$2" ] || fail "$1 is '${got:-not installed}', want $2"
	ok "$1 $got"
}

# http_get PATH: the body of http://127.0.0.1:PORT/PATH; fails unless 200.
http_get() {
	local resp
	resp=$(timeout 60 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$2" >&3
		cat <&3' http_get "$PORT" "$1") || fail "GET $1: no answer"
	case "$(printf '%s\n' "$resp" | head -n 1)" in
	*" 200 "*) ;;
	*) printf '%s\n' "$resp"; fail "GET $1: not 200" ;;
	esac
	printf '%s\n' "$resp" | tr -d '\r' | sed '1,/^$/d'
}

# field NAME TEXT: the value of a "NAME=value" line.
field() { printf '%s\n' "$2" | sed -n "s/^$1=//p"; }

nginx_setup() {
	sed -i 's/^worker_processes .*/worker_processes 1;/' /etc/nginx/nginx.conf
	# The lua module's warning about globals written by handlers is a [warn]
	# line; Debian's nginx.conf logs [error] and above only.
	sed -i 's|^\(\s*error_log /var/log/nginx/error.log\);|\1 warn;|' /etc/nginx/nginx.conf
	grep -q '^\s*error_log /var/log/nginx/error.log warn;' /etc/nginx/nginx.conf ||
		fail "cannot set the error_log level to warn in /etc/nginx/nginx.conf"
	rm -f /etc/nginx/sites-enabled/default
	sed "s/@PORT@/$PORT/" "$tests/nginx-site.conf.in" >/etc/nginx/conf.d/luajit-reclaim-test.conf
	if timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' port "$PORT" 2>/dev/null; then
		fail "port $PORT is already in use (set PKG_TEST_PORT)"
	fi
}

nginx_restart() {
	if [ -f /run/nginx.pid ]; then
		nginx -s stop 2>/dev/null || true
		for _ in $(seq 50); do [ -f /run/nginx.pid ] || break; sleep 0.2; done
	fi
	: >"$errlog"
	nginx -t >/tmp/nginx-t.log 2>&1 || { cat /tmp/nginx-t.log; fail "nginx -t"; }
	nginx || fail "nginx did not start"
	for _ in $(seq 100); do
		timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' port "$PORT" 2>/dev/null && return 0
		sleep 0.2
	done
	fail "nginx does not listen on 127.0.0.1:$PORT"
}

# check_page ours|debian: nginx serves /t on the expected runtime.
check_page() {
	local body
	body=$(http_get /t)
	printf '%s\n' "$body" | sed 's/^/    /'
	case "$(field jit.version "$body")" in "LuaJIT 2.1."*) ;; *) fail "no jit.version" ;; esac
	[ "$(field resty.core "$body")" = true ] || fail "resty.core is not loaded"
	if [ "$1" = ours ]; then
		[ "$(field reclaim.version "$body")" = "$RECLAIM_VERSION" ] || fail "reclaim.version is not $RECLAIM_VERSION"
		[ "$(field reclaim.page_size "$body")" -gt 0 ] || fail "reclaim.page_size is not positive"
		[ "$(field reclaim.resident "$body")" -gt 0 ] || fail "reclaim.resident is not positive"
	else
		[ "$(field reclaim "$body")" = absent ] || fail "the reclaim module is present on Debian's runtime"
	fi
	if grep -n '\[alert\]\|\[emerg\]' "$errlog"; then fail "nginx error.log has [alert]/[emerg] lines"; fi
	ok "nginx + lua serves on $1 runtime, resty.core loaded, no [alert] in error.log"
	check_no_global_write
}

# check_no_global_write: /t (which ran require("reclaim")) wrote no global,
# and the lua module's write guard does report one written by a handler in
# this setup (/global-probe), so the first check can fail. The guard warns the
# first time a name is set, so this runs once per nginx_restart.
check_no_global_write() {
	local probe="writing a global Lua variable ('luajit_reclaim_test_probe')"
	if grep -n -A3 'writing a global Lua variable' "$errlog"; then
		fail "a handler wrote a global (error.log above)"
	fi
	http_get /global-probe >/dev/null
	for _ in $(seq 25); do grep -qF "$probe" "$errlog" && break; sleep 0.2; done
	grep -qF "$probe" "$errlog" ||
		fail "a handler writing a global got no warning in error.log: the check above could not fail"
	ok "require(\"reclaim\") in a handler writes no global (a handler that writes one is reported)"
}

check_cli() {
	local v
	v=$(luajit -v)
	printf '%s\n' "$v" | sed 's/^/    /'
	case "$(printf '%s\n' "$v" | head -n 1)" in "LuaJIT 2.1."*) ;; *) fail "luajit -v: no LuaJIT banner" ;; esac
	if [ "$1" = ours ]; then
		[ "$(printf '%s\n' "$v" | sed -n 2p)" = "luajit-reclaim $RECLAIM_VERSION" ] ||
			fail "luajit -v: second line is not 'luajit-reclaim $RECLAIM_VERSION'"
	else
		! printf '%s\n' "$v" | grep -q reclaim || fail "luajit -v mentions reclaim on Debian's CLI"
	fi
	luajit -e 'local s = 0; for i = 1, 1e6 do s = s + i end; assert(s == 500000500000)' ||
		fail "luajit cannot run a loop"
	ok "luajit -v is $1"
}

check_nvim() {
	local out want=$1
	out=$(timeout 120 nvim --headless -u NONE -i NONE \
		-c 'lua local ok, r = pcall(require, "reclaim"); io.stdout:write(jit.version, " reclaim=", ok and r.version or "absent", "\n")' \
		-c 'qa!' 2>&1) || fail "nvim --headless failed: $out"
	echo "    nvim: $out"
	case "$out" in *"LuaJIT 2.1."*) ;; *) fail "nvim did not run Lua" ;; esac
	case "$out" in *"reclaim=$want"*) ;; *) fail "nvim: want reclaim=$want" ;; esac
	ok "nvim --headless runs Lua (reclaim=$want)"
}

check_burst() {
	local body before peak after grown kept next
	http_get /rss >/dev/null
	body=$(http_get /burst)
	printf '%s\n' "$body" | sed 's/^/    /'
	before=$(field before_kb "$body") peak=$(field peak_kb "$body") after=$(field after_kb "$body")
	kept=$(field kept "$body")
	[ "$kept" -gt 0 ] || fail "the burst kept nothing alive"
	grown=$((peak - before))
	[ "$grown" -gt 102400 ] || fail "the burst grew RSS by only ${grown} kB"
	# The next request (/rss, after a full GC) must show at least half of the
	# burst given back, although one string in 1000 stayed alive on (almost)
	# every page; Debian's allocator keeps nearly all of it (printed later).
	next=$(field rss_kb "$(http_get /rss)")
	[ $((next - before)) -lt $((grown / 2)) ] ||
		fail "RSS did not fall back: before $before kB, peak $peak kB, after the burst $after kB, next request $next kB"
	ok "RSS fell back: before $before kB, peak $peak kB, end of the burst $after kB, next request $next kB"
}

# check_memstat_cli: luajit-memstat from our CLI package: --help, the man page
# (setup lets dpkg install man pages), and a read of a running luajit process.
# Under qemu-user (arm64) the read works too: luajit-memstat finds the
# registry in the target's /proc/PID/maps, which qemu does not rewrite for
# another process (host addresses), and qemu passes process_vm_readv's remote
# addresses through unchanged; so a failure here is a real one.
check_memstat_cli() {
	local out pid page=/usr/share/man/man1/luajit-memstat.1.gz
	out=$(luajit-memstat --help) || fail "luajit-memstat --help exits non-zero"
	[ "$(printf '%s\n' "$out" | head -n 1)" = "usage: luajit-memstat [OPTIONS] PID..." ] ||
		{ printf '%s\n' "$out"; fail "luajit-memstat --help: no usage line"; }
	[ -f "$page" ] || fail "$page is not installed"
	gzip -dc "$page" | grep -q '^\.TH LUAJIT-MEMSTAT 1 ' || fail "$page is not luajit-memstat(1)"
	ok "luajit-memstat --help works, luajit-memstat(1) is installed"
	page=/usr/share/man/man7/luajit-reclaim.7.gz
	[ -f "$page" ] || fail "$page is not installed"
	gzip -dc "$page" | grep -q '^\.TH LUAJIT-RECLAIM 7 ' || fail "$page is not luajit-reclaim(7)"
	ok "luajit-reclaim(7) is installed with the CLI package"
	# A luajit that holds a table of 10^5 tables and waits in os.execute.
	luajit -e 'local t = {} for i = 1, 1e5 do t[i] = { i } end os.execute("sleep 120") return #t' &
	pid=$!
	sleep 2
	out=$(timeout 60 luajit-memstat "$pid" 2>&1) || { kill "$pid"; printf '%s\n' "$out"; fail "luajit-memstat $pid (a luajit process)"; }
	kill "$pid"
	printf '%s\n' "$out" | sed 's/^/    /'
	printf '%s\n' "$out" | grep -q "^  registry .*: luajit-reclaim $RECLAIM_VERSION, " ||
		fail "luajit-memstat $pid shows no registry of luajit-reclaim $RECLAIM_VERSION"
	printf '%s\n' "$out" | grep -q '^  Lua heaps .* in 1 heap:' || fail "luajit-memstat $pid does not show one Lua heap"
	printf '%s\n' "$out" | grep -q '^  diagnosis ' || fail "luajit-memstat $pid prints no diagnosis"
	ok "luajit-memstat reads a running luajit ($ARCH): one heap, registry of luajit-reclaim $RECLAIM_VERSION"
}

# check_idle: the one-line reclaim.nginx_idle setup on the installed
# packages, then tests/idle-worker.sh: a burst, no request, VmRSS falls;
# luajit-memstat --nginx during and after it agrees with the worker.
check_idle() {
	# (named to sort after the test site, which stays the default server)
	local conf=/etc/nginx/conf.d/zz-luajit-reclaim-idle.conf
	echo 'init_worker_by_lua_block { require("reclaim").nginx_idle{} }' >"$conf"
	sed -e "s/@PORT@/$PORT/" -e "s|@SITE@|/srv/luajit-reclaim/nginx|" "$tests/idle-site.conf.in" >>"$conf"
	nginx_restart
	bash "$tests/idle-worker.sh" "$DISTRO/$ARCH" "$PORT" || fail "the idle-worker test (above)"
	rm -f "$conf"
}

# The bundle prefix of the swap checks: a copy of Debian's library, taken
# before the upgrade replaces it (and a second copy to compare the revert with).
bundle=/opt/t/luajit
save_debian_library() {
	local lib
	lib=$(dpkg -L "$DEB_LIB" | grep '/libluajit-5\.1\.so\.2$') || fail "$DEB_LIB ships no libluajit-5.1.so.2"
	mkdir -p "$bundle/lib"
	cp -L "$lib" "$bundle/lib/libluajit-5.1.so.2"
	cp -L "$lib" /root/debian-libluajit-5.1.so.2
}

# check_swap_tools: luajit-reclaim-swap and luajit-reclaim-run from our CLI
# package, on the prefix save_debian_library made.
check_swap_tools() {
	local t out page libdir home ours fp=/tmp/fingerprint.out
	for t in luajit-reclaim-swap luajit-reclaim-run; do
		out=$("$t" --help) || fail "$t --help exits non-zero"
		case "$(printf '%s\n' "$out" | head -n 1)" in "usage: $t "*) ;; *) printf '%s\n' "$out"; fail "$t --help: no usage line" ;; esac
		page=/usr/share/man/man1/$t.1.gz
		[ -f "$page" ] || fail "$page is not installed"
		gzip -dc "$page" | grep -q "^\.TH ${t^^} 1 " || fail "$page is not $t(1)"
	done
	ok "luajit-reclaim-swap and luajit-reclaim-run --help work, their man pages are installed"

	libdir=$(dirname "$(dpkg -L "$DEB_LIB" | grep '/libluajit-5\.1\.so\.2$')")
	home=$libdir/luajit-reclaim
	ours=$(readlink -f "$libdir/libluajit-5.1.so.2")
	[ "$(readlink -f "$home/libluajit-5.1.so.2")" = "$ours" ] ||
		fail "$home/libluajit-5.1.so.2 is not the library of $DEB_LIB ($ours)"
	# luajit-reclaim-run: our luajit CLI has the VM linked in, so the trial
	# runs the private probe, which loads libluajit-5.1.so.2 like nginx's lua
	# module does; LD_LIBRARY_PATH points it at the bundle's library.
	LD_LIBRARY_PATH=$bundle/lib "$home/luajit-reclaim-probe" "$home/fingerprint.lua" >"$fp" ||
		{ cat "$fp"; fail "the probe does not run on the bundle's library"; }
	{ grep -qx "library=$bundle/lib/libluajit-5.1.so.2" "$fp" && grep -qx 'reclaim=none' "$fp"; } ||
		{ cat "$fp"; fail "without luajit-reclaim-run the probe did not run Debian's library from $bundle/lib"; }
	LD_LIBRARY_PATH=$bundle/lib luajit-reclaim-run "$home/luajit-reclaim-probe" "$home/fingerprint.lua" >"$fp" ||
		{ cat "$fp"; fail "luajit-reclaim-run of the probe"; }
	{ grep -qx "library=$ours" "$fp" && grep -qx "reclaim=$RECLAIM_VERSION" "$fp"; } ||
		{ cat "$fp"; fail "under luajit-reclaim-run the probe did not run our library $ours"; }
	ok "luajit-reclaim-run preloads the private directory's library: $ours, not the bundle's"

	out=$(luajit-reclaim-swap check "$bundle" 2>&1) || { printf '%s\n' "$out"; fail "luajit-reclaim-swap check $bundle: not compatible"; }
	printf '%s\n' "$out" | sed 's/^/    /'
	printf '%s\n' "$out" | grep -q "^library:  $bundle/lib/libluajit-5\.1\.so\.2 (LuaJIT 2\.1\." ||
		fail "check did not run Lua in the bundle's library"
	printf '%s\n' "$out" | grep -qF "ours:     $ours (LuaJIT 2.1." ||
		fail "check did not take our library from $home"
	printf '%s\n' "$out" | grep -qF ", luajit-reclaim $RECLAIM_VERSION)" || fail "check did not run Lua in our library"
	printf '%s\n' "$out" | grep -qx "verdict: compatible: luajit-reclaim-swap install $bundle can swap it" ||
		fail "check printed no compatible verdict"
	ok "luajit-reclaim-swap check: Debian's library in $bundle can be swapped for ours"

	# install runs check again and a probe: twice the time under qemu-user.
	[ "$MODE" = full ] || return 0
	luajit-reclaim-swap install "$bundle" >/tmp/swap.log 2>&1 || { cat /tmp/swap.log; fail "luajit-reclaim-swap install $bundle"; }
	cmp -s "$bundle/lib/libluajit-5.1.so.2" "$ours" || fail "after install, $bundle/lib/libluajit-5.1.so.2 is not $ours"
	luajit-reclaim-swap revert "$bundle" >/tmp/swap.log 2>&1 || { cat /tmp/swap.log; fail "luajit-reclaim-swap revert $bundle"; }
	cmp -s "$bundle/lib/libluajit-5.1.so.2" /root/debian-libluajit-5.1.so.2 ||
		fail "after revert, $bundle/lib/libluajit-5.1.so.2 is not Debian's library byte for byte"
	out=$(find "$bundle" -mindepth 1 -maxdepth 1 -printf '%P ')
	[ "$out" = "lib " ] || fail "revert left ${out}in $bundle"
	ok "luajit-reclaim-swap install puts our library into $bundle, revert restores Debian's byte for byte"
}

install_our_repo() {
	local deb
	deb=$(ls "$repo/pool/$DISTRO/main/l/luajit-reclaim-archive-keyring/"*.deb)
	# dpkg -i, as README documents (apt-get install ./file would rebuild apt's
	# whole cache once more, which costs half a minute under qemu-user).
	dpkg -i "$deb" >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; fail "dpkg -i $deb"; }
	[ -f /usr/share/keyrings/luajit-reclaim-archive-keyring.gpg ] || fail "keyring not installed"
	grep -q "^Signed-By: /usr/share/keyrings/luajit-reclaim-archive-keyring.gpg" \
		/etc/apt/sources.list.d/luajit-reclaim.sources || fail ".sources has no Signed-By"
	apt_update
	grep -q "^W:.*luajit-reclaim\|^E:" /tmp/apt.log && { cat /tmp/apt.log; fail "apt-get update warned about our repository"; }
	apt-cache policy "$DEB_LIB" >/tmp/policy.txt
	awk -v v="$OUR_VERSION" '($1 == v && $2 == 1001) || ($1 == "***" && $2 == v && $3 == 1001) { f = 1 }
		END { exit !f }' /tmp/policy.txt ||
		{ cat /tmp/policy.txt; fail "our $DEB_LIB is not pinned at 1001"; }
	ok "our repository: signature verified by apt, $DEB_LIB $OUR_VERSION at priority 1001"
}

phase "setup"
nginx_setup
# Our packages' man pages are part of the test: the chroot was made without
# any (dpkg path-exclude), a normal system has them.
sed -i '\|^path-exclude=/usr/share/man/\*$|d' /etc/dpkg/dpkg.cfg.d/*
! grep -qs '^path-exclude=/usr/share/man/' /etc/dpkg/dpkg.cfg.d/* || fail "dpkg still excludes /usr/share/man"

if [ "$MODE" = full ]; then
	phase "Debian's packages"
	expect_version "$DEB_LIB" "$DEBIAN_VERSION"
	nginx_restart
	check_page debian
	check_cli debian
fi

save_debian_library

phase "add our repository, apt-get upgrade"
install_our_repo
apt_q upgrade
sed -n '/^The following packages will be upgraded:/,/^[0-9]* upgraded/p' /tmp/apt.log | sed 's/^/    /'
for p in "$DEB_LIB" "$DEB_COMMON" "$DEB_CLI"; do expect_version "$p" "$OUR_VERSION"; done
apt-get check >/dev/null 2>&1 || fail "apt-get check: broken dependencies"
ok "apt-get upgrade moved $DEB_LIB, $DEB_COMMON and $DEB_CLI to ours"

phase "our runtime"
nginx_restart
check_page ours
check_cli ours
check_memstat_cli
if [ "$MODE" = full ]; then
	check_burst
	check_nvim "$RECLAIM_VERSION"
	if grep -n '\[alert\]\|\[emerg\]' "$errlog"; then fail "nginx error.log has [alert]/[emerg] lines"; fi
fi

phase "swap tools: luajit-reclaim-swap, luajit-reclaim-run"
check_swap_tools

if [ "$MODE" = full ]; then
	phase "idle workers: reclaim.nginx_idle, luajit-memstat --nginx"
	check_idle
	if grep -n '\[alert\]\|\[emerg\]\|\[error\]\|\[crit\]' "$errlog"; then fail "nginx error.log has the lines above"; fi

	phase "back to Debian's packages"
	apt_q purge luajit-reclaim-archive-keyring
	[ ! -e /etc/apt/sources.list.d/luajit-reclaim.sources ] || fail "purge left our .sources behind"
	[ ! -e /etc/apt/preferences.d/luajit-reclaim.pref ] || fail "purge left our pin behind"
	apt_update
	apt_q install --allow-downgrades "$DEB_CLI/$DISTRO" "$DEB_LIB/$DISTRO" "$DEB_COMMON/$DISTRO"
	for p in "$DEB_LIB" "$DEB_COMMON" "$DEB_CLI"; do expect_version "$p" "$DEBIAN_VERSION"; done
	for f in /usr/bin/luajit-reclaim-swap /usr/bin/luajit-reclaim-run /usr/lib/*/luajit-reclaim; do
		[ ! -e "$f" ] || fail "$f is still there on Debian's packages"
	done
	nginx_restart
	check_page debian
	check_cli debian
	check_nvim absent
	body=$(http_get /burst)
	echo "    for comparison, the same burst on Debian's runtime:" $body "next request rss_kb=$(field rss_kb "$(http_get /rss)")"
	ok "going back to Debian's packages works and nginx still serves"

	if [ "$DISTRO" = bookworm ]; then
		phase "bookworm system on the stock flavour"
		apt_q install libluajit-5.1-2 luajit
		[ -z "$(version_of libluajit2-5.1-2)" ] || fail "libluajit2-5.1-2 still installed"
		stock=$(version_of libluajit-5.1-2)
		install_our_repo
		apt_q upgrade
		[ "$(version_of libluajit-5.1-2)" = "$stock" ] || fail "apt-get upgrade changed the stock flavour"
		[ -z "$(version_of libluajit2-5.1-2)" ] || fail "apt-get upgrade installed libluajit2-5.1-2"
		ok "apt-get upgrade keeps a stock-flavour system on libluajit-5.1-2 $stock (documented)"
		# The documented explicit switch (README): install our flavour by name.
		apt_q install libluajit2-5.1-2 luajit2
		expect_version libluajit2-5.1-2 "$OUR_VERSION"
		expect_version luajit2 "$OUR_VERSION"
		[ -z "$(version_of libluajit-5.1-2)" ] || fail "the stock libluajit-5.1-2 is still installed"
		check_cli ours
		check_nvim "$RECLAIM_VERSION"
		ok "apt-get install libluajit2-5.1-2 luajit2 moves a stock-flavour system to ours"
	fi
fi
phase "done"
ok "all package checks passed"
