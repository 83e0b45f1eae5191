#!/bin/sh
# Guest half of load.bats "readers": READERS processes read /proc/cmdline
# in a loop while the livepatch KO (whose cmdline_proc_show appends
# " kbp-patched") is loaded, enabled, disabled and removed ROUNDS times.
# Each reader keeps every distinct output it sees (by md5), counted per
# phase: "run" during the rounds, "after" once the final disable has
# finished. Set before this runs (with kbp_guest_functions): MOD, KO, ROUNDS, READERS, HOLD (how many
# reads each reader makes at least in each state).
fail() {
	echo "KBP-FAIL: $*"
	exit 1
}

cat /proc/cmdline >/tmp/old || fail "cannot read /proc/cmdline"
# The patched function prints " kbp-patched\n" instead of "\n".
printf '%s kbp-patched\n' "$(cat /tmp/old)" >/tmp/new
cmp -s /tmp/old /tmp/new && fail "old and new expected outputs are equal"
grep -q 'kbp-patched' /tmp/old && fail "the patch's marker is in the command line"
echo run >/tmp/phase

# reader I: loop until /tmp/stop exists. Files: /tmp/rI/HASH (one saved
# copy of each distinct output), /tmp/rI/PHASE.HASH (one line per read),
# /tmp/rI/errors (failed reads).
reader() {
	d=/tmp/r$1
	mkdir -p "$d"
	while [ ! -e /tmp/stop ]; do
		read -r phase </tmp/phase
		if ! cat /proc/cmdline >"$d/cur" 2>"$d/err" || [ -s "$d/err" ]; then
			{ echo "read failed:"; cat "$d/err"; } >>"$d/errors"
			continue
		fi
		h=$(md5sum <"$d/cur")
		h=${h%% *}
		[ -e "$d/$h" ] || cp "$d/cur" "$d/$h"
		echo >>"$d/$phase.$h"
	done
}

# reads I: how many reads reader I has made so far.
reads() {
	cat /tmp/r"$1"/run.* /tmp/r"$1"/after.* 2>/dev/null | wc -l
}
# hold: let every reader make at least HOLD more reads (counted, not timed:
# under TCG on a busy host the guest clock jumps).
hold() {
	_i=0
	while [ $_i -lt "$READERS" ]; do
		_goal=$(($(reads $_i) + HOLD))
		_n=0
		while [ "$(reads $_i)" -lt "$_goal" ]; do
			_n=$((_n + 1))
			[ $_n -le 600 ] || fail "reader $_i makes no progress"
			sleep 0.1
		done
		_i=$((_i + 1))
	done
}

i=0
while [ $i -lt "$READERS" ]; do
	reader $i &
	i=$((i + 1))
done
hold

t_max=0
transitions=0
# timed_wait WHAT: kbuild-patch-wait for MOD, timed; the transition must
# then be over as the kernel's own files tell.
timed_wait() {
	t0=$(kbp_uptime_cs)
	kbuild-patch-wait --timeout 60 "$MOD" || fail "$1: kbuild-patch-wait exited $?"
	dt=$(($(kbp_uptime_cs) - t0))
	[ "$dt" -le "$t_max" ] || t_max=$dt
	transitions=$((transitions + 1))
	if [ -d /sys/kernel/livepatch/"$MOD" ]; then
		[ "$(cat /sys/kernel/livepatch/"$MOD"/transition)" = 0 ] ||
			fail "$1: kbuild-patch-wait returned during the transition"
	fi
	echo "KBP-TRANSITION: $1 ${dt}0 ms"
}

round=1
while [ "$round" -le "$ROUNDS" ]; do
	insmod /modules/"$KO" || fail "round $round: insmod failed"
	timed_wait "round $round enable"
	[ "$(cat /sys/kernel/livepatch/"$MOD"/enabled)" = 1 ] || fail "round $round: not enabled"
	hold
	echo 0 >/sys/kernel/livepatch/"$MOD"/enabled || fail "round $round: disable failed"
	timed_wait "round $round disable"
	[ ! -d /sys/kernel/livepatch/"$MOD" ] || fail "round $round: the patch is still registered"
	rmmod "$MOD" || fail "round $round: rmmod failed"
	if [ "$round" -eq "$ROUNDS" ]; then
		echo after >/tmp/phase
	fi
	hold
	round=$((round + 1))
done
touch /tmp/stop
wait

# The verdict: every distinct output is exactly the old or the new one.
bad=0
i=0
while [ $i -lt "$READERS" ]; do
	d=/tmp/r$i
	[ ! -s "$d/errors" ] || { cat "$d/errors"; bad=1; }
	old=0 new=0 after_old=0 after_other=0
	for f in "$d"/run.* "$d"/after.*; do
		[ -e "$f" ] || continue
		h=${f##*.}
		n=$(wc -l <"$f")
		if cmp -s "$d/$h" /tmp/old; then
			value=old
		elif cmp -s "$d/$h" /tmp/new; then
			value=new
		else
			value=other
			echo "KBP-FAIL: reader $i saw a third output $n times:"
			od -c "$d/$h" | head -n 20
			bad=1
		fi
		case ${f##*/} in
		run.*)
			[ "$value" = old ] && old=$((old + n))
			[ "$value" = new ] && new=$((new + n))
			;;
		after.*)
			if [ "$value" = old ]; then
				after_old=$((after_old + n))
			else
				after_other=$((after_other + n))
			fi
			;;
		esac
	done
	echo "KBP-READER: $i old=$old new=$new after-old=$after_old after-other=$after_other"
	[ "$after_other" -eq 0 ] || { echo "KBP-FAIL: reader $i saw a non-old output after the final disable"; bad=1; }
	[ "$after_old" -gt 0 ] || { echo "KBP-FAIL: reader $i made no read after the final disable"; bad=1; }
	i=$((i + 1))
done
[ "$bad" = 0 ] || exit 1
echo "KBP-TRANSITIONS: $transitions, slowest ${t_max}0 ms"
echo "KBP-READERS-OK"
