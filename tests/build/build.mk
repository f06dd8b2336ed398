# Checks of the build itself (make check-build): SONAME, exported symbols
# against the unpatched build, tarball verification, version banner, arm64
# binaries under qemu-user, luajit-reclaim(3) against the header (its example
# compiled with pkg-config and run), and that a second `make` has nothing to do.
.PHONY: check-build
check-build: all stock assert
	@tests/build/check-build.sh
