#!/usr/bin/env bats
# The patch corpus: each patch is built with kbuild-patch against the test
# kernel and proven in the VM (live after the load, gone after the
# unload), or refused with the exit code and message of its .fail file.
# In three parts, so that two test workers share it: this one (basic
# changes, static keys, modules, all patches combined),
# corpus-sections.bats and corpus-shapes.bats.
# test-cost: long

load ../lib/corpus-lib

setup_file() {
	corpus_setup
}

@test "every corpus patch has a LOADED test or a .fail expectation, and a test here" {
	local p name
	for p in "$CORPUS"/*.patch; do
		name=$(basename "$p" .patch)
		[ -f "$CORPUS/$name-LOADED.test" ] || [ -f "$CORPUS/$name.fail" ] ||
			{ echo "$name has neither"; false; }
		cat "$BATS_TEST_DIRNAME"/corpus*.bats | grep -q "corpus_[a-z]* $name\$" ||
			{ echo "$name has no test in corpus*.bats"; false; }
	done
}

@test "cmdline-string: a changed string in cmdline_proc_show" {
	corpus_lifecycle cmdline-string
}

@test "meminfo: a new line in meminfo_proc_show" {
	corpus_lifecycle meminfo
}

@test "version-new-function: a new function called from a patched one" {
	corpus_lifecycle version-new-function
}

@test "filesystems-static-call: a patched function calls a static function" {
	corpus_lifecycle filesystems-static-call
}

@test "filesystems-static-call: the static callee is a klp symbol with the kernel's sympos" {
	local out=$BATS_TEST_TMPDIR/out ko syms
	# Independently: __get_fs_type is a static function of the kernel,
	# out of line and the only one of its name (sympos 0).
	[ "$(nm "$K/vmlinux" | awk '$3 == "__get_fs_type"' | wc -l)" -eq 1 ]
	nm "$K/vmlinux" | grep -qE ' t __get_fs_type$'
	corpus_build filesystems-static-call "$out"
	ko=$out/livepatch-filesystems-static-call.ko
	syms=$(readelf -sW "$ko")
	grep -E 'GLOBAL +DEFAULT +OS \[0xff20\] \.klp\.sym\.vmlinux\.__get_fs_type,0$' <<<"$syms"
	# The new code calls it through that symbol.
	[ "$(count_relas "$ko" .klp.rela.vmlinux..text.filesystems_proc_show '\.klp\.sym\.vmlinux\.__get_fs_type,0')" -ge 1 ]
	# No weak placeholder survives post-link.
	if grep -E 'WEAK .*\.klp\.sym\.' <<<"$syms"; then false; fi
}

@test "consoles-sympos: c_start of consoles.c, not the first c_start, is patched" {
	local addr rank_host
	# Independently of kbuild-patch: the address of consoles.c's c_start
	# in the kernel's own symbol table, and its rank among all c_start.
	addr=$(readelf -sW "$K/vmlinux" | awk '$4 == "FILE" { f = $8 }
		$8 == "c_start" && f == "consoles.c" { print $2 }')
	[ -n "$addr" ]
	rank_host=$(readelf -sW "$K/vmlinux" | awk '$8 == "c_start" { print $2 }' |
		sort | awk -v a="$addr" '{ n++ } $1 == a { print n }')
	[ "$rank_host" -ge 2 ]
	# In the guest, find the same rank from /proc/kallsyms and require
	# the livepatch sysfs entry for exactly that position.
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="rank=\$(grep ' c_start\$' /proc/kallsyms | sort | awk '{ n++ } \$1 == \"$addr\" { print n }');
		echo \"kallsyms rank of consoles.c c_start: \$rank\";
		[ \"\$rank\" = $rank_host ] && [ -d /sys/kernel/livepatch/\$MOD/vmlinux/c_start,\$rank ]"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	corpus_lifecycle consoles-sympos
}

@test "static-key-tracepoint: the static branch in the new code follows the key flipped after the load" {
	corpus_lifecycle static-key-tracepoint
}

@test "static-key-tracepoint: the module's __jump_table has exactly the entries of the new function" {
	local out=$BATS_TEST_TMPDIR/out work obj_sites ko_sites ko_keys
	kbp_keep static-key-tracepoint "$out"
	work=$(kept_work "$output")
	[ -d "$work" ]
	# Counted as static-key-exported's (corpus-sections.bats), spelled out
	# in each: what differs is the key, a klp relocation here.
	# The sites in the patched object as kbuild compiled it: __jump_table
	# relocations (code and target of each entry) into uptime_proc_show.
	obj_sites=$(count_relas "$work/patched/fs/proc/uptime.o" .rela__jump_table \
		' \.text\.uptime_proc_show')
	rm -rf "$work"
	ko=$out/livepatch-static-key-tracepoint.ko
	ko_sites=$(count_relas "$ko" .rela__jump_table ' \.text\.uptime_proc_show')
	ko_keys=$(count_relas "$ko" .klp.rela.vmlinux.__jump_table \
		'\.klp\.sym\.vmlinux\.__tracepoint_sched_switch,0')
	echo "object: $obj_sites, module: $ko_sites, keys: $ko_keys"
	[ "$obj_sites" -ge 2 ]
	[ "$ko_sites" -eq "$obj_sites" ]
	# Each entry's key is a klp relocation: the key isn't exported.
	[ "$ko_keys" -eq $((obj_sites / 2)) ]
}

@test "dyndbg-new-pr-debug: a new pr_debug's key, switched in the control file after the load, drives the new code" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-dyndbg-new-pr-debug.ko
	corpus_lifecycle dyndbg-new-pr-debug
	# The new descriptor is carried; its key is this module's own.
	readelf -SW "$ko" | grep -qE ' __dyndbg +PROGBITS'
	[ "$(count_relas "$ko" .rela__jump_table ' __dyndbg ')" -eq 1 ]
}

@test "warn-once-line: a WARN in the new code names its file and line" {
	corpus_lifecycle warn-once-line
}

@test "module-binfmt-misc: a function of a loaded =m module, with module klp relocations" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-module-binfmt-misc.ko
	corpus_lifecycle module-binfmt-misc
	# The module's own static is reached through a module-specific klp
	# section and symbol; nothing of the module is a plain relocation.
	readelf -SW "$ko" | grep -F '.klp.rela.binfmt_misc..text.bm_status_read'
	readelf -sW "$ko" | grep -E 'OS \[0xff20\] \.klp\.sym\.binfmt_misc\.bm_fs_type,0$'
	if readelf -sW "$ko" | grep -E 'UND (bm_fs_type|__this_module)$'; then false; fi
	[ "$(modinfo -F depends "$ko")" = "" ]
}

@test "module-binfmt-misc: late module patching, the target loaded after the livepatch" {
	local out=$BATS_TEST_TMPDIR/out
	corpus_build module-binfmt-misc "$out"
	# Written out, as debian.bats's late load: a guest script reads as the
	# steps it takes, each with its own exit code.
	cat >"$BATS_TEST_TMPDIR/guest.sh" <<-'EOF'
	m=livepatch_module_binfmt_misc
	insmod /modules/livepatch-module-binfmt-misc.ko || exit 10
	while [ "$(cat /sys/kernel/livepatch/$m/transition)" = 1 ]; do sleep 0.1; done
	[ "$(cat /sys/kernel/livepatch/$m/binfmt_misc/patched)" = 0 ] || exit 11
	insmod /modules/binfmt_misc.ko || exit 12
	[ "$(cat /sys/kernel/livepatch/$m/binfmt_misc/patched)" = 1 ] || exit 13
	mkdir -p /tmp/bm && mount -t binfmt_misc none /tmp/bm || exit 14
	cat /tmp/bm/status
	grep -q '^enabled binfmt_misc kbp-module$' /tmp/bm/status || exit 15
	echo 0 >/sys/kernel/livepatch/$m/enabled
	while [ -d /sys/kernel/livepatch/$m ]; do sleep 0.1; done
	grep -qx enabled /tmp/bm/status || exit 16
	until rmmod $m 2>/dev/null; do sleep 0.1; done
	echo KBP-LATE-OK
	EOF
	# run, echo, status and marker: every VM test's own lines, kept in it.
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-module-binfmt-misc.ko" \
		--module "$K/build/fs/binfmt_misc.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LATE-OK* ]]
}

@test "combined: one module from all corpus patches, objtool's sites for all its code, all live, all reverted" {
	local out=$BATS_TEST_TMPDIR/out p name patches=() tests=() names=()
	local -a extra=()
	for p in "$CORPUS"/*.patch; do
		name=$(basename "$p" .patch)
		[ -f "$CORPUS/$name-LOADED.test" ] || continue
		patches+=("$p")
		names+=("$name")
		tests+=("$CORPUS/$name-LOADED.test")
	done
	vm_extras extra "${names[@]}"
	[ ${#patches[@]} -ge 5 ]
	run kbp -o "$out" -n livepatch-combined "${patches[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	# The load check passed: every symbol of every patch resolves.
	[[ $output == *"kbuild-patch: checking that every symbol resolves in the target"* ]]
	[[ $output != *"internal error"* ]]
	no_runtime_const_placeholder "$out/livepatch-combined.ko"
	# objtool ran on the linked module (IBT defers it there): every
	# return, indirect call and direct call of the new code is in
	# .return_sites, .retpoline_sites and .call_sites.
	objtool_sites "$out/livepatch-combined.ko" >"$BATS_TEST_TMPDIR/sites"
	cat "$BATS_TEST_TMPDIR/sites"
	awk '$2 " " $3 " " $4 != $6 " " $7 " " $8 { print "mismatch:", $0; bad = 1 }
		{ r += $2; t += $3; c += $4 } END { exit bad || !r || !t || !c }' \
		"$BATS_TEST_TMPDIR/sites"
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$out/livepatch-combined.ko" \
		"${tests[@]}"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-combined.ko" \
		"${extra[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
}

@test "uaccess-efault: a bad user pointer in new code gives -EFAULT through __ex_table, not an oops; access_ok() there loads the real USER_PTR_MAX" {
	local out=$BATS_TEST_TMPDIR/out ko work p n
	# shellcheck disable=SC2034 # read by corpus_lifecycle (test/lib/corpus-lib.bash)
	local -a CORPUS_KBP_ARGS=(--keep)
	ko=$out/livepatch-uaccess-efault.ko
	# In the VM: access_ok() of the new code refuses a non-canonical
	# address below the boot-time constant's placeholder (with the
	# placeholder it passed, and the read went ahead).
	corpus_lifecycle uaccess-efault
	[ "$(count_relas "$ko" .rela__ex_table 'text\.kbp_peek_user')" -ge 2 ]
	[ "$(count_relas "$ko" .rela.altinstructions 'text\.kbp_peek_user')" -ge 2 ]
	# The patched object, as kbuild compiled it: runtime_ptr_USER_PTR_MAX
	# lists the placeholders of the carried functions, each of which
	# became a load of USER_PTR_MAX (exported: a plain relocation).
	work=$(kept_work "$(cat "$out.log")")
	p=$work/patched/fs/proc/softirqs.o
	[ -f "$p" ]
	n=$(count_relas "$p" .relaruntime_ptr_USER_PTR_MAX 'R_X86_64_PC32 .* \.text\.(kbp_peek_user|show_softirqs) ')
	rm -rf "$work"
	[ "$n" -ge 2 ]
	grep -qE '^[^ ]+[[:space:]]+USER_PTR_MAX[[:space:]]+vmlinux[[:space:]]+EXPORT_SYMBOL' "$K/build/Module.symvers"
	[ $(($(count_relas "$ko" .rela.text.kbp_peek_user 'R_X86_64_PC32 .* USER_PTR_MAX - 4$') +
		$(count_relas "$ko" .rela.text.show_softirqs 'R_X86_64_PC32 .* USER_PTR_MAX - 4$'))) -eq "$n" ]
}

@test "new-global-cross-file: a new global function and variable used from another patched file" {
	corpus_lifecycle new-global-cross-file
}

@test "header-loadavg: a header change rebuilds every object built from it, patches only what changed" {
	local out=$BATS_TEST_TMPDIR/out users
	# Independently: the objects whose .cmd lists the header.
	users=$(grep -l 'include/linux/sched/loadavg\.h' -r --include='.*.o.cmd' "$K/build" | wc -l)
	[ "$users" -gt 1 ]
	corpus_lifecycle header-loadavg
	run kbp -o "$out" "$CORPUS/header-loadavg.patch"
	[[ $output == *"rebuilding the $users object(s) built from it"* ]]
	[ "$(grep -c 'changed function:' <<<"$output")" -eq 1 ]
	[[ $output == *"fs/proc/loadavg.o: changed function: loadavg_proc_show"* ]]
	[ "$(grep -c 'no functional change' <<<"$output")" -eq $((users - 1)) ]
}

@test "IBT: every address-taken function of the module starts with ENDBR (checked statically)" {
	local out=$BATS_TEST_TMPDIR/out ko off
	corpus_build version-new-function "$out"
	ko=$out/livepatch-version-new-function.ko
	run "$TESTLIB/check-endbr" "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	# klp_func.new_func takes the patched function's address.
	[[ $output == *"version_proc_show: address taken, endbr64"* ]]
	# The control: without its ENDBR the same function is caught.
	cp "$ko" "$BATS_TEST_TMPDIR/noendbr.ko"
	off=$(python3 "$TESTLIB/kbp_elf.py" offset "$ko" version_proc_show)
	printf '\x90\x90\x90\x90' | dd of="$BATS_TEST_TMPDIR/noendbr.ko" bs=1 seek="$off" conv=notrunc status=none
	run "$TESTLIB/check-endbr" "$BATS_TEST_TMPDIR/noendbr.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"version_proc_show: address taken, NO ENDBR"* ]]
}

@test "FAIL-ibt-sealed-endbr: taking the address of a function whose ENDBR is sealed is refused" {
	corpus_refusal FAIL-ibt-sealed-endbr
}

@test "module-pr-debug: a module function's pr_debug sites come with descriptors of the patch's own, switched under its name" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-module-pr-debug.ko sites
	# Independently: check_special_flags has one pr_debug per flag, and
	# the module is built with jump labels (its object has __jump_table),
	# whose keys the patch's jump labels couldn't reach in the module.
	sites=$(sed -n '/^static char \*check_special_flags(/,/^}/p' "$K/source/fs/binfmt_misc.c" | grep -c 'pr_debug(')
	[ "$sites" -eq 4 ]
	readelf -SW "$K/build/fs/binfmt_misc.o" | grep -q ' __jump_table '
	# In the guest: the patch module's copies are listed under its own
	# name; switched on there, the new parser prints its flag; switched
	# off, it doesn't.
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="ctl=/proc/dynamic_debug/control; [ -e \$ctl ] || ctl=/sys/kernel/debug/dynamic_debug/control
		grep \"\\[\$MOD\\]\" \$ctl
		[ \"\$(grep \"\\[\$MOD\\].*register: flag\" \$ctl | wc -l)\" = $sites ] || exit 1
		reg() { dmesg -c >/dev/null; printf ':kbppd2:E::kbppd2::/bin/sh:P F\n' >/tmp/bm/register || exit 1; echo -1 >/tmp/bm/kbppd2; }
		echo \"module \$MOD format \\\"flag: F\\\" +p\" >\$ctl || exit 1
		reg; dmesg | grep -q 'register: flag: F' || exit 1
		echo \"module \$MOD format \\\"flag: F\\\" -p\" >\$ctl || exit 1
		reg; if dmesg | grep -q 'register: flag: F'; then exit 1; fi"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	corpus_lifecycle module-pr-debug
	# No reference to the module's descriptors; the patch's jump table
	# keys are its own __dyndbg, one per flag site at least.
	if readelf -sW "$ko" | grep '\.klp\.sym\..*ddebug'; then false; fi
	readelf -SW "$ko" | grep -qE ' __dyndbg +PROGBITS'
	[ "$(count_relas "$ko" .rela__jump_table ' __dyndbg ')" -ge "$sites" ]
}

@test "FAIL-line-shift: lines that only move code (and WARN line numbers) are no functional change" {
	corpus_refusal FAIL-line-shift
}

@test "FAIL-export-crc: a change of an exported symbol's CRC (MODVERSIONS) is refused" {
	corpus_refusal FAIL-export-crc
	[[ $output == *"avenrun"* ]]
}

@test "FAIL-data-change: changed existing data is refused" {
	corpus_refusal FAIL-data-change
}

@test "FAIL-init-change: a changed __init function is refused" {
	corpus_refusal FAIL-init-change
}

@test "FAIL-comment-only: a comment-only patch is no functional change" {
	corpus_refusal FAIL-comment-only
}
