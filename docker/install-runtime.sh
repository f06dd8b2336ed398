#!/bin/sh
# install-runtime.sh: install luajit-reclaim into a Debian slim root, from a
# copy of our apt repository, and add the user luajit. Runs inside the root
# being built, as root: in the mmdebstrap run of docker/rootfs.sh (through
# rootfs-hook.sh) and in docker/Dockerfile's RUN step, so both ways of
# building the image install the same way.
#
#   install-runtime.sh REPO            REPO: the repository (build/apt-repo)
#
# Environment: LUAJIT_UID (default 10001; the GID is the same),
# SOURCE_DATE_EPOCH (day of the password entry's last change; default now).
#
# Invariants:
# - What is installed is read from the repository: every package of this
#   distro and architecture except -dev and -dbgsym ones (the CLI, library,
#   Lua modules and the archive keyring package, which brings the baked
#   .sources, key and pin). Nothing else can be installed: apt sees only our
#   repository, with its signature checked against the repository's key, and
#   a dependency missing from the root fails the install.
# - apt lists are removed afterwards (slim images ship none).
# - The user and group are written directly (no date-dependent field other
#   than the shadow day from SOURCE_DATE_EPOCH) and checked with pwck/grpck;
#   an existing luajit user or a taken UID/GID is an error.
set -eu
repo=${1:?usage: install-runtime.sh REPO}
uid=${LUAJIT_UID:-10001}
fail() { echo "install-runtime: $*" >&2; exit 1; }

distro=$(. /etc/os-release && echo "$VERSION_CODENAME")
arch=$(dpkg --print-architecture)
list=$repo/dists/$distro/main/binary-$arch/Packages
[ -f "$list" ] || fail "no $distro/$arch in the repository $repo ($list)"
[ -s "$repo/luajit-reclaim-archive-keyring.gpg" ] || fail "no luajit-reclaim-archive-keyring.gpg in $repo"
pkgs=$(awk '$1 == "Package:" { print $2 }' "$list" | grep -v -e '-dev$' -e '-dbgsym$' | sort -u | tr '\n' ' ')
[ -n "$pkgs" ] || fail "no packages in $list"

work=$(mktemp -d)
cat >"$work/luajit-reclaim-build.sources" <<EOF
Types: deb
URIs: file:$repo
Suites: $distro
Components: main
Signed-By: $repo/luajit-reclaim-archive-keyring.gpg
EOF
apt_opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$work -o APT::Sandbox::User=root"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # word lists
apt-get -q $apt_opts update >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get update of $repo"; }
if grep -q '^[WE]:' "$work/apt.log"; then cat "$work/apt.log"; fail "apt-get update warned about $repo"; fi
# shellcheck disable=SC2086
apt-get -q -y $apt_opts install --no-install-recommends $pkgs >"$work/apt.log" 2>&1 ||
	{ cat "$work/apt.log"; fail "apt-get install $pkgs"; }
[ -f /etc/apt/sources.list.d/luajit-reclaim.sources ] || fail "the keyring package did not install our .sources"
[ -f /etc/apt/preferences.d/luajit-reclaim.pref ] || fail "the keyring package did not install our pin"
rm -rf "$work"
find /var/lib/apt/lists -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +
echo "install-runtime: installed $pkgs"

if grep -q '^luajit:' /etc/passwd /etc/group; then fail "a user or group luajit exists already"; fi
awk -F: -v u="$uid" '$3 == u { exit 1 }' /etc/passwd /etc/group || fail "UID/GID $uid is taken"
echo "luajit:x:$uid:" >>/etc/group
echo "luajit:!::" >>/etc/gshadow
echo "luajit:x:$uid:$uid:luajit-reclaim runtime user:/home/luajit:/bin/bash" >>/etc/passwd
echo "luajit:!:$(( ${SOURCE_DATE_EPOCH:-$(date +%s)} / 86400 )):0:99999:7:::" >>/etc/shadow
install -d -m 0755 -o "$uid" -g "$uid" /home/luajit
pwck -r -q >/dev/null || fail "pwck: /etc/passwd or /etc/shadow inconsistent"
grpck -r >/dev/null || fail "grpck: /etc/group or /etc/gshadow inconsistent"
echo "install-runtime: user luajit, UID/GID $uid"
