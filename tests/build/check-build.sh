#!/bin/bash
# check-build.sh: assertions about the build outputs (run by `make check-build`).
#
# Each check prints "ok <name>" or "FAIL <name>: why"; the last line is
# "N passed, N failed" and the exit status is non-zero on any failure.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
B=build
pass=0
fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
check() { # check NAME CMD...: ok if CMD succeeds
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}

# shellcheck source=/dev/null  # the make variables of upstream.mk and version.mk, as shell
. <(sed -n 's/^\([A-Za-z0-9_]*\)[[:space:]]*:=[[:space:]]*\(.*\)$/\1="\2"/p' runtime/upstream.mk runtime/version.mk)
arm64_run="qemu-aarch64-static -L /usr/aarch64-linux-gnu"

soname_is() { # soname_is LIB
	[ "$(readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" = libluajit-5.1.so.2 ]
}
check "soname x86_64" soname_is $B/x86_64/lib/libluajit-5.1.so.2
check "soname arm64" soname_is $B/arm64/lib/libluajit-5.1.so.2

# exports_superset NM OURS STOCK: every dynamic symbol the unpatched library
# exports is exported by ours too (nginx's lua module needs e.g. lua_setexdata).
exports_superset() {
	local nm=$1 ours=$2 stock=$3 missing
	missing=$(comm -13 <("$nm" -D --defined-only "$ours" | awk '{print $3}' | sort -u) \
		<("$nm" -D --defined-only "$stock" | awk '{print $3}' | sort -u))
	[ -z "$missing" ] || { echo "missing exports: $missing"; return 1; }
	"$nm" -D --defined-only "$ours" | grep -q ' lua_setexdata$' || { echo "lua_setexdata not exported"; return 1; }
	"$nm" -D --defined-only "$ours" | grep -q ' luaJIT_reclaim_stats$' || { echo "luaJIT_reclaim_stats not exported"; return 1; }
}
check "exports superset x86_64" exports_superset nm $B/x86_64/lib/libluajit-5.1.so.2 $B/stock-x86_64/lib/libluajit-5.1.so.2
check "exports superset arm64" exports_superset aarch64-linux-gnu-nm $B/arm64/lib/libluajit-5.1.so.2 $B/stock-arm64/lib/libluajit-5.1.so.2

# banner LUAJIT...: `luajit -v` shows LuaJIT's banner, then our version line.
banner() {
	local out
	out=$("$@" -v)
	echo "$out" | sed -n 1p | grep -q '^LuaJIT 2\.1\.' || { echo "banner: $out"; return 1; }
	[ "$(echo "$out" | sed -n 2p)" = "luajit-reclaim $RECLAIM_VERSION" ] || { echo "version line: $out"; return 1; }
}
check "banner x86_64" banner $B/x86_64/bin/luajit
check "banner arm64" banner $arm64_run $B/arm64/bin/luajit
check "banner arm64-static" banner qemu-aarch64-static $B/arm64-static/bin/luajit

# jit_on LUAJIT... ARCH: the JIT is on and the arch is right.
jit_on() {
	local arch=$1; shift
	local out
	out=$("$@" -e 'print(jit.version, jit.arch, jit.status())')
	echo "$out" | grep -Eq "^LuaJIT 2\.1\.$UPSTREAM_RELVER	$arch	true" || { echo "got: $out"; return 1; }
}
check "jit on x86_64" jit_on x64 $B/x86_64/bin/luajit
check "jit on arm64" jit_on arm64 $arm64_run $B/arm64/bin/luajit
check "jit on arm64-static" jit_on arm64 qemu-aarch64-static $B/arm64-static/bin/luajit
check "static arm64 is static" sh -c "file -L $B/arm64-static/bin/luajit | grep -q 'statically linked' || readelf -d $B/arm64-static/bin/luajit 2>&1 | grep -q 'no dynamic section'"

# The reclaim library is built in (no file on disk) and reports the version.
check "require reclaim" sh -c "[ \"\$($B/x86_64/bin/luajit -e 'io.write(require(\"reclaim\").version)')\" = $RECLAIM_VERSION ]"
check "header installed" grep -q "LUAJIT_RECLAIM_VERSION	\"$RECLAIM_VERSION\"" $B/x86_64/include/luajit-2.1/luajit-reclaim.h
check "man pages installed" test -f $B/x86_64/share/man/man3/luajit-reclaim.3 -a -f $B/x86_64/share/man/man7/luajit-reclaim.7

# luajit-reclaim(3) matches the header, and its example builds with pkg-config and runs.
check "luajit-reclaim(3) and its example" tests/build/capi-man.sh

# A corrupted tarball is refused with a message naming both sums.
corrupt_refused() {
	local tmp out
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	cp "${XDG_CACHE_HOME:-$HOME/.cache}/luajit-reclaim/$UPSTREAM_TARBALL" "$tmp/t.tar.xz"
	printf 'X' | dd of="$tmp/t.tar.xz" bs=1 seek=1000 conv=notrunc 2>/dev/null
	if out=$(LUAJIT_SRC_TARBALL=$tmp/t.tar.xz UPSTREAM_SRCPKG=$UPSTREAM_SRCPKG \
		UPSTREAM_VERSION=$UPSTREAM_VERSION UPSTREAM_SUITE=$UPSTREAM_SUITE \
		UPSTREAM_TARBALL=$UPSTREAM_TARBALL UPSTREAM_SHA256=$UPSTREAM_SHA256 \
		runtime/fetch-upstream.sh "$tmp/cache" 2>&1); then
		echo "corrupted tarball accepted"; return 1
	fi
	echo "$out" | grep -q "sha256 mismatch" || { echo "message: $out"; return 1; }
	echo "$out" | grep -q "expected $UPSTREAM_SHA256, got [0-9a-f]\{64\}" || { echo "message: $out"; return 1; }
}
check "corrupt tarball refused" corrupt_refused

# A second make has nothing to do.
check "second make is a no-op" make -q all stock assert

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
