# shellcheck shell=bash
# lib/shell.sh: the shell library of ci/, packaging/ and docker/ (sourced, never run).
#
# Owns: messages and errors (say, warn, die), timing (now, elapsed, step,
# step_summary), tool checks (need, need_root), file digests (sha256), cleanup
# when a script ends (at_exit), apt configurations derived from this machine's
# /etc/apt (apt_archive_uri, apt_debian_sources, apt_private) and the job pool
# (pool_start, pool_add, pool_wait, pool_kill). What only one tree needs stays
# in that tree's lib.sh: ci/lib.sh, packaging/lib.sh, docker/lib.sh.
#
# Rules:
# - Sourcing only defines functions and variables (CACHE_DIR, APT_OPTS,
#   POOL_STATUS and private _NAMES). The code works under `set -eu` and never
#   relies on `set -e`: callers run it on the left of || too (see step).
# - The first part, up to the `return` guard, is POSIX sh: ci/suites.sh sources
#   this file inside the matrix's busybox guests. Shells read a sourced file
#   one command at a time, so sh stops at the guard and never parses the bash
#   part below it.
# - Messages go to stderr, prefixed with the running script's name.
# - A missing tool is a loud failure naming its Debian package, never a skip.
# - No mirror host name is written anywhere: apt sources are derived from the
#   machine's /etc/apt at run time, and the system's apt state is never written.
# - No job outlives its pool (see the invariants of the pool below).

# ---- POSIX part: messages, timing, tool checks -------------------------------

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# now: seconds since boot with centiseconds (/proc/uptime: monotonic, and there
# in the guests too). elapsed START: seconds since START (a `now`), one decimal.
now() {
	local up rest
	read -r up rest </proc/uptime
	echo "$up"
}
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# sha256 FILE...: one hex digest over the files' contents, in order.
sha256() { cat "$@" | sha256sum | cut -d' ' -f1; }

# need TOOL[:PACKAGE]...: fail naming every TOOL missing from PATH and the
# Debian package that has it (when given, and when it is not named TOOL),
# then NEED_ADVICE (default: the repository's `make deps`; installed tools
# set their own).
need() {
	local t missing=
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null 2>&1 && continue
		case $t in
		*:*) missing="$missing ${t%%:*} (package ${t#*:})," ;;
		*) missing="$missing $t," ;;
		esac
	done
	[ -z "$missing" ] || die "missing tools:${missing%,}; ${NEED_ADVICE:-run \`make deps\` as root to install them}"
}

# need_root WHY: fail unless running as root.
need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root: $*"
}

[ -n "${BASH_VERSION:-}" ] || return 0

# ---- bash part ----------------------------------------------------------------

# The per-user cache of downloads, kernels, chroots and images (the Makefile's CACHE).
# Without HOME (systemd units, env -i) it names a directory that cannot be
# created, so only a script that uses it fails, saying where.
# shellcheck disable=SC2034 # used by the scripts that source this file
CACHE_DIR=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/luajit-reclaim

# step NAME CMD...: run CMD and say how long it took (also when it failed);
# returns CMD's status. CMD runs on the left of ||, so `set -e` is off inside
# it, also in its subshells: a script that needs it runs CMD as a new process.
# Every step is also a line of step_summary's table.
_STEP_SUMMARY=
step() {
	local name=$1 start=$SECONDS rc=0 result
	shift
	say "[$name] ..."
	"$@" || rc=$?
	if [ $rc = 0 ]; then
		result=ok
		say "[$name] done in $((SECONDS - start))s"
	else
		result="FAILED (exit $rc)"
		say "[$name] FAILED (exit $rc) in $((SECONDS - start))s"
	fi
	_STEP_SUMMARY+=$(printf '\n  %-52s %5ss  %s' "$name" $((SECONDS - start)) "$result")
	return $rc
}
# step_summary: the steps of this process so far, with their times and results.
step_summary() { say "time per step:$_STEP_SUMMARY"; }

