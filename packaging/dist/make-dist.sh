#!/bin/bash
# make-dist.sh: the relocatable tarball of one architecture (make dist).
#
#   make-dist.sh TREE DEB_ARCH VERSION SIGNING_DIR OUT_DIR MEMSTAT
#
# TREE is a variant's install tree (build/x86_64, build/arm64-openresty, ...)
# after swap-install; MEMSTAT the luajit-memstat of its architecture. Writes
#   OUT_DIR/luajit-reclaim-VERSION-linux-DEB_ARCH.tar.gz   one top directory:
#     bin/      luajit, luajit-memstat, luajit-reclaim-swap, luajit-reclaim-run
#     lib/      libluajit-5.1.so.2 (and its .so link), pkgconfig/luajit.pc
#               (relocatable: prefix is ${pcfiledir}/../..), luajit-reclaim/
#               (the private directory of the tools)
#     include/luajit-2.1/, share/luajit-2.1/jit/, share/man/, share/doc/
#     README.md, MANIFEST.sha256 (every other file), MANIFEST.sha256.asc
#   OUT_DIR/luajit-reclaim-VERSION-linux-DEB_ARCH.tar.gz.sha256
#   OUT_DIR/luajit-reclaim-archive-keyring.gpg (the public key that signed it)
#
# Invariants: SIGNING_DIR/env (packaging/signing-key.sh) names the key; the
# tarball is checked with luajit-reclaim-swap verify before it is kept, so a
# tarball in OUT_DIR always verifies; SOURCE_DATE_EPOCH sets every mtime.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"

[ $# = 6 ] || die "usage: make-dist.sh TREE DEB_ARCH VERSION SIGNING_DIR OUT_DIR MEMSTAT"
tree=$(cd "$1" && pwd) arch=$2 version=$3 signing=$4 out=$5 memstat=$6
need gpg:gnupg sha256sum tar gzip
[ -f "$signing/env" ] || die "$signing/env is missing (packaging/signing-key.sh makes it)"
name=luajit-reclaim-$version-linux-$arch
stage=$(mktemp -d "${TMPDIR:-/tmp}/dist.XXXXXX")
at_exit "rm -rf '$stage'"
d=$stage/$name
mkdir -p "$d/bin" "$d/lib/pkgconfig" "$d/include" "$d/share/man" "$d/share/doc"

for f in luajit-reclaim-swap luajit-reclaim-run; do
	[ -x "$tree/bin/$f" ] || die "$tree/bin/$f is missing (make swap-install)"
done
[ -x "$memstat" ] || die "$memstat is missing (make memstat-install)"
cp -a "$tree/bin/luajit" "$tree"/bin/luajit-2.1.* "$tree/bin/luajit-reclaim-swap" "$tree/bin/luajit-reclaim-run" "$d/bin/"
cp "$memstat" "$d/bin/luajit-memstat"
cp -a "$tree"/lib/libluajit-5.1.so* "$d/lib/"
cp -a "$tree/lib/luajit-reclaim" "$d/lib/"
rm -f "$d/lib/luajit-reclaim/.stamp"
# shellcheck disable=SC2016 # ${pcfiledir} is pkg-config's, not the shell's
sed -e 's|^prefix=.*|prefix=${pcfiledir}/../..|' -e 's|^multilib=.*|multilib=lib|' \
	"$tree/lib/pkgconfig/luajit.pc" >"$d/lib/pkgconfig/luajit.pc"
cp -a "$tree/include/luajit-2.1" "$d/include/"
cp -a "$tree/share/luajit-2.1" "$tree/share/man" "$tree/share/doc" "$d/share/"
cp "$top/runtime/doc/luajit-memstat.1" "$d/share/man/man1/luajit-memstat.1"
cp "$top/packaging/dist/README.md" "$d/README.md"
[ -f "$d/lib/luajit-reclaim/luajit-reclaim-probe" ] || die "$tree/lib/luajit-reclaim is incomplete (make swap-install)"

(cd "$d" && find . \( -type f -o -type l \) -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum) >"$stage/MANIFEST.sha256"
mv "$stage/MANIFEST.sha256" "$d/MANIFEST.sha256"
# shellcheck disable=SC1091 # written by packaging/signing-key.sh
. "$signing/env"
GNUPGHOME=$GNUPGHOME gpg --batch --yes --quiet --armor --local-user "$PKG_SIGNING_FPR" \
	--detach-sign -o "$d/MANIFEST.sha256.asc" "$d/MANIFEST.sha256"

mkdir -p "$out"
cp "$signing/luajit-reclaim-archive-keyring.gpg" "$out/luajit-reclaim-archive-keyring.gpg"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-0}" \
	-cf - "$name" | gzip -n -9 >"$stage/$name.tar.gz"
"$d/bin/luajit-reclaim-swap" verify --keyring "$out/luajit-reclaim-archive-keyring.gpg" "$stage/$name.tar.gz" ||
	die "the tarball does not verify"
mv "$stage/$name.tar.gz" "$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
say "$out/$name.tar.gz: $(du -k "$out/$name.tar.gz" | cut -f1) KiB, $(wc -l <"$d/MANIFEST.sha256") files, signed by $PKG_SIGNING_FPR"
