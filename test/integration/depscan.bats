#!/usr/bin/env bats
# Without the kernel's build directory (only --kallsyms for the symbols,
# as for a stock distribution kernel), a header change takes the
# dependency scan (lib/depscan.bash): make -n lists the config's
# objects, the include graph narrows them to candidates, and the
# preprocessor's dependency output of only those finds the users. No
# kernel build. The scan is cached; a run killed during it leaves the
# user's tree as it was, and the next run scans again.
# test-cost: long

load ../lib/corpus-lib
load ../lib/debian-lib

setup_file() {
	corpus_setup
	KALLSYMS=$BATS_FILE_TMPDIR/kallsyms
	debian_test_kallsyms "$K/bzImage" "$KALLSYMS"
	# A cache of its own: the scan stays out of the shared tree.
	export XDG_CACHE_HOME=$BATS_FILE_TMPDIR/cache KALLSYMS
}

# KS: kbuild-patch with the kallsyms dump and no vmlinux.
ks_cmd() {
	KS=("$REPO/scripts/kbuild-patch" -s "$K/source" -c "$K/config"
		--symvers "$K/build/Module.symvers" --kallsyms "$KALLSYMS")
}
# kbp_ks ARGS...: that command; kbp_ks_job ARGS...: the same as a shell
# job, so that a fault signal reaches make and the compilers too.
kbp_ks() { ks_cmd; "${KS[@]}" "$@"; }
kbp_ks_job() { ks_cmd; shell_job "${KS[@]}" "$@"; }
# logged_kbp_ks OUT PATCH: kbp_ks -o OUT PATCH through the test's logging
# gcc ($bin), its calls logged afresh in $calls; no launcher (a ccache
# hit would hide a compile).
logged_kbp_ks() {
	: >"$calls"
	KBP_CC_WRAPPER=none PATH="$bin:$PATH" run kbp_ks -o "$1" "$2"
	echo "$output"
}

@test "header change without the build directory: killed during the scan it scans again; the users are the kernel's own; then cached" {
	local out=$BATS_TEST_TMPDIR/out bin=$BATS_TEST_TMPDIR/bin calls users expected
	local point sig kd points=() h=include/linux/sched/loadavg.h
	before=$(tree_state "$K/source")
	calls=$BATS_TEST_TMPDIR/gcc-calls
	logging_cc "$bin" "$calls" gcc
	# Interrupted by Ctrl-C while make -n runs, killed before the stamp:
	# no stamp, the next run scans again. Terminated during a dependency
	# run: the scan is stamped, the dependencies are found again.
	for point in scan:1/INT scan:2/KILL scan:3/TERM; do
		sig=${point#*/} point=${point%/*}
		# No launcher: a ccache hit runs no cc1 for scan:3 to wait for.
		KBP_CC_WRAPPER=none KBP_FAULT_AT=$point KBP_FAULT_SIGNAL=$sig run kbp_ks_job -o "$out" "$CORPUS/header-loadavg.patch"
		echo "$output"
		case $sig in INT) [ "$status" -eq 130 ] ;; TERM) [ "$status" -eq 143 ] ;; KILL) [ "$status" -eq 137 ] ;; esac
		[[ $output == *"listing the objects of this config"* ]]
		[[ $output == *"fault injection: SIG$sig at $point"* ]]
		[ "$(tree_state "$K/source")" = "$before" ]
		[ -z "$(ls -A "$out" 2>/dev/null)" ]
		kd=$(echo "$XDG_CACHE_HOME"/kbuild-patch/trees/*/)
		[ -e "$kd/.complete" ]
		points+=("$point")
	done
	# Those are all the scan's fault points.
	[ "$(grep -ho 'fault_point scan:[0-9]*' "$REPO/scripts/kbuild-patch" "$REPO"/scripts/lib/*.bash |
		cut -d' ' -f2 | sort -u | tr '\n' ' ')" = "${points[*]} " ]

	# A .c file that its directory's Makefile names, but that this
	# config doesn't build (independently: no .cmd file in the kernel's
	# build), is no object: nothing to patch (exit 3), nothing compiled.
	# (After the kill points, so that the config's listing, stamped by
	# scan:3's run, is made once for both.)
	local dc=kernel/module/decompress.c nb=$BATS_TEST_TMPDIR/not-built.patch
	grep -qw 'decompress\.o' "$K/source/kernel/module/Makefile"
	[ ! -e "$K/build/kernel/module/.decompress.o.cmd" ]
	sed '0,/return 0;/s//return 1;/' "$K/source/$dc" |
		diff -u --label "a/$dc" --label "b/$dc" "$K/source/$dc" - >"$nb" || true
	grep -q '^+.*return 1;' "$nb"
	logged_kbp_ks "$BATS_TEST_TMPDIR/out-nb" "$nb"
	[ "$status" -eq 3 ]
	[[ $output != *"listing the objects of this config"* ]]
	[[ $output == *"$dc: no object of this kernel is built from it"* ]]
	[ "$(grep -c '^c .*decompress' "$calls")" -eq 0 ]

	# Independently: the objects whose .cmd file in the kernel's own
	# build lists the header.
	expected=$(grep -l "${h//./\\.}" -r --include='.*.o.cmd' "$K/build" |
		sed "s|^$K/build/||; s|/\.\([^/]*\)\.o\.cmd\$|/\1.c|" | sort)
	users=$(wc -l <<<"$expected")
	[ "$users" -gt 3 ]

	logged_kbp_ks "$out" "$CORPUS/header-loadavg.patch"
	[ "$status" -eq 0 ]
	[[ $output != *"listing the objects of this config"* ]]
	[[ $output == *"finding the users among"* ]]
	[[ $output == *"rebuilding the $users object(s) built from it"* ]]
	[ -z "$(find "$kd/scan" -name '*.tmp*' -o -name 'todo.*')" ]
	[ -e "$kd/scan/.complete" ]
	# The users it rebuilt are exactly the kernel's.
	[ "$(sed -n 's/^  \([^ ]*\)\.o: .*/\1.c/p' <<<"$output" | sort -u)" = "$expected" ]
	# The preprocessor ran on candidates only, not on the config's
	# hundreds of objects; each user was compiled twice (original,
	# patched); nothing else of the kernel was compiled.
	cat "$calls"
	[ "$(grep -c '^M ' "$calls")" -ge "$users" ]
	[ "$(grep -c '^M ' "$calls")" -lt $((users + 20)) ]
	[ "$(wc -l <"$kd/scan/commands")" -gt 300 ]
	# (Besides the module's own sources, 6.12's scripts/module-common.c
	# among them. Not bounds, asm-offsets or modpost: both compiles keep
	# the command line the tree was prepared with.)
	[ "$(grep '^c ' "$calls" | grep -vc -e '/module/' -e '\.mod\.c$' -e '/scripts/module-common\.c$')" -eq $((2 * users)) ]
	[ "$(grep -c 'changed function:' <<<"$output")" -eq 1 ]
	[[ $output == *"fs/proc/loadavg.o: changed function: loadavg_proc_show"* ]]
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$out/livepatch-header-loadavg.ko" \
		"$CORPUS/header-loadavg-LOADED.test"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-header-loadavg.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]

	# Again: the scan and the users' dependencies from the cache, the
	# originals from the cache; gcc compiles only the patched users.
	logged_kbp_ks "$out" "$CORPUS/header-loadavg.patch"
	cat "$calls"
	[ "$status" -eq 0 ]
	[[ $output != *"listing the objects"* ]]
	[[ $output != *"finding the users"* ]]
	[[ $output == *"rebuilding the $users object(s) built from it"* ]]
	[ "$(grep -c '^M ' "$calls")" -eq 0 ]
	[ "$(grep '^c ' "$calls" | grep -vc -e '/module/' -e '\.mod\.c$' -e '/scripts/module-common\.c$')" -eq "$users" ]
	[ "$(tree_state "$K/source")" = "$before" ]
}

