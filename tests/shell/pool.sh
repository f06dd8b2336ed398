#!/bin/bash
# tests/shell/pool.sh: the job pool of lib/shell.sh (part of make check-shell).
#
#   pool.sh WORKDIR
#
# Each case runs a pool in a bash process of its own (the "pool shell") and
# then checks what became of it and of every process its jobs started. The
# jobs that must be killed ("hold" jobs) start a child, a grandchild, one
# process in a process group of its own (timeout) and one in a session of its
# own (setsid), and write all their pids down first.
# Cases: exit statuses with --keep-going; at most MAX jobs at once; jobs that
# end at once are not missed (the bash 5.2 `wait -n` problem); the first
# failure kills the other jobs and skips the rest; TERM, INT (to the process
# group, like ^C) and an error exit of the pool shell kill every job; a job
# that ignores TERM gets KILL after POOL_GRACE; what a finished job left
# running in its process group is killed.
# Invariant: every check prints "ok: ..." or "FAIL: ..."; the last line is
# "N passed, N failed" and the exit status is 0 only without failures.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: pool.sh WORKDIR}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
passed=0 failed=0

ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# check [-s CASE] WHAT CMD...: ok WHAT if CMD succeeds, else FAIL WHAT and
# (with -s) show the output of CASE.
check() {
	local case='' what
	if [ "$1" = -s ]; then case=$2; shift 2; fi
	what=$1
	shift
	if "$@"; then ok "$what"; return 0; fi
	fail "$what"
	[ -z "$case" ] || sed 's/^/    | /' "$work/$case.out"
}
# results CASE WANT: the "result: " lines CASE printed are WANT.
results() { [ "$(sed -n 's/^result: //p' "$work/$1.out")" = "$2" ]; }

# alive PID: PID is a process that has not ended (zombies have ended).
alive() {
	local s
	{ read -r s </proc/"$1"/stat; } 2>/dev/null || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}
# all_gone FILE...: no pid listed in FILE... is alive.
all_gone() {
	local pid left=
	for pid in $(cat "$@" 2>/dev/null); do
		if alive "$pid"; then left="$left $pid"; fi
	done
	[ -z "$left" ] || { echo "    still running:$left"; ps -o pid,ppid,pgid,sid,stat,cmd -p "${left# }" | sed 's/^/    /'; return 1; }
}
# lines_at_least FILE N [SECONDS]: wait until FILE has N lines (default 20 s).
lines_at_least() {
	local i
	for ((i = 0; i < ${3:-20} * 20; i++)); do
		[ "$(wc -l 2>/dev/null <"$1" || echo 0)" -lt "$2" ] || return 0
		sleep 0.05
	done
	echo "    $1 has fewer than $2 lines after ${3:-20}s"
	return 1
}

# The prelude of every pool shell: the library and the jobs the cases use.
cat >"$work/prelude.sh" <<EOF
set -eu
. "$top/lib/shell.sh"
EOF
cat >>"$work/prelude.sh" <<'EOF'
# hold NAME: write 6 pids to pids.NAME (itself, a child sh and its sleep, a
# sleep under timeout (own process group) and timeout, a sleep under setsid
# (own session)), then run until killed.
hold() {
	local f=$PWD/pids.$1
	echo "$BASHPID" >>"$f"
	sh -c 'sleep 300 & echo $! >>"$1"; echo $$ >>"$1"; wait' hold "$f" &
	timeout 300 sh -c 'echo $$ >>"$1"; exec sleep 300' hold "$f" &
	echo $! >>"$f"
	setsid sh -c 'echo $$ >>"$1"; exec sleep 300' hold "$f" &
	wait
}
# ready NAME...: the hold jobs NAME... have written all their pids.
ready() {
	local n
	for n in "$@"; do
		until [ -f "pids.$n" ] && [ "$(wc -l <"pids.$n")" -ge 6 ]; do sleep 0.05; done
	done
}
# slot: count the jobs running now into counts, for 0.3 s.
slot() {
	mkdir "running/$BASHPID"
	find running -mindepth 1 -maxdepth 1 | wc -l >>counts
	sleep 0.3
	rmdir "running/$BASHPID"
}
EOF

