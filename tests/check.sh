#!/bin/bash
# check.sh: run the parts of `make check` one by one, time each, and print a
# summary table. Every part runs even if an earlier one failed, so one CI run
# shows every failure; the exit status is non-zero if any part failed.
#
# Usage: tests/check.sh PART...   (each PART is a make target)
set -eu

[ $# -gt 0 ] || { echo "usage: tests/check.sh PART..." >&2; exit 2; }
names=()
results=()
times=()
failed=0
t0=$(date +%s)
for part in "$@"; do
	echo "==> $part"
	start=$(date +%s)
	if make --no-print-directory "$part"; then
		results+=(passed)
	else
		results+=(FAILED)
		failed=$((failed + 1))
	fi
	names+=("$part")
	times+=($(( $(date +%s) - start )))
	echo "==> $part: ${results[-1]} in ${times[-1]}s"
done

echo
echo "make check summary"
printf '%-22s %-8s %8s\n' part result seconds
for i in "${!names[@]}"; do
	printf '%-22s %-8s %8s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
done
printf '%-22s %-8s %8s\n' total "" $(( $(date +%s) - t0 ))
echo "check: $(( ${#names[@]} - failed )) passed, $failed failed"
[ "$failed" = 0 ]
