#!/usr/bin/env bats
# The patch authors' header, kmod/kbuild-patch.h, end to end: patches in
# test/integration/macros/ (outside the corpus, which builds all its
# patches into one module) use its macros; each is built with
# kbuild-patch against the test kernel and proven in the VM. The
# expected dmesg sequences are those of the kernel's own documentation
# and selftests (Documentation/livepatch/callbacks.rst,
# tools/testing/selftests/livepatch/test-callbacks.sh).
# test-cost: long

load ../lib/corpus-lib

MACROS=$INTEGRATION/macros

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

@test "callbacks: pre/post-patch and pre/post-unpatch run in the kernel's order, per object (two files of vmlinux, a module), and a late module gets its own" {
	local ko m=livepatch_callbacks
	macros_build callbacks
	ko=$BATS_TEST_TMPDIR/out/livepatch-callbacks.ko
	# The kernel calls the callbacks through klp_callbacks' pointers: the
	# functions they point to need ENDBR (IBT, which TCG doesn't check).
	run "$TESTLIB/check-endbr" "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'address taken, endbr64$' <<<"$output")" -ge 8 ]
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

	# vmlinux has callbacks in two files: fs/exec.c links before
	# kernel/utsname_sysctl.c, so its pre-/post-patch callbacks run
	# first and its pre-/post-unpatch ones last (kbuild-patch.h).
	# The failing pre-patch callback aborts the load: no post-patch, no
	# transition. (busybox insmod retries with init_module after
	# finit_module fails: the same again.)
	diff <(callback_log refused | head -5) - <<EOF
kbp-cb: pre_patch file=exec obj=vmlinux
kbp-cb: pre_patch file=utsname_sysctl obj=vmlinux
kbp-cb: pre_patch refuses
livepatch: pre-patch callback failed for object 'vmlinux'
livepatch: failed to enable patch '$m'
EOF
	if callback_log refused | grep -E 'post_patch|starting patching'; then false; fi
	# Written out, not generated: the order of the lines is what the
	# kernel's callback ordering must produce.
	diff <(callback_log enable) - <<EOF
kbp-cb: pre_patch file=exec obj=vmlinux
kbp-cb: pre_patch file=utsname_sysctl obj=vmlinux
livepatch: '$m': starting patching transition
livepatch: '$m': completing patching transition
kbp-cb: post_patch file=exec obj=vmlinux
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
kbp-cb: pre_unpatch file=exec obj=vmlinux
kbp-cb: pre_unpatch file=binfmt_misc obj=binfmt_misc
livepatch: '$m': starting unpatching transition
livepatch: '$m': completing unpatching transition
kbp-cb: post_unpatch file=utsname_sysctl obj=vmlinux
kbp-cb: post_unpatch file=exec obj=vmlinux
kbp-cb: post_unpatch file=binfmt_misc obj=binfmt_misc
EOF
	[ -z "$(callback_log unload)" ]
	diff <(callback_log enable-with-module) - <<EOF
kbp-cb: pre_patch file=exec obj=vmlinux
kbp-cb: pre_patch file=utsname_sysctl obj=vmlinux
kbp-cb: pre_patch file=binfmt_misc obj=binfmt_misc
livepatch: '$m': starting patching transition
livepatch: '$m': completing patching transition
kbp-cb: post_patch file=exec obj=vmlinux
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
kbp-cb: pre_unpatch file=exec obj=vmlinux
livepatch: '$m': starting unpatching transition
livepatch: '$m': completing unpatching transition
kbp-cb: post_unpatch file=utsname_sysctl obj=vmlinux
kbp-cb: post_unpatch file=exec obj=vmlinux
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

# state_patch VERSION: macros/state.patch.in with the version filled in.
state_patch() {
	sed "s/@VERSION@/$1/g" "$MACROS/state.patch.in" >"$BATS_TEST_TMPDIR/state-v$1.patch"
	echo "$BATS_TEST_TMPDIR/state-v$1.patch"
}

