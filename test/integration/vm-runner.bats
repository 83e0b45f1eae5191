#!/usr/bin/env bats
# vm-runner.bats: tests for scripts/kbuild-patch-vm on the real test kernel:
# the exit-status contract (script status, 124, 125, 126, 127), --expect and
# its WARN-splat exemption, the guest environment, cleanup, and the kernel's
# own samples/livepatch module patching and unpatching /proc/cmdline.
# shellcheck disable=SC2154,SC2030,SC2031 # bats sets $stderr; tests are subshells

bats_require_minimum_version 1.5.0
load ../lib/helpers

setup_file() {
	K=$(kbp_test_kernel)
	export K
	kbp_build_ext_module "$(kbp_module_copy warn-test)"
	kbp_build_ext_module "$(kbp_module_copy hello-test)"

	local lp=$BATS_FILE_TMPDIR/modules/livepatch-sample
	mkdir -p "$lp"
	cp "$K/source/samples/livepatch/livepatch-sample.c" "$lp/"
	chmod u+w "$lp/livepatch-sample.c"
	echo 'obj-m := livepatch-sample.o' >"$lp/Kbuild"
	kbp_build_ext_module "$lp"
}

setup() {
	MODS=$BATS_FILE_TMPDIR/modules
	WARN_KO=$MODS/warn-test/kbp-warn-test.ko
	HELLO_KO=$MODS/hello-test/kbp-hello-test.ko
	LP_KO=$MODS/livepatch-sample/livepatch-sample.ko
	S=$BATS_TEST_TMPDIR/script.sh
}

# line_of FIXED-STRING FILE: the line number of the one line holding the string.
line_of() {
	local n
	n=$(grep -nF -- "$1" "$2" | cut -d: -f1)
	if [ -z "$n" ] || [ "$(printf '%s\n' "$n" | wc -l)" -ne 1 ]; then
		echo "line_of: '$1' is not on exactly one line of $2" >&2
		return 1
	fi
	echo "$n"
}

@test "--help documents usage and every exit code" {
	run -0 "$KBP_VM" --help
	[[ $output == *"Usage: kbuild-patch-vm --kernel BZIMAGE"* ]]
	for code in 124 125 126 127; do
		[[ $output == *"  $code "* ]]
	done
	[[ $output == *"---[ end trace"* ]]
}

@test "a missing kernel image exits 1 and names the file" {
	echo true >"$S"
	run -1 --separate-stderr "$KBP_VM" --kernel "$BATS_TEST_TMPDIR/no-such-bzImage" "$S"
	[[ $stderr == *"$BATS_TEST_TMPDIR/no-such-bzImage"* ]]
	[[ $stderr == *"build-test-kernel"* ]]
}

@test "a vmlinux passed as the kernel exits 1 and says it is not a bzImage" {
	echo true >"$S"
	run -1 --separate-stderr "$KBP_VM" --kernel "$K/vmlinux" "$S"
	[[ $stderr == *"$K/vmlinux"*"not a bzImage"* ]]
}

@test "a missing module exits 1 and names the file" {
	echo true >"$S"
	run -1 --separate-stderr kbp_vm --module "$BATS_TEST_TMPDIR/none.ko" "$S"
	[[ $stderr == *"$BATS_TEST_TMPDIR/none.ko"* ]]
}

@test "script exit status 0 passes through; console streams to stdout; --keep-log" {
	token=kbp-token-$RANDOM$RANDOM
	echo "echo $token" >"$S"
	log=$BATS_TEST_TMPDIR/console.log
	run -0 --separate-stderr kbp_vm --keep-log "$log" "$S"
	[[ $output == *"Linux version"* ]]
	[[ $output == *"$token"* ]]
	[[ $output =~ KBP-VM-STATUS\[[0-9a-f]{24}\]:\ 0 ]]
	grep -qx "$token" "$log"
	run -1 grep -c $'\r' "$log"
}

