#!/usr/bin/env bats
# Every stock Debian 12 kernel, side by side: the ABI-named 6.1 kernels
# (Debian 12's default, 6.1.0-N-amd64) and two 6.12 uploads at once. Each
# is built from the source of its own upload, which kbuild-patch finds
# through apt's metadata and fetches (never installs), and each module is
# loaded into that kernel's own vmlinuz in the VM. The releases are
# picked here from apt's metadata, apart from kbuild-patch's mapping.
# test-cost: long

load corpus-lib
load debian-lib

setup_file() {
	corpus_setup
	DEB_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/kbuild-patch/test-debian
	DEB61=$CORPUS/debian-6.1
	REL61=$(debian_test_release_abi 6.1)
	VMLINUZ61=$(debian_test_vmlinuz "$REL61" "$DEB_DIR")
	KALLSYMS61=$BATS_FILE_TMPDIR/kallsyms-6.1
	debian_test_kallsyms "$VMLINUZ61" "$KALLSYMS61"
	export DEB_DIR DEB61 REL61 VMLINUZ61 KALLSYMS61
}

teardown() {
	[ -z "${NOBODY_HOME:-}" ] || rm -rf "$NOBODY_HOME"
}

# with_61 CMD...: CMD for the 6.1 kernel.
with_61() { REL=$REL61 VMLINUZ=$VMLINUZ61 KALLSYMS=$KALLSYMS61 "$@"; }

# package_state PKG: its version and status, or "none".
package_state() {
	dpkg-query -W -f='${Version} ${Status}\n' "$1" 2>/dev/null || echo none
}

# crcs_match KO SYMVERS: every symbol version KO imports is SYMVERS's
# CRC of that symbol; prints how many were compared.
crcs_match() {
	local crc sym want n=0
	while read -r crc sym; do
		want=$(awk -v s="$sym" '$2 == s { print $1 }' "$2")
		[ -n "$want" ] || { echo "$sym: not in $2" >&2; return 1; }
		[ $((crc)) -eq $((want)) ] || { echo "$sym: $crc, but $2 has $want" >&2; return 1; }
		n=$((n + 1))
	done < <(modprobe --dump-modversions "$1")
	echo "$n"
}

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

@test "debian 6.12: two uploads at once, the older by an unprivileged user: each builds from its own upload's source, has its own kernel's vermagic and symbol CRCs, and loads there" {
	local new old relnew relold ksnew ksold vmnew vmold before rnew=0 rold=0 n
	new=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	old=$(debian_test_versions linux-source-6.12 | grep -vxF -- "$new" | tail -n 1)
	[ -n "$old" ]
	relnew=$(debian_test_release)
	relold="${old%%-*}+$(sed -n 's/.*~\(deb[0-9]*\)u[0-9]*$/\1/p' <<<"$old")-amd64"
	echo "$relnew ($new) and $relold ($old)"
	before=$(package_state linux-source-6.12)
	vmnew=$(debian_test_vmlinuz "$relnew" "$DEB_DIR")
	vmold=$(debian_test_vmlinuz "$relold" "$DEB_DIR")
	# The unprivileged user's home, cache and inputs.
	NOBODY_HOME=$(mktemp -d /tmp/kbp-nobody.XXXXXX)
	ksnew=$BATS_TEST_TMPDIR/kallsyms-new ksold=$NOBODY_HOME/kallsyms
	debian_test_kallsyms "$vmnew" "$ksnew"
	debian_test_kallsyms "$vmold" "$ksold"
	cp "$CORPUS/meminfo.patch" "$NOBODY_HOME/"
	chmod 755 "$NOBODY_HOME"
	chown -R 65534:65534 "$NOBODY_HOME"

	setpriv --reuid 65534 --regid 65534 --clear-groups \
		env HOME="$NOBODY_HOME" XDG_CACHE_HOME="$NOBODY_HOME/cache" TMPDIR="$NOBODY_HOME" \
		"$REPO/scripts/kbuild-patch" --distro debian --release "$relold" \
		--kallsyms "$ksold" -o "$NOBODY_HOME/out" "$NOBODY_HOME/meminfo.patch" \
		>"$BATS_TEST_TMPDIR/old.log" 2>&1 &
	local pold=$!
	"$REPO/scripts/kbuild-patch" --distro debian --release "$relnew" --kallsyms "$ksnew" \
		-o "$BATS_TEST_TMPDIR/new" "$CORPUS/meminfo.patch" >"$BATS_TEST_TMPDIR/new.log" 2>&1 &
	local pnew=$!
	wait "$pold" || rold=$?
	wait "$pnew" || rnew=$?
	cat "$BATS_TEST_TMPDIR/old.log" "$BATS_TEST_TMPDIR/new.log"
	[ "$rold" -eq 0 ]
	[ "$rnew" -eq 0 ]
	grep -q "fetching linux-source-6.12=$old " "$BATS_TEST_TMPDIR/old.log"
	grep -q "Debian $relnew: linux-source-6.12 $new," "$BATS_TEST_TMPDIR/new.log"
	[ "$(package_state linux-source-6.12)" = "$before" ]

	# Each module: its own release's vermagic, and the CRCs of its own
	# kernel's headers (fetched here).
	[ "$(modinfo -F vermagic "$NOBODY_HOME/out/livepatch-meminfo.ko" | awk '{ print $1 }')" = "$relold" ]
	[ "$(modinfo -F vermagic "$BATS_TEST_TMPDIR/new/livepatch-meminfo.ko" | awk '{ print $1 }')" = "$relnew" ]
	n=$(crcs_match "$NOBODY_HOME/out/livepatch-meminfo.ko" "$(debian_test_symvers "$relold" "$DEB_DIR")")
	[ "$n" -gt 0 ]
	n=$(crcs_match "$BATS_TEST_TMPDIR/new/livepatch-meminfo.ko" "$(debian_test_symvers "$relnew" "$DEB_DIR")")
	[ "$n" -gt 0 ]

	# The older upload's module loads into its own kernel.
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$NOBODY_HOME/out/livepatch-meminfo.ko" \
		"$CORPUS/meminfo-LOADED.test"
	run "$REPO/scripts/kbuild-patch-vm" --kernel "$vmold" \
		--module "$NOBODY_HOME/out/livepatch-meminfo.ko" --timeout 300 "$BATS_TEST_TMPDIR/guest.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
	[[ $output == *"Linux version $relold "* ]]
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
