#!/bin/bash
# prepare-tree.sh: unpack the upstream tarball into a fresh source tree and,
# unless --stock, apply our patch series and add our own source files.
#
# Invariants:
# - The destination is disposable: it is removed and recreated every time.
# - Patches apply in runtime/patches/series order; one that does not apply
#   stops the build naming the patch (no fuzz: the pin makes them exact).
# - Our own files are copied from runtime/src and runtime/reclaim, never
#   pasted into patches; *.in files are instantiated with our version.
# - luajit-memstat's sources and man page go to DEST/memstat/ (nothing of
#   upstream's build looks there): the packages build it next to the runtime,
#   with -Isrc for the registry headers, which sit in DEST/src/.
# - luajit-reclaim-swap, luajit-reclaim-run, the probe's source, fingerprint.lua,
#   their man pages and lib/shell.sh (as shell.sh, the copy the tools source
#   from their private directory) go to DEST/swap/: the packages build the
#   probe against DEST/src/ and install the private directory from there.
# - The man pages luajit-reclaim(7) (the runtime, its options and the Lua
#   module) and luajit-reclaim(3) (the C API) go to DEST/reclaim-doc/.
#
# Usage: prepare-tree.sh [--stock] TARBALL DEST
set -eu

stock=0
if [ "${1:-}" = "--stock" ]; then stock=1; shift; fi
tarball=${1:?usage: prepare-tree.sh [--stock] TARBALL DEST}
dest=${2:?usage: prepare-tree.sh [--stock] TARBALL DEST}
top=$(cd "$(dirname "$0")/.." && pwd)
: "${RECLAIM_VERSION:?}"

rm -rf "$dest"
mkdir -p "$dest"
tar -xJf "$tarball" -C "$dest" --strip-components=1

[ "$stock" = 1 ] && exit 0

while read -r p; do
	case "$p" in ''|'#'*) continue ;; esac
	if ! patch -d "$dest" -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch \
		-i "$top/runtime/patches/$p" >"$dest/.patch.log" 2>&1; then
		cat "$dest/.patch.log" >&2
		echo "prepare-tree: patch $p does not apply" >&2
		exit 1
	fi
done <"$top/runtime/patches/series"
rm -f "$dest/.patch.log"

for f in "$top"/runtime/src/* "$top"/runtime/reclaim/*.c "$top"/runtime/reclaim/*.h; do
	[ -f "$f" ] || continue
	case "$f" in
	*.in) sed "s/@RECLAIM_VERSION@/$RECLAIM_VERSION/g" "$f" >"$dest/src/$(basename "$f" .in)" ;;
	*) cp "$f" "$dest/src/" ;;
	esac
done

mkdir -p "$dest/memstat"
cp "$top"/runtime/tools/memstat/*.c "$top"/runtime/tools/memstat/*.h \
	"$top/runtime/doc/luajit-memstat.1" "$dest/memstat/"

mkdir -p "$dest/swap"
cp "$top"/runtime/tools/swap/luajit-reclaim-swap "$top"/runtime/tools/swap/luajit-reclaim-run \
	"$top"/runtime/tools/swap/probe.c "$top"/runtime/tools/swap/fingerprint.lua \
	"$top"/runtime/tools/swap/luajit-reclaim-swap.1 "$top"/runtime/tools/swap/luajit-reclaim-run.1 "$dest/swap/"
cp "$top/lib/shell.sh" "$dest/swap/shell.sh"

mkdir -p "$dest/reclaim-doc"
cp "$top/runtime/doc/luajit-reclaim.7" "$top/runtime/doc/luajit-reclaim.3" "$dest/reclaim-doc/"
