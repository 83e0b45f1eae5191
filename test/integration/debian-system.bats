#!/usr/bin/env bats
# The vendor's flow on a real Debian 12 system, not a busybox guest: a
# hotfix built for a stock kernel (kbuild-patch --distro debian), packaged
# (kbuild-patch-pkg), installed with dpkg on a minimal bookworm system
# that runs that stock kernel (kbuild-patch-vm --make-disk: systemd, dpkg,
# kmod, the stock linux-image of two releases with their initramfs), and
# followed across three boots of it (kbuild-patch-vm --disk):
#   boot 1  dpkg -i the runtime, v1 (live at once), and a package for the
#           other installed kernel (installs, loads nothing)
#   boot 2  v1 loaded again by kbuild-patch.service before
#           multi-user.target; dpkg -i v2 (cumulative: v1 goes, v2 live);
#           dpkg -r (nothing live, nothing left)
#   boot 3  nothing loads; the other release's patch is skipped, logged
# The change: uts-v1/uts-v2 (test/integration/cumulative) make
# /proc/sys/kernel/ostype read "Linux-v1" / "Linux-v2".
# The image is built once and cached (about 75 s; README). Alone, with
# the image and the trees cached, the file took 286 s (300 CPU-s).
# The guest has one vCPU: with two, TCG oopses Debian's kernel while
# it rewrites its static-call sites (kbuild-patch-vm, doc/testing.md).
# test-cost: long
# test-kernel: none

load ../lib/corpus-lib
load ../lib/debian-lib

CUM=$BATS_TEST_DIRNAME/cumulative

setup_file() {
	local out=$BATS_FILE_TMPDIR/out debs=$BATS_FILE_TMPDIR/debs
	# The kernel the system runs: debian.bats's release (its tree and
	# kallsyms dump are shared); the other installed one: the newest 6.1.
	debian_test_setup "$(debian_test_releases_fetched 1)"
	OTHER=$(debian_test_release_abi 6.1)
	KALLSYMS_OTHER=$BATS_FILE_TMPDIR/kallsyms-other
	debian_test_kallsyms "$(debian_test_vmlinuz "$OTHER" "$DEB_DIR")" "$KALLSYMS_OTHER"
	DISK=${XDG_CACHE_HOME:-$HOME/.cache}/kbuild-patch/debian-system
	"$REPO/scripts/kbuild-patch-vm" --make-disk "$DISK" --release "$REL" --release "$OTHER" >&2

	kbp_debian -o "$out/v1" -n uts-fix-1 "$CUM/uts-v1.patch" >&2
	kbp_debian -o "$out/v2" -n uts-fix-2 "$CUM/uts-v2.patch" >&2
	REL=$OTHER KALLSYMS=$KALLSYMS_OTHER kbp_debian -o "$out/other" -n uts-fix-1 "$CUM/uts-v1.patch" >&2
	"$REPO/scripts/kbuild-patch-pkg" --runtime -o "$debs" >&2
	"$REPO/scripts/kbuild-patch-pkg" --name uts-fix --version 1 -o "$debs" "$out/v1/uts-fix-1.ko" >&2
	"$REPO/scripts/kbuild-patch-pkg" --name uts-fix --version 2 -o "$debs" "$out/v2/uts-fix-2.ko" >&2
	"$REPO/scripts/kbuild-patch-pkg" --name uts-fix --version 1 -o "$debs" "$out/other/uts-fix-1.ko" >&2
	PKG=kbp-uts-fix-$REL
	PKG_OTHER=kbp-uts-fix-$OTHER
	export OTHER DISK PKG PKG_OTHER

	guest_scripts "$BATS_FILE_TMPDIR"
	LOG=$BATS_FILE_TMPDIR/console
	VM_STATUS=0
	"$REPO/scripts/kbuild-patch-vm" --disk "$DISK" --release "$REL" --timeout 1800 \
		--keep-log "$LOG" \
		--module "$(ls "$debs"/kbuild-patch-runtime_*_all.deb)" \
		--module "$debs/${PKG}_1_amd64.deb" --module "$debs/${PKG}_2_amd64.deb" \
		--module "$debs/${PKG_OTHER}_1_amd64.deb" \
		"$BATS_FILE_TMPDIR/boot-1" "$BATS_FILE_TMPDIR/boot-2" "$BATS_FILE_TMPDIR/boot-3" \
		>&2 || VM_STATUS=$?
	export LOG VM_STATUS
}

