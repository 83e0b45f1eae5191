#!/usr/bin/env bats
# Every stock Debian 12 kernel: the ABI-named 6.1 kernels (Debian 12's
# default, 6.1.0-N-amd64) beside the 6.12 ones (debian.bats; two 6.12
# uploads at once: debian-uploads.bats), and a fleet of three releases in
# one kbuild-patch-ci run. Each is built from the source of
# its own upload, which kbuild-patch finds through apt's metadata and
# fetches (never installs), and each module is loaded into that kernel's
# own vmlinuz in the VM. The releases are picked here from apt's
# metadata, apart from kbuild-patch's mapping.
# test-cost: long
# test-kernel: none

load ../lib/corpus-lib
load ../lib/debian-lib

setup_file() {
	tools_setup
	DEB_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/kbuild-patch/test-debian
	DEB61=$INTEGRATION/debian-6.1
	REL61=$(debian_test_release_abi 6.1)
	VMLINUZ61=$(debian_test_vmlinuz "$REL61" "$DEB_DIR")
	KALLSYMS61=$BATS_FILE_TMPDIR/kallsyms-6.1
	debian_test_kallsyms "$VMLINUZ61" "$KALLSYMS61"
	export DEB_DIR DEB61 REL61 VMLINUZ61 KALLSYMS61
}

# with_61 CMD...: CMD for the 6.1 kernel.
with_61() { REL=$REL61 VMLINUZ=$VMLINUZ61 KALLSYMS=$KALLSYMS61 "$@"; }

@test "kbuild-patch-ci over a fleet of three stock releases in one run: the ABI-named 6.1 and two 6.12 uploads other than the installed linux-source's, each from its own upload's source (fetched, not installed), built, booted and checked, a row per release" {
	local inst rels=() rel ks targets=() out=$BATS_TEST_TMPDIR/ci p=$BATS_TEST_TMPDIR/patches
	local before61 before612
	echo "release $REL61"
	[[ $REL61 =~ ^6\.1\.0-[0-9]+-amd64$ ]]
	# The two newest 6.12 uploads apt has besides the installed one (the
	# newer is debian.bats's too).
	inst=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	mapfile -t rels < <(debian_test_releases_fetched 2)
	echo "6.12 releases ${rels[*]}; installed linux-source-6.12 $inst"
	[ ${#rels[@]} -eq 2 ]
	[ "${rels[0]}" != "${rels[1]}" ]
	targets=(--target "debian:$REL61,$KALLSYMS61")
	for rel in "${rels[@]}"; do
		[[ $rel =~ ^6\.12\.[0-9]+\+deb12-amd64$ ]]
		ks=$BATS_TEST_TMPDIR/kallsyms-$rel
		debian_test_kallsyms "$(debian_test_vmlinuz "$rel" "$DEB_DIR")" "$ks"
		targets+=(--target "debian:$rel,$ks")
	done
	mkdir -p "$p"
	cp "$CORPUS/meminfo.patch" "$CORPUS/meminfo-LOADED.test" "$p/"
	before61=$(package_state linux-source-6.1)
	before612=$(package_state linux-source-6.12)
	run "$REPO/scripts/kbuild-patch-ci" --patches "$p" "${targets[@]}" -o "$out" \
		--results "$out.tsv" --junit "$out.xml"
	echo "$output"
	[ "$status" -eq 0 ]
	# A passed cell per release: built, loaded into that release's own
	# kernel (its banner in the VM log), live, and gone after the unload.
	for rel in "$REL61" "${rels[@]}"; do
		[ "$(awk -F'\t' -v t="debian:$rel" '$1 == t && $2 == "meminfo" { print $3 }' "$out.tsv")" = passed ]
		grep -q "Linux version $rel " "$out/debian_$rel/meminfo/vm.log"
		[ "$(modinfo -F vermagic "$out/debian_$rel/meminfo/out/livepatch-meminfo.ko" |
			awk '{ print $1 }')" = "$rel" ]
	done
	# The JUnit report: a suite per release, read by a real parser.
	[ "$(/usr/bin/python3 - "$out.xml" <<-'EOF2'
	import sys
	from junitparser import JUnitXml
	print(" ".join(sorted(s.name for s in JUnitXml.fromfile(sys.argv[1]))))
	EOF2
	)" = "$(printf 'debian:%s\n' "$REL61" "${rels[@]}" | sort | xargs)" ]
	# Nothing was installed or changed.
	[ "$(package_state linux-source-6.1)" = "$before61" ]
	[ "$(package_state linux-source-6.12)" = "$before612" ]
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
	# modinfo and the manifest name the ABI release, as the vermagic does
	# (6.1's kbuild alone would say 6.1.N).
	[ "$(modinfo -F kbp_kernel "$BATS_TEST_TMPDIR/out/livepatch-cold-only.ko")" = "$REL61" ]
	grep -qF "\"kernel_release\": \"$REL61\"" "$BATS_TEST_TMPDIR/out/livepatch-cold-only.json"
}

@test "debian: a name that is no release, a release apt doesn't know, and the rt flavour (built from patches linux-source lacks) exit 1 and leave no module" {
	local out=$BATS_TEST_TMPDIR/out rel
	# debian.bats's release: its source is unpacked already.
	rel=$(debian_test_releases_fetched 1)
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
