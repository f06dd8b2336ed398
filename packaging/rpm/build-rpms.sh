#!/bin/bash
# build-rpms.sh: build luajit + luajit-devel RPMs (x86_64 native, aarch64
# cross) and the source RPM from packaging/rpm/luajit.spec, then rpmlint them.
#
# Environment (from packaging.mk): TARBALL, RECLAIM_VERSION, UPSTREAM_RELVER,
# PKG_OUT, PKG_DATE; optional PKG_RPM_DIST (default .el9).
# Output: PKG_OUT/rpm/{x86_64,aarch64,SRPMS}/*.rpm and PKG_OUT/rpm/logs/.
#
# Invariants:
# - The spec's default reclaim_version/relver and its newest %changelog entry
#   must match runtime/version.mk and runtime/upstream.mk, or the build stops
#   naming what to update (the spec stays usable on its own).
# - This Debian host's rpm lacks Fedora's redhat-rpm-config: %{?dist} comes from
#   PKG_RPM_DIST and the compiler flags from dpkg-buildflags (the hardening
#   Debian uses), standing in for %{build_cflags}/%{build_ldflags}; the rpmdb
#   knows nothing of Debian's libc, so rpmbuild runs with --nodeps. There is
#   no -debuginfo machinery here (Fedora's buildroot adds it and strips fully;
#   brp-strip only strips debug info), so no /usr/lib/.build-id links either;
#   Debian's brp-elfperms (not run by Fedora) would make the library 0644;
#   doc directories are unversioned, as in Fedora (_docdir_fmt).
# - rpmlint errors fail the build (rpmlint.toml: Fedora/EL9 policy, MIT valid).
# - The output directory is replaced only when everything succeeded.
set -eu
. "$(dirname "$0")/../lib.sh"

: "${TARBALL:?}" "${RECLAIM_VERSION:?}" "${UPSTREAM_RELVER:?}" "${PKG_OUT:?}"
dist=${PKG_RPM_DIST:-.el9}
need rpmbuild:rpm rpmlint rpm aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu aarch64-linux-gnu-strip:binutils-aarch64-linux-gnu qemu-aarch64-static:qemu-user-static dpkg-buildflags:dpkg-dev
spec=$PKG_DIR/rpm/luajit.spec
out=$(mkdir -p "$PKG_OUT" && cd "$PKG_OUT" && pwd)/rpm
top=$out.work
rm -rf "$top" "$out.new"
mkdir -p "$top/SOURCES" "$out.new/logs"

# The spec must agree with the version files.
evr="2.1.$UPSTREAM_RELVER-1.reclaim$RECLAIM_VERSION"
grep -q "^%{!?reclaim_version: %global reclaim_version $RECLAIM_VERSION}" "$spec" ||
	die "luajit.spec: set the default reclaim_version to $RECLAIM_VERSION"
grep -q "^%{!?relver: %global relver $UPSTREAM_RELVER}" "$spec" ||
	die "luajit.spec: set the default relver to $UPSTREAM_RELVER"
first=$(sed -n '/^%changelog/,$p' "$spec" | sed -n '2p')
case "$first" in *" - $evr") ;; *) die "luajit.spec: the newest %changelog entry must be for $evr" ;; esac

# Source1: our runtime/ directory and lib/shell.sh (prepare-tree.sh copies it
# beside the swap tools), reproducible (sorted, fixed owner and time).
epoch=$(date -d "${PKG_DATE:-now}" +%s)
tar -C "$PKG_TOP" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	--transform "s|^|luajit-reclaim-$RECLAIM_VERSION/|" -cf - runtime lib/shell.sh |
	gzip -9n >"$top/SOURCES/luajit-reclaim-$RECLAIM_VERSION.tar.gz"
cp "$TARBALL" "$top/SOURCES/"

common=(--define "_topdir $top" --define "dist $dist" --define "reclaim_version $RECLAIM_VERSION"
	--define "relver $UPSTREAM_RELVER" --define "_buildhost luajit-reclaim-build"
	--define "_build_id_links none" --define "__brp_elfperms %{nil}" --define "_docdir_fmt %%{NAME}"
	--define "source_date_epoch_from_changelog 1" --define "use_source_date_epoch_as_buildtime 1"
	--define "clamp_mtime_to_source_date_epoch 1" --define "_smp_mflags -j${JOBS:-2}")

build_srpm() {
	rpmbuild "${common[@]}" --nodeps -bs "$spec" >"$out.new/logs/srpm.log" 2>&1 ||
		{ tail -n 30 "$out.new/logs/srpm.log"; return 1; }
}

# build_arch RPM_ARCH DEB_ARCH [CROSS]: binary RPMs for one architecture.
build_arch() {
	local arch=$1 deb_arch=$2 cross=${3:-} extra=()
	if [ -n "$cross" ]; then
		extra=(--target "$arch-linux" --define "luajit_cross $cross"
			--define "luajit_exec qemu-aarch64-static -L /usr/aarch64-linux-gnu"
			--define "__strip ${cross}strip" --define "__objdump ${cross}objdump")
	fi
	rpmbuild "${common[@]}" "${extra[@]}" --nodeps \
		--define "build_cflags $(DEB_HOST_ARCH=$deb_arch dpkg-buildflags --get CFLAGS)" \
		--define "build_ldflags $(DEB_HOST_ARCH=$deb_arch dpkg-buildflags --get LDFLAGS)" \
		-bb "$spec" >"$out.new/logs/build-$arch.log" 2>&1 ||
		{ tail -n 40 "$out.new/logs/build-$arch.log"; return 1; }
}

lint() {
	rpmlint -c "$PKG_DIR/rpm/rpmlint.toml" "$top"/RPMS/*/*.rpm "$top"/SRPMS/*.rpm \
		>"$out.new/logs/rpmlint.log" 2>&1 || { cat "$out.new/logs/rpmlint.log"; return 1; }
	sed 's/^/  rpmlint: /' "$out.new/logs/rpmlint.log"
}

step "rpm: source package" build_srpm
step "rpm: x86_64" build_arch x86_64 amd64
step "rpm: aarch64 (cross)" build_arch aarch64 arm64 aarch64-linux-gnu-
step "rpm: rpmlint" lint

mkdir -p "$out.new/x86_64" "$out.new/aarch64" "$out.new/SRPMS"
cp "$top"/RPMS/x86_64/*.rpm "$out.new/x86_64/"
cp "$top"/RPMS/aarch64/*.rpm "$out.new/aarch64/"
cp "$top"/SRPMS/*.rpm "$out.new/SRPMS/"
rm -rf "$out" "$top"
mv "$out.new" "$out"
find "$out" -name '*.rpm' | sed "s|^$PKG_TOP/||" | sort >&2
