#!/bin/bash
# ci/matrix.sh: the test matrix driver. Runs every selected target's suites (natively, under
# qemu-user, or in qemu-system guests booting our own kernels), two jobs at a time, and prints
# ONE table: target x build x suite -> passed, failed, seconds.
#
# Usage: ci/matrix.sh [--build DIR] [--targets LIST] [--builds LIST] [--variant BUILD=NAME]...
#                     [--expect-fail LIST] [--reference VARIANT_DIR] [--out DIR] [--jobs N]
#   --build DIR        build root holding the variants (default: build/ of the repository)
#   --variant B=NAME   run variant NAME (a directory of the build root) as build B on every
#                      selected target, instead of what ci/targets.mk says
#   --targets LIST     comma/space list (default: every target of ci/targets.mk)
#   --builds LIST      only these build names (release, assert, dynamic; default: all)
#   --expect-fail LIST these targets must FAIL (at least one row not ok) and all others must
#                      pass: the deliberate-bug check (e.g. a 4096-byte purge granule must
#                      fail on 16k/64k). "16k" is short for "arm64-16k".
#                      e.g. --targets 4k,16k,64k --builds release
#                           --variant release=arm64-static-granule4k --expect-fail 16k,64k
#   --reference DIR    variant whose -joff difftest output is the reference (default
#                      <build root>/x86_64, falling back to build/x86_64 of the repository)
#   --out DIR          artefacts (default build/matrix, or build/matrix-<name of --build>)
# Exit status: 0 iff every expected row is present and ok (or, with --expect-fail, iff exactly
# the listed targets failed); 1 otherwise; 2 for a usage error.
#
# Invariants:
# - Every (target, build, suite) row that ci/targets.mk promises is in the table; one that no
#   run reported is MISSING and fails the matrix, as does a timeout, a panic or a crash
#   ("run" row: the target's job ended with its end marker, status 0, within its timeout).
# - Target facts come only from ci/targets.mk; each job's exact commands are written to
#   <out>/<target>/run.sh before it runs (rerun one target by hand with `bash run.sh`).
# - The difftest rows compare every output byte for byte (sha256) with the reference run of
#   x86_64 -joff; a mismatch prints a diff after the table.
set -eu
CI_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$CI_ROOT/ci/lib.sh"

usage() { sed -n '/^# Usage:/,/^# the listed/s/^# \{0,1\}//p' "$0" >&2; exit "${1:-2}"; }

build_root="$CI_ROOT/build" targets_arg="" builds_arg="" expect_arg="" reference="" out="" jobs=2
declare -A VARIANT_OVERRIDE
while [ $# -gt 0 ]; do
  [ "$1" = --help ] && usage 0
  [ $# -ge 2 ] || usage
  case $1 in
    --build) build_root=$(cd "$2" && pwd) || die "no build root $2" ;;
    --targets) targets_arg=$2 ;;
    --builds) builds_arg=$2 ;;
    --expect-fail) expect_arg=$2 ;;
    --variant)
      [[ $2 == ?*=?* ]] || usage
      VARIANT_OVERRIDE[${2%%=*}]=${2#*=} ;;
    --reference) reference=$2 ;;
    --out) out=$2 ;;
    --jobs) jobs=$2 ;;
    *) usage ;;
  esac
  shift 2
done
if [ -z "$out" ]; then
  if [ "$build_root" = "$CI_ROOT/build" ]; then out="$CI_ROOT/build/matrix"
  else out="$CI_ROOT/build/matrix-$(basename "$build_root")"; fi
fi
if [ -z "$reference" ]; then
  reference="$build_root/x86_64"
  [ -x "$reference/bin/luajit" ] || reference="$CI_ROOT/build/x86_64"
fi

