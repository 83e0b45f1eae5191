#!/usr/bin/env bats
# kbuild-patch-wait on fake sysfs and procfs trees (KBP_SYSFS, KBP_PROC),
# under each POSIX shell it must run with (dash, busybox sh). The real
# kernel run is in test/integration/load.bats.

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	WAIT=$REPO/scripts/kbuild-patch-wait
	S=$BATS_TEST_TMPDIR/sys
	P=$BATS_TEST_TMPDIR/proc
	export KBP_SYSFS=$S KBP_PROC=$P
	mkdir -p "$S/kernel/livepatch" "$P"
}

# patch NAME TRANSITION ENABLED: a registered livepatch and its module.
patch() {
	mkdir -p "$S/kernel/livepatch/$1" "$S/module/$1"
	echo "$2" >"$S/kernel/livepatch/$1/transition"
	echo "$3" >"$S/kernel/livepatch/$1/enabled"
	echo K >"$S/module/$1/taint"
	echo 1 >"$S/module/$1/refcnt"
}

# task TGID TID COMM STATE [FUNCTION]: a task whose stack has FUNCTION.
task() {
	local d=$P/$1/task/$2
	mkdir -p "$d"
	echo "$3" >"$d/comm"
	echo "$4" >"$d/patch_state"
	printf '[<0>] %s+0x45/0x90\n[<0>] do_syscall_64+0x4b/0x110\n' \
		"${5:-ksys_read}" >"$d/stack"
}

# in_shells CMD...: run CMD under dash and busybox sh; each must give the
# same status and output (kept in $status and $output of the last run).
in_shells() {
	local sh first_status='' first_output=''
	for sh in dash "busybox sh"; do
		run $sh "$WAIT" "$@"
		echo "[$sh] status $status"
		echo "$output"
		if [ -z "$first_status" ]; then
			first_status=$status
			first_output=$output
		else
			[ "$status" = "$first_status" ]
			[ "$output" = "$first_output" ]
		fi
	done
}

@test "kbuild-patch-wait: a finished transition exits 0 at once" {
	patch livepatch_fix 0 1
	task 1 1 init 1
	in_shells --timeout 5 /modules/livepatch-fix.ko
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "kbuild-patch-wait: on timeout it names exactly the tasks not at the target state" {
	patch livepatch_fix 1 1
	task 1 1 init 1
	task 40 40 sleep 0 hrtimer_nanosleep
	task 50 50 worker 1
	task 50 52 worker-t 0 futex_wait
	task 60 60 late -1 # no transition as far as this task knows: not shown
	in_shells -t 1 livepatch-fix
	[ "$status" -eq 2 ]
	[[ $output == *"livepatch_fix: the transition to the patched state is still in flight after 1 s; 2 task(s) block it:"* ]]
	grep -qx 'pid 40 (sleep): patch_state 0, target 1; kernel stack:' <<<"$output"
	grep -qx '    \[<0>\] hrtimer_nanosleep+0x45/0x90' <<<"$output"
	grep -qx 'pid 52 (worker-t, a thread of pid 50): patch_state 0, target 1; kernel stack:' <<<"$output"
	grep -qx '    \[<0>\] futex_wait+0x45/0x90' <<<"$output"
	[[ $output == *"timeout: the transition of livepatch_fix to the patched state has not finished after 1 s (2 task(s) blocking)"* ]]
	! grep -E 'pid (1|50|60) ' <<<"$output" || false
	# An unpatching transition: the target is 0, so the tasks at 1 block.
	echo 0 >"$S/kernel/livepatch/livepatch_fix/enabled"
	in_shells -t 0 livepatch_fix
	[ "$status" -eq 2 ]
	[[ $output == *"to the unpatched state"*"2 task(s) block it"* ]]
	grep -qx 'pid 1 (init): patch_state 1, target 0; kernel stack:' <<<"$output"
	grep -qx 'pid 50 (worker): patch_state 1, target 0; kernel stack:' <<<"$output"
	! grep -E '^pid (40|52|60) ' <<<"$output" || false
	# --quiet: the summary line only.
	in_shells -t 0 -q livepatch_fix
	[ "$status" -eq 2 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ $output == *"timeout: the transition of livepatch_fix"* ]]
}

@test "kbuild-patch-wait: without PATCH it waits for any patch in transition" {
	patch livepatch_a 0 1
	patch livepatch_b 1 1
	task 40 40 sleep 0 hrtimer_nanosleep
	in_shells -t 0
	[ "$status" -eq 2 ]
	[[ $output == *"livepatch_b: the transition to the patched state"* ]]
	echo 0 >"$S/kernel/livepatch/livepatch_b/transition"
	in_shells -t 0
	[ "$status" -eq 0 ]
}

@test "kbuild-patch-wait: returns as soon as the transition ends, well before the timeout" {
	patch livepatch_fix 1 1
	task 40 40 sleep 0 hrtimer_nanosleep
	(sleep 1; echo 0 >"$S/kernel/livepatch/livepatch_fix/transition") &
	SECONDS=0
	run busybox sh "$WAIT" -t 30 livepatch_fix
	wait
	echo "$output (after $SECONDS s)"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -le 5 ]
}

@test "kbuild-patch-wait: after a disable it waits until the module is released" {
	patch livepatch_fix 1 0
	# The unpatching finished, but the kernel has not freed the patch yet.
	echo 0 >"$S/kernel/livepatch/livepatch_fix/transition"
	in_shells -t 1 livepatch_fix
	[ "$status" -eq 2 ]
	[[ $output == *"livepatch_fix is disabled, but not released after 1 s: $S/kernel/livepatch/livepatch_fix is still there"* ]]
	# Freed, but still referenced: the kernel drops it asynchronously.
	rm -r "$S/kernel/livepatch/livepatch_fix"
	in_shells -t 1 livepatch_fix
	[ "$status" -eq 2 ]
	[[ $output == *"livepatch_fix is disabled, but not released after 1 s: $S/module/livepatch_fix/refcnt still reads 1"* ]]
	(sleep 1; echo 0 >"$S/module/livepatch_fix/refcnt") &
	run dash "$WAIT" -t 30 livepatch_fix
	wait
	[ "$status" -eq 0 ]
	# A loaded module that is not a livepatch is an error, not a wait.
	mkdir -p "$S/module/binfmt_misc"
	echo >"$S/module/binfmt_misc/taint"
	echo 1 >"$S/module/binfmt_misc/refcnt"
	in_shells -t 5 binfmt_misc
	[ "$status" -eq 1 ]
	[[ $output == *"module 'binfmt_misc' is loaded, but it is not a livepatch"* ]]
}

@test "kbuild-patch-wait: usage and environment errors exit 1" {
	patch livepatch_fix 0 1
	in_shells livepatch_nope
	[ "$status" -eq 1 ]
	[[ $output == *"no livepatch named 'livepatch_nope' is loaded (in $S/kernel/livepatch: livepatch_fix)"* ]]
	in_shells --bogus
	[ "$status" -eq 1 ]
	[[ $output == *"unknown option '--bogus'"* ]]
	in_shells -t 1.5 livepatch_fix
	[ "$status" -eq 1 ]
	in_shells livepatch_fix extra
	[ "$status" -eq 1 ]
	in_shells 'bad name!'
	[ "$status" -eq 1 ]
	rm -r "$S/kernel/livepatch"
	in_shells livepatch_fix
	[ "$status" -eq 1 ]
	[[ $output == *"no $S/kernel/livepatch"* ]]
	run "$WAIT" --version
	[ "$status" -eq 0 ]
	[[ $output == "kbuild-patch-wait "[0-9]* ]]
}
