#!/usr/bin/env bats
# kbuild-patch-ctl, the runtime manager, in the VM. One guest boot runs
# every step (a boot costs 10-20 s under TCG): kbuild-patch-ctl and
# kbuild-patch-wait are copied into the guest as files and run from
# /modules under busybox sh, with KBP_CTL_ROOT=/tmp/root, so that
# /tmp/root/usr/lib/kbuild-patch and /tmp/root/var/lib/kbuild-patch are
# the two roots. Each step prints its output, its exit status and the
# state around it (/proc/sys/kernel/ostype, /proc/modules, the
# livepatches in sysfs, the installed files); each @test checks a part.
#
# The patches: test/integration/cumulative/uts-v1.patch and uts-v2.patch,
# built as cum-v1 and cum-v2, make /proc/sys/kernel/ostype read
# "Linux-v1" or "Linux-v2"; the corpus's orc-stack.patch changes
# hrtimer_nanosleep, in which "sleep" sleeps, which makes a transition
# stall while a sleeper is in there (as test/integration/load/blocked.sh).
# Two modules are made from these on the host: cum-other.ko, cum-v1.ko
# with another release in its vermagic; cum-v2-rebuilt.ko, cum-v2.ko with
# another build-id (a rebuild under the same name).

load ../lib/corpus-lib
load ../lib/helpers

CUM=$BATS_TEST_DIRNAME/cumulative

# The guest's steps. Set before it: REL (the test kernel's release, from
# the vermagic), OTHER (another release of the same length), and the
# helpers of kbp_guest_functions.
read -r -d '' GUEST_STEPS <<'GUEST' || true
R=/tmp/root
export KBP_CTL_ROOT=$R
LOCAL=$R/var/lib/kbuild-patch
PKG=$R/usr/lib/kbuild-patch
# step LABEL ARGS...: kbuild-patch-ctl ARGS; its output (stdout and
# stderr) as "OUT LABEL: " lines, then "RC LABEL: STATUS".
step() {
	_l=$1
	shift
	/modules/kbuild-patch-ctl "$@" >/tmp/step.out 2>&1
	_rc=$?
	sed "s/^/OUT $_l: /" /tmp/step.out
	echo "RC $_l: $_rc"
}
# state LABEL: what the kernel runs: the patched ostype, the loaded
# modules and each livepatch's enabled/transition.
state() {
	_m=$(awk '{ print $1 }' /proc/modules | sort | tr '\n' ' ')
	_p=
	for _d in /sys/kernel/livepatch/*; do
		[ -d "$_d" ] && _p="$_p${_d##*/}:$(cat "$_d/enabled")/$(cat "$_d/transition") "
	done
	echo "STATE $1: ostype=$(cat /proc/sys/kernel/ostype) modules=[${_m% }] patches=[${_p% }]"
}
# files LABEL: the files under the two roots.
files() {
	echo "FILES $1: [$(cd $R && find . -type f | sort | tr '\n' ' ' | sed 's/ $//')]"
}
# start_sleeper LABEL: a "sleep 1000" asleep in hrtimer_nanosleep
# (kbp_start_sleeper); its pid in $sleeper and as "SLEEPER LABEL: PID".
start_sleeper() {
	kbp_start_sleeper ||
		kbp_fail "the sleeper is not in hrtimer_nanosleep: $(cat /proc/$sleeper/stack)"
	echo "SLEEPER $1: $sleeper"
}
mkdir -p $R

# install, into the release of the vermagic.
state boot
files before-install
step install install /modules/cum-v1.ko
files install
cmp /modules/cum-v1.ko $LOCAL/$REL/cum-v1.ko && cmp /modules/cum-v1.json $LOCAL/$REL/cum-v1.json && echo "SAME-FILES install"
step install-again install /modules/cum-v1.ko
files install-again
step install-v2 install /modules/cum-v2.ko

# load, twice; list, info.
step load-v1 load cum-v1
state load-v1
step load-v1-again load cum_v1
state load-v1-again
step list list
step info info cum-v1

# The cumulative v2 replaces v1, whose module goes.
step load-v2 load cum-v2
state load-v2