@test "script exit status 7 passes through" {
	local console
	printf 'echo before\nexit 7\necho after\n' >"$S"
	run -7 --separate-stderr kbp_vm "$S"
	echo "$output"
	# The script's own lines (the console also carries the kernel's,
	# where "after" is a common word).
	console=${output//$'\r'/}
	grep -qx before <<<"$console"
	! grep -qx after <<<"$console" || false
}

@test "set -e is not forced on the script" {
	printf 'false\necho still-running\nexit 5\n' >"$S"
	run -5 kbp_vm "$S"
	[[ $output == *still-running* ]]
}

@test "an installed copy works from another directory, script from stdin" {
	mkdir -p "$BATS_TEST_TMPDIR/prefix/bin" "$BATS_TEST_TMPDIR/elsewhere"
	install -m 755 "$KBP_ROOT/scripts/kbuild-patch-vm" "$BATS_TEST_TMPDIR/prefix/bin/"
	cd "$BATS_TEST_TMPDIR/elsewhere"
	run -3 "$BATS_TEST_TMPDIR/prefix/bin/kbuild-patch-vm" --kernel "$K/bzImage" --timeout 120 - <<<'exit 3'
}

@test "a faked status marker is not taken for the status" {
	cat >"$S" <<'EOF'
echo 'KBP-VM-STATUS: 0'
echo 'KBP-VM-STATUS[0123456789abcdef01234567]: 0'
exit 3
EOF
	run -3 kbp_vm "$S"
}

@test "timeout: exit 124, qemu killed, temp dir removed" {
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	echo 'sleep 600' >"$S"
	SECONDS=0
	run -124 --separate-stderr kbp_vm --timeout 10 "$S"
	[ "$SECONDS" -lt 60 ]
	[[ $stderr == *timeout* ]]
	[ -z "$(ls -A "$TMPDIR")" ]
	run -1 pgrep -f "$TMPDIR/kbuild-patch-vm"
}

@test "SIGTERM to the runner kills qemu and removes the temp dir" {
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	printf 'echo kbp-sleeping\nsleep 600\n' >"$S"
	log=$BATS_TEST_TMPDIR/out
	"$KBP_VM" --kernel "$K/bzImage" --timeout 120 "$S" >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		grep -q kbp-sleeping "$log" && break
		sleep 0.1
	done
	grep -q kbp-sleeping "$log"
	pgrep -f "$TMPDIR/kbuild-patch-vm" >/dev/null
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	[ -z "$(ls -A "$TMPDIR")" ]
	run -1 pgrep -f "$TMPDIR/kbuild-patch-vm"
}

@test "a guest that reboots before the marker exits 126" {
	printf 'echo b > /proc/sysrq-trigger\nsleep 30\n' >"$S"
	run -126 --separate-stderr kbp_vm "$S"
	[[ $output == *"sysrq: Resetting"* ]]
	[[ $output != *KBP-VM-STATUS* ]]
	[[ $stderr == *"never printed its status marker"* ]]
}

@test "a module WARN exits 125 even though the script passed" {
	line=$(line_of 'WARN(1, "kbp warn test' "$MODS/warn-test/warn.c")
	echo 'insmod /modules/kbp-warn-test.ko' >"$S"
	run -125 --separate-stderr kbp_vm --module "$WARN_KO" "$S"
	[[ $stderr == *"guest script exited with status 0"* ]]
	[[ $stderr == *"unexpected kernel splat"* ]]
	[[ $stderr =~ WARNING:\ .*\ at\ .*warn\.c:$line\  ]]
	[[ $stderr == *"Call Trace:"* ]]
}

@test "--expect on the WARN's file and line exempts the whole splat" {
	line=$(line_of 'WARN(1, "kbp warn test' "$MODS/warn-test/warn.c")
	echo 'insmod /modules/kbp-warn-test.ko' >"$S"
	run -0 --separate-stderr kbp_vm --module "$WARN_KO" \
		--expect "WARNING: .* at .*warn\.c:$line " "$S"
	# the exempted splat really was on the console
	[[ $output == *"Call Trace:"* ]]
	[[ $output == *"---[ end trace"* ]]
}

@test "--expect exempts only the splat it matches" {
	line=$(line_of 'WARN(1, "kbp warn test' "$MODS/warn-test/warn.c")
	line2=$(line_of 'WARN(1, "kbp second warn' "$MODS/warn-test/warn.c")
	echo 'insmod /modules/kbp-warn-test.ko second=1' >"$S"
	run -125 --separate-stderr kbp_vm --module "$WARN_KO" \
		--expect "WARNING: .* at .*warn\.c:$line " "$S"
	[[ $stderr =~ warn\.c:$line2\  ]]
	[[ ! $stderr =~ warn\.c:$line\  ]]
}

@test "an --expect that matches nothing exits 127 and names the regex" {
	echo 'echo kbp-present' >"$S"
	run -127 --separate-stderr kbp_vm --expect 'kbp-present' --expect 'kbp-absent-[0-9]+' "$S"
	[[ $stderr == *"'kbp-absent-[0-9]+'"* ]]
	[[ $stderr != *"'kbp-present'"* ]]
}

@test "modules are under /modules in the guest, byte for byte" {
	warn_sum=$(md5sum <"$WARN_KO" | cut -d' ' -f1)
	hello_sum=$(md5sum <"$HELLO_KO" | cut -d' ' -f1)
	cat >"$S" <<EOF
set -e
[ "\$(md5sum </modules/kbp-warn-test.ko | cut -d' ' -f1)" = $warn_sum ]
[ "\$(md5sum </modules/kbp-hello-test.ko | cut -d' ' -f1)" = $hello_sum ]
insmod /modules/kbp-hello-test.ko
grep -q '^kbp_hello_test ' /proc/modules
rmmod kbp_hello_test
if grep -q '^kbp_hello_test ' /proc/modules; then exit 1; fi
EOF
	run -0 kbp_vm --module "$WARN_KO" --module "$HELLO_KO" \
		--expect 'kbp hello test loaded' --expect 'kbp hello test unloaded' "$S"
}

@test "proc, sysfs, devtmpfs, debugfs and tracefs are mounted; --append" {
	cat >"$S" <<'EOF'
grep -q '^proc /proc proc ' /proc/mounts || exit 10
grep -q '^sysfs /sys sysfs ' /proc/mounts || exit 11
grep -q ' /dev devtmpfs ' /proc/mounts || exit 12
[ -c /dev/null ] || exit 13
grep -q ' /sys/kernel/debug debugfs ' /proc/mounts || exit 14
[ -e /sys/kernel/debug/dynamic_debug/control ] || exit 15
grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts || exit 16
grep -qw function /sys/kernel/tracing/available_tracers || exit 17
[ "$(id -u)" = 0 ] || exit 18
grep -q '^console=ttyS0 panic=-1 no_timer_check kbp.a=1 kbp.b=2$' /proc/cmdline || exit 19
exit 0
EOF
	run -0 kbp_vm --append kbp.a=1 --append kbp.b=2 "$S"
}

@test "samples/livepatch patches and unpatches /proc/cmdline" {
	msg='this has been live patched'
	{
		kbp_guest_functions
		cat <<EOF
orig=\$(cat /proc/cmdline)
case \$orig in *console=ttyS0*) ;; *) kbp_fail "unexpected cmdline: \$orig" 10 ;; esac
case \$orig in *'$msg'*) kbp_fail "patched before the load" 11 ;; esac
insmod /modules/livepatch-sample.ko || kbp_fail "insmod failed" 12
kbp_wait_transition livepatch_sample || exit 13
grep -qF '$msg' /proc/cmdline || kbp_fail "not patched after the load" 14
echo 0 >/sys/kernel/livepatch/livepatch_sample/enabled || kbp_fail "disable failed" 15
kbp_wait_transition livepatch_sample || exit 16
kbp_rmmod livepatch_sample || exit 17
[ "\$(cat /proc/cmdline)" = "\$orig" ] || kbp_fail "cmdline not restored: \$(cat /proc/cmdline)" 18
EOF
	} >"$S"
	run -0 --separate-stderr kbp_vm --module "$LP_KO" \
		--expect "livepatch: enabling patch 'livepatch_sample'" \
		--expect "livepatch: 'livepatch_sample': patching complete" \
		--expect "livepatch: 'livepatch_sample': unpatching complete" "$S"
}
