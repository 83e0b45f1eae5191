#!/usr/bin/env bats
# Two uploads of Debian's 6.12 kernel at once, the older one built by an
# unprivileged user with a cache of its own: each from the source of its
# own upload, fetched (never installed), each module with its own
# kernel's vermagic and symbol CRCs. Two more Debian trees to prepare and
# two stock kernels to boot: the slow tier (make check-slow).
# test-tier: slow
# test-kernel: none

load ../lib/corpus-lib
load ../lib/debian-lib

setup_file() {
	tools_setup
	DEB_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/kbuild-patch/test-debian
	export DEB_DIR
}

teardown() {
	[ -z "${NOBODY_HOME:-}" ] || rm -rf "$NOBODY_HOME"
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
