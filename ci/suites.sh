#!/bin/sh
# ci/suites.sh: runs the matrix suites for one target and prints the result stream that
# ci/matrix.sh turns into the table. The same script runs natively (x86_64), under qemu-user
# (its luajit command carries the qemu prefix) and as /t/ci/suites.sh inside the guests' busybox,
# so it is POSIX sh and uses only busybox applets.
#
# Usage:
#   suites.sh target --target T --page-size N --getconf CMD [--highmap BITS --highmap-cmd CMD]
#       rows "pagesize" (getconf answer == N) and, with --highmap, "highmap" (ci/probe/highmap.c)
#   suites.sh build --target T --build B --luajit CMD --suites "S..." --static 0|1 --lua-path P
#       one row per suite: lua-on lua-hotloop lua-off (tests/lua), reclaim (tests/reclaim),
#       addr47 (ci/checks/below47.lua), counters (ci/checks/counters.lua, last: it reads the
#       records every earlier Lua process of this build left); "diff" prints the outputs of
#       ci/difftest/*.lua per JIT mode, which ci/matrix.sh compares (it makes the diff row).
# Environment: LUAJIT_TEST_SMALL=1 on emulated targets (passed through to the tests).
#
# Stream (stdout; lines with the prefix are data, everything else is log):
#   @@LJRM@@ row TARGET BUILD SUITE PASSED FAILED SECS
#   @@LJRM@@ out TARGET BUILD/MODE/NAME TEXT       one line of a difftest output
#   @@LJRM@@ sha TARGET BUILD/MODE/NAME SHA256     digest of that output as written here
#   @@LJRM@@ difftime TARGET BUILD SECS            time the difftest runs took
# Invariants: every requested suite yields exactly one row; a suite without its closing
# "N passed, N failed" line, or one that exits non-zero with 0 failures, counts as failed;
# tests run with the repository root (CI_ROOT) as working directory and relative paths, so
# outputs do not depend on where the tree is.
set -eu
CI_ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The POSIX part of the shell library only (die, now, elapsed, sha256): ci/lib.sh is bash.
# shellcheck source=../lib/shell.sh
. "$CI_ROOT/lib/shell.sh"

PREFIX=@@LJRM@@
mode_flags() {
  case $1 in
    on) echo "" ;;
    off) echo "-joff" ;;
    hotloop) echo "-Ohotloop=1 -Ohotexit=1" ;;
    *) die "unknown JIT mode $1" ;;
  esac
}

# emit_row SUITE LOGFILE RC START: parses the closing line of LOGFILE into a row.
emit_row() {
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$2" | tail -n 1 || true)
  if [ -z "$summary" ]; then
    passed=0 failed=1
    echo "suites: $target/$build/$1: no 'N passed, N failed' line (exit status $3)"
  else
    passed=${summary%% passed*}
    failed=${summary#*passed, }
    failed=${failed%% failed}
    if [ "$3" -ne 0 ] && [ "$failed" -eq 0 ]; then
      failed=1
      echo "suites: $target/$build/$1: exit status $3 with 0 failures reported"
    fi
  fi
  echo "$PREFIX row $target $build $1 $passed $failed $(elapsed "$4")"
}

# run_logged SUITE CMD...: runs CMD (log to stdout and a file), then emits its row.
run_logged() {
  suite=$1; shift
  log="$work/$suite.log"
  start=$(now)
  rc=0
  "$@" >"$log" 2>&1 || rc=$?
  cat "$log"
  emit_row "$suite" "$log" "$rc" "$start"
}

lua_files() {
  for f in "$1"/*.lua; do
    case $f in */runner.lua) ;; *) [ -f "$f" ] && echo "${f#"$CI_ROOT"/}" ;; esac
  done
}

run_runner() {  # run_runner MODE DIR
  files=$(lua_files "$CI_ROOT/$2")
  [ -n "$files" ] || { echo "suites: no test files in $2"; return 1; }
  # shellcheck disable=SC2086  # $luajit is a command line, $files a list of relative paths
  $luajit tests/lua/runner.lua --luajit "$luajit" --mode "$1" --timeout 300 $files
}

