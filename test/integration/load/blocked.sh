#!/bin/sh
# Guest half of load.bats "blocked": the livepatch KO changes
# hrtimer_nanosleep, and a "sleep 1000" sleeps inside it, so the
# transition cannot finish while it sleeps there. kbuild-patch-wait must
# time out (exit 2) naming the sleeper (pid, comm) with the patched
# function on its kernel stack. Then:
#  1. patching: killing the sleeper lets the transition finish;
#  2. unpatching: a new sleeper, now asleep in the livepatch's copy of the
#     function, blocks the disable until the kernel's fake signal (sent to
#     blocked tasks every 15th retry, a retry a second) wakes it; it
#     survives and the transition finishes. The wait is generous: under TCG
#     on a busy host the guest clock jumps, and date runs ahead of the
#     kernel's retries.
# Set before this runs (with kbp_guest_functions): MOD, KO.
fail() {
	echo "KBP-FAIL: $*"
	echo "uptime $(cat /proc/uptime); livepatch and clocksource messages:"
	dmesg | grep -E 'livepatch|clocksource'
	[ -z "${sleeper:-}" ] || grep -E '^(State|SigPnd|ShdPnd)' /proc/"$sleeper"/status
	exit 1
}
# start_sleeper: a "sleep 1000" asleep in hrtimer_nanosleep
# (kbp_start_sleeper); its pid in $sleeper.
start_sleeper() {
	kbp_start_sleeper ||
		fail "the sleeper is not in hrtimer_nanosleep: $(cat /proc/"$sleeper"/stack)"
}
# expect_blocked WHAT FRAME-REGEX: kbuild-patch-wait times out and names
# the sleeper, its comm, and FRAME-REGEX on its stack.
expect_blocked() {
	kbuild-patch-wait --timeout 3 "$MOD" >/tmp/out 2>/tmp/err
	rc=$?
	cat /tmp/out /tmp/err
	[ "$rc" = 2 ] || fail "$1: kbuild-patch-wait exited $rc, not 2"
	[ "$(cat /sys/kernel/livepatch/"$MOD"/transition)" = 1 ] || fail "$1: not in transition"
	# The sleeper's block: its header line, then its stack lines.
	awk -v pid="$sleeper" '
		/^pid / { inblock = ($2 == pid && $3 == "(sleep):") }
		inblock' /tmp/out >/tmp/block
	[ -s /tmp/block ] || fail "$1: the sleeper (pid $sleeper, sleep) is not named"
	grep -qE "$2" /tmp/block || fail "$1: the sleeper's stack lacks $2"
	grep -q "timeout: the transition of $MOD" /tmp/err || fail "$1: no summary on stderr"
	echo "KBP-BLOCKED: $1: pid $sleeper (sleep) named with its stack"
}

start_sleeper
insmod /modules/"$KO" || fail "insmod failed"
expect_blocked patching '^    \[<[0-9a-f]+>\] hrtimer_nanosleep\+0x[0-9a-f]+/0x[0-9a-f]+$'
[ "$(cat /proc/"$sleeper"/patch_state)" = 0 ] || fail "the sleeper's patch_state is not 0"
kill -9 "$sleeper"
wait "$sleeper" 2>/dev/null
kbuild-patch-wait --timeout 30 "$MOD" || fail "patching: kbuild-patch-wait exited $? after the kill"
[ "$(cat /sys/kernel/livepatch/"$MOD"/transition)" = 0 ] || fail "patching: still in transition"
echo "KBP-UNBLOCKED: patching finished once the sleeper was killed"

start_sleeper
echo 0 >/sys/kernel/livepatch/"$MOD"/enabled || fail "disable failed"
t0=$(kbp_uptime_cs)
expect_blocked unpatching "^    \\[<[0-9a-f]+>\\] hrtimer_nanosleep\\+0x[0-9a-f]+/0x[0-9a-f]+ \\[$MOD\\]\$"
kbuild-patch-wait --timeout 120 "$MOD" || fail "unpatching: kbuild-patch-wait exited $? (the fake signal did not help)"
dt=$((($(kbp_uptime_cs) - t0) / 100))
[ ! -d /sys/kernel/livepatch/"$MOD" ] || fail "unpatching: still registered"
kill -0 "$sleeper" || fail "the sleeper did not survive the fake signal"
dmesg | grep -q "livepatch: signaling remaining tasks" || fail "no fake signal in dmesg"
echo "KBP-UNBLOCKED: unpatching finished after ${dt} s by the kernel's fake signal; the sleeper lives"
kill -9 "$sleeper"
rmmod "$MOD" || fail "rmmod failed"
echo "KBP-BLOCKED-OK"
