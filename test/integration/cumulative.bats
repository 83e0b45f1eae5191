#!/usr/bin/env bats
# Cumulative (atomic replace) and stacked (--non-replace) livepatches in
# the VM. The patches of test/integration/cumulative/ change three
# functions whose effect a guest can see:
#   cpuinfo-eperm      cpuinfo_open: opening /proc/cpuinfo fails (EPERM)
#   uts-v1, uts-v2     proc_do_uts_string: /proc/sys/kernel/ostype reads
#                      "Linux-v1" or "Linux-v2"
#   kpagecount-eio     kpagecount_read: reading /proc/kpagecount at
#                      offset 0 fails (EIO)
# v1 = cpuinfo-eperm + uts-v1; the cumulative v2 = uts-v2 +
# kpagecount-eio, so v2 drops v1's cpuinfo_open change.

load ../lib/corpus-lib
load ../lib/helpers

CUM=$BATS_TEST_DIRNAME/cumulative

setup_file() {
	corpus_setup
	local out=$BATS_FILE_TMPDIR/out
	kbp -o "$out" -n cum-v1 "$CUM/cpuinfo-eperm.patch" "$CUM/uts-v1.patch" >&2
	kbp -o "$out" -n cum-v2 "$CUM/uts-v2.patch" "$CUM/kpagecount-eio.patch" >&2
	kbp -o "$out" -n stack-1 -R "$CUM/cpuinfo-eperm.patch" >&2
	kbp -o "$out" -n stack-2 -R "$CUM/kpagecount-eio.patch" >&2
	kbp -o "$out" -n stack-v2 -R "$CUM/uts-v2.patch" "$CUM/kpagecount-eio.patch" >&2
}

# guest_script OUT BODY: BODY (a file) after the helpers and state(),
# which prints "STATE LABEL: cpuinfo=.. ostype=.. kpagecount=..".
guest_script() {
	{
		kbp_guest_functions
		cat <<-'EOF'
		state() {
			c=ok
			cat /proc/cpuinfo >/dev/null 2>&1 || c=refused
			k=ok
			dd if=/proc/kpagecount of=/dev/null bs=8 count=1 2>/dev/null || k=refused
			echo "STATE $1: cpuinfo=$c ostype=$(cat /proc/sys/kernel/ostype) kpagecount=$k"
		}
		load() {
			insmod /modules/$1.ko || kbp_fail "insmod $1"
			m=$(echo $1 | tr - _)
			kbp_wait_transition $m || kbp_fail "transition of $m"
			echo "SYSFS $m: enabled=$(cat /sys/kernel/livepatch/$m/enabled) transition=$(cat /sys/kernel/livepatch/$m/transition) replace=$(cat /sys/kernel/livepatch/$m/replace)"
		}
		unload() {
			echo 0 >/sys/kernel/livepatch/$1/enabled || kbp_fail "disable $1"
			kbp_wait_transition $1 || kbp_fail "unpatch transition of $1"
			kbp_rmmod $1 || kbp_fail "rmmod $1"
			echo "UNLOADED $1"
		}
		EOF
		cat "$2"
	} >"$1"
}

