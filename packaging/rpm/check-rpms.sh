#!/bin/bash
# check-rpms.sh: test the signed yum repository and the RPM payloads without an
# RPM distribution (none can be fetched here).
#
#   check-rpms.sh YUM_REPO WORKDIR
#
# For x86_64 and aarch64:
#  1. dnf --installroot with only our repository must FAIL, naming only
#     base-system capabilities (our packages really require the base system,
#     and nothing else is missing);
#  2. with a test-only stub package (built here, never published) that
#     provides just those base-system capabilities, dnf installs luajit-devel
#     -> luajit from our repository with gpgcheck=1 and repo_gpgcheck=1, and
#     the installed EVR is ours;
#     a copy whose repomd.xml no longer matches repomd.xml.asc is refused;
#  3. rpm --root installs the payload into a Debian chroot (--nodeps: its
#     rpmdb knows no libc) and the installed luajit -v is ours, the library is
#     found in /usr/lib64 and require("reclaim") works (arm64 under qemu-user);
#     luajit-reclaim-swap --help works and luajit-reclaim-run preloads the
#     library of the private directory /usr/lib64/luajit-reclaim/.
#
# Environment: PKG_CACHE, PKG_DIR (lib.sh), RECLAIM_VERSION, UPSTREAM_RELVER.
# Invariants: every check prints "ok: ..." or fails naming what broke.
set -eu
. "$(dirname "$0")/../lib.sh"

repo=$(cd "${1:?usage: check-rpms.sh YUM_REPO WORKDIR}" && pwd)
work=${2:?usage: check-rpms.sh YUM_REPO WORKDIR}
: "${RECLAIM_VERSION:?}" "${UPSTREAM_RELVER:?}"
need dnf rpm rpmbuild:rpm createrepo_c:createrepo-c gpg:gnupg
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
fail() { echo "FAIL [rpm]: $*" >&2; exit 1; }
ok() { echo "ok [rpm]: $*"; }

# Base-system capabilities the stub may provide: glibc, libgcc, pkg-config,
# bash and binutils (the swap tools).
base_re='^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|ld-linux-[a-z0-9_-]+\.so\.[0-9]+|rtld\(GNU_HASH\)|/usr/bin/pkg-config|/bin/bash|binutils)'

