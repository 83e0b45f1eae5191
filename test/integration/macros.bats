#!/usr/bin/env bats
# The patch authors' header, kmod/kbuild-patch.h, end to end: patches in
# test/integration/macros/ (outside the corpus, which builds all its
# patches into one module) use its macros; each is built with
# kbuild-patch against the test kernel and proven in the VM. The
# expected dmesg sequences are those of the kernel's own documentation
# and selftests (Documentation/livepatch/callbacks.rst,
# tools/testing/selftests/livepatch/test-callbacks.sh).

load corpus-lib

MACROS=$CORPUS/macros

setup_file() {
	corpus_setup
}

# macros_build NAME [PATCH]: builds PATCH (default macros/NAME.patch)
# into $BATS_TEST_TMPDIR/out/livepatch-NAME.ko.
macros_build() {
	local name=$1 patch=${2:-$MACROS/$1.patch}
	run kbp -o "$BATS_TEST_TMPDIR/out" -n "livepatch-$name" "$patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -f "$BATS_TEST_TMPDIR/out/livepatch-$name.ko" ]
}

# The guest's helpers: wait_transition MOD, unload MOD and step NAME,
# which prints the kernel messages since the last step that come from
# the test callbacks ("kbp-cb: ...") or the livepatch core, as
# "KBP-LOG NAME: MESSAGE" lines, and clears the buffer.
read -r -d '' GUEST_HELPERS <<'GUEST' || true
fail() { echo "KBP-FAIL: $*"; exit 1; }
wait_transition() {
	n=0
	while [ "$(cat /sys/kernel/livepatch/$1/transition 2>/dev/null)" = 1 ]; do
		n=$((n + 1))
		[ $n -le 300 ] || fail "the transition of $1 did not finish"
		sleep 0.1
	done
}
unload() {
	n=0
	until rmmod $1 2>/dev/null; do
		n=$((n + 1))
		[ $n -le 100 ] || fail "rmmod $1 failed"
		sleep 0.1
	done
}
step() {
	dmesg -c | sed -n 's/^\[[ 0-9.]*\] //; /^kbp-\|^livepatch: /s/^/KBP-LOG '"$1"': /p'
}
GUEST

# log STEP: the messages the guest printed for STEP, from $output.
log() {
	sed -n "s/^KBP-LOG $1: //p" <<<"$output" | tr -d '\r'
}

# callback_log STEP: log STEP without the livepatch core's messages that
# don't order the callbacks (only the transition boundaries stay).
callback_log() {
	log "$1" | grep -E "^kbp-|(starting|completing) (un)?patching transition|pre-patch callback failed|failed to enable" || true
}

@test "callbacks: pre/post-patch and pre/post-unpatch run in the kernel's order, per object, and a late module gets its own" {
	local ko m=livepatch_callbacks
	macros_build callbacks
	ko=$BATS_TEST_TMPDIR/out/livepatch-callbacks.ko
	cat >"$BATS_TEST_TMPDIR/guest.sh" <<EOF
#!/bin/sh
$GUEST_HELPERS
M=$m
# The livepatch core's transition messages are pr_debug (as in the
# kernel's selftests).
echo 'file kernel/livepatch/* +p' >/proc/dynamic_debug/control || fail "dynamic debug"
dmesg -c >/dev/null
hostname kbp-refuse
insmod /modules/livepatch-callbacks.ko && fail "insmod succeeded although the pre-patch callback fails"
[ -d /sys/kernel/livepatch/\$M ] && fail "the refused patch is in sysfs"
step refused
hostname kbp-ok
insmod /modules/livepatch-callbacks.ko || fail "insmod failed"
wait_transition \$M
step enable
insmod /modules/binfmt_misc.ko || fail "insmod binfmt_misc failed"
step module-coming
echo 0 >/sys/kernel/livepatch/\$M/enabled
wait_transition \$M
step disable
unload \$M
step unload
insmod /modules/livepatch-callbacks.ko || fail "insmod (module loaded) failed"
wait_transition \$M
step enable-with-module
rmmod binfmt_misc || fail "rmmod binfmt_misc failed"
step module-going
echo 0 >/sys/kernel/livepatch/\$M/enabled
wait_transition \$M
step disable-without-module
unload \$M
echo KBP-MACROS-OK
EOF
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$ko" \
		--module "$K/build/fs/binfmt_misc.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-MACROS-OK* ]]

	# The failing pre-patch callback aborts the load: no post-patch, no
	# transition. (busybox insmod retries with init_module after
	# finit_module fails: the same again.)
	diff <(callback_log refused | head -4) - <<EOF
