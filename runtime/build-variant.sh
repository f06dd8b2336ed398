#!/bin/bash
# build-variant.sh: build one variant of the runtime with LuaJIT's own
# Makefile and install it under build/<name>/ (bin, lib, include, share).
#
# A variant = a target (arch/<target>.mk facts, passed in by make) plus
# patched-or-stock plus extra compiler flags. The source tree
# build/src/<name> is disposable and recreated on every build, so a variant
# never sees another variant's objects.
#
# Invariants:
# - Flags follow Debian's luajit package: amalgamated build, GC64 default,
#   no LUA52COMPAT, PREFIX=/usr, dpkg-buildflags CFLAGS/LDFLAGS for the
#   target architecture.
# - The shared library's SONAME is exactly libluajit-5.1.so.2 (checked).
# - On failure the tail of the build log is shown and nothing is installed.
#
# Environment (from the top Makefile): VARIANT, TARBALL, CROSS, DEB_ARCH,
# STOCK (0|1), STATIC (0|1), EXTRA_XCFLAGS, RECLAIM_VERSION, JOBS.
set -eu

: "${VARIANT:?}" "${TARBALL:?}" "${DEB_ARCH:?}"
CROSS=${CROSS:-}
STOCK=${STOCK:-0}
STATIC=${STATIC:-0}
EXTRA_XCFLAGS=${EXTRA_XCFLAGS:-}
JOBS=${JOBS:-2}
top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/src/$VARIANT
out=$top/build/$VARIANT
log=$top/build/logs/$VARIANT.log
mkdir -p "$top/build/logs"
start=$(date +%s)

if [ "$STOCK" = 1 ]; then
	"$top/runtime/prepare-tree.sh" --stock "$TARBALL" "$src"
else
	"$top/runtime/prepare-tree.sh" "$TARBALL" "$src"
fi

cflags=$(DEB_HOST_ARCH=$DEB_ARCH dpkg-buildflags --get CFLAGS)
ldflags=$(DEB_HOST_ARCH=$DEB_ARCH dpkg-buildflags --get LDFLAGS)
set -- -C "$src" PREFIX=/usr MULTILIB=lib HOST_CC=gcc "CROSS=$CROSS" TARGET_SYS=Linux \
	"CFLAGS=$cflags" "LDFLAGS=$ldflags" "XCFLAGS=$EXTRA_XCFLAGS" Q= "E=@:"
if [ "$STATIC" = 1 ]; then
	set -- "$@" BUILDMODE=static TARGET_LDFLAGS=-static
fi

fail() {
	tail -n 40 "$log" >&2
	echo "build-variant: $VARIANT: $* (full log: $log)" >&2
	exit 1
}

make -j"$JOBS" "$@" amalg >"$log" 2>&1 || fail "build failed"

rm -rf "$out" "$out.stage"
if [ "$STATIC" = 1 ]; then
	# A fully static executable (used inside bare initramfs images) and
	# the jit.* modules.
	mkdir -p "$out/bin" "$out/share/luajit-2.1/jit"
	cp "$src/src/luajit" "$out/bin/luajit"
	cp "$src/src/jit/"*.lua "$out/share/luajit-2.1/jit/"
else
	make "$@" install DESTDIR="$out.stage" >>"$log" 2>&1 || fail "install failed"
	mv "$out.stage/usr" "$out"
	rm -rf "$out.stage"
	soname=$(readelf -d "$out/lib/libluajit-5.1.so.2" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	[ "$soname" = libluajit-5.1.so.2 ] || fail "SONAME is '$soname', want libluajit-5.1.so.2"
	ln -sf "luajit-2.1.$(cat "$src/src/luajit_relver.txt")" "$out/bin/luajit"
	mkdir -p "$out/share/doc/luajit-reclaim"
	cp "$src/COPYRIGHT" "$out/share/doc/luajit-reclaim/"
	if [ "$STOCK" != 1 ]; then
		mkdir -p "$out/share/man/man3" "$out/share/man/man7"
		cp "$top/runtime/doc/luajit-reclaim.3" "$out/share/man/man3/"
		cp "$top/runtime/doc/luajit-reclaim.7" "$out/share/man/man7/"
	fi
fi
echo "build-variant: $VARIANT built in $(( $(date +%s) - start ))s"