# guest_scripts DIR: DIR/boot-1, boot-2, boot-3. Each prints what the
# tests read: "STATE LABEL: ostype=.. modules=.. patches=..", the dpkg
# exit statuses, the unit's journal and timestamps.
guest_scripts() {
	local common
	common=$(
		cat <<-EOF
		REL='$REL' OTHER='$OTHER' PKG='$PKG' PKG_OTHER='$PKG_OTHER'
		EOF
		cat <<-'EOF'
		m=/run/kbp/modules
		state() {
			echo "STATE $1: ostype=$(cat /proc/sys/kernel/ostype)" \
				"modules=$(awk '$1 ~ /^uts_fix/ { printf "%s,", $1 }' /proc/modules)" \
				"patches=$(ls /sys/kernel/livepatch | tr '\n' ,)"
		}
		files() {
			echo "FILES $1: $(find /usr/lib/kbuild-patch /var/lib/kbuild-patch /run/kbuild-patch \
				-type f 2>/dev/null | sort | tr '\n' ,)"
		}
		pkgstate() { echo "PKGSTATE $1: $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || echo none)"; }
		journal() {
			journalctl -b -u kbuild-patch.service --no-pager -o cat | sed 's/^/JOURNAL: /'
		}
		timestamps() {
			echo "TIMES: unit=$(systemctl show -p ActiveEnterTimestampMonotonic --value kbuild-patch.service)" \
				"multi-user=$(systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target)" \
				"active=$(systemctl is-active kbuild-patch.service)"
		}
		EOF
	)
	{
		echo "$common"
		cat <<-'EOF'
		echo "RUNNING: $(uname -r)"
		state boot1
		dpkg -i "$m"/kbuild-patch-runtime_*_all.deb; echo "DPKG runtime: $?"
		echo "ENABLED: $(systemctl is-enabled kbuild-patch.service)"
		dpkg -i "$m/${PKG}_1_amd64.deb"; echo "DPKG v1: $?"
		state after-v1
		# Safe to run twice.
		dpkg-reconfigure "$PKG"; echo "RECONFIGURE v1: $?"
		state after-v1-again
		dpkg -i "$m/${PKG_OTHER}_1_amd64.deb"; echo "DPKG other: $?"
		state after-other
		files boot1
		EOF
	} >"$1/boot-1"
	{
		echo "$common"
		cat <<-'EOF'
		state boot2
		timestamps
		journal
		# While v2 replaces v1, a reader samples ostype without a
		# break (bash builtins: no fork between reads) and notes each
		# change: "Linux" in between would be a moment with no patch.
		(prev=; while [ ! -e /run/kbp-stop ]; do
			read -r x </proc/sys/kernel/ostype
			[ "$x" = "$prev" ] || { echo "$x"; prev=$x; }
		done >/run/kbp-seen) &
		sleep 1
		dpkg -i "$m/${PKG}_2_amd64.deb"; echo "DPKG v2: $?"
		touch /run/kbp-stop
		wait
		echo "SEEN: $(tr '\n' , </run/kbp-seen)"
		state after-v2
		pkgstate "$PKG"
		dpkg -r "$PKG"; echo "DPKG remove: $?"
		state after-remove
		pkgstate "$PKG"
		files after-remove
		EOF
	} >"$1/boot-2"
	{
		echo "$common"
		cat <<-'EOF'
		state boot3
		timestamps
		journal
		files boot3
		EOF
	} >"$1/boot-3"
}

# What a kernel splat starts with, for the failure output.
SPLAT='Oops|BUG:|WARNING:|Call Trace|Kernel panic|general protection fault|rcu: INFO: .*stall'

# line PREFIX: the console's line that starts with PREFIX (the last one).
line() { grep -a "^$1" "$LOG" | tail -n 1; }

@test "debian system: the guest ran all three boots of the stock kernel and the scripts ended well" {
	local splat
	echo "kbuild-patch-vm exited with $VM_STATUS; the console's splat lines and its end:"
	grep -anE "$SPLAT" "$LOG" | head -n 40 || true
	# The whole of the first splat, its registers and call trace: CI
	# keeps no console.
	splat=$(grep -anE "$SPLAT" "$LOG" | head -n 1 | cut -d: -f1)
	[ -z "$splat" ] || sed -n "$((splat > 20 ? splat - 20 : 1)),$((splat + 80))p" "$LOG"
	tail -n 15 "$LOG"
	[ "$VM_STATUS" -eq 0 ]
	[ "$(grep -ac '^kbp-vm-runner: boot [0-9]: the script exited with status 0' "$LOG")" -eq 3 ]
	[ "$(line RUNNING:)" = "RUNNING: $REL" ]
	grep -aq "Linux version $REL " "$LOG"
}

