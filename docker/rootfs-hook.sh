#!/bin/bash
# rootfs-hook.sh: mmdebstrap customize hook of docker/rootfs.sh; runs on the
# host with the new root as $1, after Debian's minbase set is installed.
#
#   rootfs-hook.sh ROOT
#
# Environment (from rootfs.sh): IMG_REPO (our apt repository, host path),
# IMG_PKGS (the package names to install from it), IMG_VERSIONS ("name=version"
# per package, read from the .debs), IMG_UID, IMG_PLAIN_OUT (where to write the
# plain slim rootfs tar; empty = do not write it), SOURCE_DATE_EPOCH.
#
# Steps, in this order:
#  1. slimify: what debian:*-slim removes (docs except copyright, man, info,
#     locales except locale.alias, lintian overrides), apt lists and caches,
#     logs, *-old files, ldconfig's aux-cache.
#  2. The plain slim rootfs (the same Debian set, nothing of ours) is written
#     to IMG_PLAIN_OUT: the size reference of check-images.
#  3. Our packages from a copy of our repository under /tmp, through apt with
#     the repository's signature checked (Debian's lists are gone, so nothing
#     but our packages can be installed; a missing dependency fails). The
#     keyring package brings the baked .sources, key and pin.
#  4. The user and group `luajit` (UID = GID = IMG_UID, home /home/luajit),
#     written directly (no date-dependent fields), checked by pwck/grpck.
#  5. slimify again; the repository copy and its temporary apt source are gone;
#     /etc/hostname and /etc/resolv.conf no longer those of the build machine.
# Invariant: the result depends only on the Debian packages, our .debs and
# SOURCE_DATE_EPOCH (mmdebstrap clamps every mtime to it).
set -eu

root=${1:?usage: rootfs-hook.sh ROOT}
: "${IMG_REPO:?}" "${IMG_PKGS:?}" "${IMG_VERSIONS:?}" "${IMG_UID:?}" "${SOURCE_DATE_EPOCH:?}"
fail() { echo "rootfs-hook: $*" >&2; exit 1; }
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

slimify() {
	local d
	if [ -d "$root/usr/share/doc" ]; then
		find "$root/usr/share/doc" -xdev ! -type d ! -name copyright -delete
		find "$root/usr/share/doc" -xdev -mindepth 1 -type d -empty -delete
	fi
	for d in man info groff lintian linda; do
		rm -rf "${root:?}/usr/share/$d"
	done
	if [ -d "$root/usr/share/locale" ]; then
		find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
	fi
	# The lists go; lists/partial and its owner (apt's) stay.
	find "$root/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +
	find "$root/var/lib/apt/lists/partial" "$root/var/cache/apt/archives/partial" -mindepth 1 -delete
	rm -f "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
	rm -f "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log "$root"/var/log/bootstrap.log
	rm -f "$root"/var/log/apt/*.log "$root"/var/log/apt/eipp.log.xz
	rm -f "$root"/var/lib/dpkg/*-old "$root"/var/cache/debconf/*-old "$root/var/cache/ldconfig/aux-cache"
}

# 1, 2
slimify
if [ -n "${IMG_PLAIN_OUT:-}" ]; then
	tar -C "$root" --one-file-system --numeric-owner --sort=name -cf "$IMG_PLAIN_OUT" . ||
		fail "cannot write the plain rootfs to $IMG_PLAIN_OUT"
fi

# 3
build=/tmp/luajit-reclaim-build
mkdir -p "$root$build/sources.list.d"
cp -a "$IMG_REPO" "$root$build/apt"
[ -s "$root$build/apt/luajit-reclaim-archive-keyring.gpg" ] || fail "no luajit-reclaim-archive-keyring.gpg in $IMG_REPO"
distro=$(. "$root/etc/os-release" && echo "$VERSION_CODENAME")
cat >"$root$build/sources.list.d/build.sources" <<EOF
Types: deb
URIs: file:$build/apt
Suites: $distro
Components: main
Signed-By: $build/apt/luajit-reclaim-archive-keyring.gpg
EOF
apt_opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$build/sources.list.d -o APT::Sandbox::User=root"
# shellcheck disable=SC2086 # apt_opts and IMG_PKGS are word lists
in_root apt-get -q $apt_opts update >"$root$build/apt.log" 2>&1 || { cat "$root$build/apt.log"; fail "apt-get update of our repository"; }
if grep -q '^[WE]:' "$root$build/apt.log"; then cat "$root$build/apt.log"; fail "apt-get update warned about our repository"; fi
# shellcheck disable=SC2086
in_root apt-get -q -y $apt_opts install --no-install-recommends $IMG_PKGS >"$root$build/apt.log" 2>&1 ||
	{ cat "$root$build/apt.log"; fail "apt-get install $IMG_PKGS"; }
for pv in $IMG_VERSIONS; do
	got=$(in_root dpkg-query -W -f='${Version}' "${pv%%=*}") || fail "${pv%%=*} is not installed"
	[ "$got" = "${pv#*=}" ] || fail "${pv%%=*} is $got, want ${pv#*=}"
done
[ -f "$root/etc/apt/sources.list.d/luajit-reclaim.sources" ] || fail "the keyring package did not install our .sources"
[ -f "$root/etc/apt/preferences.d/luajit-reclaim.pref" ] || fail "the keyring package did not install our pin"
rm -rf "${root:?}$build"

# 4
grep -q '^luajit:' "$root/etc/passwd" "$root/etc/group" && fail "a user or group luajit exists already"
awk -F: -v u="$IMG_UID" '$3 == u { exit 1 }' "$root/etc/passwd" "$root/etc/group" || fail "UID/GID $IMG_UID is taken"
echo "luajit:x:$IMG_UID:" >>"$root/etc/group"
echo "luajit:!::" >>"$root/etc/gshadow"
echo "luajit:x:$IMG_UID:$IMG_UID:luajit-reclaim runtime user:/home/luajit:/bin/bash" >>"$root/etc/passwd"
echo "luajit:!:$((SOURCE_DATE_EPOCH / 86400)):0:99999:7:::" >>"$root/etc/shadow"
install -d -m 0755 -o "$IMG_UID" -g "$IMG_UID" "$root/home/luajit"
in_root pwck -r -q >/dev/null || fail "pwck: /etc/passwd or /etc/shadow inconsistent"
in_root grpck -r >/dev/null || fail "grpck: /etc/group or /etc/gshadow inconsistent"

# 5
slimify
# mmdebstrap copied these two from the build machine; a container runtime
# provides its own at run time.
printf 'localhost\n' >"$root/etc/hostname"
: >"$root/etc/resolv.conf"
chmod 0644 "$root/etc/hostname" "$root/etc/resolv.conf"
