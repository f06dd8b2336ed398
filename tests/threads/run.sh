#!/bin/bash
# run.sh: one run of tests/threads/many_states (called by threads.mk).
#
#   tests/threads/run.sh tsan|asan|storm|file SECONDS [many_states options]
#
# tsan   build/threads/many_states-tsan (x86_64-tsan): any ThreadSanitizer
#        report ends the run with status 66.
# asan   build/threads/many_states-asan (x86_64-asan): any AddressSanitizer
#        or UndefinedBehaviorSanitizer report aborts the run; the UBSan
#        suppressions in ubsan.supp are LuaJIT's own, each commented.
# storm  build/threads/many_states-fault (x86_64-fault) under
#        LUAJIT_RECLAIM_FAULT with random per-million rates and a random
#        seed, both printed; THREADS_FAULT and THREADS_FAULT_SEED replay a run.
# file   build/threads/many_states-fault with every heap on the memory-file
#        backing (LUAJIT_RECLAIM_TEST_BACKING=file, honoured by that test
#        build only): its fork copy and punch-hole purge under threads.
#
# A run that outlives SECONDS by more than THREADS_GRACE (default 180) is
# killed and fails: a deadlock must not hang make.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 tsan|asan|storm|file SECONDS [options]" >&2; exit 2; }
kind=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
out=${THREADS_OUT:-build/threads}
grace=${THREADS_GRACE:-180}

# A random integer in [lo, hi].
rand_in() { echo $(( ((RANDOM << 15) | RANDOM) % ($2 - $1 + 1) + $1 )); }

case $kind in
tsan)
	export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
	;;
asan)
	export ASAN_OPTIONS="abort_on_error=1 detect_leaks=1 ${ASAN_OPTIONS:-}"
	export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1 suppressions=$here/ubsan.supp ${UBSAN_OPTIONS:-}"
	;;
storm)
	# Lower bounds keep every kind injecting in a 20 s run (mmap ~12 calls
	# a state, munmap ~11, mremap ~7, madvise ~90); upper bounds still let
	# most states finish their workload.
	spec=${THREADS_FAULT:-mmap=~$(rand_in 10000 30000),madvise=~$(rand_in 20000 100000),munmap=~$(rand_in 10000 40000),mremap=~$(rand_in 30000 100000)}
	seed=${THREADS_FAULT_SEED:-$(rand_in 1 2000000000)}
	echo "storm: THREADS_FAULT=$spec THREADS_FAULT_SEED=$seed (set both to replay)"
	export LUAJIT_RECLAIM_FAULT=$spec LUAJIT_RECLAIM_FAULT_SEED=$seed
	set -- -s "$seed" "$@"
	kind=fault
	;;
file)
	export LUAJIT_RECLAIM_TEST_BACKING=file
	kind=fault
	;;
*)
	echo "$0: unknown run '$kind' (tsan, asan, storm or file)" >&2
	exit 2
	;;
esac

echo "+ $out/many_states-$kind -d $secs $*"
exec timeout -k 10 $((secs + grace)) "$out/many_states-$kind" -d "$secs" "$@"
