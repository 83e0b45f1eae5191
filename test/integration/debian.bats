#!/usr/bin/env bats
# A stock Debian kernel (--distro debian): the livepatch is built from
# Debian's packages without a kernel build, and loaded into Debian's own
# vmlinuz booted in the VM. The release is the installed
# linux-source-6.12's; the symbols come from a kallsyms dump of the stock
# kernel, taken here in the VM.

load corpus-lib
load debian-lib

setup_file() {
	corpus_setup
	REL=$(debian_test_release)
	DEB_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/kbuild-patch/test-debian
	VMLINUZ=$(debian_test_vmlinuz "$REL" "$DEB_DIR")
	KALLSYMS=$BATS_FILE_TMPDIR/kallsyms
	debian_test_kallsyms "$VMLINUZ" "$KALLSYMS"
	export REL DEB_DIR VMLINUZ KALLSYMS
}

# kbp_debian ARGS...: kbuild-patch for the stock kernel.
kbp_debian() {
	"$REPO/scripts/kbuild-patch" --distro debian --release "$REL" \
		--kallsyms "$KALLSYMS" "$@"
}

# debian_lifecycle NAME: builds corpus patch NAME for the stock kernel and
# proves it there: live after the load, gone after the unload, and no
# version or vermagic complaint from the module loader.
debian_lifecycle() {
	local name=$1 out=$BATS_TEST_TMPDIR/out ko
	run kbp_debian -o "$out" "$CORPUS/$name.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	ko=$out/livepatch-$name.ko
	[ "$(modinfo -F vermagic "$ko" | awk '{ print $1 }')" = "$REL" ]
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$ko" "$CORPUS/$name-LOADED.test"
	run "$REPO/scripts/kbuild-patch-vm" --kernel "$VMLINUZ" --module "$ko" \
		--timeout 300 "$BATS_TEST_TMPDIR/guest.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
	[[ $output == *"Linux version $REL "* ]]
	if grep -Ei 'disagrees about version|version magic|Unknown symbol|invalid module format' <<<"$output"; then
		false
	fi
}

@test "debian: a meminfo livepatch for the stock kernel loads there, works and unloads" {
	debian_lifecycle meminfo
}

@test "debian: sympos from kallsyms: consoles.c's c_start, one of several, is the one patched" {
	local addr rank
	# Independently: the stock kernel has c_start more than once, and
	# the one of consoles.c is the one a few functions after
	# show_console_dev, which only consoles.c has (the linker keeps an
	# object's functions together).
	[ "$(awk '$3 == "c_start"' "$KALLSYMS" | wc -l)" -gt 1 ]
	[ "$(awk '$3 == "show_console_dev"' "$KALLSYMS" | wc -l)" -eq 1 ]
	addr=$(sort "$KALLSYMS" | awk '$2 ~ /^[tT]$/ && $3 !~ /^__pfx_/ {
		if ($3 == "show_console_dev") near = 3
		else if (near-- > 0 && $3 == "c_start") print $1 }')
	rank=$(awk '$3 == "c_start" { print $1 }' "$KALLSYMS" | sort |
		awk -v a="$addr" '{ n++ } $1 == a { print n }')
	echo "consoles.c c_start at $addr, rank $rank"
	[ -n "$rank" ]
	EXTRA_LOADED="[ -d /sys/kernel/livepatch/\$MOD/vmlinux/c_start,$rank ]"
	export EXTRA_LOADED
	debian_lifecycle consoles-sympos
}

@test "debian: a source and image of different releases are refused, naming the package to install" {
	local other
	# A release whose source isn't the installed one.
	other=$(sed 's/^\([0-9]*\.[0-9]*\)\.\([0-9]*\)/\1.1\2/' <<<"$REL")
	run "$REPO/scripts/kbuild-patch" --distro debian --release "$other" \
		--kallsyms "$KALLSYMS" -o "$BATS_TEST_TMPDIR/out" "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12) is the source of $REL, not of $other"* ]]
	[[ $output == *"apt-get install linux-source-6.12="* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/out" 2>/dev/null)" ]
	run "$REPO/scripts/kbuild-patch" --distro debian --release not-a-release \
		"$CORPUS/meminfo.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"not a Debian kernel release"* ]]
}

@test "debian: the original objects' functions are the stock kernel's bytes (Debian's own flags); the patched ones aren't" {
	local vmlinux=$BATS_TEST_TMPDIR/vmlinux out w1 w2 addr cstart cmp=$CORPUS/compare-function-bytes
	"$K/source/scripts/extract-vmlinux" "$VMLINUZ" >"$vmlinux"
	out=$(kbp_debian -o "$BATS_TEST_TMPDIR/out" --keep "$CORPUS/meminfo.patch" 2>&1)
	w1=$(kept_work "$out")
	out=$(kbp_debian -o "$BATS_TEST_TMPDIR/out" --keep "$CORPUS/consoles-sympos.patch" 2>&1)
	w2=$(kept_work "$out")
	[ -d "$w1" ] && [ -d "$w2" ]
	# The stock kernel's addresses, from its own kallsyms (nokaslr).
	addr=$(awk '$3 == "meminfo_proc_show" { print $1 }' "$KALLSYMS")
	cstart=$(sort "$KALLSYMS" | awk '$2 ~ /^[tT]$/ && $3 !~ /^__pfx_/ {
		if ($3 == "show_console_dev") near = 3
		else if (near-- > 0 && $3 == "c_start") print $1 }')
	[ -n "$addr" ] && [ -n "$cstart" ]
	run "$cmp" "$w1/orig/fs/proc/meminfo.o" "$vmlinux" meminfo_proc_show --at "$addr"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$cmp" "$w2/orig/fs/proc/consoles.o" "$vmlinux" c_start --at "$cstart"
	echo "$output"
	[ "$status" -eq 0 ]
	# The control: the patched functions are not the stock kernel's.
	run "$cmp" "$w1/patched/fs/proc/meminfo.o" "$vmlinux" meminfo_proc_show --at "$addr"
	echo "$output"
	[ "$status" -eq 1 ]
	run "$cmp" "$w2/patched/fs/proc/consoles.o" "$vmlinux" c_start --at "$cstart"
	echo "$output"
	[ "$status" -eq 1 ]
	rm -rf "$w1" "$w2"
}