# ---- target facts (ci/targets.mk) ------------------------------------------------------------
declare -A FACT
# facts_of TARGET: ci/targets.mk's shell assignments (a clean make: no parent make's flags).
facts_of() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -s --no-print-directory -f "$CI_ROOT/ci/targets.mk" ci-target-facts T="$1"
}
load_facts() {  # load_facts TARGET
  local line key value
  while IFS= read -r line; do
    key=${line%%=*} value=${line#*=}
    value=${value#\'} value=${value%\'}
    FACT[$1:$key]=$value
  done < <(facts_of "$1") ||
    die "ci/targets.mk has no facts for target '$1'"
  [ -n "${FACT[$1:kind]:-}" ] || die "ci/targets.mk has no facts for target '$1'"
}
all_targets=$(facts_of x86_64 | sed -n "s/^all_targets='\(.*\)'$/\1/p")
[ -n "$all_targets" ] || die "cannot read MATRIX_TARGETS from ci/targets.mk"

resolve_target() {  # accepts a full name or the short form "16k" for arm64-16k
  local t
  for t in $all_targets; do [ "$t" = "$1" ] && { echo "$t"; return; }; done
  for t in $all_targets; do [ "$t" = "arm64-$1" ] && { echo "$t"; return; }; done
  die "unknown target '$1' (known: $all_targets)"
}
targets=""
for t in ${targets_arg//,/ }; do targets="$targets $(resolve_target "$t")"; done
[ -n "$targets" ] || targets=$all_targets
expect_fail=""
for t in ${expect_arg//,/ }; do expect_fail="$expect_fail $(resolve_target "$t")"; done
for t in $targets; do load_facts "$t"; done

# builds_of TARGET: the target's build names, filtered by --builds.
builds_of() {
  local b
  for b in ${FACT[$1:builds]}; do
    if [ -z "$builds_arg" ] || [[ ",${builds_arg// /,}," == *",$b,"* ]]; then echo "$b"; fi
  done
}
suites_of() { echo "${FACT[$1:suites_$2]}"; }
variant_dir() { echo "$build_root/${VARIANT_OVERRIDE[$2]:-${FACT[$1:build_$2]}}"; }

# ---- preparation: output dir, kernels, probes, initramfs, reference ------------------------
runs="$out/runs"
rm -rf "$runs"
mkdir -p "$runs"
matrix_start=$(now)
say "targets:$targets; build root $build_root; output $out"

need_system=0 need_user=0
for t in $targets; do
  case ${FACT[$t:kind]} in
    system) need_system=1 ;;
    user) need_user=1 ;;
  esac
done
[ $need_user = 0 ] || need qemu-aarch64-static:qemu-user-static

declare -A KERNEL
if [ $need_system = 1 ]; then
  need qemu-system-aarch64:qemu-system-arm
  for t in $targets; do
    [ "${FACT[$t:kind]}" = system ] || continue
    # shellcheck disable=SC2086  # "<page> <va_bits>"
    KERNEL[$t]=$("$CI_ROOT/ci/kernel/build-kernel.sh" ${FACT[$t:kernel]})
  done
fi

probes="$out/probe"
if [ $need_system = 1 ] || [ $need_user = 1 ]; then
  ci_build_arm64_probes "$probes"
fi

initramfs="$out/initramfs.cpio"
if [ $need_system = 1 ]; then
  declare -A INITRAMFS_BUILD
  for t in $targets; do
    [ "${FACT[$t:kind]}" = system ] || continue
    for b in $(builds_of "$t"); do
      v=$(variant_dir "$t" "$b")
      if [ -n "${INITRAMFS_BUILD[$b]:-}" ] && [ "${INITRAMFS_BUILD[$b]}" != "$v" ]; then
        die "guest build '$b' maps to two variants (${INITRAMFS_BUILD[$b]}, $v)"
      fi
      INITRAMFS_BUILD[$b]=$v
    done
  done
  specs=()
  for b in "${!INITRAMFS_BUILD[@]}"; do
    if [ -x "${INITRAMFS_BUILD[$b]}/bin/luajit" ]; then specs+=("$b=${INITRAMFS_BUILD[$b]}")
    else warn "${INITRAMFS_BUILD[$b]}/bin/luajit missing: guest build '$b' rows will be MISSING"; fi
  done
  [ ${#specs[@]} -gt 0 ] || die "no guest build exists under $build_root"
  # jit.* modules for the guests: from the first guest variant that installed them (any build
  # of the targets, also one left out by --builds: they are the same arm64 modules).
  jit_share=""
  for t in $targets; do
    [ "${FACT[$t:kind]}" = system ] || continue
    for b in ${FACT[$t:builds]}; do
      v=$(variant_dir "$t" "$b")/share/luajit-2.1
      [ -z "$jit_share" ] && [ -f "$v/jit/vmdef.lua" ] && jit_share=$v
    done
  done
  [ -n "$jit_share" ] || die "no guest variant under $build_root installed share/luajit-2.1 (jit.* modules)"
  "$CI_ROOT/ci/initramfs/mk-initramfs.sh" "$initramfs" "$probes" "$jit_share" "${specs[@]}"
fi

# The reference outputs: x86_64 -joff (plus on/hotloop, unused) from the reference variant.
mkdir -p "$runs/reference"
if [ -x "$reference/bin/luajit" ]; then
  "$CI_ROOT/ci/suites.sh" build --target reference --build ref --luajit "$reference/bin/luajit" \
    --suites diff --static 0 --lua-path "$reference/share/luajit-2.1/?.lua;;" \
    >"$runs/reference/console.log" 2>&1 || die "reference difftest run failed"
else
  warn "no reference luajit at $reference: every diff row will fail"
fi

# ---- per-target jobs ------------------------------------------------------------------------
q() { printf '%q' "$1"; }

# lua_path_of TARGET BUILD: jit.* modules from the build's variant first, then from the
# target's other builds, also those left out by --builds (static variants may install no
# share/; the modules are the same).
lua_path_of() {
  local p other
  p="$(variant_dir "$1" "$2")/share/luajit-2.1/?.lua"
  for other in ${FACT[$1:builds]}; do
    [ "$other" = "$2" ] || p="$p;$(variant_dir "$1" "$other")/share/luajit-2.1/?.lua"
  done
  echo "$p;;"
}

write_host_job() {  # native and qemu-user targets: suites.sh with the run prefix
  local t=$1 run b v lj static
  run=${FACT[$t:run]}
  [ "$run" = - ] && run=""
  {
    echo "# ${t}: generated by ci/matrix.sh"
    echo "set -u"
    echo "cd $(q "$CI_ROOT")"
    [ "${FACT[$t:kind]}" = user ] && echo "export LUAJIT_TEST_SMALL=1"
    if [ "${FACT[$t:kind]}" = user ]; then
      echo "ci/suites.sh target --target $t --page-size ${FACT[$t:page_size]} --getconf $(q "$run $probes/getconf")"
    else
      echo "ci/suites.sh target --target $t --page-size ${FACT[$t:page_size]} --getconf getconf"
    fi
    for b in $(builds_of "$t"); do
      v=$(variant_dir "$t" "$b")
      if [ ! -x "$v/bin/luajit" ]; then
        echo "echo 'matrix: $v/bin/luajit missing: no $b rows'"
        continue
      fi
      lj="${run:+$run }$v/bin/luajit"
      static=0
      ci_is_static_elf "$v/bin/luajit" && static=1
      echo "ci/suites.sh build --target $t --build $b --luajit $(q "$lj") --suites $(q "$(suites_of "$t" "$b")") --static $static --lua-path $(q "$(lua_path_of "$t" "$b")")"
    done
    echo "echo '@@LJRM@@ end $t'"
  } >"$runs/$t/run.sh"
}

write_guest_job() {
  local t=$1 b builds=""
  local params=("LJRM_TARGET=$t" "LJRM_PAGE_SIZE=${FACT[$t:page_size]}" "LJRM_HIGHMAP=${FACT[$t:highmap_above]}")
  for b in $(builds_of "$t"); do
    builds="$builds,$b"
    params+=("LJRM_SUITES_$b=$(suites_of "$t" "$b" | tr ' ' ',')")
  done
  params+=("LJRM_BUILDS=${builds#,}")
  {
    echo "# ${t}: generated by ci/matrix.sh"
    printf '%q ' "$CI_ROOT/ci/run-guest.sh" "${KERNEL[$t]}" "$initramfs" "${FACT[$t:cpu]}" \
      "${FACT[$t:timeout]}" - "${params[@]}"
    echo
  } >"$runs/$t/run.sh"
}

run_job() {  # run_job TARGET: runs run.sh under a timeout, records status and wall time
  local t=$1 start rc=0 limit
  start=$(now)
  limit=$(( ${FACT[$t:timeout]} + 30 ))
  timeout --kill-after=10 "$limit" bash "$runs/$t/run.sh" >"$runs/$t/console.log" 2>&1 || rc=$?
  echo "$rc $(elapsed "$start")" >"$runs/$t/status"
  say "$t: run.sh ended with exit status $rc after $(elapsed "$start") s"
}

# Longest jobs first: qemu-user, then guests, then native. Each target is a job of the shell
# library's pool, which kills the qemu processes of every job on ^C or TERM; a target that fails
# is a row of the table, not a reason to stop the others (--keep-going).
ordered=""
for kind in user system native; do
  for t in $targets; do [ "${FACT[$t:kind]}" = "$kind" ] && ordered="$ordered $t"; done
done
pool_start --keep-going "$runs/jobs" "$jobs"
for t in $ordered; do
  mkdir -p "$runs/$t"
  if [ "${FACT[$t:kind]}" = system ]; then write_guest_job "$t"; else write_host_job "$t"; fi
  pool_add "$t" run_job "$t"
done
pool_wait || warn "a matrix job did not end normally (above): its target's run row fails"

# ---- collect rows and compare difftest outputs ----------------------------------------------
# extract_stream DIR: console.log -> stream.txt (prefixed lines only, CR stripped).
extract_stream() {
  tr -d '\r' <"$1/console.log" | sed -n 's/^.*@@LJRM@@ //p' >"$1/stream.txt"
}
# split_outputs DIR: difftest output lines -> DIR/out/<build>/<mode>/<name>, digests -> DIR/sha.txt
split_outputs() {
  awk -v dir="$1/out" '
    $1 == "out" { key = $3; text = substr($0, length($1 " " $2 " " $3 " ") + 1)
                  if (!(key in seen)) { seen[key] = 1; n = split(key, p, "/")
                                        system("mkdir -p \"" dir "/" p[1] "/" p[2] "\"") }
                  print text > (dir "/" key) }
    $1 == "sha" { print $3, $4 > (dir "/../sha.txt") }
  ' "$1/stream.txt"
  touch "$1/sha.txt"
}

extract_stream "$runs/reference"
split_outputs "$runs/reference"
ref_out() { echo "$runs/reference/out/ref/off/$1"; }

rows="$out/rows.txt"
: >"$rows"
diff_report="$out/diff-report.txt"
: >"$diff_report"
for t in $targets; do
  dir="$runs/$t"
  extract_stream "$dir"
  split_outputs "$dir"
  awk -v t="$t" '$1 == "row" && $2 == t { print $2, $3, $4, $5, $6, $7 }' "$dir/stream.txt" >>"$rows"
  rc="none (the job did not end normally)" secs=0
  [ ! -f "$dir/status" ] || read -r rc secs <"$dir/status"
  if [ "$rc" = 0 ] && grep -qx "end $t" "$dir/stream.txt"; then
    echo "$t - run 1 0 $secs" >>"$rows"
  else
    why="exit status $rc"
    [ "$rc" = 124 ] || [ "$rc" = 137 ] && why="timeout"
    grep -q 'Kernel panic' "$dir/console.log" && why="kernel panic"
    grep -qx "end $t" "$dir/stream.txt" || why="$why, no end marker"
    echo "$t - run 0 1 $secs" >>"$rows"
    echo "$t: run failed ($why); console: $dir/console.log" >>"$diff_report"
  fi
  for b in $(builds_of "$t"); do
    case " $(suites_of "$t" "$b") " in *" diff "*) ;; *) continue ;; esac
    grep -q "^out $t $b/" "$dir/stream.txt" || grep -q "^sha $t $b/" "$dir/stream.txt" || continue
    pass=0 fail=0
    for f in "$CI_ROOT"/ci/difftest/*.lua; do
      name=$(basename "$f" .lua)
      for mode in off on hotloop; do
        key="$b/$mode/$name" got="$dir/out/$b/$mode/$name" ref=$(ref_out "$name")
        want_sha=$(awk -v k="ref/off/$name" '$1 == k { print $2 }' "$runs/reference/sha.txt")
        sent_sha=$(awk -v k="$key" '$1 == k { print $2 }' "$dir/sha.txt")
        if [ ! -f "$got" ] || [ -z "$sent_sha" ]; then
          fail=$((fail + 1)); echo "$t $key: no output" >>"$diff_report"; continue
        fi
        got_sha=$(sha256 "$got")
        if [ "$got_sha" != "$sent_sha" ]; then
          fail=$((fail + 1))
          echo "$t $key: transport damaged the output (sent $sent_sha, got $got_sha)" >>"$diff_report"
        elif [ -z "$want_sha" ] || [ "$got_sha" != "$want_sha" ]; then
          fail=$((fail + 1))
          {
            echo "$t $key: output differs from x86_64 -joff (sha256 $got_sha, want ${want_sha:-none})"
            [ -f "$ref" ] && diff -u "$ref" "$got" | head -n 40
          } >>"$diff_report"
        else
          pass=$((pass + 1))
        fi
      done
    done
    secs=$(awk -v b="$b" -v t="$t" '$1 == "difftime" && $2 == t && $3 == b { print $4 }' "$dir/stream.txt")
    echo "$t $b diff $pass $fail ${secs:-0}" >>"$rows"
  done
done

# ---- the table --------------------------------------------------------------------------------
expected_rows() {
  local t b s
  for t in $targets; do
    echo "$t - run"
    echo "$t - pagesize"
    [ "${FACT[$t:highmap_above]}" != - ] && echo "$t - highmap"
    for b in $(builds_of "$t"); do
      for s in $(suites_of "$t" "$b"); do echo "$t $b $s"; done
    done
  done
}

declare -A TARGET_BAD
n_ok=0 n_fail=0 n_missing=0
printf '\n%-14s %-8s %-12s %7s %7s %8s  %s\n' target build suite passed failed seconds result
printf '%s\n' "--------------------------------------------------------------------------"
while read -r t b s; do
  line=$(awk -v t="$t" -v b="$b" -v s="$s" '$1 == t && $2 == b && $3 == s' "$rows" | head -n 1)
  if [ -z "$line" ]; then
    printf '%-14s %-8s %-12s %7s %7s %8s  %s\n' "$t" "$b" "$s" - - - MISSING
    n_missing=$((n_missing + 1)); TARGET_BAD[$t]=1
    continue
  fi
  read -r _ _ _ p f secs <<<"$line"
  if [ "$f" = 0 ] && [ "$p" -gt 0 ]; then result=ok; n_ok=$((n_ok + 1))
  else result=FAIL; n_fail=$((n_fail + 1)); TARGET_BAD[$t]=1; fi
  printf '%-14s %-8s %-12s %7s %7s %8s  %s\n' "$t" "$b" "$s" "$p" "$f" "$secs" "$result"
done < <(expected_rows)
printf '%s\n' "--------------------------------------------------------------------------"
echo "matrix: $n_ok ok, $n_fail failed, $n_missing missing; wall $(elapsed "$matrix_start") s; logs in $runs"

for t in $targets; do
  [ -n "${TARGET_BAD[$t]:-}" ] || continue
  fails=$(tr -d '\r' <"$runs/$t/console.log" | grep -E '^(FAIL|matrix:|suites:.*(no .N passed|exit status)|init:)' | head -n 15 || true)
  [ -n "$fails" ] || continue
  { echo "$t: first failures in $runs/$t/console.log:"; printf '    %s\n' "$fails" | sed '2,$s/^/    /'; } >>"$diff_report"
done
if [ -s "$diff_report" ]; then
  echo
  echo "details ($diff_report):"
  head -n 200 "$diff_report"
fi

# ---- verdict ----------------------------------------------------------------------------------
status=0
if [ -n "$expect_fail" ]; then
  for t in $targets; do
    if [[ " $expect_fail " == *" $t "* ]]; then
      if [ -n "${TARGET_BAD[$t]:-}" ]; then echo "expect-fail: $t failed, as expected"
      else echo "expect-fail: $t PASSED but was expected to fail"; status=1; fi
    elif [ -n "${TARGET_BAD[$t]:-}" ]; then
      echo "expect-fail: $t failed but was expected to pass"; status=1
    fi
  done
elif [ $((n_fail + n_missing)) -gt 0 ]; then
  status=1
fi
exit "$status"
