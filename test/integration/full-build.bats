#!/usr/bin/env bats
# Without the kernel's build directory (only --kallsyms for the symbols,
# as for a stock distribution kernel), a header change takes the
# full-build path: the prepared tree is built once, cached, and later
# runs only compile what their patch affects. A run killed during the
# full build, or before it is stamped complete, leaves the user's tree
# as it was, and the next run builds again.
# test-cost: long
# test-tier: slow

load corpus-lib
load debian-lib

setup_file() {
	corpus_setup
	KALLSYMS=$BATS_FILE_TMPDIR/kallsyms
	debian_test_kallsyms "$K/bzImage" "$KALLSYMS"
	# A cache of its own: the full build stays out of the shared tree.
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

@test "full build: killed during it and before its stamp, it is built again; then once, then incrementally" {
	local out=$BATS_TEST_TMPDIR/out users bin=$BATS_TEST_TMPDIR/bin calls real before
	local point sig kd points=() objs
	before=$(tree_state "$K/source")
	real=$(command -v gcc)
	mkdir -p "$bin"
	calls=$BATS_TEST_TMPDIR/gcc-calls
	# A gcc that logs the sources it compiles (-c; with MODVERSIONS,
	# kbuild also preprocesses exporting files for their CRCs).
	cat >"$bin/gcc" <<-EOF2
	#!/bin/sh
	case " \$* " in *" -c "*)
		for a in "\$@"; do case \$a in *.c) echo "\$a" >>"$calls" ;; esac; done ;;
	esac
	exec "$real" "\$@"
	EOF2
	chmod +x "$bin/gcc"
	# The full build interrupted by Ctrl-C during a compile, then killed
	# after make finished but before the stamp: no stamp, so the next
	# run builds again, and make finishes what is missing.
	for point in full:1/INT full:2/KILL; do
		sig=${point#*/} point=${point%/*}
		# No launcher: a ccache hit runs no cc1 for full:1 to wait for.
		KBP_CC_WRAPPER=none KBP_FAULT_AT=$point KBP_FAULT_SIGNAL=$sig run kbp_ks_job -o "$out" "$CORPUS/header-loadavg.patch"
		echo "$output"
		case $sig in INT) [ "$status" -eq 130 ] ;; KILL) [ "$status" -eq 137 ] ;; esac
		[[ $output == *"building the whole kernel once"* ]]
		[[ $output == *"fault injection: SIG$sig at $point"* ]]
		[ "$(tree_state "$K/source")" = "$before" ]
		[ -z "$(ls -A "$out" 2>/dev/null)" ]
		kd=$(echo "$XDG_CACHE_HOME"/kbuild-patch/trees/*/)
		[ -e "$kd/.complete" ]
		[ ! -e "$kd/.full-build" ]
		points+=("$point")
	done
	# Those are all the full build's fault points.
	[ "$(grep -o 'fault_point full:[0-9]*' "$REPO/scripts/kbuild-patch" | cut -d' ' -f2 |
		sort -u | tr '\n' ' ')" = "${points[*]} " ]

	# Independently: the objects whose .cmd file in the kernel's own
	# build lists the header.
	users=$(grep -l 'include/linux/sched/loadavg\.h' -r --include='.*.o.cmd' "$K/build" | wc -l)
	[ "$users" -gt 1 ]

	# This run builds again, but make finds the kernel built: it
	# compiles the users twice (original, patched) and the module, a
	# handful of files where the whole kernel has hundreds.
	: >"$calls"
	KBP_CC_WRAPPER=none PATH="$bin:$PATH" run kbp_ks -o "$out" "$CORPUS/header-loadavg.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"building the whole kernel once"* ]]
	[ -e "$kd/.full-build" ]
	objs=$(find "$K/build" -name '.*.o.cmd' | wc -l)
	wc -l <"$calls"
	[ "$objs" -gt 300 ]
	[ "$(wc -l <"$calls")" -lt $((2 * users + 20)) ]
	[[ $output == *"rebuilding the $users object(s) built from it"* ]]
	[ "$(grep -c 'changed function:' <<<"$output")" -eq 1 ]
	[[ $output == *"fs/proc/loadavg.o: changed function: loadavg_proc_show"* ]]
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$out/livepatch-header-loadavg.ko" \
		"$CORPUS/header-loadavg-LOADED.test"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-header-loadavg.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]

	# The second run: no full build, the originals from the cache, so
	# gcc compiles only the patched version of each user.
	: >"$calls"
	# No launcher (ccache would answer the compiles without gcc).
	KBP_CC_WRAPPER=none PATH="$bin:$PATH" run kbp_ks -o "$out" "$CORPUS/header-loadavg.patch"
	echo "$output"
	cat "$calls"
	[ "$status" -eq 0 ]
	[[ $output != *"building the whole kernel"* ]]
	# Besides them, only the patch module's own sources (its template,
	# .mod.c and kbuild's module-common.c) are compiled.
	[ "$(grep -vc -e '/module/' -e '\.mod\.c$' -e '/scripts/module-common\.c$' "$calls")" -eq "$users" ]
}
