#!/bin/bash
# signing-key.sh: the OpenPGP key that signs our apt and yum repositories.
#
#   signing-key.sh DIR
#
# Without PKG_SIGNING_GNUPGHOME, a key is generated for the build in
# DIR/gnupg (RSA 3072, sign only, no passphrase: EL's rpm and apt both accept
# it) and reused while DIR exists. With PKG_SIGNING_GNUPGHOME=/path (a
# publisher's persistent keyring), that keyring's first secret key is used.
# Writes DIR/luajit-reclaim-archive-keyring.gpg (binary, for apt's
# Signed-By), DIR/luajit-reclaim.asc (armored, for rpm/dnf) and DIR/env
# (GNUPGHOME and PKG_SIGNING_FPR for the signing scripts to source).
#
# Invariants: the key never leaves build/ (or the publisher's keyring) and is
# never committed; the exported public key matches the signing key.
set -eu
. "$(dirname "$0")/lib.sh"

dir=${1:?usage: signing-key.sh DIR}
need gpg:gnupg
mkdir -p "$dir"
if [ -n "${PKG_SIGNING_GNUPGHOME:-}" ]; then
	home=$PKG_SIGNING_GNUPGHOME
else
	home=$dir/gnupg
	mkdir -p "$home"
	chmod 700 "$home"
	if ! GNUPGHOME=$home gpg --batch --list-secret-keys 2>/dev/null | grep -q '^sec'; then
		GNUPGHOME=$home gpg --batch --quiet --passphrase '' --quick-gen-key \
			'luajit-reclaim archive (build key) <packaging@luajit-reclaim.invalid>' rsa3072 sign 2y >"$dir/keygen.log" 2>&1 || { cat "$dir/keygen.log" >&2; die 'key generation failed'; }
	fi
fi
fpr=$(GNUPGHOME=$home gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
[ -n "$fpr" ] || die "no secret key in $home"
GNUPGHOME=$home gpg --batch --yes --export "$fpr" >"$dir/luajit-reclaim-archive-keyring.gpg"
GNUPGHOME=$home gpg --batch --yes --armor --export "$fpr" >"$dir/luajit-reclaim.asc"
printf 'GNUPGHOME=%s\nPKG_SIGNING_FPR=%s\n' "$home" "$fpr" >"$dir/env"
echo "$dir/luajit-reclaim-archive-keyring.gpg"
