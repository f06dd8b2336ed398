#!/bin/bash
# make-bundle.sh: the OpenResty-layout bundle check-bundle swaps into, as a tar.
#
#   tests/bundle/make-bundle.sh STOCK_TREE OUT_DIR
#
# Lays out OUT_DIR/openresty/ as OpenResty's packages do, from Debian's nginx
# and lua module and the stock build of our pinned upstream (STOCK_TREE,
# build/stock-x86_64), then packs it as OUT_DIR/openresty.tar (run.sh unpacks
# it at the same place for each run):
#   nginx/sbin/nginx          Debian's nginx, with DT_NEEDED libluajit-5.1.so.2
#                             added and its run path set to luajit/lib (OpenResty
#                             links nginx to LuaJIT the same way)
#   nginx/modules/*.so        Debian's ndk and lua modules; the lua module's run
#                             path set to luajit/lib too
#   luajit/{bin,lib,include,share}  STOCK_TREE (no static library)
#
# Invariants: the run paths are absolute, as OpenResty's are; ldd proves that
# nginx and the lua module resolve libluajit-5.1.so.2 to the bundle's copy and
# not the system's before the tar is written.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"

[ $# = 2 ] || die "usage: make-bundle.sh STOCK_TREE OUT_DIR"
stock=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
prefix=$out/openresty
modules=/usr/lib/nginx/modules
need patchelf ldd nginx
for m in ndk_http_module.so ngx_http_lua_module.so; do
	[ -f "$modules/$m" ] || die "$modules/$m is missing: apt-get install libnginx-mod-http-lua (make deps)"
done

rm -rf "$prefix" "$out/openresty.tar"
mkdir -p "$prefix/nginx/sbin" "$prefix/nginx/modules" "$prefix/luajit/lib"
cp -a "$stock/bin" "$stock/include" "$stock/share" "$prefix/luajit/"
cp -a "$stock"/lib/libluajit-5.1.so* "$stock/lib/pkgconfig" "$prefix/luajit/lib/"

cp /usr/sbin/nginx "$prefix/nginx/sbin/nginx"
# Two runs: patchelf 0.14 writes a wrong run path when both are done in one.
patchelf --set-rpath "$prefix/luajit/lib" "$prefix/nginx/sbin/nginx"
patchelf --add-needed libluajit-5.1.so.2 "$prefix/nginx/sbin/nginx"
cp "$modules/ndk_http_module.so" "$modules/ngx_http_lua_module.so" "$prefix/nginx/modules/"
patchelf --set-rpath "$prefix/luajit/lib" "$prefix/nginx/modules/ngx_http_lua_module.so"

want=$(readlink -f "$prefix/luajit/lib/libluajit-5.1.so.2")
for f in "$prefix/nginx/sbin/nginx" "$prefix/nginx/modules/ngx_http_lua_module.so"; do
	got=$(ldd "$f" | awk '$1 == "libluajit-5.1.so.2" { print $3 }')
	[ "$(readlink -f "$got")" = "$want" ] || die "$f resolves libluajit-5.1.so.2 to '$got', not $want"
done
tar -C "$out" -cf "$out/openresty.tar.tmp" openresty
mv "$out/openresty.tar.tmp" "$out/openresty.tar"
say "$out/openresty.tar: nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(readlink "$prefix/luajit/lib/libluajit-5.1.so.2") (stock)"
