#!/bin/bash
# yum-repo.sh: sign the built RPMs and make the yum/dnf repository.
#
#   yum-repo.sh PKG_OUT REPO_DIR
#
# Layout: el9/{x86_64,aarch64,SRPMS}/ with signed packages and repodata/
# (createrepo_c) whose repomd.xml has a detached armored signature
# (repomd.xml.asc, for repo_gpgcheck=1); RPM-GPG-KEY-luajit-reclaim and
# luajit-reclaim.repo (gpgcheck=1, repo_gpgcheck=1, priority=10, baseurl from
# PKG_YUM_URI) at the top. "el9" serves EL9 and current Fedora alike (glibc
# >= 2.34, see luajit.spec).
#
# Invariants: rebuilt from scratch and swapped in only when complete; every
# package signature is checked with rpm -K against the exported key in a
# private rpmdb, and every repomd.xml.asc with gpgv, before the swap.
set -eu
. "$(dirname "$0")/../lib.sh"

out=${1:?usage: yum-repo.sh PKG_OUT REPO_DIR}
repo=${2:?usage: yum-repo.sh PKG_OUT REPO_DIR}
: "${PKG_YUM_URI:?}"
need rpmsign:rpm rpm createrepo_c:createrepo-c gpg:gnupg gpgv
[ -f "$out/signing/env" ] || die "no signing key ($out/signing/env): run signing-key.sh"
. "$out/signing/env"
export GNUPGHOME
ls "$out"/rpm/x86_64/*.rpm "$out"/rpm/aarch64/*.rpm >/dev/null 2>&1 || die "no RPMs in $out/rpm (run make rpms)"

new=$repo.new
rm -rf "$new"
mkdir -p "$new"
cp "$out/signing/luajit-reclaim.asc" "$new/RPM-GPG-KEY-luajit-reclaim"
rpmdb=$(mktemp -d)
at_exit 'rm -rf "$rpmdb"'
rpm --dbpath "$rpmdb" --import "$new/RPM-GPG-KEY-luajit-reclaim"

for dir in x86_64 aarch64 SRPMS; do
	d=$new/el9/$dir
	mkdir -p "$d"
	cp "$out/rpm/$dir"/*.rpm "$d/"
	# Debian's rpmsign calls gpg2 by default; use gpg and our key.
	rpmsign --define "__gpg /usr/bin/gpg" --define "_gpg_name $PKG_SIGNING_FPR" \
		--addsign "$d"/*.rpm >"$new/rpmsign.log" 2>&1 || { cat "$new/rpmsign.log" >&2; die "rpmsign failed"; }
	for f in "$d"/*.rpm; do
		rpm --dbpath "$rpmdb" -K "$f" | grep -q 'digests signatures OK$' ||
			{ rpm --dbpath "$rpmdb" -Kv "$f" >&2; die "bad signature: $f"; }
	done
	createrepo_c --quiet "$d" >/dev/null
	gpg --batch --yes --quiet --local-user "$PKG_SIGNING_FPR" --detach-sign --armor \
		-o "$d/repodata/repomd.xml.asc" "$d/repodata/repomd.xml"
	gpgv --quiet --keyring "$out/signing/luajit-reclaim-archive-keyring.gpg" \
		"$d/repodata/repomd.xml.asc" "$d/repodata/repomd.xml" 2>/dev/null ||
		die "repomd.xml signature does not verify ($dir)"
	say "yum repo: el9/$dir: $(ls "$d"/*.rpm | wc -l) signed packages, signed metadata"
done
rm -f "$new/rpmsign.log"

cat >"$new/luajit-reclaim.repo" <<EOF
[luajit-reclaim]
name=luajit-reclaim (OpenResty's LuaJIT that returns freed memory to the OS) - \$basearch
baseurl=$PKG_YUM_URI/el9/\$basearch/
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=$PKG_YUM_URI/RPM-GPG-KEY-luajit-reclaim
priority=10
EOF

rm -rf "$repo"
mv "$new" "$repo"
