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
#   self-test the option and link checks fail on a copy of the documents
#             with a wrong default, a missing option and a broken link, so a
#             check that can no longer fail is caught.
#
# Usage: tests/docs/check-docs.sh WORKDIR   (needs no build; groff, man-db)
# Invariant: reads the tree, writes only under WORKDIR.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../lib/shell.sh
. "$top/lib/shell.sh"

[ $# = 1 ] || die "usage: $0 WORKDIR"
work=$1
need groff:groff-base man:man-db awk
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

say "check-docs: $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
