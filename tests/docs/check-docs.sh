#!/bin/bash
# check-docs.sh: the documents say what the code does (make check-docs).
#
# Checks, each a numbered "ok"/"FAIL" line:
#   options   every option of the table in runtime/reclaim/rcl_config.c
#             (RCL_KNOBS: name, kind, default text) is a row of README.md's
#             options table (the table whose header has "option" and
#             "default") and a .TP entry of luajit-reclaim(7)'s OPTIONS
#             section, each with the table's default; neither document has
#             an option the table lacks. Defaults compare by meaning:
#             booleans as on/off in any spelling, sizes in bytes with k/m/g
#             suffixes, words in any case. The table's row count must equal
#             RCL_CONFIG_NKEYS of rcl.h, so a parse that finds nothing fails.
#   notes     no document refers to notes outside the repository
#             ('shared/notes', 'baseline notes') in *.md or docs/.
#   links     every relative link and image of *.md and docs/*.md reaches an
#             existing file or directory; a #fragment into a Markdown file
#             names one of its headings (GitHub's anchor rule). Links inside
#             code (fenced blocks, `spans`) are not links.
#   man       every page of runtime/doc/ renders with groff -man -ww and
#             man -l --warnings without a message.
#   report    rendering the committed benchmark results (docs/bench-results/,
#             tests/bench/report/render.lua) reproduces docs/benchmarks.md and
#             the generated blocks of README.md and TUNING.md byte for byte,
#             so no hand edit of a figure survives.
#   figures   README.md and TUNING.md hold no figure (digits followed by
#             MiB, KiB, GiB, ms, us or %, or a ratio like 1.10x) outside the
#             generated blocks, fenced code and `code spans`, except the
#             constants, defaults and examples of tests/docs/figures-allowed.txt.
#   self-test the option, link, report and figure checks fail on a copy of
#             the documents with a wrong default, a missing option, a broken
#             link, a hand-edited generated figure and a figure outside a
#             block, so a check that can no longer fail is caught.
#
# Usage: tests/docs/check-docs.sh WORKDIR LUAJIT
#   LUAJIT runs the renderer (make check-docs passes the stock build's); the
#   rest needs no build (groff, man-db).
# Invariant: reads the tree, writes only under WORKDIR.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../lib/shell.sh
. "$top/lib/shell.sh"

[ $# = 2 ] || die "usage: $0 WORKDIR LUAJIT"
work=$1 luajit=$2
need groff:groff-base man:man-db awk diff
[ -x "$luajit" ] || die "$luajit: not an executable (make stock-x86_64 builds it)"
mkdir -p "$work"

config_c=$top/runtime/reclaim/rcl_config.c
rcl_h=$top/runtime/reclaim/rcl.h
man7=$top/runtime/doc/luajit-reclaim.7
n=0 failed=0

result() {   # result OK|FAIL TEXT [DETAIL]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		printf 'ok %d - %s\n' "$n" "$2"
	else
		failed=$((failed + 1))
		printf 'FAIL %d - %s\n' "$n" "$2"
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/    /'
	fi
}

# config_table: "name kind default" per option of rcl_config.c's RCL_KNOBS.
config_table() {
	sed -n 's/^[[:space:]]*X("\([a-z_]*\)", RCL_FIELD_\([A-Z]*\), [a-z_]*, [0-9]*, "\([^"]*\)".*/\1 \2 \3/p' "$config_c"
}

# norm KIND VALUE: the value's meaning, comparable across spellings.
norm() {
	local v
	v=$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')
	case $1 in
	BOOL)
		case $v in
		on | true | yes | 1) echo on ;;
		off | false | no | 0) echo off ;;
		*) echo "not-a-boolean:$v" ;;
		esac
		;;
	MS | BYTES | LIMIT)
		case $v in
		auto) echo auto ;;
		*[!0-9kmg]* | '' | [kmg]*) echo "not-a-number:$v" ;;
		*k) echo $((${v%k} * 1024)) ;;
		*m) echo $((${v%m} * 1048576)) ;;
		*g) echo $((${v%g} * 1073741824)) ;;
		*) echo $((10#$v)) ;;
		esac
		;;
	*) echo "$v" ;;
	esac
}