# at_exit CMD: evaluate CMD (a string, like a trap's) when this process ends:
# on exit, on an error under `set -e`, and on INT, TERM or HUP (then the
# process dies of that signal afterwards, so its parent sees it). Handlers run
# last registered first; registering the same CMD again does nothing.
# AT_EXIT_SIGNAL names the signal while the handlers run, if one ended the script.
declare -ga _AT_EXIT=()
_AT_EXIT_PID=
AT_EXIT_SIGNAL=
at_exit() {
	local c
	if [ "$_AT_EXIT_PID" != "$BASHPID" ]; then  # first use in this process
		_AT_EXIT=() _AT_EXIT_PID=$BASHPID
		trap _at_exit_run EXIT
		trap '_at_exit_signal INT' INT
		trap '_at_exit_signal TERM' TERM
		trap '_at_exit_signal HUP' HUP
	fi
	for c in "${_AT_EXIT[@]}"; do [ "$c" != "$1" ] || return 0; done
	_AT_EXIT+=("$1")
}
_at_exit_run() {  # (each handler runs once, even if a signal comes while they run)
	local i handlers=("${_AT_EXIT[@]}")
	_AT_EXIT=()
	for ((i = ${#handlers[@]} - 1; i >= 0; i--)); do
		eval "${handlers[i]}" || warn "exit handler failed: ${handlers[i]}"
	done
}
_at_exit_signal() {
	trap - EXIT "$1"
	AT_EXIT_SIGNAL=$1
	_at_exit_run
	kill -s "$1" "$BASHPID"
}

# ---- apt: private configurations from the machine's sources --------------------

# apt_archive_uri [security]: the URI of Debian's main archive (or, with
# "security", of the security archive) in the machine's apt sources (deb822
# .sources first, then the one-line sources.list). Empty for a missing
# security archive; a missing main archive is an error.
apt_archive_uri() {
	local f uri='' want=${1:-main}
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk -v want="$want" '
			BEGIN { RS = ""; FS = "\n" }
			{
				uris = ""; suites = ""; types = ""
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^#/) continue
					key = $i; sub(/:.*/, "", key)
					val = $i; sub(/^[^:]*:[ \t]*/, "", val)
					if (key == "URIs") uris = val
					if (key == "Suites") suites = val
					if (key == "Types") types = val
				}
				sec = (suites ~ /security/)
				if (types ~ /(^| )deb( |$)/ && uris != "" && sec == (want == "security")) {
					split(uris, u, " "); print u[1]; exit
				}
			}' "$f")
		[ -z "$uri" ] || break
	done
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk -v want="$want" '$1 == "deb" && (($0 ~ /security/) == (want == "security")) {
			for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || [ "$want" = security ] ||
		die "no Debian archive in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
	echo "$uri"
}

# apt_debian_sources SUITE ARCH...: deb822 sources of Debian's SUITE,
# SUITE-updates and (when the machine has a security archive) SUITE-security,
# component main, for ARCH..., from the machine's archives, checked against
# debian-archive-keyring.
apt_debian_sources() {
	local suite=$1 keyring=/usr/share/keyrings/debian-archive-keyring.gpg uri sec
	shift
	[ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
	uri=$(apt_archive_uri) || return 1
	sec=$(apt_archive_uri security) || return 1
	printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nArchitectures: %s\nSigned-By: %s\n' \
		"$uri" "$suite" "$suite" "$*" "$keyring"
	[ -z "$sec" ] ||
		printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nArchitectures: %s\nSigned-By: %s\n' \
			"$sec" "$suite" "$*" "$keyring"
}

# apt_private DIR [ARCH...]: make DIR a private apt configuration (no sources
# yet, no preferences, its own lists, cache and empty dpkg status) for ARCH...
# (the first is the native one; default: the machine's), and set the array
# APT_OPTS to use it: apt-get "${APT_OPTS[@]}" update. The caller puts the
# sources into DIR/sources.list.d/*.sources (apt_debian_sources). Lists kept
# in DIR make a second update quick.
APT_OPTS=()
apt_private() {
	local dir=$1 a
	shift
	mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/status"
	APT_OPTS=(-o Dir::Etc::SourceParts="$dir/sources.list.d" -o Dir::Etc::SourceList=/dev/null
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o Dir::State::status="$dir/status"
		-o APT::Sandbox::User=root -o Debug::NoLocking=1)
	[ $# = 0 ] || APT_OPTS+=(-o APT::Architecture="$1")
	for a in "$@"; do APT_OPTS+=(-o APT::Architectures::="$a"); done
}

# ---- the job pool ----------------------------------------------------------------
#
#   pool_start [--keep-going] LOGDIR [MAX]  a new pool running at most MAX jobs
#                                           at once (default 2: one per core)
#   pool_add NAME CMD...   start CMD (a command or a shell function) as job NAME
#                          once a slot is free; stdin /dev/null, stdout and
#                          stderr to LOGDIR/NAME.log (NAME with [^A-Za-z0-9.-] as _)
#   pool_wait              wait for every job; 0 iff every job exited 0
#   pool_kill [WHY]        kill every running job now and start no more
#   POOL_STATUS[NAME]      a job's exit status, or `killed` (by the pool), or
#                          `skipped` (not started: the pool was stopping)
# A job runs with `set -e` on, unless pool_add was called from a function on
# the left of || (such as step's command): then bash ignores `set -e` in the
# job too, and a job that needs it must be a new process (docker's self_cmd).
#
# Invariants:
# - Each job is the process tree of one background subshell that runs in a
#   process group of its own (job control is on while it is forked): a
#   terminal's ^C reaches the pool's shell, which decides, not the jobs.
# - A job is waited for by its pid once /proc shows it ended; `wait -n` is
#   never used (bash 5.2's can miss a job that ended before it was called).
#   The pid is matched with the job's start time, so a reused pid is not
#   taken for the job.
# - A job's log is printed whole, each line prefixed with [NAME], when the job
#   ends: the lines of parallel jobs never interleave.
# - Without --keep-going the first failed job makes the pool kill the others
#   and start no more; with it every job runs to its end (each job is a verdict
#   of its own, as in a test matrix).
# - Killing a job kills its tree: every descendant of it and every member of a
#   process group one of them is in (other than the pool's own group), found in
#   /proc. The tree is first stopped (SIGSTOP, until no new process shows up,
#   so none forks unseen), then sent TERM and CONT, and what is left after
#   POOL_GRACE seconds (default 10) is sent KILL; then the jobs are reaped.
#   What a job leaves running in its process group when it ends is killed the
#   same way. A process that leaves both the tree and the process groups (a
#   daemon: fork, setsid, fork) escapes; in_chroot (packaging/lib.sh) runs its
#   commands in a PID namespace, which dies with them.
# - When the pool's shell ends with jobs still running (an error, an exit,
#   INT, TERM or HUP), they are killed first (at_exit).

declare -gA POOL_STATUS=() _POOL_NAME=() _POOL_BORN=() _POOL_T0=() _POOL_LOG=()
declare -ga _POOL_ORDER=()
_POOL_LOGS='' _POOL_MAX=2 _POOL_KEEP='' _POOL_STOP='' _POOL_PID=''

pool_start() {
	local keep=
	if [ "${1:-}" = --keep-going ]; then keep=1; shift; fi
	if [ $# -lt 1 ] || [ $# -gt 2 ]; then die "usage: pool_start [--keep-going] LOGDIR [MAX]"; fi
	[ "$_POOL_PID" != "$BASHPID" ] || [ ${#_POOL_NAME[@]} = 0 ] ||
		die "pool_start: the previous pool still has running jobs"
	case ${2:-2} in '' | *[!0-9]* | 0) die "pool_start: MAX must be a positive number, not '$2'" ;; esac
	_POOL_LOGS=$1 _POOL_MAX=${2:-2} _POOL_KEEP=$keep _POOL_STOP='' _POOL_PID=$BASHPID
	POOL_STATUS=() _POOL_NAME=() _POOL_BORN=() _POOL_T0=() _POOL_LOG=() _POOL_ORDER=()
	mkdir -p "$_POOL_LOGS" || die "pool_start: cannot create $_POOL_LOGS"
	at_exit _pool_at_exit
}

pool_add() {
	local name=$1 log other pid monitor=${-//[^m]/}
	shift
	[ "$_POOL_PID" = "$BASHPID" ] || die "pool_add [$name]: no pool_start in this process"
	log=$_POOL_LOGS/${name//[^A-Za-z0-9.-]/_}.log
	for other in "${_POOL_ORDER[@]}"; do
		[ "${_POOL_LOG[$other]}" != "$log" ] || die "pool_add: job [$name] would share the log of job [$other]"
	done
	while [ -z "$_POOL_STOP" ] && [ ${#_POOL_NAME[@]} -ge "$_POOL_MAX" ]; do _pool_reap --block; done
	_POOL_ORDER+=("$name")
	_POOL_LOG[$name]=$log
	if [ -n "$_POOL_STOP" ]; then
		POOL_STATUS[$name]=skipped
		say "job [$name] not started ($_POOL_STOP)"
		return 0
	fi
	set -m
	(
		set +m
		"$@"
	) </dev/null >"$log" 2>&1 &
	pid=$!
	[ -n "$monitor" ] || set +m
	_POOL_NAME[$pid]=$name
	_POOL_T0[$pid]=$SECONDS
	_POOL_BORN[$pid]=
	# Gone already (ended and reaped by bash): then no start time, never alive.
	if _pool_stat "$pid" && [ "$_POOL_ST_PPID" = "$BASHPID" ]; then _POOL_BORN[$pid]=$_POOL_ST_START; fi
	say "job [$name] started"
}

pool_wait() {
	local name bad=
	[ "$_POOL_PID" = "$BASHPID" ] || die "pool_wait: no pool_start in this process"
	while [ ${#_POOL_NAME[@]} -gt 0 ]; do _pool_reap --block; done
	for name in "${_POOL_ORDER[@]}"; do
		[ "${POOL_STATUS[$name]}" = 0 ] || bad="$bad [$name] ${POOL_STATUS[$name]},"
	done
	[ -z "$bad" ] || { say "jobs that did not pass:${bad%,}"; return 1; }
}

pool_kill() {
	local why=${1:-killed} pid names=
	[ "$_POOL_PID" = "$BASHPID" ] || return 0
	_POOL_STOP=${_POOL_STOP:-$why}
	_pool_reap  # the jobs that have ended keep their own status
	[ ${#_POOL_NAME[@]} -gt 0 ] || return 0
	for pid in "${!_POOL_NAME[@]}"; do names="$names [${_POOL_NAME[$pid]}]"; done
	say "killing the running jobs ($why):$names"
	_pool_kill_procs "${!_POOL_NAME[@]}"
	for pid in "${!_POOL_NAME[@]}"; do
		wait "$pid" 2>/dev/null || true
		_pool_done "$pid" killed || true
	done
}

# _pool_stat PID: read /proc/PID/stat into _POOL_ST_STATE, _POOL_ST_PPID,
# _POOL_ST_PGRP and _POOL_ST_START (start time in clock ticks since boot);
# false if PID is gone.
_pool_stat() {
	local line f
	{ read -r line </proc/"$1"/stat; } 2>/dev/null || return 1
	read -r -a f <<<"${line##*) }"
	_POOL_ST_STATE=${f[0]} _POOL_ST_PPID=${f[1]} _POOL_ST_PGRP=${f[2]} _POOL_ST_START=${f[19]}
}

# _pool_alive PID: the job PID is still running (not gone, not a zombie, and
# not another process that got its pid).
_pool_alive() {
	_pool_stat "$1" && [ "$_POOL_ST_STATE" != Z ] && [ "$_POOL_ST_START" = "${_POOL_BORN[$1]}" ]
}

# _pool_reap [--block]: reap every job that has ended (with --block, first wait
# until one has); without --keep-going, a failed one stops the pool.
_pool_reap() {
	local pid name ended=() failed=
	while :; do
		for pid in "${!_POOL_NAME[@]}"; do _pool_alive "$pid" || ended+=("$pid"); done
		if [ ${#ended[@]} -gt 0 ] || [ "${1:-}" != --block ]; then break; fi
		sleep 0.2
	done
	for pid in "${ended[@]}"; do
		name=${_POOL_NAME[$pid]}
		_pool_done "$pid" || failed="$failed [$name]"
	done
	if [ -n "$failed" ] && [ -z "$_POOL_KEEP" ] && [ -z "$_POOL_STOP" ]; then
		pool_kill "job$failed failed"
	fi
}

# _pool_done PID [killed]: record the ended job PID (waiting for it by pid),
# kill what it left in its process group, print its log; false if it failed.
_pool_done() {
	local pid=$1 rc=0 name=${_POOL_NAME[$1]} left secs
	wait "$pid" || rc=$?
	secs=$((SECONDS - _POOL_T0[$pid]))
	unset "_POOL_NAME[$pid]" "_POOL_BORN[$pid]" "_POOL_T0[$pid]"
	left=$(_pool_procs "$pid")
	if [ -n "$left" ]; then
		warn "job [$name] left processes running ($left), killing them"
		_pool_kill_procs "$pid"
	fi
	awk -v p="  [$name] " '{ print p $0 }' "${_POOL_LOG[$name]}" >&2
	if [ "${2:-}" = killed ]; then
		POOL_STATUS[$name]=killed
		say "job [$name] killed after ${secs}s"
		return 1
	fi
	POOL_STATUS[$name]=$rc
	if [ $rc = 0 ]; then
		say "job [$name] done in ${secs}s"
	else
		say "job [$name] FAILED (exit $rc) in ${secs}s"
	fi
	return $rc
}

# _pool_procs ROOT...: the live processes of the trees of ROOT... (see the
# invariants), sorted, on one line. Never this shell or its own process group.
_pool_procs() {
	local self_pg=
	if _pool_stat "$BASHPID"; then self_pg=$_POOL_ST_PGRP; fi
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" -v selfpg="$self_pg" -v pool="$_POOL_PID" '
		{ pid = $1; sub(/^.*\) /, ""); state[pid] = $1; ppid[pid] = $2; pgrp[pid] = $3 }
		END {
			n = split(roots, r, " ")
			for (i = 1; i <= n; i++) { tree[r[i]] = 1; group[r[i]] = 1 }
			do {
				grown = 0
				for (p in ppid)
					if (!(p in tree) && ((ppid[p] in tree) || (pgrp[p] in group))) { tree[p] = 1; grown = 1 }
				for (p in tree)
					if ((p in pgrp) && pgrp[p] != selfpg && !(pgrp[p] in group)) { group[pgrp[p]] = 1; grown = 1 }
			} while (grown)
			for (p in tree)
				if ((p in state) && state[p] != "Z" && p != pool) print p
		}' | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# _pool_kill_procs ROOT...: stop, TERM, CONT, and after POOL_GRACE seconds
# KILL the trees of ROOT...
_pool_kill_procs() {
	local procs prev i grace=${POOL_GRACE:-10}
	procs=$(_pool_procs "$@")
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -n "$procs" ] || return 0
		# shellcheck disable=SC2086 # a list of pids
		kill -STOP $procs 2>/dev/null || true
		prev=$procs
		procs=$(_pool_procs "$@")
		[ "$procs" != "$prev" ] || break
	done
	# shellcheck disable=SC2086
	{ kill -TERM $procs; kill -CONT $procs; } 2>/dev/null || true
	for ((i = 0; i < grace * 5; i++)); do
		procs=$(_pool_procs "$@")
		[ -n "$procs" ] || return 0
		sleep 0.2
	done
	warn "still running ${grace}s after TERM, sending KILL: $procs"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		# shellcheck disable=SC2086
		kill -KILL $procs 2>/dev/null || true
		sleep 0.1
		procs=$(_pool_procs "$@")
		[ -n "$procs" ] || return 0
	done
	warn "could not kill: $procs"
}

_pool_at_exit() {
	[ ${#_POOL_NAME[@]} -gt 0 ] || return 0
	pool_kill "the script is ending${AT_EXIT_SIGNAL:+ on SIG$AT_EXIT_SIGNAL}"
}