@test "KBP_STATE: a replacing patch with a lower state version, or without the state, is refused at load; a higher one replaces and takes the state over" {
	local v out=$BATS_TEST_TMPDIR/out
	for v in 1 2 3; do
		macros_build "state-v$v" "$(state_patch "$v")"
	done
	# A replacing patch that doesn't declare the state at all.
	macros_build callbacks
	{
		echo '#!/bin/sh'
		echo "$GUEST_HELPERS"
		cat <<'EOF'
LP=/sys/kernel/livepatch
dmesg -c >/dev/null
insmod /modules/livepatch-state-v2.ko || fail "insmod v2 failed"
wait_transition livepatch_state_v2
step v2
insmod /modules/livepatch-state-v1.ko && fail "v1 (lower state version) loaded"
[ -d $LP/livepatch_state_v1 ] && fail "v1 is in sysfs"
step v1
insmod /modules/livepatch-callbacks.ko && fail "a replacing patch without the state loaded"
[ -d $LP/livepatch_callbacks ] && fail "the patch without the state is in sysfs"
step nostate
[ "$(cat $LP/livepatch_state_v2/enabled)" = 1 ] || fail "v2 is no longer enabled"
insmod /modules/livepatch-state-v3.ko || fail "insmod v3 failed"
wait_transition livepatch_state_v3
n=0
while [ -d $LP/livepatch_state_v2 ]; do
	n=$((n + 1))
	[ $n -le 100 ] || fail "v2 was not replaced"
	sleep 0.1
done
[ "$(cat $LP/livepatch_state_v3/enabled)" = 1 ] || fail "v3 is not enabled"
step v3
unload livepatch_state_v2
echo 0 >$LP/livepatch_state_v3/enabled
wait_transition livepatch_state_v3
unload livepatch_state_v3
echo KBP-MACROS-OK
EOF
	} >"$BATS_TEST_TMPDIR/guest.sh"
	# The VM run's own lines, as in every VM test; only the modules differ.
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-state-v1.ko" \
		--module "$out/livepatch-state-v2.ko" --module "$out/livepatch-state-v3.ko" \
		--module "$out/livepatch-callbacks.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-MACROS-OK* ]]
	# KBP_GET_STATE() finds the patch's own state.
	log v2 | grep -qx 'kbp-state: version 2 live, data: created by version 2'
	# kernel/livepatch/core.c, klp_enable_patch()
	log v1 | grep -qF 'livepatch: Livepatch patch (livepatch_state_v1) is not compatible with the already installed livepatches.'
	log nostate | grep -qF 'livepatch: Livepatch patch (livepatch_callbacks) is not compatible with the already installed livepatches.'
	if log nostate | grep -q 'kbp-cb:'; then false; fi
	# v3 took the state's data over from v2 (klp_get_prev_state()).
	log v3 | grep -qx 'kbp-state: version 3 live, data: created by version 2'
}

@test "KBP_IGNORE_FUNCTION/SECTION: a patch whose only changes are ignored exits 3; with another change, the ignored code is not in the module" {
	local out=$BATS_TEST_TMPDIR/out ko
	# ignore.patch changes proc_pid_personality and proc_pid_limits
	# (their strings), and ignores both.
	grep -q '^+.*KBP_IGNORE_FUNCTION(proc_pid_personality)' "$MACROS/ignore.patch"
	grep -q '^+.*KBP_IGNORE_SECTION(".text.proc_pid_limits")' "$MACROS/ignore.patch"
	# run, echo, status, then this test's own messages: kept spelled out.
	run kbp -o "$out" "$MACROS/ignore.patch"
	echo "$output"
	[ "$status" -eq 3 ]
	# Seen as changed, and ignored.
	[[ $output == *"changes ignored (KBP_IGNORE_FUNCTION): proc_pid_personality"* ]]
	[[ $output == *"changes ignored (KBP_IGNORE_SECTION): .text.proc_pid_limits"* ]]
	[ -z "$(ls -A "$out" 2>/dev/null)" ]

	# With a real change to proc_oom_score on top.
	run kbp -o "$out" -n livepatch-ignore "$MACROS/ignore.patch" "$MACROS/ignore-oom.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	ko=$out/livepatch-ignore.ko
	readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND" { print $8 }' | grep -qx proc_oom_score
	if readelf -sW "$ko" | awk '$7 != "UND" { print $8 }' |
		grep -E '^proc_pid_(personality|limits)$'; then false; fi
	if readelf -SW "$ko" | grep -E 'proc_pid_(personality|limits)'; then false; fi
	if grep -a -e 'Limit (ignored)' -e '%08X' "$ko"; then false; fi
	cat >"$BATS_TEST_TMPDIR/guest.sh" <<'EOF'
#!/bin/sh
insmod /modules/livepatch-ignore.ko || exit 1
ls /sys/kernel/livepatch/livepatch_ignore/vmlinux/ | grep -v '^[a-z_]*$' | sed 's/^/KBP-FUNC /'
head -1 /proc/self/limits | sed 's/^/KBP-LIMITS /'
EOF
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	# Only proc_oom_score (at whatever sympos) is patched.
	sed -n 's/^KBP-FUNC //p' <<<"$output" | tr -d '\r' >"$BATS_TEST_TMPDIR/funcs"
	cat "$BATS_TEST_TMPDIR/funcs"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/funcs")" -eq 1 ]
	grep -qE '^proc_oom_score,[0-9]+$' "$BATS_TEST_TMPDIR/funcs"
	sed -n 's/^KBP-LIMITS //p' <<<"$output" | grep -q '^Limit  '
}

