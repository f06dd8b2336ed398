#!/bin/sh
# check-pagesim.sh -- proves the page-size simulator works at 4K, 16K, 64K.
#
# Usage: check-pagesim.sh TOOLS_DIR   (TOOLS_DIR holds pagesim.so and
# pagesim_probe, e.g. build/tools). Runs every pagesim_probe mode through
# the pagesim wrapper at each page size, checks the probe's own assertions
# (exit status) and the counters of pagesim's exit report, then the
# strict exit status, configuration errors, report destination, verbose
# lines and the wrapper. Prints "N passed, N failed"; exits 1 on failure.
# Every check can fail; a missing tool or library is a failure, not a skip.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 TOOLS_DIR" >&2; exit 2; }
tools_dir=$(CDPATH='' cd -- "$1" && pwd -P)
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
wrapper=$here/pagesim
probe=$tools_dir/pagesim_probe
PAGESIM_SO=$tools_dir/pagesim.so
export PAGESIM_SO
unset PAGESIM_PAGESIZE PAGESIM_LOG PAGESIM_STRICT PAGESIM_VERBOSE || true

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

for f in "$PAGESIM_SO" "$probe" "$wrapper"; do
	[ -e "$f" ] || { echo "check-pagesim: missing $f" >&2; exit 1; }
done
host_page=$(getconf PAGESIZE)
[ "$host_page" = 4096 ] || { echo "check-pagesim: host page size is $host_page, these checks need 4096" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# The single report line of a log file as "P CALLS VIOLATIONS UNALIGNED SPILL".
report_fields() {
	sed -n 's/^pagesim: page_size=\([0-9]*\) calls=\([0-9]*\) violations=\([0-9]*\) unaligned=\([0-9]*\) spill=\([0-9]*\)$/\1 \2 \3 \4 \5/p' "$1"
}

show() {
	sed 's/^/    /' "$1"
}

# run_mode SIZE MODE UNALIGNED SPILL: probe assertions + exact report counters.
run_mode() {
	size=$1 mode=$2 want_u=$3 want_s=$4
	log=$work/$mode-$size.log
	rc=0
	PAGESIM_LOG=$log "$wrapper" -p "$size" -- "$probe" "$mode" "$size" >"$work/out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$mode at $size: probe checks ($(grep -c '^ok:' "$work/out") ok)"
	else
		fail "$mode at $size: probe exited $rc"
		show "$work/out"
	fi
	fields=$(report_fields "$log" 2>/dev/null || true)
	want="$size violations=$((want_u + want_s)) unaligned=$want_u spill=$want_s"
	# shellcheck disable=SC2086
	set -- $fields
	if [ $# -eq 5 ] && [ "$1 violations=$3 unaligned=$4 spill=$5" = "$want" ] &&
		{ [ "$mode" = query ] || [ "$2" -gt 0 ]; }; then
		pass "$mode at $size: report page_size=$1 calls=$2 violations=$3 unaligned=$4 spill=$5"
	else
		fail "$mode at $size: report '$fields', wanted page_size=$want"
		[ -f "$log" ] && show "$log"
	fi
}

for size in 4096 16384 65536; do
	if [ "$size" = 4096 ]; then big=0; else big=1; fi
	run_mode "$size" query 0 0
	run_mode "$size" mmap $((3 * big)) 0
	run_mode "$size" unaligned $((7 * big)) 0
	run_mode "$size" spill 0 $((2 + 3 * big))
	run_mode "$size" slack 0 0
	run_mode "$size" mremap "$big" 0
	run_mode "$size" mincore 0 0
	run_mode "$size" threads 0 0
done

# random: 4000 calls whose spill decisions the probe checks one by one
# against its own model; the report total must match the model's too.
for size in 4096 16384 65536; do
	log=$work/random-$size.log
	rc=0
	PAGESIM_LOG=$log "$wrapper" -p "$size" --verbose -- "$probe" random "$size" >"$work/out" 2>&1 || rc=$?
	want=$(sed -n 's/^expected-spills=//p' "$work/out")
	fields=$(report_fields "$log" 2>/dev/null || true)
	if [ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$want" -gt 0 ] &&
		[ "$fields" = "$size ${fields#* }" ] && [ "${fields##* }" = "$want" ]; then
		pass "random at $size: per-call spill decisions match the model, spill=$want"
	else
		fail "random at $size: status $rc, expected spill=$want, report '$fields'"
		show "$work/out"
	fi
done

# --strict: violations force status 86 and stdout is still flushed.
rc=0
out=$(PAGESIM_LOG=$work/strict.log "$wrapper" -p 65536 --strict -- "$probe" violate 65536 2>&1) || rc=$?
case $rc:$out in
86:*partial*) pass "--strict with a violation exits 86, stdout flushed" ;;
*) fail "--strict with a violation: status $rc, output '$out'" ;;
esac
rc=0
out=$(PAGESIM_LOG=$work/strict.log "$wrapper" -p 4096 --strict -- "$probe" violate 4096 2>&1) || rc=$?
case $rc:$out in
0:*partial*) pass "--strict without a violation (4K) exits 0" ;;
*) fail "--strict without a violation (4K): status $rc, output '$out'" ;;
esac
rc=0
out=$(PAGESIM_LOG=$work/strict.log "$wrapper" -p 65536 --strict -- "$probe" exitcode 3 2>&1) || rc=$?
case $rc:$out in
3:unflushed) pass "--strict without a violation keeps the command's status 3" ;;
*) fail "--strict without a violation: status $rc, output '$out'" ;;
esac
rc=0
PAGESIM_STRICT=1 PAGESIM_PAGESIZE=16384 PAGESIM_LOG=$work/strict.log LD_PRELOAD=$PAGESIM_SO \
	"$probe" violate 16384 >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 86 ]; then pass "PAGESIM_STRICT=1 (no wrapper) exits 86 at 16K"; else fail "PAGESIM_STRICT=1 at 16K: status $rc"; fi
