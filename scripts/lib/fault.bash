# shellcheck shell=bash
# lib/fault.bash: the testing hook KBP_FAULT_AT, deterministic
# interruption at named points of kbuild-patch (sourced by it;
# interrupt.bats and depscan.bats kill a run at every point).

# fault_point PHASE:N [CHILD]: with KBP_FAULT_AT=PHASE:N in the
# environment, the run interrupts itself there with KBP_FAULT_SIGNAL
# (INT, TERM or KILL; default KILL): at once, or with CHILD (a command
# name such as cc1) as soon as a process of that name runs under this
# one, i.e. in the middle of the command that follows. The signal goes
# to the whole process group when the run leads one (as a shell job
# does: Ctrl-C, kill -9 -PGID), else to this process alone (an OOM kill:
# its children run on). Each point fires the first time it is reached.
fault_point() {
	[ "${KBP_FAULT_AT:-}" = "$1" ] || return 0
	local sig=${KBP_FAULT_SIGNAL:-KILL} target=$$ stat
	stat=$(</proc/$$/stat)
	stat=${stat##*) }
	read -r _ _ stat _ <<<"$stat"	# the process group
	[ "$stat" != $$ ] || target=-$$
	if [ $# -eq 1 ]; then
		echo "$PROG: fault injection: SIG$sig at $1" >&2
		kill -s "$sig" -- "$target"
		sleep 5	# a trapped signal runs its trap before this ends
		return 0
	fi
	# A watcher, without this run's locks and output, waits for CHILD.
	(
		exec 7>&- 8>&- >/dev/null </dev/null
		while kill -0 $$ 2>/dev/null; do
			if descendant_named "$2"; then
				echo "$PROG: fault injection: SIG$sig at $1, during $2" >&2
				kill -s "$sig" -- "$target"
				exit 0
			fi
			sleep 0.02
		done
	) &
}
# descendant_named NAME: a process named NAME with a .c file among its
# arguments runs under this one: a real compile, not one of kbuild's
# compiler probes (on /dev/null or stdin). One ps per poll: a scan of
# /proc in bash is too slow on a loaded machine.
descendant_named() {
	ps -e -o pid=,ppid=,comm=,args= 2>/dev/null | awk -v me=$$ -v name="$1" '
		{ parent[$1 + 0] = $2 + 0 }
		$3 == name { for (i = 4; i <= NF; i++) if ($i ~ /\.c$/) cand[$1 + 0] = 1 }
		END {
			for (p in cand)
				for (q = p + 0; q > 1 && (q in parent); q = parent[q])
					if (q == me + 0)
						exit 0
			exit 1
		}'
}