@test "debian system: dpkg -i of v1 makes the change live at once, and configuring again changes nothing" {
	[ "$(line 'STATE boot1:')" = "STATE boot1: ostype=Linux modules= patches=" ]
	[ "$(line 'DPKG runtime:')" = "DPKG runtime: 0" ]
	[ "$(line ENABLED:)" = "ENABLED: enabled" ]
	[ "$(line 'DPKG v1:')" = "DPKG v1: 0" ]
	[ "$(line 'STATE after-v1:')" = "STATE after-v1: ostype=Linux-v1 modules=uts_fix_1, patches=uts_fix_1," ]
	[ "$(line 'RECONFIGURE v1:')" = "RECONFIGURE v1: 0" ]
	[ "$(line 'STATE after-v1-again:')" = "STATE after-v1-again: ostype=Linux-v1 modules=uts_fix_1, patches=uts_fix_1," ]
}

@test "debian system: a package for the other installed kernel installs and loads nothing" {
	[ "$(line 'DPKG other:')" = "DPKG other: 0" ]
	[ "$(line 'STATE after-other:')" = "STATE after-other: ostype=Linux-v1 modules=uts_fix_1, patches=uts_fix_1," ]
	line 'FILES boot1:' | grep -F "/usr/lib/kbuild-patch/$OTHER/uts-fix-1.ko,"
	line 'FILES boot1:' | grep -F "/usr/lib/kbuild-patch/$REL/uts-fix-1.ko,"
}

@test "debian system: after a reboot kbuild-patch.service loads v1 again before multi-user.target, as systemctl and the journal show" {
	local unit mu
	[ "$(line 'STATE boot2:')" = "STATE boot2: ostype=Linux-v1 modules=uts_fix_1, patches=uts_fix_1," ]
	line TIMES: | grep -q ' active=active$'
	unit=$(line TIMES: | sed -n 's/.*unit=\([0-9]*\) .*/\1/p')
	mu=$(line TIMES: | sed -n 's/.*multi-user=\([0-9]*\) .*/\1/p')
	echo "unit $unit, multi-user.target $mu"
	[ "$unit" -gt 0 ] && [ "$mu" -gt "$unit" ]
	grep -a '^JOURNAL: ' "$LOG" | grep -q 'uts_fix_1 is live'
	# One line for the other release's patch, naming it and why.
	[ "$(grep -ac "^JOURNAL: .*skipping 1 patch(es) for $OTHER: the running kernel is $REL" "$LOG")" -eq 2 ]
}

@test "debian system: dpkg -i of the cumulative v2 replaces v1 (its module gone) and makes v2 live, with no moment when neither is" {
	[ "$(line 'DPKG v2:')" = "DPKG v2: 0" ]
	# A reader saw v1, then v2, and never the unpatched value between.
	[ "$(line SEEN:)" = "SEEN: Linux-v1,Linux-v2," ]
	[ "$(line 'STATE after-v2:')" = "STATE after-v2: ostype=Linux-v2 modules=uts_fix_2, patches=uts_fix_2," ]
	grep -aq "^PKGSTATE $PKG: install ok installed" "$LOG"
}

@test "debian system: dpkg -r leaves nothing live and nothing behind; the next boot loads nothing" {
	[ "$(line 'DPKG remove:')" = "DPKG remove: 0" ]
	[ "$(line 'STATE after-remove:')" = "STATE after-remove: ostype=Linux modules= patches=" ]
	[ "$(line "PKGSTATE $PKG:")" = "PKGSTATE $PKG: none" ] ||
		[ "$(line "PKGSTATE $PKG:")" = "PKGSTATE $PKG: deinstall ok config-files" ]
	# Only the other release's package is left.
	[ "$(line 'FILES after-remove:')" = "FILES after-remove: /usr/lib/kbuild-patch/$OTHER/uts-fix-1.json,/usr/lib/kbuild-patch/$OTHER/uts-fix-1.ko," ]
	[ "$(line 'STATE boot3:')" = "STATE boot3: ostype=Linux modules= patches=" ]
	[ "$(line 'FILES boot3:')" = "FILES boot3: /usr/lib/kbuild-patch/$OTHER/uts-fix-1.json,/usr/lib/kbuild-patch/$OTHER/uts-fix-1.ko," ]
}
