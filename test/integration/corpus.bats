#!/usr/bin/env bats
# The patch corpus: each patch is built with kbuild-patch against the test
# kernel and proven in the VM (live after the load, gone after the
# unload), or refused with the exit code and message of its .fail file.

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
	local out=$BATS_TEST_TMPDIR/out ko syms dup expected
	corpus_build filesystems-static-call "$out"
	ko=$out/livepatch-filesystems-static-call.ko
	syms=$(readelf -sW "$ko")
	# find_filesystem is static and unique: sympos 0, SHN_LIVEPATCH.
	grep -E 'GLOBAL +DEFAULT +OS \[0xff20\] \.klp\.sym\.vmlinux\.find_filesystem,0$' <<<"$syms"
	# read_unlock() becomes a call to a local clone that exists in many
	# files; the one of fs/filesystems.c must be named by its rank.
	dup=__raw_read_unlock.constprop.0
	expected=$(readelf -sW "$K/vmlinux" | awk -v s="$dup" '
		$4 == "FILE" { f = $8 }
		$8 == s { print $2, f }' | sort | awk '{ n++ } $2 == "filesystems.c" { print n }')
	[ -n "$expected" ]
	[ "$(readelf -sW "$K/vmlinux" | awk -v s="$dup" '$8 == s' | wc -l)" -gt 1 ]
	grep -F ".klp.sym.vmlinux.$dup,$expected" <<<"$syms"
	# No weak placeholder survives post-link.
	if grep -E 'WEAK .*\.klp\.sym\.' <<<"$syms"; then false; fi
	readelf -SW "$ko" | grep -F '.klp.rela.vmlinux..text.filesystems_proc_show'
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
	work=$(sed -n 's/.*work directory kept: //p' <<<"$output")
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

@test "combined: one module from all corpus patches, all live, all reverted" {
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
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$out/livepatch-combined.ko" \
		"${tests[@]}"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-combined.ko" \
		"${extra[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
}

@test "uaccess-efault: a bad user pointer in new code gives -EFAULT through __ex_table, not an oops" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-uaccess-efault.ko
	corpus_lifecycle uaccess-efault
	[ "$(count_relas "$ko" .rela__ex_table 'text\.kbp_peek_user')" -ge 2 ]
	[ "$(count_relas "$ko" .rela.altinstructions 'text\.kbp_peek_user')" -ge 2 ]
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
	# Independently of kbuild-patch: fs_parser.c's fs_param_bad_value is
	# only a clone in the kernel, at this address and rank by name.
	clone=$(readelf -sW "$K/vmlinux" | awk '$4 == "FILE" { f = $8 }
		$4 == "FUNC" && f == "fs_parser.c" && $8 ~ /^fs_param_bad_value\./ { print $8 }')
	[[ $clone =~ ^fs_param_bad_value\.(isra|constprop|part)\.[0-9]+$ ]]
	if readelf -sW "$K/vmlinux" | awk '$8 == "fs_param_bad_value"' | grep -q .; then false; fi
	addr=$(readelf -sW "$K/vmlinux" | awk -v c="$clone" '$4 == "FILE" { f = $8 }
		$8 == c && f == "fs_parser.c" { print $2 }')
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
	run kbp -o "$BATS_TEST_TMPDIR/again" "$CORPUS/clone-isra.patch"
	[ "$status" -eq 0 ]
	[[ $output == *"fs/fs_parser.o: changed function: $clone"* ]]
	[ "$(grep -c 'changed function:' <<<"$output")" -eq 1 ]
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
