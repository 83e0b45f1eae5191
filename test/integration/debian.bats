#!/usr/bin/env bats
# A stock Debian kernel (--distro debian): the livepatch is built from
# Debian's packages without a kernel build, and loaded into Debian's own
# vmlinuz booted in the VM. The release is the newest 6.12 one whose
# source is not the installed linux-source-6.12 (so it is fetched, as on
# a user's machine; debian-releases.bats's fleet shares its tree); the
# symbols come from a kallsyms dump of the stock kernel, taken here in
# the VM. (debian-releases.bats: 6.1, several
# uploads at once, refusals.)
# test-cost: long
# test-kernel: none

load ../lib/corpus-lib
load ../lib/debian-lib

setup_file() {
	debian_test_setup "$(debian_test_releases_fetched 1)"
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

@test "debian: a fix in a stock module that calls the module's own static function builds (its symbols from the shipped .ko) and loads, the module loaded first and, separately, after the patch" {
	local out=$BATS_TEST_TMPDIR/out ko bm dir=$INTEGRATION/debian-6.12 name=module-static-func
	bm=$(debian_test_module "$REL" binfmt_misc "$DEB_DIR")
	# The premise, independently: scanarg is a static function of the
	# stock module, which vmlinux doesn't have.
	readelf -sW "$bm" | awk '$4 == "FUNC" && $5 == "LOCAL" && $8 == "scanarg"' | grep -q .
	if awk '$3 == "scanarg"' "$KALLSYMS" | grep .; then false; fi
	run kbp_debian -o "$out" "$dir/$name.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	ko=$out/livepatch-$name.ko
	# The new code calls it through a klp relocation to the module's own
	# symbol, with the sympos of the shipped .ko.
	readelf -sW "$ko" | grep -E ' \.klp\.sym\.binfmt_misc\.scanarg,[0-9]+$'
	readelf -SW "$ko" | grep -F '.klp.rela.binfmt_misc..text.bm_status_read'
	# The module loaded first (the guest's /modules/binfmt_misc.ko).
	cp "$bm" "$BATS_TEST_TMPDIR/binfmt_misc.ko"
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$ko" "$dir/$name-LOADED.test"
	run "$REPO/scripts/kbuild-patch-vm" --kernel "$VMLINUZ" --module "$ko" \
		--module "$BATS_TEST_TMPDIR/binfmt_misc.ko" --timeout 300 "$BATS_TEST_TMPDIR/guest.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
	# The module loaded after the patch: the kernel applies the klp
	# relocations then.
	cat >"$BATS_TEST_TMPDIR/late.sh" <<-'EOF'
	m=livepatch_module_static_func
	insmod /modules/livepatch-module-static-func.ko || exit 10
	while [ "$(cat /sys/kernel/livepatch/$m/transition)" = 1 ]; do sleep 0.1; done
	[ "$(cat /sys/kernel/livepatch/$m/binfmt_misc/patched)" = 0 ] || exit 11
	insmod /modules/binfmt_misc.ko || exit 12
	[ "$(cat /sys/kernel/livepatch/$m/binfmt_misc/patched)" = 1 ] || exit 13
	mkdir -p /tmp/bm && mount -t binfmt_misc none /tmp/bm || exit 14
	grep -qx 'enabled kbp-module-func' /tmp/bm/status || exit 15
	echo 0 >/sys/kernel/livepatch/$m/enabled
	while [ -d /sys/kernel/livepatch/$m ]; do sleep 0.1; done
	grep -qx enabled /tmp/bm/status || exit 16
	echo KBP-LATE-OK
	EOF
	run "$REPO/scripts/kbuild-patch-vm" --kernel "$VMLINUZ" --module "$ko" \
		--module "$BATS_TEST_TMPDIR/binfmt_misc.ko" --timeout 300 "$BATS_TEST_TMPDIR/late.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LATE-OK* ]]
}

@test "debian: the original objects' functions are the stock kernel's bytes (Debian's own flags); the patched ones aren't" {
	local vmlinux=$BATS_TEST_TMPDIR/vmlinux out w1 w2 addr cstart cmp=$TESTLIB/compare-function-bytes src
	out=$(kbp_debian -o "$BATS_TEST_TMPDIR/out" --keep "$CORPUS/meminfo.patch" 2>&1)
	w1=$(kept_work "$out")
	# The kernel's own extract-vmlinux, from the source kbuild-patch used.
	src=$(sed -n 's/^kbuild-patch: kernel [^,]*, source \(.*\)$/\1/p' <<<"$out")
	"$src/scripts/extract-vmlinux" "$VMLINUZ" >"$vmlinux"
	out=$(kbp_debian -o "$BATS_TEST_TMPDIR/out" --keep "$CORPUS/consoles-sympos.patch" 2>&1)
	w2=$(kept_work "$out")
	[ -d "$w1" ] && [ -d "$w2" ]
	# The stock kernel's addresses, from its own kallsyms (nokaslr).
	addr=$(awk '$3 == "meminfo_proc_show" { print $1 }' "$KALLSYMS")
	cstart=$(sort "$KALLSYMS" | awk '$2 ~ /^[tT]$/ && $3 !~ /^__pfx_/ {
		if ($3 == "show_console_dev") near = 3
		else if (near-- > 0 && $3 == "c_start") print $1 }')
	[ -n "$addr" ] && [ -n "$cstart" ]
	# Four runs written out: two must match, the two controls must not.
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

@test "debian: a header change on the stock kernel: the dependency scan finds its few users among the config's thousands of objects, without a kernel build; the patch loads" {
	local out=$BATS_TEST_TMPDIR/out bin=$BATS_TEST_TMPDIR/bin calls
	local users scan src f
	calls=$BATS_TEST_TMPDIR/cc-calls
	# The compilers (Debian's config names x86_64-linux-gnu-gcc-12),
	# logging each compile (-c) and dependency run (-M) of a C file.
	logging_cc "$bin" "$calls" gcc x86_64-linux-gnu-gcc-12
	KBP_CC_WRAPPER=none PATH="$bin:$PATH" run kbp_debian -o "$out" "$CORPUS/header-loadavg.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	users=$(sed -n 's/.*loadavg\.h: rebuilding the \([0-9]*\) object(s) built from it$/\1/p' <<<"$output")
	echo "users: $users"
	[ "$users" -ge 2 ] && [ "$users" -lt 100 ]
	# The config's objects as make -n listed them: thousands, of which
	# only the users were compiled (twice at most: original, patched),
	# and fewer than 100 preprocessed for their dependencies.
	scan=$(grep -l "^fs/proc/loadavg\.o	" "${XDG_CACHE_HOME:-$HOME/.cache}"/kbuild-patch/trees/*/scan/commands | head -1)
	[ "$(wc -l <"$scan")" -gt 5000 ]
	cat "$calls"
	[ "$(grep '^c ' "$calls" | grep -vc -e '/module/' -e '\.mod\.c$' -e '/scripts/module-common\.c$')" -le $((2 * users)) ]
	[ "$(grep -c '^M ' "$calls")" -lt 100 ]
	# Independently: every .c file that #includes the header by name and
	# that the config builds is among the users.
	src=$(sed -n 's/^kbuild-patch: kernel [^,]*, source \(.*\)$/\1/p' <<<"$output")
	[ -d "$src" ]
	for f in $(cd "$src" && grep -rlE --include='*.c' '#[[:space:]]*include[[:space:]]*<linux/sched/loadavg\.h>' \
		kernel fs block net drivers mm); do
		cut -f2 "$scan" | grep -qx "$f" || continue
		echo "direct user: $f"
		grep -q "^  ${f%.c}\.o: " <<<"$output"
	done
	[[ $output == *"fs/proc/loadavg.o: changed function: loadavg_proc_show"* ]]
	debian_prove "$out/livepatch-header-loadavg.ko" "$CORPUS/header-loadavg-LOADED.test"
}