# Refusals: another build under a loaded module's name, another release.
mkdir /tmp/alt /tmp/other
cp /modules/cum-v2-rebuilt.ko /tmp/alt/cum-v2.ko
step load-rebuilt load /tmp/alt/cum-v2.ko
state load-rebuilt
cp /modules/cum-other.ko /tmp/other/cum-v1.ko
step load-other load /tmp/other/cum-v1.ko
state load-other

# unload, twice.
step unload unload cum-v2
state unload
step unload-again unload cum_v2
state unload-again

# load --all: two patches for OTHER (one installed, one as a package
# puts it), and the two of REL with v2 made the older one: oldest first
# leaves v1 on top, which name order would not.
step install-other install /tmp/other/cum-v1.ko
mkdir -p $PKG/$OTHER
cp /modules/cum-v2.ko $PKG/$OTHER/cum-v2.ko
touch -d '2020-01-01 00:00:00' $LOCAL/$REL/cum-v2.ko
touch -d '2021-01-01 00:00:00' $LOCAL/$REL/cum-v1.ko
files load-all
state before-load-all
step load-all load --all
state load-all
step list-all list
step unload-all unload --all
state unload-all

# uninstall, twice.
step uninstall uninstall cum-v1
files uninstall
step uninstall-again uninstall cum-v1

# A stalled load: the sleeper blocks the transition of orc-stack, which
# replaces the live cum-v2. Then signal: this kernel (6.12) has no signal
# file, since it sends the blocking tasks a fake signal itself every 15
# s; the fake signal wakes the sleeper from its interruptible sleep, it
# switches on its way to user space and restarts the syscall through
# hrtimer_nanosleep_restart, outside the patched function. signal waits
# for that, then removes cum-v2's module.
step load-v2-again load cum-v2
state before-stall
start_sleeper load
echo "FAKE-SIGNALS before: $(dmesg | grep -c 'livepatch: signaling remaining tasks')"
step load-stalled --timeout 3 load /modules/livepatch-orc-stack.ko
state load-stalled
step signal --timeout 90 signal
state signal
echo "FAKE-SIGNALS signal: $(dmesg | grep -c 'livepatch: signaling remaining tasks')"
kill -0 $sleeper && echo "SLEEPER-ALIVE signal"

# A stalled unload: a new sleeper, asleep in the patch's copy of
# hrtimer_nanosleep, blocks the unpatching.
start_sleeper unload
step unload-stalled --timeout 3 unload livepatch-orc-stack
state unload-stalled
step signal-unload --timeout 90 signal livepatch_orc_stack
state signal-unload
echo "FAKE-SIGNALS signal-unload: $(dmesg | grep -c 'livepatch: signaling remaining tasks')"
kill -0 $sleeper && echo "SLEEPER-ALIVE signal-unload"
step signal-nothing signal
echo "GUEST-DONE"
GUEST

# replace_bytes IN OUT HEX NEWHEX: OUT is IN with the bytes HEX (hex
# digits) replaced by NEWHEX, of the same length, once; fails if absent.
replace_bytes() {
	perl -0777 -e '
		my ($in, $out, $from, $to) = @ARGV;
		open(my $fh, "<:raw", $in) or die "$in: $!";
		local $/;
		my $data = <$fh>;
		($from, $to) = (pack("H*", $from), pack("H*", $to));
		length($from) == length($to) or die "lengths differ";
		my $at = index($data, $from);
		$at >= 0 or die "$in: bytes not found";
		substr($data, $at, length($from)) = $to;
		open(my $oh, ">:raw", $out) or die "$out: $!";
		print $oh $data;
		close($oh) or die "$out: $!";' "$@"
}

