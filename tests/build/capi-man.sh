#!/bin/bash
# capi-man.sh: luajit-reclaim(3) against the header and the build (run by
# check-build.sh; about 2 s).
#
# Checks: the page renders with no warning (groff -man -ww, man --warnings
# -l) and has its sections; every function of luajit-reclaim.h.in appears
# with the header's signature, every field of luajit_reclaim_stats and of
# luajit_reclaim_stats_ext with its type, every option key of the library,
# and our version; the program of
# EXAMPLES, compiled with the page's own compile line against
# build/x86_64 through its pkg-config file, runs and prints the figures, and
# against the unpatched library (build/stock-x86_64) it starts and refuses
# with its run-time check. Prints what failed and exits 1 on any failure.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib/shell.sh
. "$top/lib/shell.sh"
need groff man:man-db pkg-config:pkgconf cc:gcc
page=$top/runtime/doc/luajit-reclaim.3
header=$top/runtime/src/luajit-reclaim.h.in
ours=$top/build/x86_64
stock=$top/build/stock-x86_64
version=$(sed -n 's/^RECLAIM_VERSION[[:space:]]*:=[[:space:]]*//p' "$top/runtime/version.mk")
[ -x "$ours/bin/luajit" ] && [ -d "$stock/lib" ] ||
	die "needs build/x86_64 and build/stock-x86_64 (make x86_64 stock-x86_64)"

tmp=$(mktemp -d)
at_exit 'rm -rf "$tmp"'
failed=0
fail() { echo "capi-man: $*"; failed=1; }

# -- Rendering -----------------------------------------------------------------
out=$(groff -man -ww -z "$page" 2>&1) || fail "groff -man -ww failed"
[ -z "$out" ] || fail "groff -man -ww: $out"
MANWIDTH=80 LC_ALL=C.UTF-8 MANPAGER=cat man --warnings -l "$page" >"$tmp/page.txt" 2>"$tmp/man.err" ||
	fail "man -l failed: $(cat "$tmp/man.err")"
[ ! -s "$tmp/man.err" ] || fail "man --warnings -l: $(cat "$tmp/man.err")"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS STATISTICS "RETURN VALUE" ATTRIBUTES ENVIRONMENT \
	EXAMPLES "SEE ALSO"; do
	grep -qx "$s" "$tmp/page.txt" || fail "section $s missing"
done

# -- The page matches the header and the library -----------------------------
# Rendered text and header with all blanks collapsed, so wrapped signatures compare.
flat_page=$(tr -s ' \n\t' '   ' <"$tmp/page.txt")
# The header without comments (-fpreprocessed: no macro or include is expanded).
cc -fpreprocessed -dD -E -P -x c "$header" | tr -s ' \n\t' '   ' | tr ';' '\n' |
	grep -o 'LUA\(LIB\)\?_API .*' | sed 's/^LUA\(LIB\)\?_API //; s/ *$//' >"$tmp/signatures"
[ "$(wc -l <"$tmp/signatures")" -ge 8 ] || fail "found only $(wc -l <"$tmp/signatures") functions in the header"
while IFS= read -r sig; do
	case $flat_page in *"$sig;"*) ;; *) fail "signature missing from the page: $sig" ;; esac
done <"$tmp/signatures"
# Every field of struct NAME in the header ("type name" lines) is a .B line of STATISTICS;
# the header must declare at least MIN of them.
check_struct_fields() { # NAME MIN
	sed -n "/^typedef struct $1 {/,/^}/p" "$header" |
		sed -n 's/^[[:space:]]*\([a-z0-9_]*\)[[:space:]]\+\([a-z_]*\);.*/\1 \2/p' >"$tmp/fields-$1"
	[ "$(wc -l <"$tmp/fields-$1")" -ge "$2" ] ||
		fail "found only $(wc -l <"$tmp/fields-$1") $1 fields in the header"
	while IFS= read -r field; do
		grep -qx "\\.B $field" "$page" || fail "$1 field missing from STATISTICS: $field"
	done <"$tmp/fields-$1"
}
check_struct_fields luajit_reclaim_stats 19
check_struct_fields luajit_reclaim_stats_ext 6
"$ours/bin/luajit" -e 'for k in pairs(require("reclaim").config()) do print(k) end' >"$tmp/keys"
[ "$(wc -l <"$tmp/keys")" -ge 8 ] || fail "luaJIT_reclaim_optnames gave $(wc -l <"$tmp/keys") keys"
while IFS= read -r key; do
	grep -q "^\\.B[IR] $key=" "$page" || fail "option missing from OPTIONS: $key"
done <"$tmp/keys"
grep -qF "#define LUAJIT_RECLAIM_VERSION \\(dq$version\\(dq" "$page" ||
	fail "LUAJIT_RECLAIM_VERSION in the page is not $version"
grep -q "^\\.TH LUAJIT-RECLAIM 3 \"[0-9-]*\" \"luajit-reclaim $version\"" "$page" ||
	fail ".TH does not name luajit-reclaim $version"

# -- The example, built the way the page says --------------------------------
# example N: the Nth .EX block of the page, as plain text.
example() {
	awk -v n="$1" '/^\.EX$/ { k++; next } /^\.EE$/ { if (k == n) exit } k == n { print }' "$page" |
		sed "s/\\\\(aq/'/g; s/\\\\-/-/g; s/\\\\e/\\\\/g"
}
example 1 >"$tmp/host.c"
compile=$(example 2)
case $compile in "cc -o host host.c \$(pkg-config --cflags --libs luajit)") ;;
*) fail "unexpected compile line: $compile" ;; esac
# luajit.pc of the build, relocated from /usr to build/x86_64.
mkdir "$tmp/pc"
sed "s|^prefix=.*|prefix=$ours|" "$ours/lib/pkgconfig/luajit.pc" >"$tmp/pc/luajit.pc"
export PKG_CONFIG_PATH=$tmp/pc PKG_CONFIG_LIBDIR=$tmp/pc
if (cd "$tmp" && bash -c "$compile") >"$tmp/cc.log" 2>&1; then
	# shellcheck disable=SC2046 # pkg-config's words are separate flags
	cc -std=c99 -Wall -Wextra -Werror -fsyntax-only $(pkg-config --cflags luajit) "$tmp/host.c" \
		>>"$tmp/cc.log" 2>&1 || fail "the example is not -std=c99 -Wall -Wextra clean: $(cat "$tmp/cc.log")"
	if out=$(LD_LIBRARY_PATH=$ours/lib "$tmp/host" 2>&1); then
		echo "$out" | grep -Eqx 'decay 200 ms: mapped [1-9][0-9]*, resident [0-9]+, in use [1-9][0-9]*, purged [1-9][0-9]* bytes, 0 pages meshed' ||
			fail "the example's output against build/x86_64: $out"
	else
		fail "the example failed against build/x86_64: $out"
	fi
	status=0
	out=$(LD_LIBRARY_PATH=$stock/lib "$tmp/host" 2>&1) || status=$?
	if [ "$status" != 1 ] || [ "$out" != "host: libluajit-5.1.so.2 is not luajit-reclaim's" ]; then
		fail "against the unpatched library the example should refuse (status 1), got $status: $out"
	fi
else
	fail "the page's compile line failed: $(cat "$tmp/cc.log")"
fi

[ "$failed" = 0 ] || exit 1
echo "capi-man: ok ($(wc -l <"$tmp/signatures") functions, $(wc -l <"$tmp/fields-luajit_reclaim_stats") + $(wc -l <"$tmp/fields-luajit_reclaim_stats_ext") fields, $(wc -l <"$tmp/keys") options, example built and run)"