kbp-cb: pre_patch file=utsname_sysctl obj=vmlinux
kbp-cb: pre_patch refuses
livepatch: pre-patch callback failed for object 'vmlinux'
livepatch: failed to enable patch '$m'
EOF
	if callback_log refused | grep -E 'post_patch|starting patching'; then false; fi
	diff <(callback_log enable) - <<EOF
kbp-cb: pre_patch file=utsname_sysctl obj=vmlinux
livepatch: '$m': starting patching transition
livepatch: '$m': completing patching transition
kbp-cb: post_patch file=utsname_sysctl obj=vmlinux
EOF
	# The module loaded later: its callbacks only, before its init.
	diff <(callback_log module-coming) - <<EOF
kbp-cb: pre_patch file=binfmt_misc obj=binfmt_misc
kbp-cb: post_patch file=binfmt_misc obj=binfmt_misc
EOF
	log module-coming | grep -qF "livepatch: applying patch '$m' to loading module 'binfmt_misc'"
	diff <(callback_log disable) - <<EOF
kbp-cb: pre_unpatch file=utsname_sysctl obj=vmlinux
kbp-cb: pre_unpatch file=binfmt_misc obj=binfmt_misc
livepatch: '$m': starting unpatching transition
livepatch: '$m': completing unpatching transition
kbp-cb: post_unpatch file=utsname_sysctl obj=vmlinux
kbp-cb: post_unpatch file=binfmt_misc obj=binfmt_misc
EOF
	[ -z "$(callback_log unload)" ]
	diff <(callback_log enable-with-module) - <<EOF
kbp-cb: pre_patch file=utsname_sysctl obj=vmlinux
kbp-cb: pre_patch file=binfmt_misc obj=binfmt_misc
livepatch: '$m': starting patching transition
livepatch: '$m': completing patching transition
kbp-cb: post_patch file=utsname_sysctl obj=vmlinux
kbp-cb: post_patch file=binfmt_misc obj=binfmt_misc
EOF
	# The module going away: its unpatch callbacks only.
	diff <(callback_log module-going) - <<EOF
kbp-cb: pre_unpatch file=binfmt_misc obj=binfmt_misc
kbp-cb: post_unpatch file=binfmt_misc obj=binfmt_misc
EOF
	log module-going | grep -qF "livepatch: reverting patch '$m' on unloading module 'binfmt_misc'"
	diff <(callback_log disable-without-module) - <<EOF
kbp-cb: pre_unpatch file=utsname_sysctl obj=vmlinux
livepatch: '$m': starting unpatching transition
livepatch: '$m': completing unpatching transition
kbp-cb: post_unpatch file=utsname_sysctl obj=vmlinux
EOF
}

@test "shadow variables: a patched fork path attaches one per new task, /proc reads it back, the post-unpatch callback frees them all" {
	local ko m=livepatch_shadow
	macros_build shadow
	ko=$BATS_TEST_TMPDIR/out/livepatch-shadow.ko
	cat >"$BATS_TEST_TMPDIR/guest.sh" <<EOF
#!/bin/sh
$GUEST_HELPERS
M=$m
# /proc/self/status of a new process (cat): its KbpShadow line holds its
# own pid.
shadow_ok() {
	cat /proc/self/status | awk '/^Pid:/ { p = \$2 } /^KbpShadow:/ { s = \$2 }
		END { exit !(p != "" && p == s) }'
}
shadow_ok && fail "a shadow line before the load"
dmesg -c >/dev/null
insmod /modules/livepatch-shadow.ko || fail "insmod failed"
wait_transition \$M
shadow_ok || fail "no shadow variable read back in a task forked after the load"
# Attached at fork: this shell was forked before the load.
grep KbpShadow /proc/\$\$/status && fail "a task forked before the load has a shadow variable"
sleep 1000 &
bg=\$!
grep -q "^KbpShadow:	\$bg\\\$" /proc/\$bg/status || fail "the background task has no shadow variable"
echo 0 >/sys/kernel/livepatch/\$M/enabled
wait_transition \$M
step disable
shadow_ok && fail "a shadow line after the disable"
unload \$M
kill \$bg
echo KBP-MACROS-OK
EOF
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-MACROS-OK* ]]
	# The callback saw the live tasks' variables (the background sleep at
	# least) and none was left after klp_shadow_free_all().
	log disable | grep -E '^kbp-shadow: [1-9][0-9]* attached, 0 after klp_shadow_free_all$'
}
