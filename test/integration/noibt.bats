#!/usr/bin/env bats
# Kernels without IBT: kbuild runs objtool on each object as it compiles
# it (no delay-objtool), not on the linked module. Debian 12's 6.1
# kernels are built this way. The new code of a livepatch must still get
# objtool's ORC data, .return_sites, .retpoline_sites and .call_sites;
# without them the module's returns go through an unpatched return thunk
# ("Unpatched return thunk in use", a WARNING that fails the VM run) and
# stack traces through the new code are unreliable. The whole corpus is
# built into one module against the X86_KERNEL_IBT=n test kernel
# (build-test-kernel noibt nojl: JUMP_LABEL is off there too, one variant
# kernel for both suites; Debian 12's 6.1 stock kernel, IBT off with jump
# labels, is debian-releases.bats's), checked statically and loaded in
# its VM,
# where every patch's LOADED check must pass and then fail again after the
# unload. (The refusals don't depend on objtool; corpus.bats runs them.)
# test-kernel: noibt nojl

load ../lib/corpus-lib

setup_file() {
	corpus_setup noibt nojl
	[ -e "$K/.complete" ]
}

# loadable_patches: the corpus patches that have a LOADED test.
loadable_patches() {
	local p name
	for p in "$CORPUS"/*.patch; do
		name=$(basename "$p" .patch)
		[ -f "$CORPUS/$name-LOADED.test" ] && echo "$name"
	done
}

@test "the noibt kernel: IBT off, return thunks and ORC on, objtool run per object, not delayed" {
	# Independently of kbuild-patch: the config and kbuild's own command
	# lines. An object's .cmd shows objtool run on it at compile time
	# with module or vmlinux arguments, without --link.
	if grep -q '^CONFIG_X86_KERNEL_IBT=y' "$K/config"; then false; fi
	grep -qx 'CONFIG_MITIGATION_RETHUNK=y' "$K/config"
	grep -qx 'CONFIG_UNWINDER_ORC=y' "$K/config"
	grep -q 'objtool .*--rethunk.* fs/proc/meminfo\.o$' "$K/build/fs/proc/.meminfo.o.cmd"
	if grep -q 'objtool .*--link' "$K/build/fs/proc/.meminfo.o.cmd"; then false; fi
	grep -q 'objtool .*--module.* fs/binfmt_misc\.o$' "$K/build/fs/.binfmt_misc.o.cmd"
}

@test "one module from every corpus patch builds on the noibt kernel with objtool's sites and ORC for all its new code" {
	local out=$BATS_FILE_TMPDIR/combined
	local -a patches=()
	mapfile -t patches < <(loadable_patches | sed "s|.*|$CORPUS/&.patch|")
	[ ${#patches[@]} -ge 20 ]
	run kbp -o "$out" -n livepatch-combined "${patches[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *"internal error"* ]]
	# Every return, indirect call and direct call of the new code is in
	# .return_sites, .retpoline_sites and .call_sites.
	objtool_sites "$out/livepatch-combined.ko" >"$BATS_TEST_TMPDIR/sites"
	cat "$BATS_TEST_TMPDIR/sites"
	awk '$2 " " $3 " " $4 != $6 " " $7 " " $8 { print "mismatch:", $0; bad = 1 }
		{ r += $2; t += $3; c += $4; n++ } END { exit bad || !r || !t || !c || n < 20 }' \
		"$BATS_TEST_TMPDIR/sites"
	# Every function starts under a CALL entry of its own ORC data.
	run "$TESTLIB/check-orc" "$out/livepatch-combined.ko"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "that module loads on the noibt kernel, every patch is live, and all revert, with no WARNING" {
	local ko=$BATS_FILE_TMPDIR/combined/livepatch-combined.ko name
	local -a names=() tests=() extra=()
	[ -f "$ko" ] || { echo "no module: the build test failed"; false; }
	mapfile -t names < <(loadable_patches)
	for name in "${names[@]}"; do tests+=("$CORPUS/$name-LOADED.test"); done
	vm_extras extra "${names[@]}"
	EXTRA_LOADED='' guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$ko" "${tests[@]}"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$ko" "${extra[@]}"
	echo "$output"
	# 125 would be a WARNING such as the unpatched return thunk's.
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
	if grep -q 'Unpatched return thunk' <<<"$output"; then false; fi
}

@test "the control: without objtool on the diff objects, the module lacks the sites and the guest warns" {
	local out=$BATS_TEST_TMPDIR/out ko work guest=$BATS_TEST_TMPDIR/guest.sh
	run kbp -o "$out" --keep "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	[ -d "$work/module" ]
	# Rebuild the same module with the objtool step of Kbuild.in taken
	# out: the diff objects go in as compiled.
	sed -i 's/^      cmd_kbp_diff_o = .*/      cmd_kbp_diff_o = cp $< $@/' "$work/module/Kbuild"
	rm -f "$work/module"/*.o "$work/module"/*.ko "$work/module"/.*.cmd
	make -s -C "$K/build" M="$work/module" modules >/dev/null
	"$REPO/create-diff-object/klp-convert" "$work/module/livepatch-meminfo.ko" "$BATS_TEST_TMPDIR/bad.ko"
	rm -rf "$work"
	ko=$BATS_TEST_TMPDIR/bad.ko
	objtool_sites "$ko" >"$BATS_TEST_TMPDIR/sites"
	cat "$BATS_TEST_TMPDIR/sites"
	grep -q '^\.text\.meminfo_proc_show [1-9][0-9]* [0-9]* [0-9]* | 0 0 0$' "$BATS_TEST_TMPDIR/sites"
	run "$TESTLIB/check-orc" "$ko"
	echo "$output"
	[ "$status" -eq 1 ]
	cat >"$guest" <<-'EOF'
	insmod /modules/bad.ko || exit 10
	while [ "$(cat /sys/kernel/livepatch/livepatch_meminfo/transition)" = 1 ]; do sleep 0.1; done
	cat /proc/meminfo >/dev/null
	echo KBP-CONTROL-DONE
	EOF
	run vm_run "$guest" --module "$ko"
	echo "$output"
	[ "$status" -eq 125 ]
	[[ $output == *"Unpatched return thunk in use"* ]]
}