@test "kbuild-patch.h: the patched objects find the installed tool's own copy in the prepared tree, compiled with the originals' command line; kpatch-macros.h is the same header" {
	local prefix=$BATS_TEST_TMPDIR/prefix out=$BATS_TEST_TMPDIR/out work kd o p h
	make -s -C "$REPO" install PREFIX="$prefix" >/dev/null
	[ -f "$prefix/share/kbuild-patch/kmod/kbuild-patch.h" ]
	[ -f "$prefix/share/kbuild-patch/kmod/kpatch-macros.h" ]
	# A kpatch-build style patch: the state patch including kpatch-macros.h.
	sed -e 's/@VERSION@/4/g' -e 's/#include "kbuild-patch.h"/#include "kpatch-macros.h"/' \
		"$MACROS/state.patch.in" >"$BATS_TEST_TMPDIR/kpatch-style.patch"
	grep -q '^+#include "kpatch-macros.h"$' "$BATS_TEST_TMPDIR/kpatch-style.patch"
	cd "$BATS_TEST_TMPDIR"
	run env PATH="$prefix/bin:$PATH" kbuild-patch -s "$K/source" -c "$K/config" \
		-v "$K/vmlinux" -o "$out" --keep "$BATS_TEST_TMPDIR/kpatch-style.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"post_patch callback: kbp_state_post_patch"* ]]
	work=$(kept_work "$output")
	[ -d "$work" ]
	kd=$(sed -n 's/.*reusing the prepared kernel tree \(.*\)$/\1/p; s/.*preparing the kernel tree (cached in \(.*\))$/\1/p' <<<"$output")
	[ -d "$kd/obj/include" ]
	# kbuild's own record of the two compiles: one command line, the one
	# the tree was prepared with (so kbuild rebuilt none of its prepare
	# targets between them), no include path of the tool's; only the
	# patched object read the headers, the installed tool's copies.
	o=$work/orig/kernel/exit.o.cmd p=$work/patched/kernel/exit.o.cmd
	[ -n "$(sed -n 's/^savedcmd_[^ ]* := //p' "$o")" ]
	[ "$(sed -n 's/^savedcmd_[^ ]* := //p' "$o")" = "$(sed -n 's/^savedcmd_[^ ]* := //p' "$p")" ]
	if grep -F -- "kbuild-patch/kmod" "$o" "$p"; then false; fi
	for h in kpatch-macros.h kbuild-patch.h; do
		grep -qE "(^|[ /])include/${h//./\\.}( |$)" "$p"
		if grep -F "$h" "$o"; then false; fi
		cmp "$prefix/share/kbuild-patch/kmod/$h" "$kd/obj/include/$h"
	done
	rm -rf "$work"
}

@test "KBP_STATE: two files declaring one state at different versions are refused at build time (exit 1), naming the versions" {
	local out=$BATS_TEST_TMPDIR/out
	run kbp -o "$out" -n livepatch-state-conflict "$(state_patch 2)" "$MACROS/state-conflict.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"KBP_STATE: the patched files declare the same state id with different versions: $((0x6b627374)) 2 $((0x6b627374)) 3"* ]]
	[ -z "$(ls -A "$out" 2>/dev/null)" ]
}

