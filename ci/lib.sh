# shellcheck shell=bash
# ci/lib.sh: what the ci/ scripts on the host share beyond lib/shell.sh
# (sourced, never run): the arm64 pieces of the guests (busybox .deb, probes)
# and ELF and package facts. ci/suites.sh, which also runs inside the guests,
# sources lib/shell.sh alone.
#
# Invariants:
# - Sourcing has no side effects except defining functions; the sourcing
#   script sets CI_ROOT (the directory holding ci/) first.
# - Downloads go through ci_apt_download_arm64: a private apt configuration
#   (lib/shell.sh's apt_private), never the system's apt state, no mirror
#   host name in any project file.

: "${CI_ROOT:?set CI_ROOT before sourcing ci/lib.sh}"
# shellcheck source=../lib/shell.sh
. "$CI_ROOT/lib/shell.sh"

# ci_deb_version PACKAGE: installed version, or die.
ci_deb_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null ||
    die "Debian package $1 is not installed (run 'make deps')"
}

# ci_apt_download_arm64 PACKAGE DESTDIR: fetch PACKAGE's arm64 .deb of this
# machine's Debian release into DESTDIR (the cache) unless one is already
# there; prints the .deb's path. The package lists go to a private directory
# under the cache, so the machine's apt configuration and state stay untouched.
ci_apt_download_arm64() {
  local pkg=$1 dest=$2 deb aptdir suite
  mkdir -p "$dest"
  deb=$(find "$dest" -maxdepth 1 -name "${pkg}_*_arm64.deb" | head -n1)
  if [ -n "$deb" ]; then echo "$deb"; return 0; fi
  need apt-get:apt
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$suite" ] || die "no VERSION_CODENAME in /etc/os-release: which Debian release is this?"
  aptdir=$CACHE_DIR/apt-arm64
  rm -rf "$aptdir"
  apt_private "$aptdir" arm64
  apt_debian_sources "$suite" arm64 >"$aptdir/sources.list.d/debian.sources"
  say "apt: private arm64 package lists of $suite for $pkg"
  apt-get "${APT_OPTS[@]}" -q update >"$aptdir/update.log" 2>&1 ||
    { cat "$aptdir/update.log" >&2; die "apt-get update (private arm64 config) failed"; }
  (cd "$dest" && apt-get "${APT_OPTS[@]}" -q download "$pkg:arm64") >"$aptdir/download.log" 2>&1 ||
    { cat "$aptdir/download.log" >&2; die "apt-get download $pkg:arm64 failed"; }
  deb=$(find "$dest" -maxdepth 1 -name "${pkg}_*_arm64.deb" | head -n1)
  [ -n "$deb" ] || die "apt-get download $pkg:arm64 left no .deb in $dest"
  rm -rf "$aptdir"
  echo "$deb"
}

# ci_build_arm64_probes DIR: cross-compiles ci/probe/*.c into static arm64
# binaries DIR/<name> (warnings are errors: the project is -Wall -Wextra clean).
ci_build_arm64_probes() {
  local dir=$1 src name
  need aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu
  mkdir -p "$dir"
  for src in "$CI_ROOT"/ci/probe/*.c; do
    name=$(basename "$src" .c)
    if [ ! "$dir/$name" -nt "$src" ]; then
      aarch64-linux-gnu-gcc -std=c99 -O2 -Wall -Wextra -Werror -static \
        -o "$dir/$name" "$src" || die "cross-compiling $src failed"
    fi
  done
}

# ci_is_static_elf FILE: true when FILE has no program interpreter.
ci_is_static_elf() {
  need readelf:binutils
  ! readelf -lW "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}
