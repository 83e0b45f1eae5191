#!/usr/bin/env bats
# Bad input: every way the inputs or the environment can be wrong gets an
# exact, actionable message and its exit status (design.md: 1 input or
# environment, 2 unsupported change, 3 no functional change), and leaves
# the output directory as it was: files already in it survive, no new or
# partial file appears, and a directory the run had to create is gone.
#
# Table-driven: each row of ROWS is "NAME<TAB>EXIT<TAB>FIXED STRING"; its
# case_NAME function sets up the inputs (ARGS, ENVS, OUT) and its @test
# line is "bad input: NAME". Most rows fail before anything is compiled.

load ../lib/corpus-lib

# NAME, exit status, a fixed string of the message (what and what to do).
ROWS=$(cat <<'EOF'
patch-does-not-apply	1	fs/proc/cmdline.c: hunk #1 FAILED at line 8. Hint: rebase the patch on this kernel's source
patch-already-applied	1	fs/proc/cmdline.c: already applied (or reversed). Hint: rebase the patch
patch-missing-file	1	fs/proc/no-such-file.c: no such file in the source tree. Hint: rebase the patch
asm-file	2	arch/x86/lib/memset_64.S (object arch/x86/lib/memset_64.o): the patch changes this assembly source; only C functions can be live patched
makefile	2	fs/proc/Makefile: the patch changes the kernel's build system (Makefile, Kbuild or Kconfig); a livepatch replaces functions of the running kernel and can't change its configuration or how it was built. Hint: drop that part of the patch
makefile-context-diff	2	fs/proc/Makefile: the patch changes the kernel's build system
kconfig	2	fs/proc/Kconfig: the patch changes the kernel's build system
scripts	2	scripts/mod/modpost.c: the patch changes the kernel's build scripts or host tools (scripts/), which aren't part of the running kernel and would change how the objects are built. Hint: drop that part of the patch
boot-code	2	arch/x86/boot/main.c: the patch changes boot or real-mode code, which ran before the kernel did and can't be live patched
tools-only	3	the patches change no compiled file: no functional change
tools-c-file	3	the patches change no compiled file: no functional change
creates-file	2	fs/proc/kbp-new.c: the patch creates a file; that can't be live patched. Hint: put new functions in a file the kernel already builds
deletes-file	2	fs/proc/cmdline.c: the patch deletes a file; that can't be live patched
renames-file	2	fs/proc/cmdline2.c: the patch renames or copies a file (to this name); that can't be live patched
git-binary-patch	2	fs/proc/kbp.bin: the patch changes a binary file (git binary diff); a livepatch can only carry changes to C code. Hint: drop that part of the patch
binary-files-differ	2	fs/proc/kbp.bin: the patch changes a binary file
empty-patch	1	is empty: it has no hunks, so there is nothing to build
no-hunks	1	has no hunks: it changes no file's contents, so there is nothing to build
not-a-patch	1	is not a patch: it has no unified diff in it (no '--- a/FILE', '+++ b/FILE' and '@@' hunk lines). Hint: give a patch made by git diff, git format-patch or diff -u
missing-config	1	not found; use -c FILE with the .config the kernel was built with
not-a-config	1	is not a kernel config (no CONFIG_...= lines). Hint: use -c with the .config the kernel was built with
config-not-smp	1	the kernel is built with SMP ("# SMP "), the config has no CONFIG_SMP=y. Hint: use -c with the .config the kernel was built with
config-localversion	1	its CONFIG_LOCALVERSION "-other" isn't in the kernel's release 6.12
config-no-livepatch	1	the kernel has no CONFIG_LIVEPATCH, so it can't load livepatches. Hint: rebuild the kernel with CONFIG_LIVEPATCH=y
source-version	1	is Linux 6.12.999, but
compiler	1	differs from the kernel's compiler (gcc (Debian 9.9.9-1) 9.9.9); install gcc 9.9.9 or use --skip-compiler-check
no-patch-tool	1	patch is not installed (needed to build the module); install it: apt-get install patch
no-flex	1	flex is not installed (needed to build the module); install it: apt-get install flex
no-readelf	1	readelf is not installed (needed to build the module); install it: apt-get install binutils
no-unshare	1	unshare is not installed (needed to build the module); install it: apt-get install util-linux
output-read-only	1	is not writable: Read-only file system. Hint: use -o with a writable directory
output-parent-read-only	1	cannot create output directory
output-full	1	No space left on device for the module in
output-full-late	1	No space left on device. Hint: free space there or use -o with another directory
cache-full	1	No space left on device in
workdir-full	1	No space left on device for the work directory in
workdir-missing	1	Hint: set TMPDIR to a writable directory
missing-source	1	not found; -s needs the kernel's source directory
not-a-source-tree	1	is not a kernel source tree (no Makefile or kernel/); -s needs the top directory of the kernel's source
missing-vmlinux	1	not found; -v needs the kernel's vmlinux with its symbol table
missing-kallsyms	1	not found
missing-patch	1	missing.patch not found
missing-output-parent	1	is not a kernel config
EOF
)

