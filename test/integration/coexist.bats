#!/usr/bin/env bats
# coexist.bats: kprobes, function tracing and livepatching all redirect the
# same ftrace site of a function, and must not step on each other. Each
# test boots the test kernel once with the corpus patch meminfo.patch
# (which patches meminfo_proc_show) built by kbuild-patch, and, for the
# kprobe cases, the fixture module in test/integration/coexist/.
#
# The expectations follow the kernel's
# tools/testing/selftests/livepatch/test-ftrace.sh and, for kprobes (6.12
# has no test-kprobe.sh), kernel/trace/ftrace.c: a livepatch and a tracer
# or a kprobe without a post_handler share the function; a second
# IPMODIFY user (ftrace_enabled=0 for a PERMANENT ops, or a kprobe with a
# post_handler) makes the patch's ftrace registration fail with -EBUSY.
#
# Every phase checks both sides: whether the patch is live (the corpus
# check meminfo-LOADED.test, which must fail before the load and after the
# unload) and whether the tracer or the kprobe still sees the calls.
# shellcheck disable=SC2154 # $output and $status come from bats' run

bats_require_minimum_version 1.5.0
load ../lib/corpus-lib
load ../lib/helpers

# The kernel's message when a patch can't take the function's ftrace site
# (kernel/livepatch/patch.c, klp_patch_func), -16 being -EBUSY.
KLP_EBUSY_MSG="livepatch: failed to register ftrace handler for function 'meminfo_proc_show' (-16)"

setup_file() {
	corpus_setup
	local lp=$BATS_FILE_TMPDIR/lp kp=$BATS_FILE_TMPDIR/kprobe
	kbp -o "$lp" "$CORPUS/meminfo.patch" >"$BATS_FILE_TMPDIR/lp.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/lp.log" >&2; return 1; }
	mkdir -p "$kp"
	cp "$INTEGRATION/coexist/Kbuild" "$INTEGRATION/coexist/kprobe-test.c" "$kp/"
	chmod u+w "$kp"/*
	kbp_build_ext_module "$kp"
}

setup() {
	LP_KO=$BATS_FILE_TMPDIR/lp/livepatch-meminfo.ko
	KP_KO=$BATS_FILE_TMPDIR/kprobe/kbp-kprobe-test.ko
	S=$BATS_TEST_TMPDIR/guest.sh
}

# guest_script BODY-FILE: writes $S, a guest script with the shared
# functions below followed by the body.
guest_script() {
	{
		echo '#!/bin/sh'
		kbp_guest_functions
		echo "cat >/tmp/live <<'KBP_CHECK_EOF'"
		cat "$CORPUS/meminfo-LOADED.test"
		echo "KBP_CHECK_EOF"
		cat <<-'EOF'
		LP=livepatch_meminfo
		LP_KO=/modules/livepatch-meminfo.ko
		T=/sys/kernel/tracing
		KP=/sys/module/kbp_kprobe_test/parameters
		FN=meminfo_proc_show
		step() { echo "COEXIST: $*"; }
		# The patch is live: the corpus check passes.
		is_live() { sh /tmp/live >/dev/null 2>&1; }
		expect_live() { is_live || kbp_fail "$1: the patch is not live"; }
		expect_not_live() { ! is_live || kbp_fail "$1: the patch is live"; }
		load_lp() {
			insmod "$LP_KO" || kbp_fail "insmod $LP_KO failed"
			kbp_wait_transition "$LP" || kbp_fail "the patching transition did not finish"
			[ "$(cat /sys/kernel/livepatch/$LP/enabled)" = 1 ] || kbp_fail "$LP is not enabled"
		}
		unload_lp() {
			echo 0 >/sys/kernel/livepatch/$LP/enabled || kbp_fail "disabling $LP failed"
			kbp_wait_transition "$LP" || kbp_fail "the unpatching transition did not finish"
			kbp_rmmod "$LP" || kbp_fail "rmmod $LP failed"
			[ ! -d /sys/kernel/livepatch/$LP ] || kbp_fail "$LP is still in sysfs"
		}
		# insmod of the patch fails with EBUSY: ftrace refused its
		# handler on FN (the livepatch needs it to itself). $1: why.
		expect_load_busy() {
			if insmod "$LP_KO" 2>/tmp/insmod.err; then
				kbp_fail "insmod of the livepatch succeeded $1"
			fi
			step "insmod refused: $(cat /tmp/insmod.err)"
			grep -q 'Device or resource busy' /tmp/insmod.err || kbp_fail "insmod did not fail with EBUSY"
			dmesg | grep -F "failed to register ftrace handler for function '$FN'" |
				grep -qF '(-16)' || kbp_fail "no 'failed to register ftrace handler' (-16) in dmesg"
			expect_no_lp "refused $1"
		}
		# The patch is unloaded while FN is traced: the trace goes on,
		# on the original function alone; then the tracer goes off.
		unload_traced() {
			unload_lp
			expect_not_live "traced, after the unload"
			expect_traced "after the unload"
			expect_ops "traced, after the unload" 1
			trace_stop
			expect_not_traced "after the tracer is off"
		}
		# The patch is not loaded at all.
		expect_no_lp() {
			[ ! -d /sys/kernel/livepatch/$LP ] || kbp_fail "$1: /sys/kernel/livepatch/$LP exists"
			! grep -q "^$LP " /proc/modules || kbp_fail "$1: $LP is in /proc/modules"
			expect_not_live "$1"
		}
		trace_start() {
			grep -qw "$1" $T/available_tracers || kbp_fail "no tracer $1 in $(cat $T/available_tracers)"
			echo "$FN" >$T/set_ftrace_filter || kbp_fail "set_ftrace_filter $FN"
			echo "$1" >$T/current_tracer || kbp_fail "current_tracer $1"
			[ "$(cat $T/current_tracer)" = "$1" ] || kbp_fail "current_tracer is not $1"
			echo 1 >$T/tracing_on
		}
		trace_stop() {
			echo nop >$T/current_tracer
			echo >$T/set_ftrace_filter
		}
		# A call of the function shows in the trace (both the function
		# and the function_graph tracer name it on a data line).
		is_traced() {
			echo >$T/trace
			cat /proc/meminfo >/dev/null
			grep -v '^#' $T/trace | grep -qw "$FN"
		}
		expect_traced() { is_traced || { cat $T/trace; kbp_fail "$1: the call of $FN is not in the trace"; }; }
		expect_not_traced() { ! is_traced || kbp_fail "$1: $FN is traced"; }
		# How many ftrace ops are attached to the function, from
		# enabled_functions ("meminfo_proc_show (2) R I ...").
		ops_on_fn() {
			sed -n "s/^$FN (\([0-9]*\)).*/\1/p" $T/enabled_functions
		}
		expect_ops() {
			n=$(ops_on_fn)
			[ "${n:-0}" = "$2" ] || { grep "^$FN " $T/enabled_functions; kbp_fail "$1: $FN has ${n:-0} ftrace ops, not $2"; }
		}
		# The kprobe fires: its hit counter grows on a call.
		expect_probe_fires() {
			h=$(cat $KP/hits)
			cat /proc/meminfo >/dev/null
			[ "$(cat $KP/hits)" -gt "$h" ] || kbp_fail "$1: the kprobe did not fire (hits stay $h)"
		}
		EOF
		cat "$1"
		echo 'echo "COEXIST-OK"'
	} >"$S"
}

