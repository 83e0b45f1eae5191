#!/usr/bin/env bats
# Without the kernel's build directory (only --kallsyms for the symbols,
# as for a stock distribution kernel), a header change takes the
# full-build path: the prepared tree is built once, cached, and later
# runs only compile what their patch affects.

load corpus-lib
load debian-lib

setup_file() {
	corpus_setup
	KALLSYMS=$BATS_FILE_TMPDIR/kallsyms
	debian_test_kallsyms "$K/bzImage" "$KALLSYMS"
	# A cache of its own: the full build stays out of the shared tree.
	export XDG_CACHE_HOME=$BATS_FILE_TMPDIR/cache KALLSYMS
}

# kbp_ks ARGS...: kbuild-patch with the kallsyms dump and no vmlinux.
kbp_ks() {
	"$REPO/scripts/kbuild-patch" -s "$K/source" -c "$K/config" \
		--symvers "$K/build/Module.symvers" --kallsyms "$KALLSYMS" "$@"
}

@test "full build: a header change without a build directory builds the kernel once, then runs incrementally" {
	local out=$BATS_TEST_TMPDIR/out users bin=$BATS_TEST_TMPDIR/bin calls real
	# Independently: the objects whose .cmd file in the kernel's own
	# build lists the header.
	users=$(grep -l 'include/linux/sched/loadavg\.h' -r --include='.*.o.cmd' "$K/build" | wc -l)
	[ "$users" -gt 1 ]

	run kbp_ks -o "$out" "$CORPUS/header-loadavg.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"building the whole kernel once"* ]]
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