rc=0
PAGESIM_LOG=$work/strict.log "$wrapper" -p 65536 -- "$probe" violate 65536 >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then pass "without --strict a violation keeps status 0"; else fail "non-strict violation: status $rc"; fi

# Bad configuration values: a named error and exit status 2.
for value in 8192 abc "" 65536x 4096.0; do
	rc=0
	err=$(PAGESIM_PAGESIZE=$value LD_PRELOAD=$PAGESIM_SO "$probe" query 4096 2>&1 >/dev/null) || rc=$?
	case $rc:$err in
	"2:pagesim: PAGESIM_PAGESIZE='$value' is not a supported page size"*)
		pass "PAGESIM_PAGESIZE='$value' is refused by name, status 2" ;;
	*) fail "PAGESIM_PAGESIZE='$value': status $rc, stderr '$err'" ;;
	esac
done
rc=0
err=$("$wrapper" -p 12345 -- "$probe" query 12345 2>&1 >/dev/null) || rc=$?
case $rc:$err in
*"2:pagesim: PAGESIM_PAGESIZE='12345'"*) pass "pagesim -p 12345 is refused by name, status 2" ;;
*) fail "pagesim -p 12345: status $rc, stderr '$err'" ;;
esac
for var in PAGESIM_STRICT PAGESIM_VERBOSE; do
	rc=0
	err=$(env "$var=yes" LD_PRELOAD="$PAGESIM_SO" "$probe" query 65536 2>&1 >/dev/null) || rc=$?
	case $rc:$err in
	"2:pagesim: $var='yes' is not valid"*) pass "$var=yes is refused by name, status 2" ;;
	*) fail "$var=yes: status $rc, stderr '$err'" ;;
	esac
done

# Unset PAGESIM_PAGESIZE means 65536; without PAGESIM_LOG the report goes to stderr.
rc=0
err=$(LD_PRELOAD=$PAGESIM_SO "$probe" query 65536 2>&1 >/dev/null) || rc=$?
case $rc:$err in
"0:pagesim: page_size=65536 calls=0 violations=0 unaligned=0 spill=0") pass "default page size 65536, report on stderr" ;;
*) fail "default run: status $rc, stderr '$err'" ;;
esac

# --verbose: one line per violation naming call, arguments and reason; per-call counters.
log=$work/verbose.log
rc=0
"$wrapper" -p 16384 --verbose --log "$log" -- "$probe" unaligned 16384 >/dev/null 2>&1 || rc=$?
n_lines=$(grep -c '^pagesim: unaligned: ' "$log" || true)
if [ "$rc" -eq 0 ] && [ "$n_lines" -eq 7 ] &&
	grep -q '^pagesim: unaligned: madvise(0x[0-9a-f]*, 4096, MADV_DONTNEED=4): address 0x[0-9a-f]* is not a multiple of the page size 16384 (EINVAL)$' "$log" &&
	grep -q '^pagesim:   madvise  *calls=1 unaligned=1 spill=0$' "$log"; then
	pass "--verbose prints 7 unaligned lines and per-call counters"
else
	fail "--verbose: status $rc, $n_lines unaligned lines"
	show "$log"
fi
log=$work/verbose-spill.log
"$wrapper" -p 65536 --verbose --log "$log" -- "$probe" spill 65536 >/dev/null 2>&1 || true
if grep -q '^pagesim: spill: madvise(0x[0-9a-f]*, 4096, MADV_DONTNEED=4): length rounds up to the page size 65536; 0x[0-9a-f]*\.\.0x[0-9a-f]* is zeroed although the caller did not name it$' "$log"; then
	pass "--verbose names the spilled range of a 4096-byte MADV_DONTNEED at 64K"
else
	fail "--verbose spill line missing"
	show "$log"
fi

# The wrapper: help text, missing library, command without "--".
if out=$("$wrapper" --help) && case $out in *PAGESIM_PAGESIZE*PAGESIM_STRICT*PAGESIM_VERBOSE*PAGESIM_LOG*) true ;; *) false ;; esac; then
	pass "pagesim --help documents the PAGESIM_* variables"
else
	fail "pagesim --help"
fi
rc=0
err=$(PAGESIM_SO=$work/missing.so "$wrapper" -p 4096 -- true 2>&1) || rc=$?
case $rc:$err in
2:*missing.so*"not found"*) pass "missing library is a loud error, status 2" ;;
*) fail "missing library: status $rc, '$err'" ;;
esac
rc=0
out=$(PAGESIM_LOG=$work/nodash.log "$wrapper" -p16384 "$probe" query 16384 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^pagesim: page_size=16384 ' "$work/nodash.log"; then
	pass "pagesim -p16384 COMMAND (no --) works"
else
	fail "pagesim -p16384 COMMAND: status $rc"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
