#!/usr/bin/env bats
# kbuild-patch's command line: options, names, exit codes, the output
# directory, the user's tree, and the installed command.

load ../lib/corpus-lib
load ../lib/options-lib

setup_file() {
	corpus_setup
}

teardown() {
	# The in-place tree test mounts an overlay; never leave it behind.
	! mountpoint -q "$BATS_TEST_TMPDIR/dirty/src" || umount "$BATS_TEST_TMPDIR/dirty/src"
}

@test "--help and the man page document every option, both ways" {
	local opt help man
	run "$REPO/scripts/kbuild-patch" --help
	[ "$status" -eq 0 ]
	for opt in -s --sourcedir -c --config -v --vmlinux -o --output -n --name \
		-j --jobs -R --non-replace --skip-cleanup --keep \
		--skip-compiler-check -d --debug --version -h --help --symvers \
		--kallsyms --distro --release --sign-key --sign-cert --explain; do
		grep -q -- "$opt\b" <<<"$output" || { echo "--help lacks $opt"; false; }
	done
	# Every option of --help is in the man page's OPTIONS, and every
	# option there is in --help.
	help=$(help_options <<<"$output")
	man=$(man_options "$REPO/man/kbuild-patch.1")
	same_options "--help" "$help" "kbuild-patch.1" "$man"
}

@test "--version prints the version" {
	run "$REPO/scripts/kbuild-patch" --version
	[ "$status" -eq 0 ]
	[[ $output =~ ^kbuild-patch\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "missing inputs exit 1 with a message naming what is missing" {
	run "$REPO/scripts/kbuild-patch" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"no kernel source tree"* ]]
	run "$REPO/scripts/kbuild-patch" -s "$K/source" -c "$K/config" \
		"$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"no kernel symbols given; use -v FILE"*"--kallsyms FILE"* ]]
	run kbp "$BATS_TEST_TMPDIR/missing.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"missing.patch not found"* ]]
	run kbp --bogus "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
}

@test "a patch that doesn't apply exits 1, leaves no output and the tree as it was" {
	local before out=$BATS_TEST_TMPDIR/out
	sed 's/seq_putc(m, /seq_putc(mm, /' "$CORPUS/cmdline-string.patch" \
		>"$BATS_TEST_TMPDIR/bad.patch"
	before=$(tree_signature "$K/source")
	run kbp -o "$out" "$BATS_TEST_TMPDIR/bad.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"does not apply"* ]]
	[[ $output == *"full log: "* ]]
	[ -z "$(ls -A "$out")" ]
	[ "$(tree_signature "$K/source")" = "$before" ]
}

@test "the source tree is untouched on success and on refusal, and no mount is left" {
	local before out=$BATS_TEST_TMPDIR/out
	before=$(tree_signature "$K/source")
	run kbp -o "$out" "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tree_signature "$K/source")" = "$before" ]
	run kbp -o "$out" "$CORPUS/FAIL-data-change.patch"
	[ "$status" -eq 2 ]
	[ "$(tree_signature "$K/source")" = "$before" ]
	if grep -qF " $K/source " /proc/self/mountinfo; then false; fi
	# The patched file still has its original contents.
	grep -q "seq_putc(m, '\\\\n');" "$K/source/fs/proc/cmdline.c"
}

@test "the default name comes from the first patch; -n is used as given" {
	local out=$BATS_TEST_TMPDIR/out
	cp "$CORPUS/cmdline-string.patch" "$BATS_TEST_TMPDIR/My fix+v2.diff"
	run kbp -o "$out" "$BATS_TEST_TMPDIR/My fix+v2.diff"
	[ "$status" -eq 0 ]
	[ -f "$out/livepatch-My-fix-v2.ko" ]
	[ "$(modinfo -F livepatch "$out/livepatch-My-fix-v2.ko")" = Y ]
	run kbp -o "$out" -n my_fix "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 0 ]
	[ -f "$out/my_fix.ko" ]
	[ "$(modinfo -F name "$out/my_fix.ko")" = my_fix ]
	cp "$CORPUS/cmdline-string.patch" "$BATS_TEST_TMPDIR/$(printf 'x%.0s' {1..80}).patch"
	run kbp -o "$out" "$BATS_TEST_TMPDIR/$(printf 'x%.0s' {1..80}).patch"
	[ "$status" -eq 0 ]
	local n
	n=$(basename "$(ls "$out"/livepatch-xxx*.ko)" .ko)
	[ ${#n} -eq 55 ]
	run kbp -o "$out" -n 'bad.name' "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
}

@test "a patch applied with an offset warns and still builds" {
	local out=$BATS_TEST_TMPDIR/out
	sed 's/^@@ -8,7 +8,7 @@/@@ -5,7 +5,7 @@/' "$CORPUS/cmdline-string.patch" \
		>"$BATS_TEST_TMPDIR/offset.patch"
	run kbp -o "$out" "$BATS_TEST_TMPDIR/offset.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"applied with fuzz or offset"* ]]
}

@test "a patch touching no compiled file exits 3" {
	local out=$BATS_TEST_TMPDIR/out
	cat >"$BATS_TEST_TMPDIR/doc.patch" <<-'EOF'
	--- a/Documentation/livepatch/index.rst
	+++ b/Documentation/livepatch/index.rst
	@@ -1,3 +1,4 @@
	+.. kbuild-patch test
	 .. SPDX-License-Identifier: GPL-2.0
	 
	 ===================
	EOF
	head -3 "$K/source/Documentation/livepatch/index.rst" | grep -q 'SPDX'
	run kbp -o "$out" "$BATS_TEST_TMPDIR/doc.patch"
	echo "$output"
	[ "$status" -eq 3 ]
	[ -z "$(ls -A "$out")" ]
}

@test "an output path that can't be a directory exits 1" {
	touch "$BATS_TEST_TMPDIR/file"
	run kbp -o "$BATS_TEST_TMPDIR/file/out" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"output directory"* ]]
}

