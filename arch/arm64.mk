# Target facts: arm64 (aarch64), cross-built with Debian's toolchain.
arm64_TRIPLET    := aarch64-linux-gnu
arm64_CROSS      := aarch64-linux-gnu-
arm64_DEB_ARCH   := arm64
arm64_JIT_ARCH   := arm64
arm64_SYSROOT    := /usr/aarch64-linux-gnu
# qemu user mode with the cross sysroot (host kernel: 4K pages only).
arm64_RUN        := qemu-aarch64-static -L $(arm64_SYSROOT)
# Kernel page sizes arm64 servers run with; ci/ boots one kernel of each.
arm64_PAGESIZES  := 4096 16384 65536
