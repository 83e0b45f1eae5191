#!/usr/bin/env bats
# The patch corpus, part two (special sections and their sites, syscalls, refusals): each patch is built with kbuild-patch against
# the test kernel and proven in the VM (live after the load, gone after
# the unload), or refused with the exit code and message of its .fail
# file. (corpus.bats checks that every patch has a test in one part.)
# test-cost: long

load ../lib/corpus-lib

setup_file() {
	corpus_setup
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
	# shellcheck disable=SC2016 # a guest script: $MOD is the guest's
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

# edited_patch FILE SED-SCRIPT ADDED PATCH: PATCH, the test kernel's FILE
# edited by SED-SCRIPT, which must add the line ADDED.
edited_patch() {
	diff -u "$K/source/$1" <(sed "$2" "$K/source/$1") |
		sed -e "1s|.*|--- a/$1|" -e "2s|.*|+++ b/$1|" >"$4" || true
	grep -qxF "+$3" "$4"
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
	edited_patch "$other" '0,/^\tret$/s//\tret\n\tnop/' $'\tnop' "$BATS_TEST_TMPDIR/arm64.patch"
	run kbp -o "$BATS_TEST_TMPDIR/out2" "$BATS_TEST_TMPDIR/arm64.patch"
	echo "$output"
	[ "$status" -eq 3 ]
	[[ $output == *"$other: no object of this kernel is built from it"* ]]
	# A header that an assembly object is built from is refused too,
	# naming an object whose .cmd really lists the header.
	local h=arch/x86/include/asm/cpufeatures.h asm
	edited_patch "$h" '0,/^#define X86_FEATURE_FSRS\t/s//#define X86_FEATURE_KBP_UNUSED\n&/' \
		'#define X86_FEATURE_KBP_UNUSED' "$BATS_TEST_TMPDIR/header.patch"
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
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="dmesg | grep 'mem auto-init:.*heap free:on'"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
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
	kbp_keep static-key-exported "$out"
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
	kbp_keep smp-locks-atomic "$out"
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
	kbp_keep printk-index "$out"
	work=$(kept_work "$output")
	[ -d "$work" ]
	obj=$work/patched/drivers/char/misc.o
	ko=$out/livepatch-printk-index.ko
	[ -f "$obj" ]
	# Independently of the tool: the functions the module defines, and
	# the object's printk sites (pi_entry func and fmt, read through its
	# relocations) that name one of them.
	funcs=$(readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND" { print $8 }' | sort -u)
	all=$(python3 "$TESTLIB/kbp_elf.py" printk-sites "$obj" | sort)
	rm -rf "$work"
	want=$(awk -F'\t' 'NR == FNR { f[$1]; next } $1 in f' <(echo "$funcs") <(echo "$all"))
	got=$(python3 "$TESTLIB/kbp_elf.py" printk-sites "$ko" | sort)
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
	run "$TESTLIB/check-orc" "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"hrtimer_nanosleep (.text.hrtimer_nanosleep+"*": ok"* ]]
	# The control: with the entries zeroed, the same check fails.
	cp "$ko" "$BATS_TEST_TMPDIR/noorc.ko"
	read -r off size < <(readelf -SW "$ko" | awk '$2 == ".orc_unwind" { print $5, $6 }')
	[ -n "$size" ]
	dd if=/dev/zero of="$BATS_TEST_TMPDIR/noorc.ko" bs=1 seek=$((0x$off)) \
		count=$((0x$size)) conv=notrunc status=none
	run "$TESTLIB/check-orc" "$BATS_TEST_TMPDIR/noorc.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"hrtimer_nanosleep (.text.hrtimer_nanosleep+"*"NOT COVERED"* ]]
}

@test "mcount: each klp_func new_func has its fentry call in __mcount_loc, and ftrace lists it under the module" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-version-new-function.ko
	# In the guest, ftrace knows the module's copy of the function: only
	# an __mcount_loc entry puts it in available_filter_functions.
	# shellcheck disable=SC2016,SC2089 # a guest script (corpus_lifecycle evals it): $MOD and quotes are the guest's
	EXTRA_LOADED='grep -F "version_proc_show [$MOD]" /sys/kernel/tracing/available_filter_functions &&
		grep -qxF "version_proc_show [$MOD]" /sys/kernel/tracing/available_filter_functions'
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	corpus_lifecycle version-new-function
	run "$TESTLIB/check-mcount" "$ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"version_proc_show (.text.version_proc_show+"*": in __mcount_loc"* ]]
	# The control: without __mcount_loc the same check fails.
	objcopy --remove-section=__mcount_loc --remove-section=.rela__mcount_loc \
		"$ko" "$BATS_TEST_TMPDIR/nomcount.ko"
	run "$TESTLIB/check-mcount" "$BATS_TEST_TMPDIR/nomcount.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"version_proc_show (.text.version_proc_show+"*"NOT in __mcount_loc"* ]]
}