run_diff() {
  diff_start=$(now)
  for f in "$CI_ROOT"/ci/difftest/*.lua; do
    name=$(basename "$f" .lua)
    for mode in off on hotloop; do
      key="$build/$mode/$name"
      out="$work/diff-$mode-$name.out"
      rc=0
      # shellcheck disable=SC2046,SC2086
      $luajit $(mode_flags "$mode") "ci/difftest/$name.lua" >"$out" 2>&1 </dev/null || rc=$?
      echo "exit=$rc" >>"$out"
      sed "s|^|$PREFIX out $target $key |" "$out"
      echo "$PREFIX sha $target $key $(sha256 "$out")"
    done
  done
  echo "$PREFIX difftime $target $build $(elapsed "$diff_start")"
}

cmd_target() {
  page_size="" getconf_cmd="" highmap="" highmap_cmd=""
  while [ $# -gt 0 ]; do
    case $1 in
      --target) target=$2 ;;
      --page-size) page_size=$2 ;;
      --getconf) getconf_cmd=$2 ;;
      --highmap) highmap=$2 ;;
      --highmap-cmd) highmap_cmd=$2 ;;
      *) die "target: unknown option $1" ;;
    esac
    shift 2
  done
  build=-
  start=$(now)
  # shellcheck disable=SC2086
  seen=$($getconf_cmd PAGESIZE 2>&1 || true)
  echo "suites: $target: getconf PAGESIZE = $seen (expected $page_size)"
  if [ "$seen" = "$page_size" ]; then ok=1 bad=0; else ok=0 bad=1; fi
  echo "$PREFIX row $target - pagesize $ok $bad $(elapsed "$start")"
  if [ -n "$highmap" ]; then
    start=$(now)
    rc=0
    # shellcheck disable=SC2086
    $highmap_cmd "$highmap" || rc=$?
    if [ "$rc" -eq 0 ]; then ok=1 bad=0; else ok=0 bad=1; fi
    echo "$PREFIX row $target - highmap $ok $bad $(elapsed "$start")"
  fi
}

cmd_build() {
  suites="" static=0 lua_path=""
  while [ $# -gt 0 ]; do
    case $1 in
      --target) target=$2 ;;
      --build) build=$2 ;;
      --luajit) luajit=$2 ;;
      --suites) suites=$2 ;;
      --static) static=$2 ;;
      --lua-path) lua_path=$2 ;;
      *) die "build: unknown option $1" ;;
    esac
    shift 2
  done
  cd "$CI_ROOT"
  # Every Lua process of this build records its failure counters for the counters suite.
  LJRM_COUNTERS_LOG="$work/counter-records.txt"
  : >"$LJRM_COUNTERS_LOG"
  LUA_INIT="@$CI_ROOT/ci/checks/record-counters.lua"
  LUA_PATH="$lua_path"
  LUAJIT_TEST_STATIC=$static
  export LJRM_COUNTERS_LOG LUA_INIT LUA_PATH LUAJIT_TEST_STATIC
  echo "suites: $target/$build: luajit = $luajit, static = $static, suites = $suites"
  for suite in $suites; do
    # shellcheck disable=SC2086  # $luajit is a command line
    case $suite in
      lua-on|lua-off|lua-hotloop) run_logged "$suite" run_runner "${suite#lua-}" tests/lua ;;
      reclaim) run_logged reclaim run_runner on tests/reclaim ;;
      addr47) run_logged addr47 $luajit ci/checks/below47.lua ;;
      counters) run_logged counters $luajit ci/checks/counters.lua "$LJRM_COUNTERS_LOG" ;;
      diff) run_diff ;;
      *) die "unknown suite $suite" ;;
    esac
  done
}

[ $# -ge 1 ] || die "usage: suites.sh target|build OPTIONS..."
work=$(mktemp -d "${TMPDIR:-/tmp}/ljrm-suites.XXXXXX")
trap 'rm -rf "$work"' EXIT
target="?" build="?" luajit="?"
sub=$1; shift
case $sub in
  target) cmd_target "$@" ;;
  build) cmd_build "$@" ;;
  *) die "unknown command $sub" ;;
esac