# run_guest BODY-FILE [runner options]: boots the guest with the patch and
# the kprobe module and runs the body.
run_guest() {
	local body=$1
	shift
	guest_script "$body"
	run vm_run "$S" --module "$LP_KO" --module "$KP_KO" "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *COEXIST-OK* ]]
}

@test "coexist: a traced function (function tracer) is livepatched, traced throughout, and unpatched" {
	cat >"$BATS_TEST_TMPDIR/body" <<-'EOF'
	step "tracing off, patch not loaded"
	expect_not_live "before the load"
	expect_not_traced "with the nop tracer"
	step "function tracer on $FN"
	trace_start function
	expect_traced "before the load"
	expect_not_live "traced, before the load"
	expect_ops "traced, before the load" 1
	step "livepatch loaded on the traced function"
	load_lp
	expect_live "traced, after the load"
	expect_traced "after the load"
	expect_ops "traced and patched" 2
	step "livepatch disabled and unloaded"
	unload_traced
	EOF
	run_guest "$BATS_TEST_TMPDIR/body"
}

@test "coexist: a livepatched function is traced (function_graph), untraced, traced again and unpatched" {
	grep -qx 'CONFIG_FUNCTION_GRAPH_TRACER=y' "$K/config"
	cat >"$BATS_TEST_TMPDIR/body" <<-'EOF'
	step "patch not loaded"
	expect_not_live "before the load"
	expect_not_traced "with the nop tracer"
	step "livepatch loaded"
	load_lp
	expect_live "after the load"
	expect_ops "patched" 1
	step "function_graph tracer on the patched $FN"
	trace_start function_graph
	expect_traced "patched"
	expect_live "patched, traced"
	expect_ops "patched and traced" 2
	step "tracer off: the patch stays"
	trace_stop
	expect_not_traced "patched, tracer off"
	expect_live "patched, tracer off"
	expect_ops "patched, tracer off" 1
	step "tracer on again, then the patch is unloaded under it"
	trace_start function_graph
	expect_traced "patched, traced again"
	unload_traced
	EOF
	run_guest "$BATS_TEST_TMPDIR/body"
}

