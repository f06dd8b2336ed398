#!/bin/bash
# tests/shell/check-shell.sh: make check-shell, the checks of the shell code of
# ci/, packaging/, docker/ and lib/ (part of make check).
#
#   check-shell.sh WORKDIR      (make check-shell: build/shell)
#
#  1. syntax: every script parses (`bash -n`, or `dash -n` for the POSIX sh
#     ones; the kind is the #! line or a `# shellcheck shell=` line);
#  2. shellcheck -x at severity warning on all of them: no warnings;
#  3. lib/shell.sh under dash, as ci/suites.sh sources it in the guests: the
#     POSIX part works and the bash part is never read;
#  4. tests/shell/pool.sh: the job pool.
# Invariant: every check prints "ok: ..." or "FAIL: ..."; the last line is
# "N passed, N failed"; a missing tool fails, never skips.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: check-shell.sh WORKDIR}
cd "$top"
. lib/shell.sh
need shellcheck dash
mkdir -p "$work"
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# The shell scripts, by kind.
bash_files=() sh_files=()
while IFS= read -r f; do
	case $(head -n 1 "$f") in
	'#!/bin/bash'* | '# shellcheck shell=bash'*) bash_files+=("$f") ;;
	'#!/bin/sh'* | '#!/bin/busybox sh'* | '# shellcheck shell=dash'* | '# shellcheck shell=sh'*) sh_files+=("$f") ;;
	esac
done < <(find ci packaging docker lib tests runtime -type f ! -name '*.1' ! -name '*.md' | LC_ALL=C sort)

bad=
for f in "${bash_files[@]}"; do bash -n "$f" || bad="$bad $f"; done
for f in "${sh_files[@]}"; do dash -n "$f" || bad="$bad $f"; done
if [ -z "$bad" ]; then ok "syntax: ${#bash_files[@]} bash scripts (bash -n), ${#sh_files[@]} sh scripts (dash -n)"
else fail "syntax errors in:$bad"; fi

if shellcheck -x -S warning "${bash_files[@]}" "${sh_files[@]}" >"$work/shellcheck.log" 2>&1; then
	ok "shellcheck $(shellcheck --version | sed -n 's/^version: //p'): no warnings in $((${#bash_files[@]} + ${#sh_files[@]})) scripts"
else
	sed 's/^/    /' "$work/shellcheck.log"
	fail "shellcheck -x -S warning (above)"
fi

# lib/shell.sh's POSIX part under dash.
got=$(cd "$work" && printf 'x\n' >digest.txt && dash -c '
	. "$1"
	say "a message"
	warn "careful"
	start=$(now)
	case $(elapsed "$start") in [0-9]*.[0-9]) echo "elapsed ok" ;; *) echo "elapsed bad" ;; esac
	echo "sha256 $(sha256 digest.txt)"
	command -v pool_start >/dev/null && echo "bash part read" || echo "bash part not read"
	need sh
	(need sh no-such-tool-1:pkg-one no-such-tool-2) || echo "need status $?"
	die "the end"
	echo "not reached"' check-shell "$top/lib/shell.sh" 2>&1) || got="$got
status $?"
want="check-shell: a message
check-shell: warning: careful
elapsed ok
sha256 $(printf 'x\n' | sha256sum | cut -d' ' -f1)
bash part not read
check-shell: error: missing tools: no-such-tool-1 (package pkg-one), no-such-tool-2; run \`make deps\` as root to install them
need status 1
check-shell: error: the end
status 1"
if [ "$got" = "$want" ]; then
	ok "lib/shell.sh under dash: say, warn, die, now, elapsed, sha256, need; the bash part is not read"
else
	diff <(echo "$want") <(echo "$got") | sed 's/^/    /' || true
	fail "lib/shell.sh under dash (diff want/got above)"
fi

echo "--- tests/shell/pool.sh"
if bash tests/shell/pool.sh "$work/pool" >"$work/pool.log" 2>&1; then
	sed 's/^/    /' "$work/pool.log"
	ok "the job pool: $(tail -n 1 "$work/pool.log")"
else
	sed 's/^/    /' "$work/pool.log"
	fail "the job pool: $(tail -n 1 "$work/pool.log")"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