# run_case NAME [ENV=VALUE...] < SCRIPT: run SCRIPT as a pool shell in
# $work/NAME (output in NAME.out, which is shown on a failure); sets rc.
run_case() {
	local name=$1
	shift
	mkdir -p "$work/$name"
	{ echo ". $work/prelude.sh"; echo "cd $work/$name"; cat; } >"$work/$name.sh"
	rc=0
	(cd "$work/$name" && env "$@" timeout 120 bash "$work/$name.sh") >"$work/$name.out" 2>&1 || rc=$?
}

# ---- exit statuses, --keep-going --------------------------------------------------
run_case statuses <<'EOF'
pool_start --keep-going logs 2
three() { echo "three's output"; return 3; }
pool_add ok true
pool_add three three
pool_add "exit 5" sh -c 'exit 5'
pool_add slow sleep 0.5
pool_add missing /nonexistent/command
rc=0
pool_wait || rc=$?
echo "result: pool_wait $rc"
for n in ok three "exit 5" slow missing; do echo "result: $n=${POOL_STATUS[$n]}"; done
EOF
check -s statuses "statuses: 0, 3, 5, 0, 127 and pool_wait fails; every job ran under --keep-going" \
	results statuses "pool_wait 1
ok=0
three=3
exit 5=5
slow=0
missing=127"
check -s statuses "a job's log is printed when it ends, prefixed with its name" \
	grep -qx "  \[three\] three's output" "$work/statuses.out"

# ---- the concurrency limit --------------------------------------------------------
run_case limit <<'EOF'
mkdir running
pool_start limit-logs 2
for i in 1 2 3 4 5 6; do pool_add "slot $i" slot; done
pool_wait
echo "result: max $(sort -n counts | tail -n 1) of $(wc -l <counts)"
EOF
check -s limit "MAX 2: six jobs, never more than 2 at once, and 2 at once" results limit "max 2 of 6"

# ---- jobs that end at once ----------------------------------------------------------
run_case instant <<'EOF'
pool_start --keep-going logs 1
four() { return 4; }
for i in $(seq 1 40); do
	if [ $((i % 2)) = 0 ]; then pool_add "job $i" true; else pool_add "job $i" four; fi
	x=$(date)  # a command substitution between the jobs: bash reaps them meanwhile
done
pool_wait || true
n0=0 n4=0
for i in $(seq 1 40); do
	case ${POOL_STATUS[job $i]} in 0) n0=$((n0 + 1)) ;; 4) n4=$((n4 + 1)) ;; esac
done
echo "result: statuses $n0 $n4"
EOF
check -s instant "40 jobs that end at once, one slot: none missed, 20 exit 0 and 20 exit 4" \
	results instant "statuses 20 20"

# ---- the first failure kills the others ----------------------------------------------
start=$SECONDS
run_case failfast <<'EOF'
pool_start logs 3
pool_add a hold a
pool_add b hold b
pool_add c sh -c 'exit 7'  # at once: a and b may still be starting their processes
pool_add d true
pool_add e true
rc=0
pool_wait || rc=$?
echo "result: pool_wait $rc"
for n in a b c d e; do echo "result: $n=${POOL_STATUS[$n]}"; done
EOF
check -s failfast "a job fails at once: the two running are killed, the two not started are skipped, pool_wait fails" \
	results failfast "pool_wait 1
a=killed
b=killed
c=7
d=skipped
e=skipped"
check "  ... every process they had started by then is gone" \
	all_gone "$work/failfast"/pids.* /dev/null

# c fails once a and b have started all of their processes.
run_case failtree <<'EOF'
pool_start logs 3
pool_add a hold a
pool_add b hold b
pool_add c sh -c 'until [ -f pids.a ] && [ -f pids.b ] && [ "$(cat pids.a pids.b | wc -l)" -ge 12 ]; do sleep 0.05; done; exit 7'
pool_add d true
rc=0
pool_wait || rc=$?
echo "result: pool_wait $rc"
for n in a b c d; do echo "result: $n=${POOL_STATUS[$n]}"; done
EOF
check -s failtree "a job fails while two others run: those two are killed and d is skipped" \
	results failtree "pool_wait 1
a=killed
b=killed
c=7
d=skipped"
check -s failtree "  ... every process of their trees is gone: children, grandchildren, timeout's group, setsid's session" \
	all_gone "$work/failtree/pids.a" "$work/failtree/pids.b"
check "  ... within 10 s (TERM sufficed, took $((SECONDS - start)) s for both cases)" [ $((SECONDS - start)) -lt 10 ]

