#!/usr/bin/env bats
# Patching under load, in the VM (one guest boot per test):
#   readers  4 processes read /proc/cmdline in a loop while a livepatch of
#            cmdline_proc_show is loaded, enabled, disabled and removed in
#            rounds: every output is exactly the old or the new one;
#   cycles   50 insmod/enable/disable/rmmod cycles of a patch of vmlinux and
#            of the module binfmt_misc: no splat, no failure in dmesg, no
#            module reference left behind;
#   blocked  a task asleep in a patched function keeps the transition from
#            finishing; kbuild-patch-wait names it with its kernel stack.
# The guest halves are in test/integration/load/.

load ../lib/corpus-lib
load ../lib/helpers

LOAD=$BATS_TEST_DIRNAME/load

# The preamble of every corpus-based suite (loads, fixture directory,
# corpus_setup); what differs is the patches each file builds.
setup_file() {
	corpus_setup
	local out=$BATS_FILE_TMPDIR/out
	# vmlinux (cmdline_proc_show) and binfmt_misc (bm_status_read).
	kbp -o "$out" -n livepatch-load "$CORPUS/cmdline-string.patch" \
		"$CORPUS/module-binfmt-misc.patch" >&2
	# hrtimer_nanosleep, which "sleep" sleeps in.
	kbp -o "$out" "$CORPUS/orc-stack.patch" >&2
}

setup() {
	OUT=$BATS_FILE_TMPDIR/out
	S=$BATS_TEST_TMPDIR/guest.sh
}

# guest SCRIPT VAR=VALUE...: the guest script $S: the assignments, the
# shared guest functions (helpers.bash), then SCRIPT.
guest() {
	local body=$1
	shift
	{
		echo '#!/bin/sh'
		printf '%s\n' "$@"
		kbp_guest_functions
		cat "$LOAD/$body"
	} >"$S"
}

# guest_ok MARKER MODULE...: boot the VM (280 s at most) with the MODULEs
# (under $OUT, or absolute) and run $S; it must exit 0 and print MARKER.
guest_ok() {
	local marker=$1 m args=()
	shift
	for m in "$@"; do
		[[ $m == /* ]] || m=$OUT/$m
		args+=(--module "$m")
	done
	SECONDS=0
	run kbp_vm --timeout 280 "${args[@]}" "$S"
	echo "$output"
	echo "# VM run: $SECONDS s" >&3
	[ "$status" -eq 0 ]
	[[ $output == *"$marker"* ]]
}

@test "load: readers of a patched /proc file see only its old or new output, over enable/disable rounds" {
	local readers=4 rounds=4 old=0 new=0 n=0 line
	guest readers.sh MOD=livepatch_load KO=livepatch-load.ko \
		ROUNDS=$rounds READERS=$readers HOLD=5
	guest_ok KBP-READERS-OK livepatch-load.ko
	# Every round's two transitions finished.
	[ "$(grep -c '^KBP-TRANSITION: round [0-9]* \(enable\|disable\) ' <<<"$output")" -eq $((2 * rounds)) ]
	# Each reader reported; across the run both outputs were seen.
	while read -r line; do
		[[ $line =~ ^KBP-READER:\ [0-9]+\ old=([0-9]+)\ new=([0-9]+)\ after-old=([0-9]+)\ after-other=0$ ]]
		[ "${BASH_REMATCH[3]}" -ge 5 ]
		old=$((old + BASH_REMATCH[1]))
		new=$((new + BASH_REMATCH[2]))
		n=$((n + 1))
		echo "# $line" >&3
	done < <(grep '^KBP-READER:' <<<"$output")
	[ "$n" -eq "$readers" ]
	[ "$old" -gt 0 ]
	[ "$new" -gt 0 ]
	grep '^KBP-TRANSITIONS:' <<<"$output" | sed 's/^/# /' >&3
}

@test "load: 50 load/enable/disable/unload cycles in one boot leave no reference and no failure" {
	guest cycles.sh MOD=livepatch_load KO=livepatch-load.ko CYCLES=50
	guest_ok KBP-CYCLES-OK livepatch-load.ko "$K/build/fs/binfmt_misc.ko"
	grep -q '^KBP-CYCLES: 50 cycles in [0-9]* ms; dmesg: 50 patching complete, 50 unpatching complete$' <<<"$output"
	grep '^KBP-CYCLES:' <<<"$output" | sed 's/^/# /' >&3
}

@test "load: kbuild-patch-wait names the task asleep in a patched function that blocks the transition" {
	guest blocked.sh MOD=livepatch_orc_stack KO=livepatch-orc-stack.ko
	guest_ok KBP-BLOCKED-OK livepatch-orc-stack.ko
	grep -q '^KBP-BLOCKED: patching: pid [0-9]* (sleep) named' <<<"$output"
	grep -q '^KBP-BLOCKED: unpatching: pid [0-9]* (sleep) named' <<<"$output"
	# The patched function on the sleeper's stack: the original while
	# patching, the livepatch's copy while unpatching.
	grep -qE '^    \[<[0-9a-f]+>\] hrtimer_nanosleep\+0x[0-9a-f]+/0x[0-9a-f]+$' <<<"$output"
	grep -qE '^    \[<[0-9a-f]+>\] hrtimer_nanosleep\+0x[0-9a-f]+/0x[0-9a-f]+ \[livepatch_orc_stack\]$' <<<"$output"
	grep '^KBP-UNBLOCKED:' <<<"$output" | sed 's/^/# /' >&3
}
