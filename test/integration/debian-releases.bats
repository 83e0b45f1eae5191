#!/usr/bin/env bats
# Every stock Debian 12 kernel: the ABI-named 6.1 kernels (Debian 12's
# default, 6.1.0-N-amd64) beside the 6.12 ones (debian.bats; two 6.12
# uploads at once: debian-uploads.bats). Each is built from the source of
# its own upload, which kbuild-patch finds through apt's metadata and
# fetches (never installs), and each module is loaded into that kernel's
# own vmlinuz in the VM. The releases are picked here from apt's
# metadata, apart from kbuild-patch's mapping.
# test-cost: long
# test-kernel: none

load corpus-lib
load debian-lib

setup_file() {
	tools_setup
	DEB_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/kbuild-patch/test-debian
	DEB61=$CORPUS/debian-6.1
	REL61=$(debian_test_release_abi 6.1)
	VMLINUZ61=$(debian_test_vmlinuz "$REL61" "$DEB_DIR")
	KALLSYMS61=$BATS_FILE_TMPDIR/kallsyms-6.1
	debian_test_kallsyms "$VMLINUZ61" "$KALLSYMS61"
	export DEB_DIR DEB61 REL61 VMLINUZ61 KALLSYMS61
}

# with_61 CMD...: CMD for the 6.1 kernel.
with_61() { REL=$REL61 VMLINUZ=$VMLINUZ61 KALLSYMS=$KALLSYMS61 "$@"; }

@test "debian 6.1 (ABI-named): a livepatch from the source of the kernel's own upload, fetched, not installed, loads into the stock 6.1 kernel, works and unloads" {
	local before
	echo "release $REL61"
	[[ $REL61 =~ ^6\.1\.0-[0-9]+-amd64$ ]]
	before=$(package_state linux-source-6.1)
	with_61 debian_lifecycle meminfo
	[ "$(package_state linux-source-6.1)" = "$before" ]
}

@test "debian 6.1: a change to a .cold part alone (drop_caches_sysctl_handler.cold) patches its function, and the new cold code runs" {
	local w o p hot=.text.drop_caches_sysctl_handler cold=.text.unlikely.drop_caches_sysctl_handler
	REL=$REL61 KALLSYMS=$KALLSYMS61 run kbp_debian --keep -o "$BATS_TEST_TMPDIR/keep" "$DEB61/cold-only.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'changed function:' <<<"$output")" -eq 1 ]
	[[ $output == *"fs/drop_caches.o: changed function: drop_caches_sysctl_handler"* ]]
	w=$(kept_work "$output")
	o=$w/orig/fs/drop_caches.o p=$w/patched/fs/drop_caches.o
	# The shape, by readelf and the kernel's own symbols: the function
	# has a .cold part, the patch changes it, and the hot part's bytes
	# and relocations are the same in both builds.
	readelf -sW "$o" | awk '$4 == "FUNC" && $8 == "drop_caches_sysctl_handler.cold"' | grep -q .
	awk '$3 == "drop_caches_sysctl_handler.cold"' "$KALLSYMS61" | grep -q .
	[ "$(section_signature "$o" $hot)" = "$(section_signature "$p" $hot)" ]
	[ "$(section_signature "$o" $cold)" != "$(section_signature "$p" $cold)" ]
	rm -rf "$w"
	with_61 debian_lifecycle cold-only "$DEB61"
	# The module carries the new cold part.
	readelf -sW "$BATS_TEST_TMPDIR/out/livepatch-cold-only.ko" |
		awk '$4 == "FUNC" && $8 == "drop_caches_sysctl_handler.cold"' | grep -q .
}

@test "debian: a name that is no release, a release apt doesn't know, and the rt flavour (built from patches linux-source lacks) exit 1 and leave no module" {
	local out=$BATS_TEST_TMPDIR/out rel
	rel=$(debian_test_release)
	run "$REPO/scripts/kbuild-patch" --distro debian --release not-a-release "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"'not-a-release' is not a Debian kernel release"* ]]
	run "$REPO/scripts/kbuild-patch" --distro debian --release "${rel%%+*}9+deb12-amd64" \
		--kallsyms "$KALLSYMS61" -o "$out" "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"is not a Debian kernel release that apt knows"* ]]
	# rt: the stock config needs Debian's rt patches; olddefconfig on
	# linux-source changes it, so the tree isn't the kernel's.
	run "$REPO/scripts/kbuild-patch" --distro debian --release "${rel%-amd64}-rt-amd64" \
		--kallsyms "$KALLSYMS61" -o "$out" "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"olddefconfig changed"* ]]
	[[ $output == *"is not the source ${rel%-amd64}-rt-amd64 was built from"* ]]
	[[ $output == *"rt flavour"* ]]
	[ -z "$(ls -A "$out" 2>/dev/null)" ]
}