# stub_repo ARCH: a repository with one noarch package providing the base
# capabilities our ARCH packages require (and nothing else).
stub_repo() {
	local arch=$1 dir=$work/stub-$1 caps
	mkdir -p "$dir/repo"
	caps=$(for f in "$repo/el9/$arch"/*.rpm; do rpm -qp --requires "$f"; done | sort -u | grep -E "$base_re" || true)
	[ -n "$caps" ] || fail "$arch: our packages require no base capability (unexpected)"
	{
		printf 'Name: base-system-stub\nVersion: 1\nRelease: 1\nSummary: test-only stub\nLicense: MIT\nBuildArch: noarch\n'
		printf '%s\n' "$caps" | sed 's/^/Provides: /'
		printf '%%description\nTest-only: stands in for glibc, libgcc and pkg-config.\n%%files\n'
	} >"$dir/stub.spec"
	rpmbuild --quiet --define "_topdir $dir/top" -bb "$dir/stub.spec" >"$dir/build.log" 2>&1 ||
		{ cat "$dir/build.log"; fail "stub build"; }
	cp "$dir"/top/RPMS/noarch/*.rpm "$dir/repo/"
	createrepo_c --quiet "$dir/repo" >/dev/null
}

# dnf_install ARCH ROOT WITH_STUB [REPO]: dnf install luajit-devel into ROOT.
dnf_install() {
	local arch=$1 root=$2 stub=$3 from=${4:-$repo} d=$work/dnf-$1-$3
	mkdir -p "$d/repos.d" "$root"
	sed "s|^baseurl=.*|baseurl=file://$from/el9/\$basearch/|; s|^gpgkey=.*|gpgkey=file://$from/RPM-GPG-KEY-luajit-reclaim|" \
		"$repo/luajit-reclaim.repo" >"$d/repos.d/luajit-reclaim.repo"
	if [ "$stub" = stub ]; then
		printf '[stub]\nname=test-only base system stub\nbaseurl=file://%s\ngpgcheck=0\nrepo_gpgcheck=0\n' \
			"$work/stub-$arch/repo" >"$d/repos.d/stub.repo"
	fi
	printf '[main]\ninstall_weak_deps=False\ngpgcheck=1\nkeepcache=False\n' >"$d/dnf.conf"
	dnf -y --quiet --config="$d/dnf.conf" --setopt=reposdir="$d/repos.d" \
		--setopt=cachedir="$d/cache" --installroot="$root" --releasever=9 \
		--forcearch="$arch" --nodocs install luajit-devel >"$d/dnf.log" 2>&1
}

for arch in x86_64 aarch64; do
	root=$work/dnfroot-$arch-bare
	if dnf_install "$arch" "$root" bare; then
		fail "$arch: dnf installed our packages without any base system"
	fi
	missing=$(sed -n 's/.*nothing provides \([^ ]*\) needed by .*/\1/p' "$work/dnf-$arch-bare/dnf.log" | sort -u)
	[ -n "$missing" ] && ! printf '%s\n' "$missing" | grep -qvE "$base_re" ||
		{ cat "$work/dnf-$arch-bare/dnf.log"; fail "$arch: dnf failed, but not (only) on base-system capabilities"; }
	ok "$arch: with only our repository dnf refuses: nothing provides" $missing

	stub_repo "$arch"
	root=$work/dnfroot-$arch
	dnf_install "$arch" "$root" stub || { cat "$work/dnf-$arch-stub/dnf.log"; fail "$arch: dnf install luajit-devel"; }
	dbpath=$(rpm --eval '%{_dbpath}')
	for p in luajit luajit-devel; do
		evr=$(rpm --root "$root" --dbpath "$dbpath" -q --qf '%{VERSION}-%{RELEASE}.%{ARCH}' "$p" 2>/dev/null) ||
			evr=$(rpm --root "$root" --dbpath /var/lib/rpm -q --qf '%{VERSION}-%{RELEASE}.%{ARCH}' "$p") ||
			fail "$arch: $p is not in the installroot's rpmdb"
		case "$evr" in *".reclaim$RECLAIM_VERSION."*".$arch") ;; *) fail "$arch: $p is $evr, not ours" ;; esac
	done
	[ -n "$(find "$root/usr/bin" -name 'luajit-2.1.*' -type f -perm -u+x 2>/dev/null)" ] ||
		fail "$arch: dnf did not install /usr/bin/luajit-2.1.*"
	keyid=$(gpg --show-keys --with-colons "$repo/RPM-GPG-KEY-luajit-reclaim" 2>/dev/null |
		awk -F: '$1 == "pub" { print tolower(substr($5, 9)); exit }')
	{ rpm --root "$root" --dbpath "$dbpath" -q "gpg-pubkey-$keyid" ||
		rpm --root "$root" --dbpath /var/lib/rpm -q "gpg-pubkey-$keyid"; } >/dev/null 2>&1 ||
		fail "$arch: our key gpg-pubkey-$keyid was not imported by dnf"
	ok "$arch: dnf (gpgcheck=1, repo_gpgcheck=1) resolved luajit-devel -> luajit $evr from our repository"
done

# A repository whose metadata no longer matches its signature must be refused.
cp -a "$repo" "$work/tampered"
echo '<!-- tampered -->' >>"$work/tampered/el9/x86_64/repodata/repomd.xml"
if dnf_install x86_64 "$work/dnfroot-tampered" stub "$work/tampered"; then
	fail "dnf accepted repomd.xml that does not match repomd.xml.asc"