# readme_defaults FILE: "name default" per row of the options table.
readme_defaults() {
	awk -F'|' '
		function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
		function value(s,   m) {
			if (match(s, /`[^`]*`/)) return substr(s, RSTART + 1, RLENGTH - 2)
			s = trim(s); sub(/[ \t].*/, "", s); return s
		}
		/^```/ { fence = !fence; next }
		fence { next }
		!intable && /^\|/ {
			col = 0; opt = 0
			for (i = 2; i < NF; i++) {
				h = tolower(trim($i))
				if (h == "default") col = i
				if (h == "option") opt = i
			}
			if (col && opt == 2) { intable = 1; getline; next }
		}
		intable && !/^\|/ { exit }
		intable { name = trim($2); gsub(/`/, "", name); print name, value($col) }
	' "$1"
}

# man_defaults FILE: "name default" per .TP entry of the OPTIONS section.
man_defaults() {
	awk '
		function text(line,   a, k, i, out) {
			if (line ~ /^\.(BR|BI|IR|IB|RB|RI)[ \t]/) {
				sub(/^\.[A-Z]+[ \t]+/, "", line)
				k = split(line, a, /[ \t]+/); out = ""
				for (i = 1; i <= k; i++) out = out a[i]
				line = out
			} else if (line ~ /^\.(B|I)[ \t]/) {
				sub(/^\.[A-Z]+[ \t]+/, "", line)
			} else if (line ~ /^\./) {
				line = ""
			}
			gsub(/\\f[BIRP]/, "", line); gsub(/\\-/, "-", line)
			gsub(/\\&/, "", line); gsub(/\\\(../, "", line); gsub(/"/, "", line)
			return line
		}
		function flush(   d) {
			if (name == "") return
			d = "(none)"
			if (match(body, /Default: *[^ ]+/)) {
				d = substr(body, RSTART, RLENGTH); sub(/^Default: */, "", d); sub(/[.,;]+$/, "", d)
			}
			print name, d
			name = ""
		}
		/^\.SH/ { flush(); inopt = ($0 ~ /^\.SH "?OPTIONS"?$/); next }
		!inopt { next }
		/^\.TP/ { flush(); tag = 1; next }
		tag { t = text($0); sub(/=.*/, "", t); sub(/[ \t].*/, "", t); name = t; body = ""; tag = 0; next }
		/^\.(PP|P|LP|SS)/ { flush(); next }
		name != "" { body = body " " text($0) }
		END { flush() }
	' "$1"
}

# check_options README MAN: prints one line per problem; status 1 if any.
check_options() {
	local readme=$1 man=$2 name kind def want got problems='' table
	table=$(config_table)
	readme_defaults "$readme" >"$work/readme.defaults"
	man_defaults "$man" >"$work/man.defaults"
	while read -r name kind def; do
		want=$(norm "$kind" "$def")
		for doc in readme man; do
			got=$(awk -v k="$name" '$1 == k { print $2; exit }' "$work/$doc.defaults")
			if [ -z "$got" ]; then
				problems="$problems$doc: option '$name' is missing"$'\n'
			elif [ "$(norm "$kind" "$got")" != "$want" ]; then
				problems="$problems$doc: option '$name' has default '$got', the table says '$def'"$'\n'
			fi
		done
	done <<<"$table"
	for doc in readme man; do
		while read -r name _; do
			printf '%s\n' "$table" | awk -v k="$name" '$1 == k { f = 1 } END { exit !f }' ||
				problems="$problems$doc: option '$name' is not in rcl_config.c's table"$'\n'
		done <"$work/$doc.defaults"
	done
	printf '%s' "$problems"
	[ -z "$problems" ]
}

# slugs FILE: the anchors of a Markdown file's headings, one a line.
slugs() {
	awk '
		/^```/ { fence = !fence; next }
		fence || !/^#+ / { next }
		{ s = $0; sub(/^#+ +/, "", s); s = tolower(s); gsub(/[^a-z0-9 _-]/, "", s); gsub(/ /, "-", s); print s }
	' "$1"
}

# check_links FILE...: prints one line per broken link; status 1 if any.
check_links() {
	local f dir target path frag problems=''
	for f in "$@"; do
		dir=$(dirname "$f")
		while IFS= read -r target; do
			case $target in
			http://* | https://* | mailto:*) continue ;;
			esac
			path=${target%%#*} frag=
			case $target in *'#'*) frag=${target#*#} ;; esac
			if [ -z "$path" ]; then
				path=$f
			else
				path=$dir/$path
			fi
			if [ ! -e "$path" ]; then
				problems="$problems${f#"$top"/}: link '$target': no such file"$'\n'
			elif [ -n "$frag" ] && [ "${path%.md}" != "$path" ] && ! slugs "$path" | grep -qxF -- "$frag"; then
				problems="$problems${f#"$top"/}: link '$target': no heading with that anchor"$'\n'
			fi
		done < <(awk '
			/^```/ { fence = !fence; next }
			fence { next }
			{
				line = $0; gsub(/`[^`]*`/, "", line)
				while (match(line, /\]\([^) ]+\)/)) {
					print substr(line, RSTART + 2, RLENGTH - 3)
					line = substr(line, RSTART + RLENGTH)
				}
			}
		' "$f")
	done
	printf '%s' "$problems"
	[ -z "$problems" ]
}

# render_into RESULTS TOP OUT: renders the benchmark results RESULTS with TOP's README.md
# and TUNING.md into OUT; prints the renderer's messages; status 1 if it failed.
render_into() {
	rm -rf "$3"
	mkdir -p "$3/docs"
	"$luajit" "$top/tests/bench/report/render.lua" "$1" "$2" "$3" 2>&1
}

# check_render TOP OUT: each rendered file equals TOP's; prints the differences.
check_render() {
	local f out problems=''
	out=$(render_into "$top/docs/bench-results" "$1" "$2") || { printf 'render.lua failed: %s\n' "$out"; return 1; }
	for f in docs/benchmarks.md README.md TUNING.md; do
		[ "$f" = docs/benchmarks.md ] && [ "$1" != "$top" ] && continue
		if ! out=$(diff -u "$1/$f" "$2/$f"); then
			problems="$problems$f differs from its rendering (make bench-report-render rewrites it):"$'\n'
			problems="$problems$(printf '%s\n' "$out" | head -n 40)"$'\n'
		fi
	done
	printf '%s' "$problems"
	[ -z "$problems" ]
}

# stray_figures ALLOWLIST FILE...: one line per figure outside generated blocks, fenced
# code and code spans that no phrase of ALLOWLIST (for that file's name) covers.
stray_figures() {
	local allow=$1
	shift
	awk -v allowlist="$allow" '
		function strip_allowed(line,   i, k) {
			for (i = 1; i <= nallow; i++) {
				if (allow_file[i] != name) continue
				while ((k = index(line, allow_text[i])) > 0)
					line = substr(line, 1, k - 1) " " substr(line, k + length(allow_text[i]))
			}
			return line
		}
		BEGIN {
			while ((getline l < allowlist) > 0) {
				if (l ~ /^#/ || (t = index(l, "\t")) == 0) continue
				nallow++; allow_file[nallow] = substr(l, 1, t - 1); allow_text[nallow] = substr(l, t + 1)
			}
		}
		FNR == 1 { fence = 0; block = 0; name = FILENAME; sub(/.*\//, "", name) }
		/^[ \t]*```/ { fence = !fence; next }
		fence { next }
		/^<!-- bench-report:begin / { block = 1; next }
		/^<!-- bench-report:end -->$/ { block = 0; next }
		block { next }
		{
			rest = $0; gsub(/`[^`]*`/, " ", rest); rest = strip_allowed(rest)
			while (match(rest, /[0-9][0-9.,]* ?(MiB|KiB|GiB|ms|us|%)|[0-9]+\.[0-9]+ ?x([^a-zA-Z0-9]|$)/)) {
				print name ":" FNR ": figure \"" substr(rest, RSTART, RLENGTH) "\" outside a generated block: " $0
				rest = substr(rest, RSTART + RLENGTH)
			}
		}
	' "$@"
}

cd "$top"
docs=("$top"/*.md "$top"/docs/*.md)

# options
nkeys=$(sed -n 's/^#define RCL_CONFIG_NKEYS \([0-9]*\).*/\1/p' "$rcl_h")
rows=$(config_table | wc -l)
if [ -n "$nkeys" ] && [ "$rows" = "$nkeys" ]; then
	result OK "rcl_config.c's table has $rows options, as RCL_CONFIG_NKEYS says"
else
	result FAIL "rcl_config.c's table: parsed $rows options, RCL_CONFIG_NKEYS is '${nkeys:-not found}'"
fi
if out=$(check_options README.md "$man7"); then
	result OK "every option of the table is in README.md's options table and luajit-reclaim(7) with its default ($(config_table | awk '{ printf "%s%s", s, $1; s = ", " }'))"
else
	result FAIL "options in README.md and luajit-reclaim(7) against rcl_config.c" "$out"
fi

# notes
if out=$(grep -rn 'shared/notes\|baseline notes' ./*.md docs/); then
	result FAIL "references to notes outside the repository" "$out"
else
	result OK "no reference to notes outside the repository in *.md and docs/"
fi

# links
if out=$(check_links "${docs[@]}"); then
	result OK "every relative link of ${#docs[@]} Markdown files reaches a file (and heading)"
else
	result FAIL "broken links" "$out"
fi

# man
for page in runtime/doc/*.[1-8]; do
	msgs=$( { groff -man -ww -z "$page" && MANWIDTH=80 man --warnings -l "$page" >/dev/null; } 2>&1) && rc=0 || rc=$?
	if [ "$rc" = 0 ] && [ -z "$msgs" ]; then
		result OK "$page renders with groff -man -ww and man -l without a warning"
	else
		result FAIL "$page: groff/man report (status $rc)" "$msgs"
	fi
done

# report
if out=$(check_render "$top" "$work/render"); then
	result OK "rendering docs/bench-results/ reproduces docs/benchmarks.md and the blocks of README.md and TUNING.md"
else
	result FAIL "the benchmark report's documents do not match their rendering (edit tests/bench/report/, then make bench-report-render)" "$out"
fi

# figures
allowed=$top/tests/docs/figures-allowed.txt
if out=$(stray_figures "$allowed" README.md TUNING.md) && [ -z "$out" ]; then
	result OK "no measured figure in README.md and TUNING.md outside the generated blocks ($(grep -c $'\t' "$allowed") allowed constants and examples)"
else
	result FAIL "figures outside the generated blocks (generate them, link to docs/benchmarks.md, or allow a constant in tests/docs/figures-allowed.txt)" "$out"
fi

# self-test: the checks above can fail
bad=$work/bad
rm -rf "$bad"
mkdir -p "$bad/docs"
first=$(config_table | awk 'NR == 1 { print $1 }')
last=$(config_table | awk 'END { print $1 }')
awk -v a="$first" -v b="$last" '
	index($0, "| `" a "` |") == 1 { sub(/`[^`]*` \| [^|]*\| [^|]*\| `[^`]*`/, "`" a "` | x | x | `12345`") }
	index($0, "| `" b "` |") == 1 { next }
	{ print }
' README.md >"$bad/README.md"
printf '[gone](docs/missing.md) [anchor](README.md#no-such-heading)\n' >>"$bad/README.md"
if out=$(check_options "$bad/README.md" "$man7"); then
	result FAIL "self-test: a README with a wrong default for '$first' and no '$last' row passed the options check"
elif printf '%s' "$out" | grep -q "'$first' has default '12345'" && printf '%s' "$out" | grep -q "'$last' is missing"; then
	result OK "self-test: the options check finds a wrong default ('$first') and a missing option ('$last')"
else
	result FAIL "self-test: the options check failed for another reason" "$out"
fi
touch "$bad/docs/.keep"
if out=$(check_links "$bad/README.md"); then
	result FAIL "self-test: a broken link and a broken anchor passed the link check"
elif printf '%s' "$out" | grep -q "docs/missing.md" && printf '%s' "$out" | grep -q "no-such-heading"; then
	result OK "self-test: the link check finds a missing file and a missing anchor"
else
	result FAIL "self-test: the link check failed for another reason" "$out"
fi

mkdir -p "$bad/top"
cp README.md TUNING.md "$bad/top/"
awk '
	/^<!-- bench-report:begin cost -->$/ { inblock = 1 }
	inblock && !done && match($0, /[0-9]+\.[0-9]/) { $0 = substr($0, 1, RSTART - 1) "9" substr($0, RSTART + 1); done = 1 }
	{ print }
' README.md >"$bad/top/README.md"
if cmp -s README.md "$bad/top/README.md"; then
	result FAIL "self-test: found no figure to edit in README.md's cost block"
elif out=$(check_render "$bad/top" "$work/render-bad"); then
	result FAIL "self-test: a hand-edited figure in README.md's cost block passed the report check"
elif printf '%s' "$out" | grep -q '^README.md differs'; then
	result OK "self-test: the report check finds a hand-edited figure in README.md's cost block"
else
	result FAIL "self-test: the report check failed for another reason" "$out"
fi
mkdir -p "$bad/results"
cp docs/bench-results/*.tsv "$bad/results/"
awk -F'\t' -v OFS='\t' '$1 == "bench_pairs" { $2 = 1 } $1 == "parts_asked" { $2 = "mem" } { print }' \
	docs/bench-results/meta.tsv >"$bad/results/meta.tsv"
if ! out=$(render_into "$bad/results" "$top" "$work/render-partial"); then
	result FAIL "self-test: rendering a partial run failed" "$out"
elif grep -q '^\*\*This is a partial run\.\*\*' "$work/render-partial/docs/benchmarks.md" &&
	grep -q '^- part `cpu` not run$' "$work/render-partial/docs/benchmarks.md" &&
	grep -q '^- CPU: 1 pair per benchmark instead of' "$work/render-partial/docs/benchmarks.md" &&
	grep -q 'a partial run' "$work/render-partial/README.md"; then
	result OK "self-test: a run with 1 pair and only the mem part renders as partial in docs/benchmarks.md and README.md"
else
	result FAIL "self-test: a run with 1 pair and only the mem part does not say it is partial" \
		"$(sed -n '/^| run/,/^## /p' "$work/render-partial/docs/benchmarks.md")"
fi
printf 'It now takes 12.5 MiB less and runs 1.07x faster.\n' >>"$bad/top/TUNING.md"
out=$(stray_figures "$allowed" "$bad/top/TUNING.md")
if printf '%s' "$out" | grep -q '12.5 MiB' && printf '%s' "$out" | grep -q '1.07x'; then
	result OK "self-test: the figure check finds a size and a ratio outside the blocks"
else
	result FAIL "self-test: the figure check missed a size or a ratio outside the blocks" "$out"
fi

say "check-docs: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
