#!/usr/bin/env bats
# The patch corpus: each patch is built with kbuild-patch against the test
# kernel and proven in the VM (live after the load, gone after the
# unload), or refused with the exit code and message of its .fail file.
# test-cost: long

load corpus-lib

setup_file() {
	corpus_setup
}

@test "every corpus patch has a LOADED test or a .fail expectation, and a test here" {
	local p name
	for p in "$CORPUS"/*.patch; do
		name=$(basename "$p" .patch)
		[ -f "$CORPUS/$name-LOADED.test" ] || [ -f "$CORPUS/$name.fail" ] ||
			{ echo "$name has neither"; false; }
		grep -q "corpus_[a-z]* $name\$" "$BATS_TEST_FILENAME" ||
			{ echo "$name has no test in corpus.bats"; false; }
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
	EXTRA_LOADED="rank=\$(grep ' c_start\$' /proc/kallsyms | sort | awk '{ n++ } \$1 == \"$addr\" { print n }');
		echo \"kallsyms rank of consoles.c c_start: \$rank\";
		[ \"\$rank\" = $rank_host ] && [ -d /sys/kernel/livepatch/\$MOD/vmlinux/c_start,\$rank ]"
	export EXTRA_LOADED
	corpus_lifecycle consoles-sympos
}

@test "static-key-tracepoint: the static branch in the new code follows the key flipped after the load" {
	corpus_lifecycle static-key-tracepoint
}

@test "static-key-tracepoint: the module's __jump_table has exactly the entries of the new function" {
	local out=$BATS_TEST_TMPDIR/out work obj_sites ko_sites ko_keys
	run kbp -o "$out" --keep "$CORPUS/static-key-tracepoint.patch"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	[ -d "$work" ]
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
	run "$CORPUS/check-endbr" "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	# klp_func.new_func takes the patched function's address.
	[[ $output == *"version_proc_show: address taken, endbr64"* ]]
	# The control: without its ENDBR the same function is caught.
	cp "$ko" "$BATS_TEST_TMPDIR/noendbr.ko"
	off=$(python3 "$CORPUS/kbp_elf.py" offset "$ko" version_proc_show)
	printf '\x90\x90\x90\x90' | dd of="$BATS_TEST_TMPDIR/noendbr.ko" bs=1 seek="$off" conv=notrunc status=none
	run "$CORPUS/check-endbr" "$BATS_TEST_TMPDIR/noendbr.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"version_proc_show: address taken, NO ENDBR"* ]]
}

@test "FAIL-ibt-sealed-endbr: taking the address of a function whose ENDBR is sealed is refused" {
	corpus_refusal FAIL-ibt-sealed-endbr
}

@test "FAIL-module-static-key: a static key defined in a module is refused, naming it" {
	corpus_refusal FAIL-module-static-key
	[[ $output == *"__UNIQUE_ID_ddebug"*"static_key_enabled()"* ]]
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

@test "syscall-no-fentry: a syscall body without fentry is reached by patching its traceable caller" {
	local nm body
	# Independently of kbuild-patch: the running kernel's __do_sys_newuname
	# is out of line with no fentry call, and __x64_sys_newuname calls it.
	nm=$(nm "$K/vmlinux")
	body=$(awk '$3 == "__do_sys_newuname" { print $1 }' <<<"$nm")
	[ -n "$body" ]
	objdump -d --start-address="0x$body" --stop-address="$(printf '0x%x' $((0x$body + 16)))" \
		"$K/vmlinux" >"$BATS_TEST_TMPDIR/body.s"
	if grep -q '__fentry__' "$BATS_TEST_TMPDIR/body.s"; then false; fi
	objdump -d --disassemble=__x64_sys_newuname "$K/vmlinux" | grep -qE "(call|jmp) .*<__do_sys_newuname>"
	EXTRA_LOADED='[ -d /sys/kernel/livepatch/$MOD/vmlinux/__x64_sys_newuname,1 ] &&
		[ ! -e /sys/kernel/livepatch/$MOD/vmlinux/__do_sys_newuname,1 ]'
	export EXTRA_LOADED
	corpus_lifecycle syscall-no-fentry
	grep -qF "__do_sys_newuname has no fentry call: carried as new code, reached by patching its caller __x64_sys_newuname" \
		"$BATS_TEST_TMPDIR/out.log"
}

@test "syscall-alternative: a notrace syscall body's alternatives, static_cpu_has() tests and __ex_table entries come with its new copy" {
	local out=$BATS_TEST_TMPDIR/out ko work p s n body
	ko=$out/livepatch-syscall-alternative.ko
	# Independently of kbuild-patch: the running kernel's __do_sys_sysinfo
	# is out of line with no fentry call, and __x64_sys_sysinfo reaches it.
	body=$(nm "$K/vmlinux" | awk '$3 == "__do_sys_sysinfo" { print $1 }')
	[ -n "$body" ]
	objdump -d --start-address="0x$body" --stop-address="$(printf '0x%x' $((0x$body + 16)))" \
		"$K/vmlinux" >"$BATS_TEST_TMPDIR/body.s"
	if grep -q '__fentry__' "$BATS_TEST_TMPDIR/body.s"; then false; fi
	objdump -d --disassemble=__x64_sys_sysinfo "$K/vmlinux" | grep -qE "(call|jmp) .*<__do_sys_sysinfo>"
	# Keep the work directory (in this test's own temporary directory),
	# for the patched object as kbuild compiled it.
	kbp() {
		TMPDIR=$BATS_TEST_TMPDIR "$REPO/scripts/kbuild-patch" \
			-s "$K/source" -c "$K/config" \
			-v "$K/vmlinux" --skip-cleanup "$@"
	}
	# In the VM: Swap shows what the new code found, and the bad pointer
	# gives no oops (the runner fails on one).
	corpus_lifecycle syscall-alternative
	grep -qF "__do_sys_sysinfo has no fentry call: carried as new code, reached by patching its caller __x64_sys_sysinfo" \
		"$out.log"
	work=$(sed -n 's/^kbuild-patch: work directory kept: //p' "$out.log")
	p=$work/patched/kernel/sys.o
	[ -f "$p" ]
	# The patched object, as kbuild compiled it: the body has no fentry
	# call and has entries in each table; alternative code jumps back
	# into it (what stopped the build with exit 1 before).
	objdump -dr -j .text.__do_sys_sysinfo "$p" >"$BATS_TEST_TMPDIR/patched.s"
	if grep -q '__fentry__' "$BATS_TEST_TMPDIR/patched.s"; then false; fi
	[ "$(count_relas "$p" .rela.altinstr_replacement 'text\.__do_sys_sysinfo')" -ge 1 ]
	[ "$(count_relas "$p" .rela.altinstr_aux 'text\.__do_sys_sysinfo')" -ge 1 ]
	[ "$(count_relas "$p" .rela__ex_table 'text\.__do_sys_sysinfo')" -ge 2 ]
	[ "$(count_relas "$p" .rela.altinstructions 'text\.__do_sys_sysinfo')" -ge 3 ]
	# The module has exactly the body's sites, each pointing into the new
	# copy (a section of the module, not a symbol of the running kernel).
	for s in .altinstructions __ex_table .altinstr_replacement .altinstr_aux; do
		n=$(count_relas "$p" ".rela$s" 'text\.__do_sys_sysinfo')
		[ "$(count_relas "$ko" ".rela$s" 'text\.__do_sys_sysinfo')" -eq "$n" ]
	done
	readelf -SW "$ko" | grep -q ' \.text\.__do_sys_sysinfo '
	if readelf -sW "$ko" | grep -q 'klp\.sym.*__do_sys_sysinfo'; then false; fi
}

@test "FAIL-asm-file: a changed assembly file is refused, naming it and its object; one this kernel doesn't build is not" {
	local other=arch/arm64/lib/memset.S
	# The kernel really assembles memset_64.S on its own.
	[ -e "$K/build/arch/x86/lib/.memset_64.o.cmd" ]
	corpus_refusal FAIL-asm-file
	[[ $output == *"no fentry call"*"Hint: put the fix in C"* ]]
	# The same kind of change to another architecture's assembly changes
	# nothing in this kernel.
	[ -f "$K/source/$other" ]
	[ ! -e "$K/build/$(dirname "$other")" ]
	diff -u "$K/source/$other" <(sed '0,/^\tret$/s//\tret\n\tnop/' "$K/source/$other") |
		sed -e "1s|.*|--- a/$other|" -e "2s|.*|+++ b/$other|" >"$BATS_TEST_TMPDIR/arm64.patch" || true
	grep -q '^+	nop$' "$BATS_TEST_TMPDIR/arm64.patch"
	run kbp -o "$BATS_TEST_TMPDIR/out2" "$BATS_TEST_TMPDIR/arm64.patch"
	echo "$output"
	[ "$status" -eq 3 ]
	[[ $output == *"$other: no object of this kernel is built from it"* ]]
	# A header that an assembly object is built from is refused too,
	# naming an object whose .cmd really lists the header.
	local h=arch/x86/include/asm/cpufeatures.h asm
	diff -u "$K/source/$h" <(sed '0,/^#define X86_FEATURE_FSRS\t/s//#define X86_FEATURE_KBP_UNUSED\n&/' "$K/source/$h") |
		sed -e "1s|.*|--- a/$h|" -e "2s|.*|+++ b/$h|" >"$BATS_TEST_TMPDIR/header.patch" || true
	grep -q '^+#define X86_FEATURE_KBP_UNUSED$' "$BATS_TEST_TMPDIR/header.patch"
	run kbp -o "$BATS_TEST_TMPDIR/out3" "$BATS_TEST_TMPDIR/header.patch"
	echo "$output"
	[ "$status" -eq 2 ]
	asm=$(sed -n "s|.*error: \([^ ]*\)\.S (object \1\.o): it is built from $h, which the patch changes.*|\1|p" <<<"$output")
	[ -n "$asm" ]
	grep -q "$h" "$K/build/$(dirname "$asm")/.$(basename "$asm").o.cmd"
}

@test "FAIL-exit-change: a changed __exit function of a module is refused, naming the object, the symbol and why" {
	local ko=$K/build/fs/binfmt_misc.ko ndx
	# binfmt_misc is a module of this kernel; its exit function is in
	# .exit.text and, being notrace, has no fentry call.
	grep -q '^CONFIG_BINFMT_MISC=m$' "$K/config"
	ndx=$(readelf -sW "$ko" | awk '$8 == "exit_misc_binfmt" { print $7 }')
	[ -n "$ndx" ]
	readelf -SW "$ko" | grep -qE "^ *\\[ *$ndx\\] \\.exit\\.text "
	[ "$(count_relas "$ko" .rela.exit.text unregister_binfmt)" -eq 1 ]
	[ "$(count_relas "$ko" .rela.exit.text __fentry__)" -eq 0 ]
	corpus_refusal FAIL-exit-change
	[[ $output == *"notrace"*"hint:"* ]]
}

@test "FAIL-data-layout: a static buffer of vmlinux that grows is refused with both sizes and the shadow hint" {
	local old
	# _print_tainted's buffer is sizeof(taint_flags) bytes in the running
	# kernel; the patch doubles it.
	old=$(readelf -sW "$K/vmlinux" | awk '$8 == "taint_flags" { print $3 }')
	[ -n "$old" ]
	corpus_refusal FAIL-data-layout
	[[ $output == *"kernel/panic.o: buf."*"changed data layout ($((old * 2)) bytes, was $old)"* ]]
}

@test "static-key-exported: a static branch on an exported vmlinux key set at boot (init_on_free=1)" {
	# Nothing in this kernel overrides init_on_free=1.
	if grep -E '^CONFIG_PAGE_POISONING=y' "$K/config"; then false; fi
	# While the patch is live, the kernel's own boot report says the key
	# is on.
	EXTRA_LOADED="dmesg | grep 'mem auto-init:.*heap free:on'"
	export EXTRA_LOADED
	corpus_lifecycle static-key-exported
}

@test "static-key-exported: with the key off the same new code takes the other branch" {
	local out=$BATS_TEST_TMPDIR/out
	corpus_build static-key-exported "$out"
	key_off_guest >"$BATS_TEST_TMPDIR/guest.sh"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-static-key-exported.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-KEY-OFF-OK* ]]
}

@test "static-key-exported: the key is a plain relocation to the export, one __jump_table entry per site" {
	local out=$BATS_TEST_TMPDIR/out work ko obj_sites ko_sites ko_keys ko_entries size
	# Independently of kbuild-patch: vmlinux exports the key.
	readelf -sW "$K/vmlinux" | awk '$8 == "__ksymtab_init_on_free"' | grep -q .
	grep -qP '^0x[0-9a-f]+\tinit_on_free\tvmlinux\tEXPORT_SYMBOL\t' "$K/build/Module.symvers"
	run kbp -o "$out" --keep "$CORPUS/static-key-exported.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	[ -d "$work" ]
	# The sites in the patched object as kbuild compiled it: __jump_table
	# relocations (code and target of each entry) into the function.
	obj_sites=$(count_relas "$work/patched/kernel/ksysfs.o" .rela__jump_table \
		' \.text\.uevent_seqnum_show')
	rm -rf "$work"
	ko=$out/livepatch-static-key-exported.ko
	ko_sites=$(count_relas "$ko" .rela__jump_table ' \.text\.uevent_seqnum_show')
	ko_keys=$(count_relas "$ko" .rela__jump_table ' init_on_free \+')
	# struct jump_entry on x86_64: s32 code, s32 target, long key.
	size=$(readelf -SW "$ko" | awk '$2 == "__jump_table" { print $6 }')
	ko_entries=$(( 0x$size / 16 ))
	echo "object: $obj_sites, module: $ko_sites, keys: $ko_keys, entries: $ko_entries"
	[ "$obj_sites" -ge 2 ]
	[ "$ko_sites" -eq "$obj_sites" ]
	[ "$ko_entries" -eq $((obj_sites / 2)) ]
	# Each entry's key is a plain relocation to the exported symbol,
	# resolved by the module loader, not a klp relocation.
	[ "$ko_keys" -eq "$ko_entries" ]
	readelf -sW "$ko" | grep -qE ' GLOBAL +DEFAULT +UND init_on_free$'
	if readelf -sW "$ko" | grep -F '.klp.sym.vmlinux.init_on_free'; then false; fi
	if readelf -SW "$ko" | grep -F '.klp.rela.vmlinux.__jump_table'; then false; fi
}

@test "smp-locks-atomic: a LOCK-prefixed atomic on a new static counter in new code" {
	corpus_lifecycle smp-locks-atomic
}

@test "smp-locks-atomic: the module's .smp_locks has exactly the LOCK sites of the new function" {
	local out=$BATS_TEST_TMPDIR/out work obj ko sec=.text.execdomains_proc_show
	local obj_locks obj_relas ko_relas
	run kbp -o "$out" --keep "$CORPUS/smp-locks-atomic.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	[ -d "$work" ]
	obj=$BATS_TEST_TMPDIR/exec_domain.o
	cp "$work/patched/kernel/exec_domain.o" "$obj"
	rm -rf "$work"
	ko=$out/livepatch-smp-locks-atomic.ko
	# Independently: the offsets of the LOCK-prefixed instructions in the
	# patched function as the compiler emitted it...
	obj_locks=$(objdump -d --section="$sec" "$obj" |
		awk '/\tlock / { sub(":", "", $1); print $1 }' | sort)
	# ...which are the .smp_locks entries of the object into it...
	obj_relas=$(readelf -rW "$obj" | awk -v s="$sec" '
		/^Relocation section/ { p = ($3 == "'"'.rela.smp_locks'"'"); next }
		p && $5 == s { print $7 }' | sort)
	# ...and must be those of the module, at the same offsets.
	ko_relas=$(readelf -rW "$ko" | awk -v s="$sec" '
		/^Relocation section/ { p = ($3 == "'"'.rela.smp_locks'"'"); next }
		p && $5 == s { print $7 }' | sort)
	echo "lock insns: $obj_locks; object: $obj_relas; module: $ko_relas"
	[ -n "$obj_locks" ]
	[ "$obj_relas" = "$obj_locks" ]
	[ "$ko_relas" = "$obj_locks" ]
	# The counter is the patch's own new data, not a klp symbol.
	readelf -sW "$ko" | grep -qE ' OBJECT +LOCAL +DEFAULT +[0-9]+ kbp_execdomains_reads$'
}

@test "printk-index: a new printk's format is listed in debugfs printk/index/<module> while the patch is loaded" {
	corpus_lifecycle printk-index
}

@test "printk-index: the module's .printk_index has exactly the printk sites of the patched functions" {
	local out=$BATS_TEST_TMPDIR/out work obj ko funcs all want got
	run kbp -o "$out" --keep "$CORPUS/printk-index.patch"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	obj=$work/patched/drivers/char/misc.o
	ko=$out/livepatch-printk-index.ko
	[ -f "$obj" ]
	# Independently of the tool: the functions the module defines, and
	# the object's printk sites (pi_entry func and fmt, read through its
	# relocations) that name one of them.
	funcs=$(readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND" { print $8 }' | sort -u)
	all=$(python3 "$CORPUS/kbp_elf.py" printk-sites "$obj" | sort)
	rm -rf "$work"
	want=$(awk -F'\t' 'NR == FNR { f[$1]; next } $1 in f' <(echo "$funcs") <(echo "$all"))
	got=$(python3 "$CORPUS/kbp_elf.py" printk-sites "$ko" | sort)
	echo "object: $all"
	echo "module: $got"
	[ -n "$want" ]
	[ "$(wc -l <<<"$all")" -gt "$(wc -l <<<"$want")" ]
	[ "$got" = "$want" ]
	grep -qF "misc_seq_show	'kbp-printk-index: misc minor %d" <<<"$got"
}

@test "static-call-tracepoint: new code calls an exported tracepoint; the event fires from it after the load" {
	corpus_lifecycle static-call-tracepoint
}

@test "static-call-tracepoint: the new code's static call sites name the exported key, not the trampoline" {
	local out=$BATS_TEST_TMPDIR/out ko calls sites keys tramps
	# Independently of kbuild-patch: vmlinux exports both the key and the
	# trampoline of the console tracepoint's static call.
	nm "$K/vmlinux" | grep -q ' __ksymtab___SCK__tp_func_console$'
	nm "$K/vmlinux" | grep -q ' __ksymtab___SCT__tp_func_console$'
	corpus_build static-call-tracepoint "$out"
	ko=$out/livepatch-static-call-tracepoint.ko
	# The calls of the trampoline in the new code, and the module's
	# .static_call_sites entries (objtool made them at the module link).
	calls=$(count_relas "$ko" .rela.text.write_full ' __SCT__tp_func_console - 4$')
	sites=$(count_relas "$ko" .rela.static_call_sites ' \.text\.write_full \+')
	keys=$(count_relas "$ko" .rela.static_call_sites ' __SCK__tp_func_console \+ 0$')
	tramps=$(count_relas "$ko" .rela.static_call_sites '__SCT__')
	echo "calls $calls, sites $sites, keys $keys, trampolines $tramps"
	[ "$calls" -ge 1 ]
	[ "$sites" -eq "$calls" ]
	[ "$keys" -eq "$calls" ]
	[ "$tramps" -eq 0 ]
	# The loader resolves the key through its export.
	readelf -sW "$ko" | grep -qE 'GLOBAL +DEFAULT +UND __SCK__tp_func_console$'
}

@test "orc-stack: a trace through the patched hrtimer_nanosleep unwinds by the module's ORC down to the syscall entry" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-orc-stack.ko off size
	corpus_lifecycle orc-stack
	# Statically: each function of the module starts under a CALL entry
	# of its own section's ORC data.
	run "$CORPUS/check-orc" "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"hrtimer_nanosleep (.text.hrtimer_nanosleep+"*": ok"* ]]
	# The control: with the entries zeroed, the same check fails.
	cp "$ko" "$BATS_TEST_TMPDIR/noorc.ko"
	read -r off size < <(readelf -SW "$ko" | awk '$2 == ".orc_unwind" { print $5, $6 }')
	[ -n "$size" ]
	dd if=/dev/zero of="$BATS_TEST_TMPDIR/noorc.ko" bs=1 seek=$((0x$off)) \
		count=$((0x$size)) conv=notrunc status=none
	run "$CORPUS/check-orc" "$BATS_TEST_TMPDIR/noorc.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"hrtimer_nanosleep (.text.hrtimer_nanosleep+"*"NOT COVERED"* ]]
}

@test "mcount: each klp_func new_func has its fentry call in __mcount_loc, and ftrace lists it under the module" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-version-new-function.ko
	# In the guest, ftrace knows the module's copy of the function: only
	# an __mcount_loc entry puts it in available_filter_functions.
	EXTRA_LOADED='grep -F "version_proc_show [$MOD]" /sys/kernel/tracing/available_filter_functions &&
		grep -qxF "version_proc_show [$MOD]" /sys/kernel/tracing/available_filter_functions'
	export EXTRA_LOADED
	corpus_lifecycle version-new-function
	run "$CORPUS/check-mcount" "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"version_proc_show (.text.version_proc_show+"*": in __mcount_loc"* ]]
	# The control: without __mcount_loc the same check fails.
	objcopy --remove-section=__mcount_loc --remove-section=.rela__mcount_loc \
		"$ko" "$BATS_TEST_TMPDIR/nomcount.ko"
	run "$CORPUS/check-mcount" "$BATS_TEST_TMPDIR/nomcount.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"version_proc_show (.text.version_proc_show+"*"NOT in __mcount_loc"* ]]
}

@test "clone-isra: a function that exists only as a compiler clone is patched under the clone's name and sympos" {
	local clone addr rank_host
	# Independently of kbuild-patch: fs/proc/base.c's __set_oom_adj is
	# only a clone in the kernel, at this address and rank by name.
	clone=$(readelf -sW "$K/vmlinux" | awk '$4 == "FILE" { f = $8 }
		$4 == "FUNC" && f == "base.c" && $8 ~ /^__set_oom_adj\./ { print $8 }')
	[[ $clone =~ ^__set_oom_adj\.(isra|constprop|part)\.[0-9]+$ ]]
	if readelf -sW "$K/vmlinux" | awk '$8 == "__set_oom_adj"' | grep -q .; then false; fi
	addr=$(readelf -sW "$K/vmlinux" | awk -v c="$clone" '$4 == "FILE" { f = $8 }
		$8 == c && f == "base.c" { print $2 }')
	rank_host=$(readelf -sW "$K/vmlinux" | awk -v c="$clone" '$8 == c { print $2 }' |
		sort | awk -v a="$addr" '{ n++ } $1 == a { print n }')
	[ -n "$rank_host" ]
	# In the guest: the same rank from /proc/kallsyms, and the livepatch
	# function directory of exactly that clone and position.
	EXTRA_LOADED="rank=\$(grep ' $clone\$' /proc/kallsyms | sort | awk '{ n++ } \$1 == \"$addr\" { print n }');
		echo \"kallsyms rank of $clone: \$rank\"; ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ \"\$rank\" = $rank_host ] && [ -d /sys/kernel/livepatch/\$MOD/vmlinux/$clone,\$rank ]"
	export EXTRA_LOADED
	corpus_lifecycle clone-isra
	# The clone is the one function reported changed.
	grep -q "fs/proc/base.o: changed function: $clone\$" "$BATS_TEST_TMPDIR/out.log"
	[ "$(grep -c 'changed function:' "$BATS_TEST_TMPDIR/out.log")" -eq 1 ]
}

# file_funcs FILE: the functions of the STT_FILE block FILE in K/vmlinux.
file_funcs() {
	readelf -sW "$K/vmlinux" | awk -v file="$1" '$4 == "FILE" { f = $8 }
		$4 == "FUNC" && f == file { print $8 }'
}

# vmlinux_rank NAME FILE: the address rank of FILE's NAME among all NAMEs.
vmlinux_rank() {
	local addr
	addr=$(readelf -sW "$K/vmlinux" | awk -v s="$1" -v file="$2" '
		$4 == "FILE" { f = $8 } $8 == s && f == file { print $2 }')
	readelf -sW "$K/vmlinux" | awk -v s="$1" '$8 == s { print $2 }' |
		sort | awk -v a="$addr" '{ n++ } $1 == a { print n }'
}

@test "inline-becomes-call: a helper the kernel inlined is a new function of the patch, called from its patched caller" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-inline-becomes-call.ko rank
	# Independently: in the kernel, timer_list.c's print_base() was
	# inlined (no symbol of its own) into print_cpu(), which was not.
	file_funcs timer_list.c | grep -qx print_cpu
	if file_funcs timer_list.c | grep -qx print_base; then false; fi
	rank=$(vmlinux_rank print_cpu timer_list.c)
	[ -n "$rank" ]
	# In the guest, print_cpu at its rank is patched, print_base is not
	# a patched function (it has nothing to replace).
	EXTRA_LOADED="ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/print_cpu,$rank ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c '^print_base,')\" = 0 ]"
	export EXTRA_LOADED
	corpus_lifecycle inline-becomes-call
	# The module carries print_base as its own code, called directly.
	readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND"' | grep -q ' print_base$'
	if readelf -sW "$ko" | grep -q '\.klp\.sym\..*print_base'; then false; fi
	[ "$(count_relas "$ko" .rela.text.print_cpu ' (print_base|\.text\.print_base) [-+] ')" -ge 1 ]
	run kbp -o "$BATS_TEST_TMPDIR/again" "$CORPUS/inline-becomes-call.patch"
	[ "$status" -eq 0 ]
	[[ $output == *"kernel/time/timer_list.o: new function: print_base"* ]]
	[[ $output == *"kernel/time/timer_list.o: changed function: print_cpu"* ]]
	[ "$(grep -cE '(new|changed) function:' <<<"$output")" -eq 2 ]
}

@test "call-becomes-inline: a function of the kernel inlined into its patched callers is neither carried nor patched" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-call-becomes-inline.ko f
	# Independently: show_vfsmnt_opts() is a function of its own in the
	# kernel, and so are its two callers.
	for f in show_vfsmnt_opts show_vfsmnt show_mountinfo; do
		file_funcs proc_namespace.c | grep -qx "$f"
	done
	EXTRA_LOADED="ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/show_vfsmnt,$(vmlinux_rank show_vfsmnt proc_namespace.c) ] &&
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/show_mountinfo,$(vmlinux_rank show_mountinfo proc_namespace.c) ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c '^show_vfsmnt_opts,')\" = 0 ]"
	export EXTRA_LOADED
	corpus_lifecycle call-becomes-inline
	# Nothing in the module is or refers to the old function.
	if readelf -sW "$ko" | grep -q 'show_vfsmnt_opts'; then false; fi
	if readelf -SW "$ko" | grep -q 'show_vfsmnt_opts'; then false; fi
	run kbp -o "$BATS_TEST_TMPDIR/again" "$CORPUS/call-becomes-inline.patch"
	[ "$status" -eq 0 ]
	[[ $output == *"fs/proc_namespace.o: changed function: show_vfsmnt"* ]]
	[[ $output == *"fs/proc_namespace.o: changed function: show_mountinfo"* ]]
	[ "$(grep -cE '(new|changed) function:' <<<"$output")" -eq 2 ]
	if grep -q show_vfsmnt_opts <<<"$output"; then false; fi
}

@test "FAIL-sched-text: a changed __sched function (in .sched.text with others) is refused as unsupported" {
	local o=$K/build/kernel/time/hrtimer.o idx funcs
	# Independently: in the kernel's object, do_nanosleep shares the
	# .sched.text section with other functions.
	idx=$(readelf -SW "$o" | sed -n 's/^ *\[ *\([0-9]*\)\] \.sched\.text .*/\1/p')
	[ -n "$idx" ]
	funcs=$(readelf -sW "$o" | awk -v i="$idx" '$4 == "FUNC" && $7 == i { print $8 }')
	grep -qx do_nanosleep <<<"$funcs"
	[ "$(wc -l <<<"$funcs")" -gt 1 ]
	corpus_refusal FAIL-sched-text
}