setup_file() {
	corpus_setup
	local out=$BATS_FILE_TMPDIR/out pids=() pid
	mkdir -p "$out"
	# Three builds at once: most of a build is single-threaded.
	kbp -o "$out" -n cum-v1 "$CUM/uts-v1.patch" >"$out/cum-v1.log" 2>&1 & pids+=($!)
	kbp -o "$out" -n cum-v2 "$CUM/uts-v2.patch" >"$out/cum-v2.log" 2>&1 & pids+=($!)
	kbp -o "$out" "$CORPUS/orc-stack.patch" >"$out/orc-stack.log" 2>&1 & pids+=($!)
	for pid in "${pids[@]}"; do
		wait "$pid" || { cat "$out"/*.log >&2; return 1; }
	done

	# The release, from the vermagic (kmod's modinfo), and another one
	# of the same length (the module's offsets stay).
	REL=$(modinfo -F vermagic "$out/cum-v1.ko" | awk '{ print $1 }')
	OTHER=$(tr 0-9 1-90 <<<"$REL")
	[ -n "$REL" ]
	[ "$OTHER" != "$REL" ]
	export REL OTHER
	# cum-other.ko: cum-v1.ko for OTHER.
	replace_bytes "$out/cum-v1.ko" "$out/cum-other.ko" \
		"$(printf '\0vermagic=%s ' "$REL" | od -An -v -tx1 | tr -d ' \n')" \
		"$(printf '\0vermagic=%s ' "$OTHER" | od -An -v -tx1 | tr -d ' \n')"
	[ "$(modinfo -F vermagic "$out/cum-other.ko" | awk '{ print $1 }')" = "$OTHER" ]
	# cum-v2-rebuilt.ko: cum-v2.ko with another build-id.
	local id newid
	id=$(readelf -n "$out/cum-v2.ko" | awk '/Build ID:/ { print $3 }')
	[ ${#id} -eq 40 ]
	newid=$(tr 0-9a-f 1-9a-f0 <<<"$id")
	replace_bytes "$out/cum-v2.ko" "$out/cum-v2-rebuilt.ko" "$id" "$newid"
	[ "$(readelf -n "$out/cum-v2-rebuilt.ko" | awk '/Build ID:/ { print $3 }')" = "$newid" ]

	{
		echo '#!/bin/sh'
		echo "REL=$REL"
		echo "OTHER=$OTHER"
		kbp_guest_functions
		echo "$GUEST_STEPS"
	} >"$BATS_FILE_TMPDIR/guest.sh"
	local m mods=()
	for m in cum-v1.ko cum-v1.json cum-v2.ko cum-v2.json livepatch-orc-stack.ko \
		livepatch-orc-stack.json cum-other.ko cum-v2-rebuilt.ko; do
		mods+=(--module "$out/$m")
	done
	local st=0
	SECONDS=0
	"$REPO/scripts/kbuild-patch-vm" --kernel "$K/bzImage" --timeout 280 \
		"${mods[@]}" --module "$REPO/scripts/kbuild-patch-ctl" \
		--module "$REPO/scripts/kbuild-patch-wait" \
		"$BATS_FILE_TMPDIR/guest.sh" >"$BATS_FILE_TMPDIR/vm.log" 2>&1 || st=$?
	echo "$st" >"$BATS_FILE_TMPDIR/vm.status"
	echo "# VM run: $SECONDS s" >&3
}

setup() {
	LOG=$BATS_FILE_TMPDIR/vm.log
	OUT=$BATS_FILE_TMPDIR/out
}

# out LABEL: the output of the step LABEL.
out() { sed -n "s/^OUT $1: //p" "$LOG" | tr -d '\r'; }
# rc LABEL: its exit status.
rc() { sed -n "s/^RC $1: //p" "$LOG" | tr -d '\r'; }
# state LABEL, files LABEL: what the guest printed.
state() { sed -n "s/^STATE $1: //p" "$LOG" | tr -d '\r'; }
files() { sed -n "s/^FILES $1: //p" "$LOG" | tr -d '\r'; }
# has_line LINE: the guest printed LINE.
has_line() { tr -d '\r' <"$LOG" | grep -qxF "$1"; }

@test "the guest ran every step without a kernel splat" {
	cat "$LOG"
	[ "$(cat "$BATS_FILE_TMPDIR/vm.status")" -eq 0 ]
	has_line "GUEST-DONE"
}

@test "install: the module and its manifest land in the release of the vermagic, once" {
	local d=./var/lib/kbuild-patch/$REL
	[ "$(state boot)" = "ostype=Linux modules=[] patches=[]" ]
	[ "$(files before-install)" = "[]" ]
	[ "$(rc install)" = 0 ]
	[ "$(files install)" = "[$d/cum-v1.json $d/cum-v1.ko]" ]
	has_line "SAME-FILES install"
	# Again: nothing changes.
	[ "$(rc install-again)" = 0 ]
	[[ $(out install-again) == *"cum-v1 is already installed for $REL"* ]]
	[ "$(files install-again)" = "[$d/cum-v1.json $d/cum-v1.ko]" ]
	# A module for OTHER goes to OTHER's directory.
	[ "$(rc install-other)" = 0 ]
	[[ " $(files load-all | tr -d '[]') " == *" ./var/lib/kbuild-patch/$OTHER/cum-v1.ko "* ]]
}

@test "load makes the patch live; a second load is a no-op" {
	[ "$(rc load-v1)" = 0 ]
	[ "$(state load-v1)" = "ostype=Linux-v1 modules=[cum_v1] patches=[cum_v1:1/0]" ]
	[ "$(rc load-v1-again)" = 0 ]
	[[ $(out load-v1-again) == *"cum_v1 is already loaded and live: nothing to do"* ]]
	[ "$(state load-v1-again)" = "$(state load-v1)" ]
}

@test "loading the cumulative v2 replaces v1 and removes v1's module" {
	[ "$(state load-v1)" = "ostype=Linux-v1 modules=[cum_v1] patches=[cum_v1:1/0]" ]
	[ "$(rc load-v2)" = 0 ]
	[ "$(state load-v2)" = "ostype=Linux-v2 modules=[cum_v2] patches=[cum_v2:1/0]" ]
	[[ $(out load-v2) == *"removed cum_v1 (replaced by cum_v2)"* ]]
}

@test "load refuses another build under a loaded name, and a module for another release" {
	local live="ostype=Linux-v2 modules=[cum_v2] patches=[cum_v2:1/0]"
	[ "$(rc load-rebuilt)" = 1 ]
	[[ $(out load-rebuilt) == *"a different build of cum_v2 is loaded"*"a cumulative upgrade needs a new module name (kbuild-patch -n)"* ]]
	[ "$(state load-rebuilt)" = "$live" ]
	[ "$(rc load-other)" = 1 ]
	[[ $(out load-other) == *"/tmp/other/cum-v1.ko was built for the kernel $OTHER (its vermagic), but the running kernel is $REL"* ]]
	[ "$(state load-other)" = "$live" ]
}

@test "list and info show the modules, their release and state" {
	local list info sha
	list=$(out list)
	echo "$list"
	[[ $list == *"installed for $REL (running):"* ]]
	grep -qE "^  cum-v1 +/tmp/root/var/lib/kbuild-patch/$REL/cum-v1.ko  \[live\]$" <<<"$list"
	grep -qE "^  cum-v2 +/tmp/root/var/lib/kbuild-patch/$REL/cum-v2.ko  \[not loaded\]$" <<<"$list"
	grep -qE "^  cum_v1 +live, replace$" <<<"$list"
	info=$(out info)
	echo "$info"
	sha=$(sha256sum "$CUM/uts-v1.patch" | awk '{ print $1 }')
	grep -qx "module: *cum-v1" <<<"$info"
	grep -qx "kernel_release: *$REL" <<<"$info"
	grep -qx "replace: *true" <<<"$info"
	grep -qx "patch: *uts-v1.patch (sha256 $sha)" <<<"$info"
	grep -qx "function: *vmlinux: proc_do_uts_string (patched, changed code)" <<<"$info"
	grep -qx "vermagic: *$(modinfo -F vermagic "$OUT/cum-v1.ko" | sed 's/ *$//')" <<<"$info"
	grep -qx "kbp_patch: *uts-v1.patch:$sha" <<<"$info"
	grep -qx "state: *live" <<<"$info"
	# After load --all: OTHER's two patches, not marked running.
	list=$(out list-all)
	echo "$list"
	[[ $list == *"installed for $OTHER:"* ]]
	[[ $list != *"installed for $OTHER (running)"* ]]
	grep -qE "^  cum-v1 +/tmp/root/var/lib/kbuild-patch/$OTHER/cum-v1.ko$" <<<"$list"
	grep -qE "^  cum-v2 +/tmp/root/usr/lib/kbuild-patch/$OTHER/cum-v2.ko$" <<<"$list"
}

@test "unload reverts the change and removes the module; a second unload is a no-op" {
	[ "$(state load-other)" = "ostype=Linux-v2 modules=[cum_v2] patches=[cum_v2:1/0]" ]
	[ "$(rc unload)" = 0 ]
	[ "$(state unload)" = "ostype=Linux modules=[] patches=[]" ]
	[ "$(rc unload-again)" = 0 ]
	[[ $(out unload-again) == *"cum_v2 is not loaded: nothing to do"* ]]
	[ "$(state unload-again)" = "ostype=Linux modules=[] patches=[]" ]
}

@test "load --all loads the running release's patches oldest first and skips the other release in one line" {
	local o
	[ "$(state before-load-all)" = "ostype=Linux modules=[] patches=[]" ]
	[ "$(rc load-all)" = 0 ]
	o=$(out load-all)
	echo "$o"
	[ "$(grep -c skipping <<<"$o")" -eq 1 ]
	grep -qxF "kbuild-patch-ctl: skipping 2 patch(es) for $OTHER: the running kernel is $REL" <<<"$o"
	# v2's mtime is the older: it loads first, then v1 replaces it.
	[ "$(grep '^kbuild-patch-ctl: loading ' <<<"$o" | sed 's|.*/||')" = "cum-v2.ko
cum-v1.ko" ]
	[[ $o == *"removed cum_v2 (replaced by cum_v1)"* ]]
	[ "$(state load-all)" = "ostype=Linux-v1 modules=[cum_v1] patches=[cum_v1:1/0]" ]
	[ "$(rc unload-all)" = 0 ]
	[ "$(state unload-all)" = "ostype=Linux modules=[] patches=[]" ]
}

@test "uninstall removes the files; an unknown module is an error" {
	local d=./var/lib/kbuild-patch/$REL
	[[ $(files load-all) == *"$d/cum-v1.ko"* ]]
	[ "$(rc uninstall)" = 0 ]
	[[ $(files uninstall) != *"$d/cum-v1."* ]]
	[[ $(files uninstall) == *"$d/cum-v2.ko"* ]]
	[ "$(rc uninstall-again)" = 1 ]
	[[ $(out uninstall-again) == *"no patch 'cum-v1' is installed for $REL"* ]]
}

@test "a stalled load exits 2 and leaves the patch loaded; signal waits for the kernel's fake signal and cleans up" {
	local sleeper o
	[ "$(state before-stall)" = "ostype=Linux-v2 modules=[cum_v2] patches=[cum_v2:1/0]" ]
	sleeper=$(sed -n 's/^SLEEPER load: //p' "$LOG" | tr -d '\r')
	[ "$(rc load-stalled)" = 2 ]
	o=$(out load-stalled)
	echo "$o"
	# kbuild-patch-wait named the sleeper; ctl said it stalled.
	grep -q "^pid $sleeper (sleep): patch_state 0, target 1" <<<"$o"
	[[ $o == *"livepatch_orc_stack: the transition to the patched state has not finished after 3 s; the patch stays loaded"* ]]
	[[ $o != *"removed cum_v2"* ]]
	[[ $(state load-stalled) == *" modules=[cum_v2 livepatch_orc_stack] patches=[cum_v2:1/0 livepatch_orc_stack:1/1]" ]]
	[ "$(rc signal)" = 0 ]
	o=$(out signal)
	echo "$o"
	[[ $o == *"livepatch_orc_stack: this kernel sends the tasks that block the transition a fake signal itself"* ]]
	[[ $o == *"livepatch_orc_stack: the transition to the patched state has finished"* ]]
	[[ $o == *"removed cum_v2 (replaced or disabled by the finished transition)"* ]]
	# orc-stack doesn't change ostype: cum-v2's change is gone with it.
	[ "$(state signal)" = "ostype=Linux modules=[livepatch_orc_stack] patches=[livepatch_orc_stack:1/0]" ]
	# The kernel's fake signal (its first one of a transition is in the
	# log) woke the sleeper, which lives on.
	has_line "FAKE-SIGNALS before: 0"
	has_line "FAKE-SIGNALS signal: 1"
	has_line "SLEEPER-ALIVE signal"
}

@test "a stalled unload exits 2 and leaves the patch; signal finishes it and removes the module" {
	[ "$(rc unload-stalled)" = 2 ]
	[[ $(out unload-stalled) == *"livepatch_orc_stack: the transition to the unpatched state has not finished after 3 s"* ]]
	[ "$(state unload-stalled)" = "ostype=Linux modules=[livepatch_orc_stack] patches=[livepatch_orc_stack:0/1]" ]
	[ "$(rc signal-unload)" = 0 ]
	[[ $(out signal-unload) == *"removed livepatch_orc_stack (replaced or disabled by the finished transition)"* ]]
	[ "$(state signal-unload)" = "ostype=Linux modules=[] patches=[]" ]
	has_line "FAKE-SIGNALS signal-unload: 2"
	has_line "SLEEPER-ALIVE signal-unload"
	[ "$(rc signal-nothing)" = 0 ]
	[[ $(out signal-nothing) == *"no livepatch is in transition: nothing to do"* ]]
}

@test "on the host, under dash and busybox sh: install refuses what would not load, and the usage" {
	local sh ctl=$REPO/scripts/kbuild-patch-ctl
	mkdir -p "$BATS_TEST_TMPDIR/x"
	cp "$OUT/cum-v1.ko" "$BATS_TEST_TMPDIR/x/fix.ko"
	cp "$OUT/cum-v2-rebuilt.ko" "$BATS_TEST_TMPDIR/x/cum-v2.ko"
	for sh in dash "busybox sh"; do
		export KBP_CTL_ROOT=$BATS_TEST_TMPDIR/root-${sh// /-}
		run $sh "$ctl" --help
		[ "$status" -eq 0 ]
		[[ $output == *"Exit status:"*"  0   "*"  1   "*"  2   "* ]]
		run $sh "$ctl"
		[ "$status" -eq 1 ]
		run $sh "$ctl" frobnicate
		[ "$status" -eq 1 ]
		[[ $output == *"unknown command 'frobnicate'"* ]]
		# Not a livepatch: a plain module of the test kernel.
		run $sh "$ctl" install "$K/build/fs/binfmt_misc.ko"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ $output == *"binfmt_misc.ko: not a livepatch module (its modinfo has no livepatch=Y)"* ]]
		# -k that the vermagic contradicts.
		run $sh "$ctl" -k "$OTHER" install "$OUT/cum-v1.ko"
		[ "$status" -eq 1 ]
		[[ $output == *"cum-v1.ko was built for $REL (its vermagic), not $OTHER"* ]]
		# A renamed file: its module is still cum_v1.
		run $sh "$ctl" install "$BATS_TEST_TMPDIR/x/fix.ko"
		[ "$status" -eq 1 ]
		[[ $output == *"the module inside is named cum_v1 (modinfo name), not fix"* ]]
		[ ! -e "$KBP_CTL_ROOT" ]
		# Another build under an installed name.
		run $sh "$ctl" install "$OUT/cum-v2.ko"
		[ "$status" -eq 0 ]
		[ -f "$KBP_CTL_ROOT/var/lib/kbuild-patch/$REL/cum-v2.ko" ]
		run $sh "$ctl" install "$BATS_TEST_TMPDIR/x/cum-v2.ko"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ $output == *"a different build of cum_v2 is installed for $REL"*"a cumulative upgrade needs a new module name (kbuild-patch -n)"* ]]
		cmp "$OUT/cum-v2.ko" "$KBP_CTL_ROOT/var/lib/kbuild-patch/$REL/cum-v2.ko"
		# info reads the installed copy, for a release given with -k.
		run $sh "$ctl" -k "$REL" info cum_v2
		[ "$status" -eq 0 ]
		grep -qx "patch: *uts-v2.patch (sha256 $(sha256sum "$CUM/uts-v2.patch" | awk '{ print $1 }'))" <<<"$output"
		[[ $output == *"state:"*"for $REL, not the running kernel"* ]] || [ "$(uname -r)" = "$REL" ]
		run $sh "$ctl" --timeout x load cum-v2
		[ "$status" -eq 1 ]
		[[ $output == *"--timeout 'x' is not a whole number of seconds"* ]]
	done
}