@test "KBP_STATIC_CALL: new code in a module calls through the module's own static-call key, follows its update at the module's init, and the crypto self-tests pass through it" {
	local out=$BATS_TEST_TMPDIR/out ko m mods=() deps
	ko=$out/livepatch-static-call-module.ko
	macros_build static-call-module
	# Statically: the new ctr_crypt reads the module's key through a klp
	# relocation and leaves no static call site or trampoline call behind.
	[ "$(count_relas "$ko" .klp.rela.aesni_intel..text.ctr_crypt '\.klp\.sym\.aesni_intel\.__SCK__aesni_ctr_enc_tfm,0')" -ge 2 ]
	if readelf -rW "$ko" | grep '__SCT__aesni_ctr_enc_tfm'; then false; fi
	if readelf -SW "$ko" | grep -F .static_call_sites; then false; fi
	# aesni-intel.ko and the modules it needs, in load order.
	deps=$(modinfo -F depends "$K/build/arch/x86/crypto/aesni-intel.ko")
	deps="cryptd ${deps//,/ }"
	for m in $deps; do
		mods+=(--module "$(find "$K/build" -name "${m//_/[-_]}.ko" | head -1)")
	done
	mods+=(--module "$K/build/arch/x86/crypto/aesni-intel.ko" --module "$ko")
	cat >"$BATS_TEST_TMPDIR/guest.sh" <<EOF
fail() { echo "KBP-FAIL: \$*"; exit 1; }
for m in $deps; do insmod /modules/\$m.ko || fail "insmod \$m"; done
$GUEST_HELPERS
markers() { dmesg | grep -c 'kbp-sc: ctr_crypt calls'; }
# Without the patch: the module's self-tests run the old ctr_crypt.
insmod /modules/aesni-intel.ko || fail "insmod aesni-intel"
[ "\$(markers)" = 0 ] || fail "a marker before the patch"
unload aesni_intel
# The patch first, then the module: the new ctr_crypt is live from the
# module's init on, where the key is updated (to the AVX variant if the
# CPU has AVX), before the self-tests.
insmod /modules/livepatch-static-call-module.ko || fail "insmod livepatch"
wait_transition livepatch_static_call_module
dmesg -c >/dev/null
insmod /modules/aesni-intel.ko || fail "insmod aesni-intel under the patch"
cat /sys/kernel/livepatch/livepatch_static_call_module/aesni_intel/patched | sed 's/^/KBP-PATCHED /'
dmesg | sed -n 's/^\[[ 0-9.]*\] //; s/^kbp-sc: ctr_crypt calls \([a-z_0-9]*\).*/KBP-CALLS \1/p' | sort -u
dmesg | grep -q 'AES CTR mode by8 optimization enabled' && echo KBP-BY8
grep -A4 '^driver *: __ctr-aes-aesni' /proc/crypto | sed -n 's/^selftest *: /KBP-SELFTEST /p'
dmesg | grep '^\[[ 0-9.]*\] alg: ' | sed 's/^/KBP-ALG /'
# Reverted: disabled, unloaded, the module reloaded: no marker.
echo 0 >/sys/kernel/livepatch/livepatch_static_call_module/enabled
wait_transition livepatch_static_call_module
unload livepatch_static_call_module
unload aesni_intel
dmesg -c >/dev/null
insmod /modules/aesni-intel.ko || fail "insmod aesni-intel after the unload"
echo "KBP-AFTER \$(markers)"
EOF
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" "${mods[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sed -n 's/^KBP-PATCHED //p' <<<"$output" | tr -d '\r')" = 1 ]
	# The call went to the key's function as the module's init set it.
	local want=aesni_ctr_enc
	! grep -q '^KBP-BY8' <<<"$output" || want=aesni_ctr_enc_avx_tfm
	[ "$(sed -n 's/^KBP-CALLS //p' <<<"$output" | tr -d '\r')" = "$want" ]
	# Through it, the CTR self-tests (known-answer vectors) passed.
	[ "$(sed -n 's/^KBP-SELFTEST //p' <<<"$output" | tr -d '\r' | sort -u)" = passed ]
	if grep '^KBP-ALG ' <<<"$output"; then false; fi
	[ "$(sed -n 's/^KBP-AFTER //p' <<<"$output" | tr -d '\r')" = 0 ]
}