@test "atomic replace is on by default and off with --non-replace, in the VM" {
	local out=$BATS_TEST_TMPDIR/out
	run kbp -o "$out" -n lp-replace "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 0 ]
	run kbp -o "$out" -n lp-stack -R "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 0 ]
	cat >"$BATS_TEST_TMPDIR/guest.sh" <<-'EOF'
	set -e
	for m in lp_replace lp_stack; do
		insmod /modules/$(echo $m | tr _ -).ko
		while [ "$(cat /sys/kernel/livepatch/$m/transition)" = 1 ]; do sleep 0.1; done
		echo "$m replace=$(cat /sys/kernel/livepatch/$m/replace)"
		echo 0 > /sys/kernel/livepatch/$m/enabled
		while [ -d /sys/kernel/livepatch/$m ]; do sleep 0.1; done
		until rmmod $m 2>/dev/null; do sleep 0.1; done
	done
	EOF
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/lp-replace.ko" \
		--module "$out/lp-stack.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"lp_replace replace=1"* ]]
	[[ $output == *"lp_stack replace=0"* ]]
}

@test "make install: the installed command works from any directory" {
	local prefix=$BATS_TEST_TMPDIR/prefix out=$BATS_TEST_TMPDIR/out
	make -s -C "$REPO" install PREFIX="$prefix" >/dev/null
	[ -x "$prefix/bin/kbuild-patch" ]
	[ -x "$prefix/bin/kbuild-patch-vm" ]
	[ -x "$prefix/libexec/kbuild-patch/create-diff-object" ]
	[ -x "$prefix/libexec/kbuild-patch/klp-convert" ]
	[ -x "$prefix/libexec/kbuild-patch/klp-loadcheck" ]
	[ -f "$prefix/share/kbuild-patch/kmod/livepatch-main.c" ]
	[ -f "$prefix/share/bash-completion/completions/kbuild-patch" ]
	[ -f "$prefix/share/man/man7/kbuild-patch-macros.7" ]
	cd "$BATS_TEST_TMPDIR"
	run env PATH="$prefix/bin:$PATH" kbuild-patch -s "$K/source" -c "$K/config" \
		-v "$K/vmlinux" -o "$out" "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	readelf -SW "$out/livepatch-cmdline-string.ko" | grep -F '.klp.rela.vmlinux.'
	run "$prefix/bin/kbuild-patch-vm" --help
	[ "$status" -eq 0 ]
}