setup_file() {
	corpus_setup
	# PATH directories without one tool each, for the missing-tool rows.
	local t d
	for t in patch flex readelf unshare; do
		d=$BATS_FILE_TMPDIR/path-without-$t
		mkdir -p "$d"
		# The first of each name on PATH, as the shell would find it.
		find -L /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin \
			-maxdepth 1 -type f -perm -u+x ! -name "$t" 2>/dev/null |
			awk -F/ '!seen[$NF]++' | xargs ln -s -t "$d"
		[ -e "$d/bash" ] && [ ! -e "$d/$t" ]
	done
}

teardown() {
	local m
	for m in "$BATS_TEST_TMPDIR"/mnt-*; do
		! mountpoint -q "$m" || umount "$m"
	done
}

# The common inputs: the test kernel, and an output directory with an
# unrelated file and a stale module of the same name in it.
setup() {
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
	echo "a user's file" >"$OUT/keep.txt"
	echo "an earlier build" >"$OUT/livepatch-case.ko"
	echo "{}" >"$OUT/livepatch-case.json"
	# Work directories (kept on failure, for the log) go with the test.
	ENVS=(TMPDIR="$BATS_TEST_TMPDIR")
	SRC=$K/source CFG=$K/config VML=$K/vmlinux
	P=$BATS_TEST_TMPDIR/case.patch
	ARGS=()
}

# the_args: the kbuild-patch command line of a row.
the_args() {
	ARGS=(-s "$SRC" -c "$CFG" -v "$VML" -o "$OUT" "$P")
}

# outdir_state DIR: every file in DIR (hidden ones too) with its checksum,
# or "absent".
outdir_state() {
	if [ -e "$1" ]; then
		(cd "$1" && find . -mindepth 1 -printf '%p %y ' -exec sh -c \
			'[ -f "$1" ] && sha256sum <"$1" || echo' sh {} \; | sort)
	else
		echo absent
	fi
}