@test "cumulative v2 replaces v1: v1's other function is reverted and v1 unloads" {
	local out=$BATS_FILE_TMPDIR/out
	cat >"$BATS_TEST_TMPDIR/body.sh" <<-'EOF'
	state boot
	load cum-v1
	state v1
	load cum-v2
	state v2
	# The replaced patch leaves sysfs; its module stays until rmmod.
	[ -d /sys/kernel/livepatch/cum_v1 ] && echo "V1-STILL-IN-SYSFS"
	grep -q '^cum_v1 ' /proc/modules && echo "V1-MODULE-LOADED"
	kbp_rmmod cum_v1 || kbp_fail "rmmod cum_v1"
	grep -q '^cum_v1 ' /proc/modules || echo "V1-MODULE-GONE"
	state v1-removed
	unload cum_v2
	state end
	EOF
	guest_script "$BATS_TEST_TMPDIR/guest.sh" "$BATS_TEST_TMPDIR/body.sh"
	# Spelled out, as the -R test below: each line is one step's state.
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/cum-v1.ko" \
		--module "$out/cum-v2.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"STATE boot: cpuinfo=ok ostype=Linux kpagecount=ok"* ]]
	[[ $output == *"SYSFS cum_v1: enabled=1 transition=0 replace=1"* ]]
	[[ $output == *"STATE v1: cpuinfo=refused ostype=Linux-v1 kpagecount=ok"* ]]
	[[ $output == *"SYSFS cum_v2: enabled=1 transition=0 replace=1"* ]]
	# v2's functions are live, and v1's cpuinfo_open, which v2 doesn't
	# patch, is back to the original.
	[[ $output == *"STATE v2: cpuinfo=ok ostype=Linux-v2 kpagecount=refused"* ]]
	[[ $output != *"V1-STILL-IN-SYSFS"* ]]
	[[ $output == *"V1-MODULE-LOADED"* ]]
	[[ $output == *"V1-MODULE-GONE"* ]]
	[[ $output == *"STATE v1-removed: cpuinfo=ok ostype=Linux-v2 kpagecount=refused"* ]]
	[[ $output == *"UNLOADED cum_v2"* ]]
	[[ $output == *"STATE end: cpuinfo=ok ostype=Linux kpagecount=ok"* ]]
}

@test "without atomic replace (-R), v1's function stays patched under v2" {
	local out=$BATS_FILE_TMPDIR/out
	cat >"$BATS_TEST_TMPDIR/body.sh" <<-'EOF'
	load cum-v1
	load stack-v2
	state both
	[ -d /sys/kernel/livepatch/cum_v1 ] && echo "V1-STILL-IN-SYSFS"
	unload stack_v2
	state v1-again
	unload cum_v1
	state end
	EOF
	guest_script "$BATS_TEST_TMPDIR/guest.sh" "$BATS_TEST_TMPDIR/body.sh"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/cum-v1.ko" \
		--module "$out/stack-v2.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"SYSFS stack_v2: enabled=1 transition=0 replace=0"* ]]
	# v1's cpuinfo_open stays; v2's proc_do_uts_string is on top.
	[[ $output == *"STATE both: cpuinfo=refused ostype=Linux-v2 kpagecount=refused"* ]]
	[[ $output == *"V1-STILL-IN-SYSFS"* ]]
	# Disabling the top patch uncovers v1's version of the function.
	[[ $output == *"STATE v1-again: cpuinfo=refused ostype=Linux-v1 kpagecount=ok"* ]]
	[[ $output == *"STATE end: cpuinfo=ok ostype=Linux kpagecount=ok"* ]]
}

@test "stacked --non-replace patches on different functions are both live, disabled in reverse order" {
	local out=$BATS_FILE_TMPDIR/out
	cat >"$BATS_TEST_TMPDIR/body.sh" <<-'EOF'
	state boot
	load stack-1
	state one
	load stack-2
	state both
	unload stack_2
	state one-again
	unload stack_1
	state end
	EOF
	guest_script "$BATS_TEST_TMPDIR/guest.sh" "$BATS_TEST_TMPDIR/body.sh"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/stack-1.ko" \
		--module "$out/stack-2.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"STATE boot: cpuinfo=ok ostype=Linux kpagecount=ok"* ]]
	[[ $output == *"SYSFS stack_1: enabled=1 transition=0 replace=0"* ]]
	[[ $output == *"STATE one: cpuinfo=refused ostype=Linux kpagecount=ok"* ]]
	[[ $output == *"SYSFS stack_2: enabled=1 transition=0 replace=0"* ]]
	[[ $output == *"STATE both: cpuinfo=refused ostype=Linux kpagecount=refused"* ]]
	[[ $output == *"UNLOADED stack_2"* ]]
	[[ $output == *"STATE one-again: cpuinfo=refused ostype=Linux kpagecount=ok"* ]]
	[[ $output == *"UNLOADED stack_1"* ]]
	[[ $output == *"STATE end: cpuinfo=ok ostype=Linux kpagecount=ok"* ]]
}
