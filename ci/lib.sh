# shellcheck shell=dash
# ci/lib.sh: shell helpers shared by every ci/ script (sourced, never run).
#
# Invariants:
# - Only functions and read-only defaults live here; sourcing has no side
#   effects except defining them and CI_ROOT / CI_CACHE.
# - Everything that downloads goes through ci_apt_download_arm64, which uses a
#   private apt configuration derived at run time from the machine's
#   /etc/apt/sources.list.d/*.sources: the system apt state is never written,
#   and no mirror host name appears in any project file.
# - A missing tool is a loud failure (ci_need), never a silent skip.

# POSIX sh plus `local` and `test -nt` (bash, dash and busybox ash have both):
# ci/suites.sh sources it inside the
# guests too. The sourcing script sets CI_ROOT (the directory holding ci/).
: "${CI_ROOT:?set CI_ROOT before sourcing ci/lib.sh}"
# Per-user cache shared by every ci/ script.
CI_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/luajit-reclaim"

ci_log() { printf '[ci %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
ci_die() { printf '[ci] ERROR: %s\n' "$*" >&2; exit 1; }

# ci_need TOOL DEBIAN_PACKAGE: fail loudly when TOOL is not on PATH.
ci_need() {
  command -v "$1" >/dev/null 2>&1 ||
    ci_die "required tool '$1' not found (install Debian package $2, or run 'make deps')"
}

# Monotonic-enough seconds with centiseconds, from /proc/uptime (works in
# busybox guests too, which is why ci/suites.sh uses the same source).
ci_now() { cut -d' ' -f1 /proc/uptime; }
# ci_elapsed START: seconds since START (as printed by ci_now), one decimal.
ci_elapsed() { awk -v a="$1" -v b="$(ci_now)" 'BEGIN { printf "%.1f", b - a }'; }

# ci_sha256 FILE...: one hex digest over the given files' contents, in order.
ci_sha256() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ci_deb_version PACKAGE: installed version, or die.
ci_deb_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null ||
    ci_die "Debian package $1 is not installed (run 'make deps')"
}

# ci_apt_download_arm64 PACKAGE DESTDIR: fetch PACKAGE's arm64 .deb into
# DESTDIR (the cache) unless one is already there; prints the .deb's path.
# The package lists go to a private directory under the cache, so the
# machine's apt configuration and state stay untouched.
ci_apt_download_arm64() {
  local pkg="$1" dest="$2" deb aptdir src
  mkdir -p "$dest"
  deb=$(find "$dest" -maxdepth 1 -name "${pkg}_*_arm64.deb" | head -n1)
  if [ -n "$deb" ]; then echo "$deb"; return 0; fi
  ci_need apt-get apt
  aptdir="$CI_CACHE/apt-arm64"
  rm -rf "$aptdir"
  mkdir -p "$aptdir/sources.list.d" "$aptdir/lists/partial" \
    "$aptdir/cache/archives/partial"
  for src in /etc/apt/sources.list.d/*.sources; do
    [ -e "$src" ] && cp "$src" "$aptdir/sources.list.d/"
  done
  ls "$aptdir/sources.list.d/"*.sources >/dev/null 2>&1 ||
    ci_die "no /etc/apt/sources.list.d/*.sources to derive an arm64 apt configuration from"
  set -- -o Dir::Etc::SourceParts="$aptdir/sources.list.d" \
    -o Dir::Etc::SourceList=/dev/null \
    -o Dir::State::Lists="$aptdir/lists" \
    -o Dir::Cache="$aptdir/cache" \
    -o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
    -o Debug::NoLocking=1
  ci_log "apt: private arm64 package lists for $pkg"
  apt-get "$@" -q update >"$aptdir/update.log" 2>&1 ||
    { cat "$aptdir/update.log" >&2; ci_die "apt-get update (private arm64 config) failed"; }
  (cd "$dest" && apt-get "$@" -q download "$pkg:arm64") >"$aptdir/download.log" 2>&1 ||
    { cat "$aptdir/download.log" >&2; ci_die "apt-get download $pkg:arm64 failed"; }
  deb=$(find "$dest" -maxdepth 1 -name "${pkg}_*_arm64.deb" | head -n1)
  [ -n "$deb" ] || ci_die "apt-get download $pkg:arm64 left no .deb in $dest"
  rm -rf "$aptdir"
  echo "$deb"
}

# ci_build_arm64_probes DIR: cross-compiles ci/probe/*.c into static arm64
# binaries DIR/<name> (warnings are errors: the project is -Wall -Wextra clean).
ci_build_arm64_probes() {
  local dir="$1" src name
  ci_need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
  mkdir -p "$dir"
  for src in "$CI_ROOT"/ci/probe/*.c; do
    name=$(basename "$src" .c)
    if [ ! "$dir/$name" -nt "$src" ]; then
      aarch64-linux-gnu-gcc -std=c99 -O2 -Wall -Wextra -Werror -static \
        -o "$dir/$name" "$src" || ci_die "cross-compiling $src failed"
    fi
  done
}

# ci_is_static_elf FILE: true when FILE has no program interpreter.
ci_is_static_elf() {
  ci_need readelf binutils
  ! readelf -lW "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}
