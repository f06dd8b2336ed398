# shellcheck shell=bash
# tests/cgroup/lib.sh: a child memory cgroup for the tests and benchmarks of
# tests/cgroup (sourced after lib/shell.sh; needs root).
#
#   cgroup_make NAME LIMIT_MIB   a child memory cgroup (v2 where this process's
#                                v2 group has the memory controller, else v1)
#                                limited to LIMIT_MIB, no swap; sets group,
#                                limit_file, peak_file
#   cgroup_run  CMD...           runs CMD inside the group: replaces the calling
#                                (sub)shell, so `cgroup_run ... &` gives $! = CMD
#   cgroup_peak_mib              the group's peak usage so far, MiB
#   cgroup_remove                kills what is left in the group, removes it
#
# Invariant: at most one group at a time; cgroup_remove is safe to call when
# there is none (scripts register it with at_exit).

group='' limit_file='' peak_file=''

cgroup_make() {
	local v2 v1 base
	v2=$(sed -n 's/^0:://p' /proc/self/cgroup)
	v1=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}://p' /proc/self/cgroup)
	base=/sys/fs/cgroup${v2%/}
	if [ -n "$v2" ] && grep -qw memory "$base/cgroup.controllers" 2>/dev/null; then
		grep -qw memory "$base/cgroup.subtree_control" || echo +memory >"$base/cgroup.subtree_control" ||
			die "cannot enable the memory controller in $base"
		group=$base/$1
		mkdir "$group"
		limit_file=$group/memory.max peak_file=$group/memory.peak
		echo 0 >"$group/memory.swap.max" 2>/dev/null || true
	elif [ -n "$v1" ] && [ -d "/sys/fs/cgroup/memory${v1%/}" ]; then
		group=/sys/fs/cgroup/memory${v1%/}/$1
		mkdir "$group"
		limit_file=$group/memory.limit_in_bytes peak_file=$group/memory.max_usage_in_bytes
	else
		die "no usable memory cgroup on this machine (/proc/self/cgroup: $(tr '\n' ' ' </proc/self/cgroup))"
	fi
	echo $(($2 << 20)) >"$limit_file"
}

cgroup_run() {
	exec sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$group" "$@"
}

cgroup_peak_mib() {
	echo $(($(cat "$peak_file" 2>/dev/null || echo 0) >> 20))
}

cgroup_remove() {
	local pid
	[ -n "$group" ] && [ -d "$group" ] || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$group/cgroup.procs"
		rmdir "$group" 2>/dev/null && break
		sleep 0.1
	done
	[ -d "$group" ] && die "cannot remove $group"
	group=
}