@test "coexist: with kernel.ftrace_enabled=0 the patch can't load (-EBUSY); while it is live, ftrace_enabled can't be turned off" {
	grep -qx 'CONFIG_PROC_SYSCTL=y' "$K/config"
	cat >"$BATS_TEST_TMPDIR/body" <<-'EOF'
	F=/proc/sys/kernel/ftrace_enabled
	[ "$(cat $F)" = 1 ] || kbp_fail "ftrace_enabled is not 1 at boot"
	expect_not_live "before the load"
	step "ftrace_enabled=0: the livepatch must be refused"
	echo 0 >$F || kbp_fail "could not set ftrace_enabled=0"
	expect_load_busy "with ftrace_enabled=0"
	step "ftrace_enabled=1: the livepatch loads"
	echo 1 >$F || kbp_fail "could not set ftrace_enabled=1"
	load_lp
	expect_live "after the load"
	step "ftrace_enabled=0 must be refused while the patch is live"
	if echo 0 2>/tmp/sysctl.err >$F; then
		kbp_fail "ftrace_enabled=0 was accepted while the patch is live"
	fi
	step "sysctl refused: $(cat /tmp/sysctl.err)"
	grep -q 'Device or resource busy' /tmp/sysctl.err || kbp_fail "the sysctl write did not fail with EBUSY"
	[ "$(cat $F)" = 1 ] || kbp_fail "ftrace_enabled changed"
	expect_live "after the refused sysctl"
	step "patch unloaded: ftrace_enabled=0 is accepted again"
	unload_lp
	expect_not_live "after the unload"
	echo 0 >$F || kbp_fail "ftrace_enabled=0 refused after the unload"
	echo 1 >$F
	EOF
	run_guest "$BATS_TEST_TMPDIR/body"
	[[ $output == *"$KLP_EBUSY_MSG"* ]]
}

@test "coexist: a kprobe without a post_handler and a livepatch share the function" {
	cat >"$BATS_TEST_TMPDIR/body" <<-'EOF'
	step "kprobe (no post_handler) on $FN"
	insmod /modules/kbp-kprobe-test.ko symbol=$FN post=0 || kbp_fail "insmod kbp-kprobe-test"
	[ "$(cat $KP/on_ftrace)" = Y ] || kbp_fail "the kprobe is not armed through ftrace"
	expect_probe_fires "before the load"
	expect_not_live "probed, before the load"
	expect_ops "probed" 1
	step "livepatch loaded on the probed function"
	load_lp
	expect_live "probed, after the load"
	expect_probe_fires "patched"
	expect_ops "probed and patched" 2
	step "livepatch unloaded"
	unload_lp
	expect_not_live "probed, after the unload"
	expect_probe_fires "after the unload"
	[ "$(cat $KP/post_hits)" = 0 ] || kbp_fail "a post_handler ran"
	rmmod kbp_kprobe_test || kbp_fail "rmmod kbp_kprobe_test"
	expect_ops "after rmmod of the kprobe" 0
	step "the other order: a kprobe on the patched function"
	load_lp
	expect_live "patched, not probed"
	insmod /modules/kbp-kprobe-test.ko symbol=$FN post=0 || kbp_fail "insmod kbp-kprobe-test on the patched function"
	expect_probe_fires "patched, then probed"
	expect_live "patched, then probed"
	expect_ops "patched, then probed" 2
	rmmod kbp_kprobe_test || kbp_fail "rmmod kbp_kprobe_test"
	expect_live "patched, kprobe removed"
	unload_lp
	expect_not_live "after the second unload"
	EOF
	run_guest "$BATS_TEST_TMPDIR/body"
}

@test "coexist: a kprobe with a post_handler makes the patch fail with EBUSY; once it is gone the patch loads" {
	cat >"$BATS_TEST_TMPDIR/body" <<-'EOF'
	step "kprobe with a post_handler on $FN"
	insmod /modules/kbp-kprobe-test.ko symbol=$FN post=1 || kbp_fail "insmod kbp-kprobe-test post=1"
	[ "$(cat $KP/on_ftrace)" = Y ] || kbp_fail "the kprobe is not armed through ftrace"
	p=$(cat $KP/post_hits)
	expect_probe_fires "before the load"
	[ "$(cat $KP/post_hits)" -gt "$p" ] || kbp_fail "the post_handler did not run"
	expect_not_live "probed, before the load"
	step "livepatch on the function: must fail with EBUSY"
	expect_load_busy "beside a kprobe with a post_handler"
	expect_probe_fires "after the refused load"
	step "kprobe removed: the livepatch loads"
	rmmod kbp_kprobe_test || kbp_fail "rmmod kbp_kprobe_test"
	load_lp
	expect_live "after the load"
	step "the other order: a kprobe with a post_handler on the patched function must fail with EBUSY"
	if insmod /modules/kbp-kprobe-test.ko symbol=$FN post=1 2>/tmp/kprobe.err; then
		kbp_fail "a kprobe with a post_handler was registered on the patched function"
	fi
	step "kprobe refused: $(cat /tmp/kprobe.err)"
	grep -q 'Device or resource busy' /tmp/kprobe.err || kbp_fail "the kprobe did not fail with EBUSY"
	! grep -q '^kbp_kprobe_test ' /proc/modules || kbp_fail "kbp_kprobe_test is loaded"
	expect_live "after the refused kprobe"
	unload_lp
	expect_not_live "after the unload"
	EOF
	run_guest "$BATS_TEST_TMPDIR/body"
	[[ $output == *"$KLP_EBUSY_MSG"* ]]
	[[ $output == *"COEXIST: insmod refused: "*"Device or resource busy"* ]]
}
