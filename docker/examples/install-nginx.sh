#!/bin/sh
# install-nginx.sh: the install step of the example image (docker/examples/
# Dockerfile runs it; check-images runs the same file inside an unpacked copy
# of each image). Installs nginx and its Lua module from Debian into a
# luajit-reclaim image; the image's apt source and pin keep our LuaJIT.
#
# Invariant: our runtime stays: after the install the LuaJIT library package
# is still the one from the luajit-reclaim repository (origin luajit-reclaim),
# checked here, so a derived image that lost it fails to build.
set -eu
. /etc/os-release
case "$VERSION_CODENAME" in
bookworm) nginx=nginx-light lib=libluajit2-5.1-2 ;;   # bookworm's OpenResty flavour
*) nginx=nginx lib=libluajit-5.1-2 ;;
esac
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "$nginx" libnginx-mod-http-lua
rm -rf /var/lib/apt/lists/*
rm -f /etc/nginx/sites-enabled/default
version=$(dpkg-query -W -f='${Version}' "$lib")
case "$version" in
*+reclaim*) echo "install-nginx: $lib $version (luajit-reclaim) kept" ;;
*) echo "install-nginx: $lib is $version, not luajit-reclaim's" >&2; exit 1 ;;
esac
