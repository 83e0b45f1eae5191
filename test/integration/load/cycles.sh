#!/bin/sh
# Guest half of load.bats "cycles": CYCLES times insmod, wait for the
# patching transition, check the patch is live in vmlinux (/proc/cmdline)
# and in the module binfmt_misc (its status file), disable, wait, rmmod,
# and check that nothing is left: the livepatch module is gone, the old
# behaviour is back and binfmt_misc's reference count is at its baseline.
# Set before this runs (with kbp_guest_functions): MOD, KO, CYCLES.
fail() {
	echo "KBP-FAIL: cycle ${c:-0}: $*"
	exit 1
}

insmod /modules/binfmt_misc.ko || fail "insmod binfmt_misc failed"
mkdir -p /tmp/bm
mount -t binfmt_misc none /tmp/bm || fail "cannot mount binfmt_misc"
old_cmdline=$(cat /proc/cmdline)
old_status=$(cat /tmp/bm/status)
[ "$old_status" = enabled ] || fail "binfmt_misc status reads '$old_status'"
base_ref=$(cat /sys/module/binfmt_misc/refcnt)
echo "KBP-BASELINE: binfmt_misc refcnt $base_ref"

t_start=$(kbp_uptime_cs)
c=1
while [ "$c" -le "$CYCLES" ]; do
	insmod /modules/"$KO" || fail "insmod failed"
	kbuild-patch-wait -t 60 "$MOD" || fail "the patching transition: kbuild-patch-wait exited $?"
	[ "$(cat /sys/kernel/livepatch/"$MOD"/transition)" = 0 ] || fail "still in transition"
	[ "$(cat /sys/kernel/livepatch/"$MOD"/enabled)" = 1 ] || fail "not enabled"
	[ "$(cat /sys/module/"$MOD"/refcnt)" = 1 ] || fail "an enabled patch holds refcnt $(cat /sys/module/"$MOD"/refcnt), not 1"
	[ "$(cat /proc/cmdline)" = "$old_cmdline kbp-patched" ] || fail "vmlinux part not live: $(cat /proc/cmdline)"
	[ "$(cat /tmp/bm/status)" = "enabled binfmt_misc kbp-module" ] || fail "binfmt_misc part not live: $(cat /tmp/bm/status)"
	echo 0 >/sys/kernel/livepatch/"$MOD"/enabled || fail "disable failed"
	kbuild-patch-wait -t 60 "$MOD" || fail "the unpatching transition: kbuild-patch-wait exited $?"
	[ ! -d /sys/kernel/livepatch/"$MOD" ] || fail "still registered after the unpatching"
	# kbuild-patch-wait returns once the kernel has dropped its module
	# reference: rmmod must work at once, without a retry.
	rmmod "$MOD" || fail "rmmod failed"
	[ ! -e /sys/module/"$MOD" ] || fail "/sys/module/$MOD is still there after rmmod"
	! lsmod | grep -q "^$MOD " || fail "lsmod still lists $MOD"
	[ "$(cat /proc/cmdline)" = "$old_cmdline" ] || fail "cmdline not restored: $(cat /proc/cmdline)"
	[ "$(cat /tmp/bm/status)" = "$old_status" ] || fail "binfmt_misc status not restored: $(cat /tmp/bm/status)"
	ref=$(cat /sys/module/binfmt_misc/refcnt)
	[ "$ref" = "$base_ref" ] || fail "binfmt_misc refcnt is $ref, baseline $base_ref"
	c=$((c + 1))
done
c=$((c - 1))
dt=$(($(kbp_uptime_cs) - t_start))

# The kernel's own account: one completed transition each way per cycle,
# and no failure.
patched=$(dmesg | grep -c "livepatch: '$MOD': patching complete")
unpatched=$(dmesg | grep -c "livepatch: '$MOD': unpatching complete")
echo "KBP-CYCLES: $c cycles in ${dt}0 ms; dmesg: $patched patching complete, $unpatched unpatching complete"
[ "$patched" = "$CYCLES" ] || fail "dmesg shows $patched completed patching transitions, not $CYCLES"
[ "$unpatched" = "$CYCLES" ] || fail "dmesg shows $unpatched completed unpatching transitions, not $CYCLES"
if dmesg | grep -iE 'livepatch.*fail|failed to'; then
	fail "dmesg reports a failure"
fi
umount /tmp/bm
rmmod binfmt_misc || fail "binfmt_misc cannot be removed afterwards"
echo "KBP-CYCLES-OK"
