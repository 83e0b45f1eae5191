#!/usr/bin/env bats
# kbuild-patch compiles objects with exactly the flags kbuild used for the
# running kernel: the original object's functions are byte for byte the
# kernel's, once the fields that relocations fill in are masked.

load ../lib/corpus-lib

setup_file() {
	corpus_setup
}

# kept_build PATCH: builds with --keep and prints the work directory.
kept_build() {
	local out
	out=$(kbp -o "$BATS_TEST_TMPDIR/out" --keep "$1" 2>&1) || { echo "$out" >&2; return 1; }
	kept_work "$out"
}

@test "original functions match the running kernel's bytes; patched ones don't" {
	local w1 w2 cmp=$TESTLIB/compare-function-bytes
	w1=$(kept_build "$CORPUS/meminfo.patch")
	w2=$(kept_build "$CORPUS/consoles-sympos.patch")
	run "$cmp" "$w1/orig/fs/proc/meminfo.o" "$K/vmlinux" meminfo_proc_show
	echo "$output"
	[ "$status" -eq 0 ]
	# c_start exists in several files; the one of consoles.c is compared.
	run "$cmp" "$w2/orig/fs/proc/consoles.o" "$K/vmlinux" c_start consoles.c
	echo "$output"
	[ "$status" -eq 0 ]
	run "$cmp" "$w2/orig/fs/proc/consoles.o" "$K/vmlinux" show_console_dev
	echo "$output"
	[ "$status" -eq 0 ]
	# The control: the patched functions are not the kernel's.
	run "$cmp" "$w1/patched/fs/proc/meminfo.o" "$K/vmlinux" meminfo_proc_show
	echo "$output"
	[ "$status" -eq 1 ]
	run "$cmp" "$w2/patched/fs/proc/consoles.o" "$K/vmlinux" c_start consoles.c
	echo "$output"
	[ "$status" -eq 1 ]
	rm -rf "$w1" "$w2"
}