fi
grep -q 'repomd.xml GPG signature verification error' "$work/dnf-x86_64-stub/dnf.log" ||
	{ cat "$work/dnf-x86_64-stub/dnf.log"; fail "dnf failed on the tampered repository, but not on its signature"; }
ok "dnf refuses our repository when repomd.xml does not match its signature"

# payload ARCH TARBALL [PURGE]: rpm --root install of luajit into a Debian chroot copy.
payload() {
	local arch=$1 tarball=$2 purge=${3:-} root=$work/payload-$1 out
	chroot_unpack "$tarball" "$root"
	[ -z "$purge" ] || in_chroot "$root" dpkg --purge "$purge" >/dev/null
	rpm --root "$root" --dbpath /var/lib/rpm --initdb
	rpm --root "$root" --dbpath /var/lib/rpm --import "$repo/RPM-GPG-KEY-luajit-reclaim"
	# --ignorearch: this host's rpm is x86_64, the chroot runs aarch64 under qemu.
	rpm --root "$root" --dbpath /var/lib/rpm -i --nodeps --ignorearch \
		"$repo/el9/$arch"/luajit-2.*.rpm >"$work/rpm-$arch.log" 2>&1 ||
		{ cat "$work/rpm-$arch.log"; fail "$arch: rpm --root -i"; }
	echo /usr/lib64 >"$root/etc/ld.so.conf.d/zz-rpm-lib64.conf"
	out=$(in_chroot "$root" /bin/sh -ec '
		ldconfig
		ldconfig -p | grep -q "libluajit-5.1.so.2 .*/usr/lib64/libluajit-5.1.so.2"
		/usr/bin/luajit -v
		/usr/bin/luajit -e "print(\"reclaim\", require(\"reclaim\").version, jit.arch)"') ||
		{ echo "$out"; fail "$arch: the installed payload does not run"; }
	printf '%s\n' "$out" | sed 's/^/    /'
	printf '%s\n' "$out" | grep -qx "luajit-reclaim $RECLAIM_VERSION" || fail "$arch: luajit -v is not ours"
	printf '%s\n' "$out" | grep -q "^reclaim	$RECLAIM_VERSION	" || fail "$arch: require(\"reclaim\") failed"
	ok "$arch: rpm --root payload install into a Debian chroot: luajit -v is ours, libluajit in /usr/lib64"
	# The swap tools find their private directory in lib64; the probe (which
	# loads libluajit-5.1.so.2 like an nginx lua module) runs on its library.
	out=$(in_chroot "$root" /bin/sh -ec '
		luajit-reclaim-swap --help | head -n 1
		luajit-reclaim-run /usr/lib64/luajit-reclaim/luajit-reclaim-probe /usr/lib64/luajit-reclaim/fingerprint.lua') ||
		{ echo "$out"; fail "$arch: the swap tools do not run"; }
	printf '%s\n' "$out" | grep -q '^usage: luajit-reclaim-swap ' || { echo "$out"; fail "$arch: luajit-reclaim-swap --help"; }
	printf '%s\n' "$out" | grep -qx "library=/usr/lib64/libluajit-5.1.so.2.1.$UPSTREAM_RELVER" ||
		{ echo "$out"; fail "$arch: luajit-reclaim-run did not preload /usr/lib64/luajit-reclaim/libluajit-5.1.so.2"; }
	printf '%s\n' "$out" | grep -qx "reclaim=$RECLAIM_VERSION" || { echo "$out"; fail "$arch: the preloaded library is not ours"; }
	ok "$arch: luajit-reclaim-swap --help works; luajit-reclaim-run preloads /usr/lib64/luajit-reclaim's library"
	rm -rf "$root"
}
payload x86_64 "$("$PKG_DIR/chroots.sh" build bookworm)"
payload aarch64 "$("$PKG_DIR/chroots.sh" test trixie arm64)" luajit
