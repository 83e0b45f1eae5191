#!/usr/bin/env bats
# Kernels without IBT: kbuild runs objtool on each object as it compiles
# it (no delay-objtool), not on the linked module. Debian 12's 6.1
# kernels are built this way. The new code of a livepatch must still get
# objtool's ORC data, .return_sites, .retpoline_sites and .call_sites;
# without them the module's returns go through an unpatched return thunk
# ("Unpatched return thunk in use", a WARNING that fails the VM run) and
# stack traces through the new code are unreliable. The whole corpus is
# built against the X86_KERNEL_IBT=n test kernel (build-test-kernel
# noibt) and every module is checked statically and loaded in its VM.

load corpus-lib

setup_file() {
	corpus_setup noibt
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

@test "every corpus patch builds on the noibt kernel with objtool's sites and ORC for all its new code" {
	local name ko n=0
	while read -r name; do
		corpus_build "$name" "$BATS_FILE_TMPDIR/$name"
		ko=$BATS_FILE_TMPDIR/$name/livepatch-$name.ko
		# Every return, indirect call and direct call of the new code
		# is in .return_sites, .retpoline_sites and .call_sites.
		objtool_sites "$ko" >"$BATS_TEST_TMPDIR/sites"
		cat "$BATS_TEST_TMPDIR/sites"
		awk '$2 " " $3 " " $4 != $6 " " $7 " " $8 { print "mismatch:", $0; bad = 1 }
			{ r += $2 } END { exit bad || !r }' "$BATS_TEST_TMPDIR/sites"
		# Every function starts under a CALL entry of its own ORC data.
		run "$CORPUS/check-orc" "$ko"
		echo "$output"
		[ "$status" -eq 0 ]
		n=$((n + 1))
	done < <(loadable_patches)
	[ "$n" -ge 20 ]
}

@test "every corpus module loads on the noibt kernel, is live, and reverts, with no WARNING" {
	local name ko guest=$BATS_TEST_TMPDIR/guest.sh i=0
	local -a mods=() extra=() names=()
	mapfile -t names < <(loadable_patches)
	[ ${#names[@]} -ge 20 ]
	vm_extras extra "${names[@]}"
	{
		echo '#!/bin/sh'
		for name in "${names[@]}"; do
			ko=$BATS_FILE_TMPDIR/$name/livepatch-$name.ko
			[ -f "$ko" ] || { echo "no module for $name: run the build test first" >&2; return 1; }
			mods+=(--module "$ko")
			echo "cat >/tmp/lifecycle$i <<'KBP_LIFECYCLE_EOF'"
			EXTRA_LOADED='' guest_lifecycle "$BATS_TEST_TMPDIR/one.sh" "$ko" \
				"$CORPUS/$name-LOADED.test"
			cat "$BATS_TEST_TMPDIR/one.sh"
			echo "KBP_LIFECYCLE_EOF"
			echo "echo 'KBP-NOIBT: $name'"
			echo "sh /tmp/lifecycle$i | grep -q KBP-LIFECYCLE-OK || { echo 'KBP-FAIL: $name'; exit 1; }"
			i=$((i + 1))
		done
		echo "echo KBP-NOIBT-ALL-OK"
	} >"$guest"
	run vm_run "$guest" "${mods[@]}" "${extra[@]}"
	echo "$output"
	# 125 would be a WARNING such as the unpatched return thunk's.
	[ "$status" -eq 0 ]
	[[ $output == *KBP-NOIBT-ALL-OK* ]]
	[ "$(grep -c '^KBP-NOIBT: ' <<<"$output")" -eq ${#names[@]} ]
	if grep -q 'Unpatched return thunk' <<<"$output"; then false; fi
}

@test "every refused corpus patch is refused the same way on the noibt kernel" {
	local p name n=0
	for p in "$CORPUS"/FAIL-*.patch; do
		name=$(basename "$p" .patch)
		# The sealed-ENDBR refusal needs IBT; without it the address
		# may be taken.
		[ "$name" != FAIL-ibt-sealed-endbr ] || continue
		corpus_refusal "$name"
		n=$((n + 1))
	done
	[ "$n" -ge 10 ]
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
	run "$CORPUS/check-orc" "$ko"
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