@test "without the build directory: a .c file #included by another is rebuilt through its includer; an assembly object is refused" {
	local out=$BATS_TEST_TMPDIR/out includer
	# Independently: kernel/sched/rt.c has no object of its own in the
	# kernel's build; the object whose .cmd file lists it.
	[ ! -e "$K/build/kernel/sched/.rt.o.cmd" ]
	includer=$(grep -l 'kernel/sched/rt\.c' -r --include='.*.o.cmd' "$K/build" |
		sed "s|^$K/build/||; s|/\.\([^/]*\)\.o\.cmd\$|/\1.o|")
	[ "$includer" = kernel/sched/build_policy.o ]
	run kbp_ks -o "$out" "$CORPUS/static-local-same-name.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"kernel/sched/rt.c: rebuilding the 1 object(s) built from it"* ]]
	[[ $output == *"$includer: changed function: sched_rr_handler"* ]]

	run kbp_ks -o "$out" "$CORPUS/FAIL-asm-file.patch"
	echo "$output"
	[ "$status" -eq "$(head -1 "$CORPUS/FAIL-asm-file.fail")" ]
	[[ $output == *"$(sed -n 2p "$CORPUS/FAIL-asm-file.fail")"* ]]
}

@test "without the build directory: a changed .c file that its directory builds needs only that directory's make -n, whose objects are the kernel's own build's" {
	local out=$BATS_TEST_TMPDIR/out kd expected
	rm -rf "$XDG_CACHE_HOME"/kbuild-patch/trees/*/scan
	run kbp_ks -o "$out" "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"listing the objects of fs/proc/ in this config"* ]]
	[[ $output != *"listing the objects of this config"* ]]
	[ -e "$out/livepatch-meminfo.ko" ]
	kd=$(echo "$XDG_CACHE_HOME"/kbuild-patch/trees/*/)
	[ ! -e "$kd/scan/.complete" ]
	# Independently: the objects of fs/proc (and below) that the
	# kernel's own build made, by their .cmd files.
	expected=$(cd "$K/build" && find fs/proc -name '.*.o.cmd' |
		sed 's|/\.\([^/]*\)\.cmd$|/\1|' | sort)
	[ "$(wc -l <<<"$expected")" -gt 10 ]
	diff <(cut -f1 "$kd/scan/dirs/fs%proc" | sort) - <<<"$expected"
}
