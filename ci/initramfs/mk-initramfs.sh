#!/bin/bash
# ci/initramfs/mk-initramfs.sh: assembles the initramfs every arm64 guest of the matrix boots.
#
# Usage: mk-initramfs.sh OUT.cpio PROBE_DIR JIT_SHARE BUILD=VARIANT_DIR...
#   PROBE_DIR holds the static arm64 probes (getconf, highmap; ci_build_arm64_probes).
#   JIT_SHARE is an arm64 variant's share/luajit-2.1 (the jit.* modules), installed as
#   /t/share/luajit-2.1 for builds that bring none (static variants may install only bin/).
#   Each BUILD=VARIANT_DIR adds an installed luajit variant (bin/luajit, and when present
#   share/luajit-2.1 and lib/libluajit-5.1.so.2) as /t/lj/BUILD; a dynamic one also brings the glibc pieces it needs
#   from the cross sysroot (found with readelf, recursively) and its libluajit.
#
# Layout of the archive (newc, uncompressed):
#   /init                   ci/initramfs/init
#   /bin/busybox            Debian's static arm64 busybox (cached .deb); applets linked at boot
#   /bin/getconf, highmap   the probes
#   /lib/ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu/*   only when a dynamic build is present
#   /t/                     the repository subset the suites need: lib/shell.sh,
#                           ci/{suites.sh,checks,difftest}, tests/{lua,reclaim}; /t/lj/<build>/ the luajits, each with
#                           a file "static" holding 1 or 0; /t/share/luajit-2.1 = JIT_SHARE
# Invariants: the archive is made from a fresh staging dir (nothing stale); binaries are copied,
# never modified (stripping would change what is tested); no device nodes are needed (/init
# mounts devtmpfs before opening the console), so no root privileges are needed either.
set -eu
CI_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$CI_ROOT/ci/lib.sh"

[ $# -ge 4 ] || die "usage: mk-initramfs.sh OUT.cpio PROBE_DIR JIT_SHARE BUILD=VARIANT_DIR..."
out=$1 probes=$2 jit_share=$3
shift 3
[ -f "$jit_share/jit/vmdef.lua" ] || die "$jit_share holds no jit.* modules (jit/vmdef.lua)"
need cpio dpkg-deb:dpkg
SYSROOT=/usr/aarch64-linux-gnu
[ -f "$SYSROOT/lib/ld-linux-aarch64.so.1" ] ||
  die "$SYSROOT/lib/ld-linux-aarch64.so.1 missing (install libc6-arm64-cross)"

stage="$out.stage"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib/aarch64-linux-gnu" "$stage/t/lib" "$stage/t/ci" "$stage/t/tests" \
  "$stage/t/lj" "$stage/t/share"
cp -rL "$jit_share" "$stage/t/share/luajit-2.1"

deb=$(ci_apt_download_arm64 busybox-static "$CACHE_DIR/debs")
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./bin/busybox >"$stage/bin/busybox"
chmod 755 "$stage/bin/busybox"
ci_is_static_elf "$stage/bin/busybox" || die "busybox from $deb is not static"

for probe in getconf highmap; do
  [ -x "$probes/$probe" ] || die "probe $probes/$probe missing"
  cp "$probes/$probe" "$stage/bin/$probe"
done
cp "$CI_ROOT/ci/initramfs/init" "$stage/init"
chmod 755 "$stage/init"

cp "$CI_ROOT/lib/shell.sh" "$stage/t/lib/"
cp "$CI_ROOT/ci/suites.sh" "$stage/t/ci/"
cp -r "$CI_ROOT/ci/checks" "$CI_ROOT/ci/difftest" "$stage/t/ci/"
for dir in tests/lua tests/reclaim; do
  [ -d "$CI_ROOT/$dir" ] || die "$dir missing"
  cp -r "$CI_ROOT/$dir" "$stage/t/tests/"
done

# add_needed ELF: copies the shared libraries ELF needs (recursively) from the sysroot.
add_needed() {
  local lib path
  for lib in $(readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case $lib in ld-linux-*) continue ;; esac  # the interpreter lives in /lib
    [ -e "$stage/lib/aarch64-linux-gnu/$lib" ] && continue
    path="$SYSROOT/lib/$lib"
    [ -e "$path" ] || continue  # libluajit: shipped next to the build, see below
    cp -L "$path" "$stage/lib/aarch64-linux-gnu/$lib"
    add_needed "$path"
  done
}

for spec in "$@"; do
  build=${spec%%=*} variant=${spec#*=}
  [ "$build" != "$spec" ] || die "bad build spec '$spec' (want BUILD=VARIANT_DIR)"
  luajit="$variant/bin/luajit"
  [ -f "$luajit" ] || die "$luajit missing (build variant not built?)"
  dest="$stage/t/lj/$build"
  mkdir -p "$dest/bin" "$dest/share" "$dest/lib"
  cp -L "$luajit" "$dest/bin/luajit"
  # jit.* modules; static variants may install none (init then uses /t/share).
  [ -d "$variant/share/luajit-2.1" ] && cp -rL "$variant/share/luajit-2.1" "$dest/share/"
  if ci_is_static_elf "$luajit"; then
    echo 1 >"$dest/static"
  else
    echo 0 >"$dest/static"
    interp=$(readelf -lW "$luajit" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
    [ "$interp" = /lib/ld-linux-aarch64.so.1 ] || die "$luajit: unexpected interpreter '$interp'"
    cp -L "$SYSROOT/lib/ld-linux-aarch64.so.1" "$stage/lib/"
    add_needed "$luajit"
    if [ -e "$variant/lib/libluajit-5.1.so.2" ]; then
      cp -L "$variant/lib/libluajit-5.1.so.2" "$dest/lib/"
      add_needed "$dest/lib/libluajit-5.1.so.2"
    fi
  fi
done

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$stage"
say "initramfs $out: $(du -k "$out" | cut -f1) KiB"
