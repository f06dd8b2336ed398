# The pinned upstream: the one place that names what we build on.
# Debian trixie's source package `luajit` (OpenResty's LuaJIT 2.1-20250117).
# The orig tarball is fetched through apt at build time (runtime/fetch-upstream.sh)
# and must match UPSTREAM_SHA256 exactly; nothing from it is ever committed.
UPSTREAM_SRCPKG  := luajit
UPSTREAM_VERSION := 2.1.0+openresty20250117-2
UPSTREAM_SUITE   := trixie
UPSTREAM_TARBALL := luajit_2.1.0+openresty20250117.orig.tar.xz
UPSTREAM_SHA256  := 99ad5fdfa85e08a291454f797f625fbb53f4d2129cac063922255a1fe34ccf1c
# LuaJIT's rolling release number (commit time) of this tarball, as in jit.version.
UPSTREAM_RELVER  := 1737090214
