#!/bin/bash
# ci/kernel/build-kernel.sh: build (or find in the cache) a minimal arm64
# kernel Image for the QEMU matrix, from Debian's linux-source-6.1 package.
#
# Usage: build-kernel.sh PAGE VA_BITS      PAGE = 4k|16k|64k, VA_BITS = 48|52
# Prints the path of the cached Image on stdout; progress and the time the
# build took go to stderr.
#
# Invariants:
# - The Image lives at $CACHE_DIR/kernels/<key>/Image, where key = sha256 of
#   (linux-source version, the full KCONFIG_ALLCONFIG text = fragment + page
#   and VA options, page size, VA bits, aarch64 gcc version). Same key, same
#   kernel: a hit never rebuilds.
# - The source is extracted once per linux-source version and never written
#   to (O= build dirs); a build dir is removed once its Image is cached.
# - Every `=y` line of the allconfig must be `=y` in the resulting .config,
#   else the build fails (a silently dropped option would test the wrong thing).
# - Builds run with `nice -n 19` and -j${KERNEL_JOBS:-2}.
set -eu
CI_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$CI_ROOT/ci/lib.sh"

[ $# -eq 2 ] || die "usage: build-kernel.sh 4k|16k|64k 48|52"
page=$1 va=$2
case $page in
  4k) page_opt=CONFIG_ARM64_4K_PAGES ;;
  16k) page_opt=CONFIG_ARM64_16K_PAGES ;;
  64k) page_opt=CONFIG_ARM64_64K_PAGES ;;
  *) die "page size must be 4k, 16k or 64k, not '$page'" ;;
esac
case $va in
  48|52) va_opt=CONFIG_ARM64_VA_BITS_$va ;;
  *) die "VA bits must be 48 or 52, not '$va'" ;;
esac

need aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu make flex bison bc
src_version=$(ci_deb_version linux-source-6.1)
gcc_version=$(aarch64-linux-gnu-gcc --version | head -n1)
src_tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$src_tarball" ] || die "$src_tarball missing (install linux-source-6.1)"

fragment="$CI_ROOT/ci/kernel/arm64-qemu-virt.fragment"
allconfig_text="$(cat "$fragment")
$page_opt=y
$va_opt=y"
key=$(printf 'linux-source-6.1 %s\n%s\npage=%s va=%s\ngcc=%s\n' \
  "$src_version" "$allconfig_text" "$page" "$va" "$gcc_version" |
  sha256sum | cut -c1-16)
kdir="$CACHE_DIR/kernels/$key"
image="$kdir/Image"
if [ -f "$image" ]; then
  say "kernel $page/va$va: cache hit $image"
  echo "$image"
  exit 0
fi

mkdir -p "$kdir"
exec 9>"$kdir/.lock"
flock 9
if [ -f "$image" ]; then echo "$image"; exit 0; fi  # built while we waited

src="$CACHE_DIR/linux-src/linux-source-6.1_$src_version"
if [ ! -f "$src/.extracted-ok" ]; then
  say "extracting $src_tarball"
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  tar -xJf "$src_tarball" -C "$src.tmp"
  mv "$src.tmp/linux-source-6.1" "$src"
  rmdir "$src.tmp"
  touch "$src/.extracted-ok"
fi

obj="$kdir/obj"
mkdir -p "$obj"
printf '%s\n' "$allconfig_text" >"$kdir/allconfig"
kmake() {
  nice -n 19 make -C "$src" O="$obj" ARCH=arm64 \
    CROSS_COMPILE=aarch64-linux-gnu- -j"${KERNEL_JOBS:-2}" "$@"
}
say "kernel $page/va$va: building (key $key, log $kdir/build.log)"
start=$(now)
TIMEFORMAT='%U %S'
{ time {
    KCONFIG_ALLCONFIG="$kdir/allconfig" kmake allnoconfig &&
    kmake Image; } >"$kdir/build.log" 2>&1; } 2>"$kdir/cpu-times" ||
  { tail -n 30 "$kdir/build.log" >&2; die "kernel $page/va$va build failed"; }

# Every requested `=y` (and numeric) option must have stuck.
missing=""
while IFS= read -r line; do
  case $line in
    CONFIG_*=n|'#'*|'') continue ;;
    CONFIG_*) grep -qx "$line" "$obj/.config" || missing="$missing $line" ;;
  esac
done <"$kdir/allconfig"
[ -z "$missing" ] || die "kernel $page/va$va: options did not stick:$missing"

cp "$obj/.config" "$kdir/config"
cp "$obj/arch/arm64/boot/Image" "$image.tmp"
mv "$image.tmp" "$image"
rm -rf "$obj"
read -r cpu_user cpu_sys <"$kdir/cpu-times"
say "kernel $page/va$va: built in $(elapsed "$start") s wall," \
  "${cpu_user} s user + ${cpu_sys} s sys -> $image"
echo "$image"