@test "FAIL-runtime-shift: a changed function that uses a boot-time shift (d_hash_shift, through d_hash()) is refused as unsupported" {
	local o=$K/build/fs/dcache.o start size
	# Independently: in the kernel's object, runtime_shift_d_hash_shift
	# has an entry in __d_lookup's code.
	read -r start size < <(readelf -sW "$o" |
		awk '$4 == "FUNC" && $8 == "__d_lookup" { print $2, $3 }')
	[ -n "$start" ]
	readelf -rW "$o" | awk -v s=$((16#$start)) -v n="$size" '
		/^Relocation section/ { on = ($3 == "'\''.relaruntime_shift_d_hash_shift'\''"); next }
		on && $5 == ".text" && $6 == "+" {
			a = 0; h = $7
			for (i = 1; i <= length(h); i++)
				a = a * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
			if (a >= s && a < s + n) hit = 1
		}
		END { exit !hit }'
	corpus_refusal FAIL-runtime-shift
	[[ $output == *"fs/dcache.o: __d_lookup (.text.__d_lookup): uses the boot-time constant d_hash_shift"* ]]
	[[ $output == *"patch a caller instead"* ]]
}

# Code shapes of an -O2 kernel (CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE, as
# every distribution builds): .cold parts and .part/.constprop clones.
# Each test first checks with nm/readelf that the shape it claims is
# really in the test kernel's objects and in the two builds.

@test "the test kernel is built with -O2, as distributions build theirs" {
	grep -qx 'CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y' "$K/config"
	grep -q ' -O2 ' "$K/build/fs/proc/.meminfo.o.cmd"
	if grep -q ' -Os ' "$K/build/fs/proc/.meminfo.o.cmd"; then false; fi
}

@test "cold-hot: a function with a .cold part whose hot part alone changes; the cold part goes into the module with it" {
	local o=$K/build/kernel/sched/build_policy.o out=$BATS_TEST_TMPDIR/out
	local work ko f=task_non_contending rank
	# Independently: gcc split task_non_contending's trap path into a
	# .cold part in the kernel's own object, and the kernel has it.
	nm "$o" | grep -qE " t $f\\.cold\$"
	nm "$o" | grep -qE " t $f\$"
	nm "$K/vmlinux" | grep -qE " t $f\\.cold\$"
	rank=$(vmlinux_rank "$f" build_policy.c)
	[ -n "$rank" ]
	EXTRA_LOADED="[ -d /sys/kernel/livepatch/\$MOD/vmlinux/$f,$rank ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c 'cold')\" = 0 ]"
	export EXTRA_LOADED
	CORPUS_KBP_ARGS=(--keep)
	corpus_lifecycle cold-hot
	work=$(kept_work "$(cat "$out.log")")
	[ -d "$work" ]
	# In the two builds: the hot part differs, the .cold part has the
	# same bytes and relocations.
	[ "$(section_signature "$work/orig/kernel/sched/build_policy.o" .text.unlikely.$f)" = \
		"$(section_signature "$work/patched/kernel/sched/build_policy.o" .text.unlikely.$f)" ]
	[ "$(section_signature "$work/orig/kernel/sched/build_policy.o" .text.$f)" != \
		"$(section_signature "$work/patched/kernel/sched/build_policy.o" .text.$f)" ]
	rm -rf "$work"
	grep -q "kernel/sched/build_policy.o: changed function: $f\$" "$out.log"
	[ "$(grep -cE '(new|changed) function:' "$out.log")" -eq 1 ]
	# The module carries the cold part as its own code, which the new hot
	# part jumps into; no klp symbol names it.
	ko=$out/livepatch-cold-hot.ko
	readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND"' | grep -qE " $f\\.cold\$"
	if readelf -sW "$ko" | grep -q "\\.klp\\.sym\\..*$f"; then false; fi
	[ "$(count_relas "$ko" ".rela.text.$f" " ($f\\.cold|\\.text\\.unlikely\\.$f) [-+] ")" -ge 1 ]
}

@test "clone-part-gone: a .part clone the kernel has and the patched build no longer makes; its callers are patched to call the whole new function" {
	local o=$K/build/fs/proc/task_mmu.o out=$BATS_TEST_TMPDIR/out work ko f
	# Independently: the kernel's object has only the partial-inlining
	# clone of get_vma_name, and so has the kernel.
	nm "$o" | grep -qE ' t get_vma_name\.part\.[0-9]+$'
	if nm "$o" | grep -qE ' get_vma_name$'; then false; fi
	nm "$K/vmlinux" | grep -qE ' t get_vma_name\.part\.[0-9]+$'
	EXTRA_LOADED="ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/show_map_vma,$(vmlinux_rank show_map_vma task_mmu.c) ] &&
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/do_procmap_query,$(vmlinux_rank do_procmap_query task_mmu.c) ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c '^get_vma_name')\" = 0 ]"
	export EXTRA_LOADED
	CORPUS_KBP_ARGS=(--keep)
	corpus_lifecycle clone-part-gone
	work=$(kept_work "$(cat "$out.log")")
	[ -d "$work" ]
	# The original build has the clone, the patched build the whole
	# function and no clone.
	nm "$work/orig/fs/proc/task_mmu.o" | grep -qE ' t get_vma_name\.part\.[0-9]+$'
	nm "$work/patched/fs/proc/task_mmu.o" | grep -qE ' t get_vma_name$'
	if nm "$work/patched/fs/proc/task_mmu.o" | grep -q 'get_vma_name\.'; then false; fi
	rm -rf "$work"
	grep -q 'fs/proc/task_mmu.o: new function: get_vma_name$' "$out.log"
	grep -q 'fs/proc/task_mmu.o: changed function: show_map_vma$' "$out.log"
	grep -q 'fs/proc/task_mmu.o: changed function: do_procmap_query$' "$out.log"
	# The module defines get_vma_name and calls it directly; nothing in it
	# names the kernel's clone.
	ko=$out/livepatch-clone-part-gone.ko
	readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND"' | grep -qE ' get_vma_name$'
	if readelf -sW "$ko" | grep -q 'get_vma_name\.part'; then false; fi
	for f in show_map_vma do_procmap_query; do
		[ "$(count_relas "$ko" ".rela.text.$f" ' (get_vma_name|\.text\.get_vma_name) [-+] ')" -ge 1 ]
	done
}

# klp_sym_of KO NAME: the .klp.sym.* symbols of KO that stand for NAME
# (any object, any sympos), one a line.
klp_sym_of() {
	readelf -sW "$1" | awk -v n="$2" '{ s = $NF; sub(/^\.klp\.sym\.[^.]*\./, "", s); sub(/,[0-9]+$/, "", s) }
		$NF ~ /^\.klp\.sym\./ && s == n { print $NF }'
}

@test "static-local-renumbered: a new printk site renumbers the file's static locals; the module still loads" {
	corpus_lifecycle static-local-renumbered
}

@test "static-local-renumbered: the module names the renumbered statics as the running kernel does, with its sympos" {
	local out=$BATS_TEST_TMPDIR/out work ko f old new pos
	run kbp -o "$out" --keep "$CORPUS/static-local-renumbered.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	ko=$out/livepatch-static-local-renumbered.ko
	# The shape, independently of create-diff-object: the new printk
	# brings .printk_index statics, and gcc, which numbers a file's
	# function-scope statics in one sequence, gives each other function's
	# static another number in the patched build.
	python3 "$CORPUS/kbp_elf.py" printk-sites "$work/patched/kernel/irq/proc.o" |
		grep -qF "show_interrupts	'kbp-irq-renumber"
	for f in register_irq_proc show_interrupts; do
		old=$(python3 "$CORPUS/kbp_elf.py" static-refs "$work/orig/kernel/irq/proc.o" "$f")
		new=$(python3 "$CORPUS/kbp_elf.py" static-refs "$work/patched/kernel/irq/proc.o" "$f")
		echo "$f: $old -> $new"
		[ "$(wc -w <<<"$old")" -eq 1 ] && [ "$(wc -w <<<"$new")" -eq 1 ]
		[ "${old%.*}" = "${new%.*}" ] && [ "$old" != "$new" ]
		# The original's spelling is the running kernel's: kernel/irq/proc.c's
		# block of K/vmlinux has it (sympos exits non-zero otherwise).
		pos=$(python3 "$CORPUS/kbp_elf.py" sympos "$K/vmlinux" "$old" proc.c)
		[ "$(klp_sym_of "$ko" "$old")" = ".klp.sym.vmlinux.$old,$pos" ]
		[ -z "$(klp_sym_of "$ko" "$new")" ]
		grep -q "changed function: $f\$" <<<"$output"
	done
	rm -rf "$work"
}

@test "static-local-same-name: of the two static mutexes of sched/rt.c, the patched handler keeps its own" {
	local out=$BATS_TEST_TMPDIR/keep work ko rr rt pos addr
	run kbp -o "$out" --keep "$CORPUS/static-local-same-name.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	ko=$out/livepatch-static-local-same-name.ko
	# Independently: in the original object, sched_rr_handler and
	# sched_rt_handler each use a static local called mutex.
	rr=$(python3 "$CORPUS/kbp_elf.py" static-refs "$work/orig/kernel/sched/build_policy.o" sched_rr_handler)
	rt=$(python3 "$CORPUS/kbp_elf.py" static-refs "$work/orig/kernel/sched/build_policy.o" sched_rt_handler)
	rm -rf "$work"
	echo "sched_rr_handler: $rr, sched_rt_handler: $rt"
	[ "${rr%.*}" = mutex ] && [ "${rt%.*}" = mutex ] && [ "$rr" != "$rt" ]
	pos=$(python3 "$CORPUS/kbp_elf.py" sympos "$K/vmlinux" "$rr" build_policy.c)
	[ "$(klp_sym_of "$ko" "$rr")" = ".klp.sym.vmlinux.$rr,$pos" ]
	[ -z "$(klp_sym_of "$ko" "$rt")" ]
	# The new code's mutex_lock() and mutex_unlock() take that one.
	[ "$(count_relas "$ko" .klp.rela.vmlinux..text.sched_rr_handler " .klp.sym.vmlinux.$rr,$pos ")" -ge 2 ]
	# In the guest: the kallsyms rank of that mutex (its K/vmlinux
	# address among the symbols of its name) is the module's sympos.
	addr=$(readelf -sW "$K/vmlinux" | awk -v n="$rr" '$8 == n { print $2 }')
	[ "$(wc -w <<<"$addr")" -eq 1 ]
	EXTRA_LOADED="n=\$(grep -c ' $rr\$' /proc/kallsyms);
		rank=\$(grep ' $rr\$' /proc/kallsyms | sort | awk '{ r++ } \$1 == \"$addr\" { print r }');
		echo \"kallsyms: \$n $rr, ours has rank \$rank\";
		if [ \"\$n\" = 1 ]; then [ $pos = 0 ] && [ \"\$rank\" = 1 ]; else [ \"\$rank\" = $pos ]; fi"
	export EXTRA_LOADED
	corpus_lifecycle static-local-same-name
}

@test "static-local-state: the new code keeps the original static local and the state set before the load" {
	local out=$BATS_TEST_TMPDIR/out ko stfu pos
	# Independently: drop_caches_sysctl_handler's static stfu in the
	# kernel's own symbols (K/vmlinux, fs/drop_caches.c's block).
	stfu=$(readelf -sW "$K/vmlinux" | awk '$4 == "FILE" { f = $8 }
		f == "drop_caches.c" && $4 == "OBJECT" && $8 ~ /^stfu\.[0-9]+$/ { print $8 }')
	[ "$(wc -w <<<"$stfu")" -eq 1 ]
	pos=$(python3 "$CORPUS/kbp_elf.py" sympos "$K/vmlinux" "$stfu" drop_caches.c)
	# Before the load: writing 4 sets stfu, and the original code says
	# nothing from then on. Once the patch is live, the new code must
	# report that state (quiet 4) and stay quiet too; a fresh copy of
	# stfu would say quiet 0 and print the old message again.
	EXTRA_BEFORE="echo 4 >/proc/sys/vm/drop_caches || exit 1
		a=\$(dmesg | grep -c ': drop_caches: 1\$')
		echo 1 >/proc/sys/vm/drop_caches
		[ \"\$(dmesg | grep -c ': drop_caches: 1\$')\" = \"\$a\" ]"
	EXTRA_LOADED="a=\$(dmesg | grep -c ': drop_caches: 1\$')
		echo 1 >/proc/sys/vm/drop_caches || exit 1
		dmesg | grep 'kbp-static-state: drop_caches 1, quiet' | tail -n 1 | grep 'quiet 4\$' &&
		[ \"\$(dmesg | grep -c ': drop_caches: 1\$')\" = \"\$a\" ]"
	export EXTRA_BEFORE EXTRA_LOADED
	corpus_lifecycle static-local-state
	ko=$out/livepatch-static-local-state.ko
	# The module refers to the kernel's stfu and has no copy of its own.
	[ "$(klp_sym_of "$ko" "$stfu")" = ".klp.sym.vmlinux.$stfu,$pos" ]
	[ -z "$(readelf -sW "$ko" | awk '$4 == "OBJECT" && $7 != "UND" && $8 ~ /^stfu\./')" ]
}
