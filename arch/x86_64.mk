# Target facts: x86_64 (amd64). Read by the top Makefile and ci/.
x86_64_TRIPLET   := x86_64-linux-gnu
x86_64_CROSS     :=
x86_64_DEB_ARCH  := amd64
x86_64_JIT_ARCH  := x64
# How to run this target's binaries on the build host (empty = natively).
x86_64_RUN       :=
# Kernel page sizes this target exists with (x86_64 has only 4K base pages).
x86_64_PAGESIZES := 4096
