#!/usr/bin/env bats
# Debian's cloud-amd64 flavour: a config of its own (fewer drivers, IBT
# and jump labels on), its own image and modules. A livepatch built for
# the stock cloud kernel of the installed linux-source-6.12's upload
# loads in that kernel's own vmlinuz. (debian.bats: the amd64 flavour.)
# test-cost: long
# test-kernel: none
# test-tier: slow

load ../lib/corpus-lib
load ../lib/debian-lib

setup_file() {
	local rel
	rel=$(debian_test_release)
	debian_test_setup "${rel%-amd64}-cloud-amd64"
}

@test "debian cloud-amd64: a meminfo livepatch for the stock cloud kernel loads there, works and unloads" {
	local config
	# Independently: the cloud kernel is another kernel than amd64's:
	# its config (from its image package) builds far fewer modules.
	mkdir -p "$BATS_TEST_TMPDIR/dl"
	(cd "$BATS_TEST_TMPDIR/dl" && apt-get download "linux-image-$REL-unsigned" "linux-image-${REL%-cloud-amd64}-amd64-unsigned" >&2)
	for f in "$BATS_TEST_TMPDIR"/dl/*.deb; do
		dpkg-deb --fsys-tarfile "$f" | tar -x -C "$BATS_TEST_TMPDIR/dl" --wildcards './boot/config-*'
	done
	config=$BATS_TEST_TMPDIR/dl/boot/config-$REL
	grep -qx 'CONFIG_LIVEPATCH=y' "$config"
	[ "$(grep -c '=m$' "$config")" -lt \
		$(($(grep -c '=m$' "$BATS_TEST_TMPDIR/dl/boot/config-${REL%-cloud-amd64}-amd64") / 2)) ]
	debian_lifecycle meminfo
}