# bad_input NAME: runs row NAME and checks its exit status, its message
# and that the output directory is as it was.
bad_input() {
	local name=$1 row code want before
	row=$(awk -F'\t' -v n="$name" '$1 == n' <<<"$ROWS")
	[ -n "$row" ] || { echo "no row $name in ROWS"; return 1; }
	code=$(cut -f2 <<<"$row")
	want=$(cut -f3- <<<"$row")
	"case_$name"
	[ ${#ARGS[@]} -gt 0 ] || the_args
	before=$(outdir_state "$OUT")
	run env "${ENVS[@]}" "$REPO/scripts/kbuild-patch" "${ARGS[@]}"
	echo "$output"
	echo "expected exit $code and: $want"
	[ "$status" -eq "$code" ]
	[[ $output == *"$want"* ]]
	[ "$(outdir_state "$OUT")" = "$before" ]
}

# --- the cases -------------------------------------------------------
from_corpus() {	# from_corpus [SED-SCRIPT]: cmdline-string.patch, edited
	sed "${1:-}" "$CORPUS/cmdline-string.patch" >"$P"
}
case_patch-does-not-apply() { from_corpus 's/seq_putc(m, /seq_putc(mm, /'; }
case_patch-already-applied() { reverse_patch; }
# reverse_patch: cmdline-string.patch turned around, as a tree that
# already has the fix sees it (patch detects it as previously applied).
reverse_patch() {
	awk '/^--- / { print; next } /^\+\+\+ / { print; next }
		/^@@/ { print; next }
		/^-/ { print "+" substr($0, 2); next }
		/^\+/ { print "-" substr($0, 2); next }
		{ print }' "$CORPUS/cmdline-string.patch" >"$P"
}
case_patch-missing-file() { from_corpus 's#fs/proc/cmdline\.c#fs/proc/no-such-file.c#'; }
case_asm-file() { cp "$CORPUS/FAIL-asm-file.patch" "$P"; }
case_makefile() {
	cat >"$P" <<-'EOF'
	--- a/fs/proc/Makefile
	+++ b/fs/proc/Makefile
	@@ -3,6 +3,7 @@
	 # Makefile for the Linux proc filesystem routines.
	 #
	 
	+ccflags-y += -DKBP_TEST
	 obj-y   += proc.o
	 
	 CFLAGS_task_mmu.o	+= -Wno-override-init
	EOF
	sed -n 3,5p "$K/source/fs/proc/Makefile" | grep -q 'Makefile for the Linux proc'
}
case_makefile-context-diff() {
	# A context diff: only patch(1) reads it; refused once applied.
	local d=$BATS_TEST_TMPDIR/ctx
	mkdir -p "$d/a/fs/proc" "$d/b/fs/proc"
	cp "$K/source/fs/proc/Makefile" "$d/a/fs/proc/"
	sed 's/^obj-y   += proc.o$/ccflags-y += -DKBP_TEST\n&/' "$K/source/fs/proc/Makefile" \
		>"$d/b/fs/proc/Makefile"
	(cd "$d" && diff -c a/fs/proc/Makefile b/fs/proc/Makefile >"$P") || true
	grep -q '^\*\*\* a/fs/proc/Makefile' "$P"
}
case_kconfig() {
	cat >"$P" <<-'EOF'
	--- a/fs/proc/Kconfig
	+++ b/fs/proc/Kconfig
	@@ -1,4 +1,5 @@
	 # SPDX-License-Identifier: GPL-2.0-only
	+# kbuild-patch test
	 config PROC_FS
	 	bool "/proc file system support" if EXPERT
	 	default y
	EOF
}
case_scripts() {
	cat >"$P" <<-'EOF'
	--- a/scripts/mod/modpost.c
	+++ b/scripts/mod/modpost.c
	@@ -1,3 +1,4 @@
	+/* kbuild-patch test */
	 /* Postprocess module symbol versions
	  *
	  * Copyright 2003       Kai Germaschewski
	EOF
}
case_boot-code() {
	cat >"$P" <<-'EOF'
	--- a/arch/x86/boot/main.c
	+++ b/arch/x86/boot/main.c
	@@ -1,3 +1,4 @@
	+/* kbuild-patch test */
	 // SPDX-License-Identifier: GPL-2.0-only
	 /* -*- linux-c -*- ------------------------------------------------------- *
	  *
	EOF
}
case_tools-only() {
	cat >"$P" <<-'EOF'
	--- a/tools/testing/selftests/livepatch/functions.sh
	+++ b/tools/testing/selftests/livepatch/functions.sh
	@@ -1,3 +1,4 @@
	 #!/bin/bash
	+# kbuild-patch test
	 # SPDX-License-Identifier: GPL-2.0
	 # Copyright (C) 2018 Joe Lawrence <joe.lawrence@redhat.com>
	EOF
	head -3 "$K/source/tools/testing/selftests/livepatch/functions.sh" | grep -q 'Joe Lawrence'
	want_also="tools/testing/selftests/livepatch/functions.sh: not part of the running kernel (documentation, user-space tools or selftests): its change is ignored"
}
case_tools-c-file() {
	# A selftest module's C file, without the kernel's build directory
	# (--kallsyms): not compiled as if it were kernel code, ignored.
	cat >"$P" <<-'EOF'
	--- a/tools/testing/selftests/livepatch/test_modules/test_klp_livepatch.c
	+++ b/tools/testing/selftests/livepatch/test_modules/test_klp_livepatch.c
	@@ -1,5 +1,6 @@
	 // SPDX-License-Identifier: GPL-2.0
	 // Copyright (C) 2014 Seth Jennings <sjenning@redhat.com>
	+// kbuild-patch test
	 
	 #define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
	 
	EOF
	ARGS=(-s "$SRC" -c "$CFG" --kallsyms "$K/build/System.map"
		--symvers "$K/build/Module.symvers" -o "$OUT" "$P")
}
case_creates-file() {
	cat >"$P" <<-'EOF'
	--- /dev/null
	+++ b/fs/proc/kbp-new.c
	@@ -0,0 +1 @@
	+int kbp_new;
	EOF
}
case_deletes-file() {
	{
		echo "diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c"
		echo "deleted file mode 100644"
		echo "--- a/fs/proc/cmdline.c"
		echo "+++ /dev/null"
		echo "@@ -1,$(wc -l <"$K/source/fs/proc/cmdline.c") +0,0 @@"
		sed 's/^/-/' "$K/source/fs/proc/cmdline.c"
	} >"$P"
}
case_renames-file() {
	cat >"$P" <<-'EOF'
	diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline2.c
	similarity index 100%
	rename from fs/proc/cmdline.c
	rename to fs/proc/cmdline2.c
	EOF
}
case_git-binary-patch() {
	cat >"$P" <<-'EOF'
	diff --git a/fs/proc/kbp.bin b/fs/proc/kbp.bin
	index 1111111..2222222 100644
	GIT binary patch
	literal 4
	LcmZQzWMT#Y01f~L

	literal 0
	HcmV?d00001

	EOF
}
case_binary-files-differ() {
	cat >"$P" <<-'EOF'
	diff --git a/fs/proc/kbp.bin b/fs/proc/kbp.bin
	index 1111111..2222222 100644
	Binary files a/fs/proc/kbp.bin and b/fs/proc/kbp.bin differ
	EOF
}
case_empty-patch() { : >"$P"; }
case_no-hunks() {
	cat >"$P" <<-'EOF'
	diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c
	old mode 100644
	new mode 100755
	EOF
}
case_not-a-patch() { printf 'Subject: a fix\n\nPlease apply.\n' >"$P"; }
case_missing-config() { CFG=$BATS_TEST_TMPDIR/no-config; from_corpus; }
case_not-a-config() { CFG=$CORPUS/cmdline-string.patch; from_corpus; }
# edited_config SED-SCRIPT LINE: CFG, the test kernel's config edited by
# SED-SCRIPT, which must then have LINE; the corpus patch.
edited_config() {
	CFG=$BATS_TEST_TMPDIR/config
	sed "$1" "$K/config" >"$CFG"
	grep -qxF "$2" "$CFG"
	from_corpus
}
case_config-not-smp() {
	edited_config 's/^CONFIG_SMP=y$/# CONFIG_SMP is not set/' '# CONFIG_SMP is not set'
}
case_config-localversion() {
	edited_config 's/^CONFIG_LOCALVERSION=.*/CONFIG_LOCALVERSION="-other"/' \
		'CONFIG_LOCALVERSION="-other"'
}
case_config-no-livepatch() {
	edited_config 's/^CONFIG_LIVEPATCH=y$/# CONFIG_LIVEPATCH is not set/' \
		'# CONFIG_LIVEPATCH is not set'
}
case_source-version() {
	# A tree whose Makefile says another version than the vmlinux.
	SRC=$BATS_TEST_TMPDIR/src
	mkdir -p "$SRC/kernel"
	sed 's/^SUBLEVEL = .*/SUBLEVEL = 999/' "$K/source/Makefile" >"$SRC/Makefile"
	grep -q '^SUBLEVEL = 999' "$SRC/Makefile"
	from_corpus
}
case_compiler() {
	edited_config 's/^CONFIG_CC_VERSION_TEXT=.*/CONFIG_CC_VERSION_TEXT="gcc (Debian 9.9.9-1) 9.9.9"/' \
		'CONFIG_CC_VERSION_TEXT="gcc (Debian 9.9.9-1) 9.9.9"'
}
without_tool() { ENVS+=(PATH="$BATS_FILE_TMPDIR/path-without-$1"); from_corpus; }
case_no-patch-tool() { without_tool patch; }
case_no-flex() { without_tool flex; }
case_no-readelf() { without_tool readelf; }
case_no-unshare() { without_tool unshare; }
case_output-read-only() {
	local m=$BATS_TEST_TMPDIR/mnt-ro
	mkdir -p "$m"
	mount --bind "$OUT" "$m"
	mount -o remount,bind,ro "$m"
	OUT=$m
	from_corpus
}
case_output-parent-read-only() {
	local m=$BATS_TEST_TMPDIR/mnt-ro
	mkdir -p "$m"
	mount -t tmpfs -o ro,size=1m kbp-test "$m"
	OUT=$m/new/out
	from_corpus
}
# full_fs NAME SIZE [FROM]: a SIZE tmpfs on $BATS_TEST_TMPDIR/NAME (which
# teardown unmounts), with FROM's files copied in, filled with a filler
# file; its path in $m.
full_fs() {
	m=$BATS_TEST_TMPDIR/$1
	mkdir -p "$m"
	mount -t tmpfs -o "size=$2" kbp-test "$m"
	if [ -n "${3:-}" ]; then
		cp -a "$3"/. "$m"/
	fi
	dd if=/dev/zero of="$m/filler" bs=4k 2>/dev/null || true
}
case_output-full() {
	local m
	full_fs mnt-full 256k "$OUT"
	OUT=$m
	from_corpus
}
case_output-full-late() {
	# Room for the early check, not for the module: the build runs and
	# the final write fails.
	local m
	full_fs mnt-full 256k "$OUT"
	truncate -s -8K "$m/filler"
	OUT=$m
	cp "$CORPUS/cmdline-string.patch" "$P"
}
case_cache-full() {
	# A fresh cache on a full file system: the tree can't be prepared.
	local m
	full_fs mnt-cache 256k
	ENVS+=(XDG_CACHE_HOME="$m")
	from_corpus
}
case_workdir-full() {
	local m
	full_fs mnt-tmp 1m
	ENVS+=(TMPDIR="$m")
	from_corpus
}
case_workdir-missing() {
	ENVS+=(TMPDIR="$BATS_TEST_TMPDIR/no-such-tmp")
	from_corpus
}
case_missing-source() { SRC=$BATS_TEST_TMPDIR/no-source; from_corpus; }
case_not-a-source-tree() { SRC=$BATS_TEST_TMPDIR; from_corpus; }
case_missing-vmlinux() { VML=$BATS_TEST_TMPDIR/no-vmlinux; from_corpus; }
case_missing-kallsyms() {
	from_corpus
	ARGS=(-s "$SRC" -c "$CFG" --kallsyms "$BATS_TEST_TMPDIR/no-kallsyms" -o "$OUT" "$P")
}
case_missing-patch() { P=$BATS_TEST_TMPDIR/missing.patch; }
case_missing-output-parent() {
	# The run fails after it created the output directory and its
	# parents: they are removed again.
	OUT=$BATS_TEST_TMPDIR/no-parent/deeper/out
	CFG=$CORPUS/cmdline-string.patch
	from_corpus
}

@test "bad input: every row has a test, and every case a row" {
	local names tests cases
	names=$(cut -f1 <<<"$ROWS" | sort)
	tests=$(sed -n 's/^@test "bad input: \([^ "]*\)" {.*/\1/p' "$BATS_TEST_FILENAME" | sort)
	cases=$(sed -n 's/^case_\([^(]*\)() .*/\1/p' "$BATS_TEST_FILENAME" | sort)
	diff <(echo "$names") <(echo "$tests")
	diff <(echo "$names") <(echo "$cases")
	[ "$(uniq -d <<<"$names")" = "" ]
}

@test "bad input: patch-does-not-apply" { bad_input patch-does-not-apply; }
@test "bad input: patch-already-applied" { bad_input patch-already-applied; }
@test "bad input: patch-missing-file" { bad_input patch-missing-file; }
@test "bad input: asm-file" { bad_input asm-file; }
@test "bad input: makefile" { bad_input makefile; }
@test "bad input: makefile-context-diff" { bad_input makefile-context-diff; }
@test "bad input: kconfig" { bad_input kconfig; }
@test "bad input: scripts" { bad_input scripts; }
@test "bad input: boot-code" { bad_input boot-code; }
@test "bad input: tools-only" {
	bad_input tools-only
	[[ $output == *"$want_also"* ]]
}
@test "bad input: tools-c-file" { bad_input tools-c-file; }
@test "bad input: creates-file" { bad_input creates-file; }
@test "bad input: deletes-file" { bad_input deletes-file; }
@test "bad input: renames-file" { bad_input renames-file; }
@test "bad input: git-binary-patch" { bad_input git-binary-patch; }
@test "bad input: binary-files-differ" { bad_input binary-files-differ; }
@test "bad input: empty-patch" { bad_input empty-patch; }
@test "bad input: no-hunks" { bad_input no-hunks; }
@test "bad input: not-a-patch" { bad_input not-a-patch; }
@test "bad input: missing-config" { bad_input missing-config; }
@test "bad input: not-a-config" { bad_input not-a-config; }
@test "bad input: config-not-smp" { bad_input config-not-smp; }
@test "bad input: config-localversion" { bad_input config-localversion; }
@test "bad input: config-no-livepatch" { bad_input config-no-livepatch; }
@test "bad input: source-version" { bad_input source-version; }
@test "bad input: compiler" { bad_input compiler; }
@test "bad input: no-patch-tool" { bad_input no-patch-tool; }
@test "bad input: no-flex" { bad_input no-flex; }
@test "bad input: no-readelf" { bad_input no-readelf; }
@test "bad input: no-unshare" { bad_input no-unshare; }
@test "bad input: output-read-only" { bad_input output-read-only; }
@test "bad input: output-parent-read-only" { bad_input output-parent-read-only; }
@test "bad input: output-full" { bad_input output-full; }
@test "bad input: output-full-late" { bad_input output-full-late; }
@test "bad input: cache-full" { bad_input cache-full; }
@test "bad input: workdir-full" { bad_input workdir-full; }
@test "bad input: workdir-missing" { bad_input workdir-missing; }
@test "bad input: missing-source" { bad_input missing-source; }
@test "bad input: not-a-source-tree" { bad_input not-a-source-tree; }
@test "bad input: missing-vmlinux" { bad_input missing-vmlinux; }
@test "bad input: missing-kallsyms" { bad_input missing-kallsyms; }
@test "bad input: missing-patch" { bad_input missing-patch; }
@test "bad input: missing-output-parent" { bad_input missing-output-parent; }

@test "a patch that applies with fuzz warns, builds, and the module works in the VM" {
	local out=$BATS_TEST_TMPDIR/out-fuzz
	# The first context line differs from the tree: patch needs fuzz 1.
	sed 's/^ static int cmdline_proc_show(struct seq_file \*m, void \*v)$/ static int cmdline_proc_show(struct seq_file *m, void *unused)/' \
		"$CORPUS/cmdline-string.patch" >"$BATS_TEST_TMPDIR/fuzz.patch"
	grep -q 'void \*unused' "$BATS_TEST_TMPDIR/fuzz.patch"
	run kbp -o "$out" "$BATS_TEST_TMPDIR/fuzz.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"warning: patch fuzz.patch applied with fuzz or offset:"* ]]
	[[ $output == *"with fuzz 1"* ]]
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$out/livepatch-fuzz.ko" \
		"$CORPUS/cmdline-string-LOADED.test"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/livepatch-fuzz.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
}
