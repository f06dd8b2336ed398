#!/bin/bash
# ci/run-guest.sh: boots one single-CPU arm64 guest of the matrix and captures its console.
#
# Usage: run-guest.sh KERNEL INITRD CPU TIMEOUT LOG [NAME=VALUE...]     (LOG "-" = stdout)
#   Each NAME=VALUE goes onto the kernel command line, which hands it to /init as an
#   environment variable (ci/initramfs/init reads LJRM_*); values must not contain spaces.
# Exit status: qemu's, or 124 when TIMEOUT seconds passed (the guest is killed).
# Invariants: -no-reboot + panic=-1 turn a kernel panic into a prompt qemu exit; `timeout`
# bounds a hang; the guest has no disk and no network; the console goes to LOG only (qemu's
# stdin is /dev/null, so a run never touches the terminal).
set -eu
CI_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$CI_ROOT/ci/lib.sh"

[ $# -ge 5 ] || die "usage: run-guest.sh KERNEL INITRD CPU TIMEOUT LOG [NAME=VALUE...]"
kernel=$1 initrd=$2 cpu=$3 timeout_s=$4 log=$5
shift 5
need qemu-system-aarch64:qemu-system-arm
for param in "$@"; do
  case $param in
    *' '*) die "kernel parameter '$param' contains a space" ;;
  esac
done
append="console=ttyAMA0 panic=-1 quiet $*"
[ "$log" = - ] || exec >"$log"
rc=0
timeout --kill-after=10 "$timeout_s" \
  qemu-system-aarch64 -M virt -cpu "$cpu" -smp 1 -m 1024 -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$initrd" -append "$append" </dev/null 2>&1 || rc=$?
exit "$rc"