# ---- signals and errors in the pool shell -----------------------------------------
# signal_case NAME SIGNAL TARGET WANT_RC: a pool shell with two hold jobs,
# started with job control (in a process group of its own, and with no signal
# ignored, as a terminal's shell starts it), gets SIGNAL at TARGET (pid: the
# shell only; group: its whole process group, as ^C does).
signal_case() {
	local name=$1 sig=$2 target=$3 want=$4 pid i
	mkdir -p "$work/$name"
	{ echo ". $work/prelude.sh"; echo "cd $work/$name"
	  echo 'pool_start logs 2; pool_add a hold a; pool_add b hold b; pool_wait; echo "not reached"'; } >"$work/$name.sh"
	set -m
	# env --default-signal: a signal ignored when bash starts cannot be trapped, and a
	# caller under nohup (HUP) or a non-interactive background start would make the
	# shell ignore what this case sends.
	(cd "$work/$name" && exec env --default-signal bash "$work/$name.sh") >"$work/$name.out" 2>&1 &
	pid=$!
	set +m
	lines_at_least "$work/$name/pids.a" 6 || true
	lines_at_least "$work/$name/pids.b" 6 || true
	if [ "$target" = group ]; then kill -s "$sig" -- "-$pid"; else kill -s "$sig" "$pid"; fi
	rc=0
	{  # quiet: bash's notice of a job killed by a signal ("Hangup") goes here
		for ((i = 0; i < 300; i++)); do alive "$pid" || break; sleep 0.1; done
		wait "$pid" || rc=$?
	} 2>/dev/null
	check -s "$name" "SIG$sig to the pool shell's $target: the shell dies of it (status $rc, want $want)" [ "$rc" = "$want" ]
	check -s "$name" "  ... and every process of both jobs is gone" all_gone "$work/$name/pids.a" "$work/$name/pids.b"
}
signal_case sigterm TERM shell 143
signal_case sigint INT group 130
signal_case sighup HUP shell 129

run_case errexit <<'EOF'
pool_start logs 2
pool_add a hold a
ready a
false  # set -e: the script ends with an error while a runs
EOF
check -s errexit "an error exit (set -e) of the pool shell keeps its status (1, got $rc)" [ "$rc" = 1 ]
check -s errexit "  ... and kills its running jobs first" all_gone "$work/errexit/pids.a"

run_case diejob <<'EOF'
pool_start logs 2
pool_add a hold a
ready a
die "giving up"
EOF
check -s diejob "die in the pool shell exits 1 (got $rc)" [ "$rc" = 1 ]
check -s diejob "  ... and kills its running jobs first" all_gone "$work/diejob/pids.a"

# ---- a job that ignores TERM; leftovers of a finished job ---------------------------
start=$SECONDS
run_case grace POOL_GRACE=1 <<'EOF'
pool_start logs 2
pool_add deaf sh -c 'trap "" TERM; echo $$ >pids.deaf; sleep 300 & echo $! >>pids.deaf; wait'
pool_add fails sh -c 'until [ "$(cat pids.deaf 2>/dev/null | wc -l)" -ge 2 ]; do sleep 0.05; done; exit 1'
pool_wait || echo "result: deaf=${POOL_STATUS[deaf]}"
EOF
check -s grace "a job that ignores TERM is killed (KILL after POOL_GRACE=1 s, took $((SECONDS - start)) s)" \
	results grace "deaf=killed"
check -s grace "  ... its processes are gone" all_gone "$work/grace/pids.deaf"
check -s grace "  ... the pool said it sent KILL" grep -q "sending KILL" "$work/grace.out"

run_case leftover <<'EOF'
pool_start logs 2
pool_add sloppy sh -c 'sleep 300 & echo $! >pids.left; exit 0'
pool_wait
echo "result: sloppy=${POOL_STATUS[sloppy]}"
EOF
check -s leftover "a finished job that left a process in its group still counts as passed" results leftover "sloppy=0"
check -s leftover "  ... and what it left is killed" all_gone "$work/leftover/pids.left"

# ---- misuse ----------------------------------------------------------------------------
run_case nopool <<'EOF'
pool_add x true
EOF
check -s nopool "pool_add without pool_start is an error naming it (status $rc)" grep -q "error: pool_add.*no pool_start" "$work/nopool.out"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