@test "a module whose klp symbol doesn't resolve is never written: exit 4, an internal error naming the symbol" {
	local prefix=$BATS_TEST_TMPDIR/prefix out=$BATS_TEST_TMPDIR/out
	local lx=$prefix/libexec/kbuild-patch work ko sym name
	make -s -C "$REPO" install PREFIX="$prefix" >/dev/null
	# A bug stand-in: klp-convert, then one letter of the first vmlinux
	# klp symbol's name changed (same length, so the ELF stays valid).
	mv "$lx/klp-convert" "$lx/klp-convert.real"
	cat >"$lx/klp-convert" <<-'EOF'
	#!/bin/sh
	"$0.real" "$@" || exit
	exec perl -0777 -pi -e 's/(\.klp\.sym\.vmlinux\.)[a-z_]/${1}Q/' "$2"
	EOF
	chmod +x "$lx/klp-convert"
	mkdir -p "$out"
	run "$prefix/bin/kbuild-patch" -s "$K/source" -c "$K/config" \
		-v "$K/vmlinux" -o "$out" "$CORPUS/filesystems-static-call.patch"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"kbuild-patch: checking that every symbol resolves in the target"* ]]
	# The corrupted symbol really is missing from vmlinux: take it from
	# the module in the work directory, which a failed run keeps (with
	# its log), and look for it with nm.
	work=$(sed -n 's/.*failed (exit 4); full log: \(.*\)\/build\.log$/\1/p' <<<"$output")
	[ -d "$work" ]
	ko=$work/module/livepatch-filesystems-static-call.ko.klp
	sym=$(readelf -sW "$ko" | grep -o '\.klp\.sym\.vmlinux\.Q[^ ]*' | head -1)
	[ -n "$sym" ]
	name=${sym#.klp.sym.vmlinux.}
	name=${name%,*}
	[ "$(nm "$K/vmlinux" | awk -v n="$name" '$NF == n' | wc -l)" -eq 0 ]
	[[ $output == *"klp-loadcheck: internal error: livepatch-filesystems-static-call.ko: $sym (in .klp.rela.vmlinux."*"vmlinux has no symbol $name"* ]]
	[[ $output == *"kbuild-patch: error: internal error: klp-loadcheck"*"please report it, with the log"* ]]
	# No module, no partial file.
	[ -z "$(ls -A "$out")" ]
	rm -rf "$work"
}

@test "a warm re-run takes the original object from the cache: one compile, not two" {
	local out=$BATS_TEST_TMPDIR/out bin=$BATS_TEST_TMPDIR/bin calls real
	real=$(command -v gcc)
	mkdir -p "$bin"
	calls=$BATS_TEST_TMPDIR/gcc-calls
	# A gcc that logs the sources it compiles, then runs the real one.
	cat >"$bin/gcc" <<-EOF2
	#!/bin/sh
	for a in "\$@"; do case \$a in *.c) echo "\$a" >>"$calls" ;; esac; done
	exec "$real" "\$@"
	EOF2
	chmod +x "$bin/gcc"
	run kbp -o "$out" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 0 ]
	: >"$calls"
	# No launcher (ccache would answer the compile without gcc).
	KBP_CC_WRAPPER=none PATH="$bin:$PATH" run kbp -o "$out" "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	cat "$calls"
	# Only the patched fs/proc/cmdline.c is compiled on the warm run.
	[ "$(grep -c 'fs/proc/cmdline\.c$' "$calls")" -eq 1 ]
}

@test "a tree built in place (.config, objects in it) is used through a clean view and left as it was" {
	local d=$BATS_TEST_TMPDIR/dirty out=$BATS_TEST_TMPDIR/out before
	# A stand-in for a tree built in place: the test kernel's source with
	# a .config, kconfig state and a stale object beside the sources.
	mkdir -p "$d/upper/include/config" "$d/upper/fs/proc" "$d/work" "$d/src"
	cp "$K/config" "$d/upper/.config"
	touch "$d/upper/include/config/auto.conf"
	echo stale >"$d/upper/fs/proc/cmdline.o"
	mount -t overlay kbp-test -o "lowerdir=$K/source,upperdir=$d/upper,workdir=$d/work" "$d/src"
	before=$(tree_signature "$d/src")
	run "$REPO/scripts/kbuild-patch" -s "$d/src" -v "$K/vmlinux" -o "$out" \
		"$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$(tree_signature "$d/src")" = "$before" ]
	[ "$(cat "$d/src/fs/proc/cmdline.o")" = stale ]
	umount "$d/src"
	[ "$status" -eq 0 ]
	[[ $output == *"built in place"* ]]
	readelf -SW "$out/livepatch-cmdline-string.ko" | grep -F '.klp.rela.vmlinux..text.cmdline_proc_show'
}

@test "a compiler that isn't the kernel's is refused (exit 1) unless --skip-compiler-check" {
	local cfg=$BATS_TEST_TMPDIR/config
	sed 's/^CONFIG_CC_VERSION_TEXT=.*/CONFIG_CC_VERSION_TEXT="gcc (Debian 9.9.9-1) 9.9.9"/' \
		"$K/config" >"$cfg"
	run "$REPO/scripts/kbuild-patch" -s "$K/source" -c "$cfg" -v "$K/vmlinux" \
		-o "$BATS_TEST_TMPDIR/out" "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"differs from the kernel's compiler"*"--skip-compiler-check"* ]]
	run "$REPO/scripts/kbuild-patch" -s "$K/source" -c "$cfg" -v "$K/vmlinux" \
		-o "$BATS_TEST_TMPDIR/out" --skip-compiler-check "$CORPUS/cmdline-string.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -f "$BATS_TEST_TMPDIR/out/livepatch-cmdline-string.ko" ]
}
