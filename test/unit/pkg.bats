#!/usr/bin/env bats
# kbuild-patch-pkg without a kernel: its refusals (each exits 1 and leaves
# nothing in the output directory), its exit codes, the logic of the
# hotfix package's maintainer scripts (run in a private mount namespace
# with a fake kbuild-patch-ctl and uname), the runtime package (contents,
# lintian, its scripts), and the bash completion. The modules here are
# small ELF objects with the .modinfo of a kbuild-patch livepatch for a
# release apt knows; a package of a real module, signed, for a stock
# Debian kernel is in test/integration/pkg.bats.

load ../lib/options-lib
load ../lib/debian-lib

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# A release apt knows (the installed linux-source-6.12's) and one it
	# doesn't, checked here independently of kbuild-patch-pkg.
	REL=$(debian_test_release)
	apt-cache show "linux-image-$REL-unsigned" | grep -qxF "Package: linux-image-$REL-unsigned"
	BADREL=6.12.0+deb99-amd64
	if apt-cache show "linux-image-$BADREL" "linux-image-$BADREL-unsigned" 2>/dev/null |
		grep -q '^Package:'; then
		false
	fi
	PATCHES=$BATS_FILE_TMPDIR/patches
	mkdir -p "$PATCHES"
	printf -- '--- a/fs/proc/meminfo.c\n+++ b/fs/proc/meminfo.c\n' >"$PATCHES/fix.patch"
	printf -- '--- a/fs/proc/consoles.c\n+++ b/fs/proc/consoles.c\n' >"$PATCHES/more.patch"
	export REPO REL BADREL PATCHES
	# The packages that several tests read: a module (BASE), and a
	# series of two (S1, S2). Each run costs a load of apt's cache.
	local d=$BATS_FILE_TMPDIR/base pkg=$REPO/scripts/kbuild-patch-pkg
	export DEBEMAIL="kbuild-patch tests <tests@example.org>"
	fake_module "$d" livepatch-fix
	fake_module "$d" livepatch-fix-1
	fake_module "$d" livepatch-fix-2
	BASE=$("$pkg" -o "$d/debs" --maintainer "Jane Doe <jane@example.org>" "$d/livepatch-fix.ko" | tail -n 1)
	S1=$("$pkg" -o "$d/debs" --name fix "$d/livepatch-fix-1.ko" | tail -n 1)
	S2=$("$pkg" -o "$d/debs" --name fix --version 2 "$d/livepatch-fix-2.ko" | tail -n 1)
	export BASE S1 S2
}

setup() {
	PKG=$REPO/scripts/kbuild-patch-pkg
	export DEBEMAIL="kbuild-patch tests <tests@example.org>"
	unset DEBFULLNAME SOURCE_DATE_EPOCH
	IN=$BATS_TEST_TMPDIR/in OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$IN" "$OUT"
}

teardown() {
	[ -z "${SHARED:-}" ] || rm -rf "$SHARED"
}

# fake_module DIR MODULE [REL [MODINFO-REL [JSON-MODULE]]]: DIR/MODULE.ko, an
# x86-64 ELF object with the .modinfo kbuild-patch gives a livepatch
# (name, vermagic, kbp_kernel, kbp_patch of fix.patch and more.patch),
# and DIR/MODULE.json, its manifest as kbuild-patch writes it.
fake_module() {
	local dir=$1 mod=$2 rel=${3:-$REL} krel=${4:-${3:-$REL}} jmod=${5:-$2}
	local s1 s2
	s1=$(sha256sum <"$PATCHES/fix.patch" | cut -d' ' -f1)
	s2=$(sha256sum <"$PATCHES/more.patch" | cut -d' ' -f1)
	mkdir -p "$dir"
	printf '__attribute__((section(".modinfo"), used, aligned(1))) static const char mi[] = "%s";\n' \
		"name=${mod//-/_}\\0vermagic=$rel SMP preempt mod_unload modversions \\0kbp_version=0.1.0\\0kbp_kernel=$krel\\0kbp_patch=fix.patch:$s1\\0kbp_patch=more.patch:$s2\\0" |
		gcc -c -x c -o "$dir/$mod.ko" -
	cat >"$dir/$mod.json" <<-EOF
	{
	  "module": "$jmod",
	  "kbuild_patch_version": "0.1.0",
	  "kernel_release": "$krel",
	  "replace": true,
	  "signed": false,
	  "patches": [
	    { "file": "fix.patch", "sha256": "$s1" },
	    { "file": "more.patch", "sha256": "$s2" }
	  ],
	  "objects": [
	    {
	      "name": "vmlinux",
	      "functions": [
	        { "name": "meminfo_proc_show", "action": "patched", "sympos": 0, "object_file": "fs/proc/meminfo.o", "reason": "changed code" },
	        { "name": "c_start", "action": "patched", "sympos": 2, "object_file": "fs/proc/consoles.o", "reason": "changed code" }
	      ]
	    }
	  ]
	}
	EOF
}

# refused PATTERN: the last run exited 1 with a message matching PATTERN
# and left nothing (no .deb, no temporary file) in OUT.
refused() {
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"kbuild-patch-pkg: error: "* ]]
	[[ $output == *$1* ]]
	echo "left in $OUT: $(ls -A "$OUT")"
	[ -z "$(ls -A "$OUT")" ]
}

# The maintainer scripts' helpers, defined before the tests: shellcheck
# takes each @test for a change of $output, and flags a function after
# one that reads it (SC2030, SC2031).

# maint_setup: FAKEBIN (uname -r prints $FAKE_REL; kbuild-patch-ctl logs
# its arguments to CTL_LOG and exits $CTL_RC; ischroot exits $CHROOT_RC),
# RUNDIR (/run) and SYSMOD (/sys/module) for run_maint.
maint_setup() {
	FAKEBIN=$BATS_TEST_TMPDIR/fakebin RUNDIR=$BATS_TEST_TMPDIR/run
	SYSMOD=$BATS_TEST_TMPDIR/sysmodule CTL_LOG=$BATS_TEST_TMPDIR/ctl.log
	mkdir -p "$FAKEBIN" "$RUNDIR" "$SYSMOD"
	: >"$CTL_LOG"
	cat >"$FAKEBIN/uname" <<-'EOF'
	#!/bin/sh
	[ "$1" = -r ] && echo "$FAKE_REL"
	EOF
	cat >"$FAKEBIN/kbuild-patch-ctl" <<-'EOF'
	#!/bin/sh
	echo "$*" >>"$CTL_LOG"
	exit "${CTL_RC:-0}"
	EOF
	cat >"$FAKEBIN/ischroot" <<-'EOF'
	#!/bin/sh
	exit "${CHROOT_RC:-1}"
	EOF
	chmod +x "$FAKEBIN/uname" "$FAKEBIN/kbuild-patch-ctl" "$FAKEBIN/ischroot"
	export FAKEBIN RUNDIR SYSMOD CTL_LOG FAKE_REL=$REL CTL_RC=0 CHROOT_RC=1
}

# run_maint SCRIPT ARGS...: SCRIPT run in a private mount namespace whose
# /run is RUNDIR and /sys/module SYSMOD, with FAKEBIN first on PATH (then
# MAINT_PATH, default PATH).
run_maint() {
	# shellcheck disable=SC2016 # the inner sh expands its own variables
	run unshare -m sh -c 'mount --bind "$RUNDIR" /run &&
		mount --bind "$SYSMOD" /sys/module &&
		PATH=$FAKEBIN:${MAINT_PATH:-$PATH} exec "$@"' sh "$@"
	echo "$output"
}

@test "pkg: a module is packaged as OUT/kbp-PATCH-REL_V_amd64.deb, its path the last line" {
	fake_module "$IN" livepatch-fix
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$OUT/kbp-livepatch-fix-${REL}_1_amd64.deb" ]
	[ "$(ls -A "$OUT")" = "kbp-livepatch-fix-${REL}_1_amd64.deb" ]
	[ "$(dpkg-deb --field "${lines[-1]}" Package)" = "kbp-livepatch-fix-$REL" ]
	# --name (underscores become dashes, lowercased), --version with an
	# epoch (left out of the file name) and a Debian revision.
	run "$PKG" -o "$OUT" --name My_Fix --version 1:2.0-1 "$IN/livepatch-fix.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$OUT/kbp-my-fix-${REL}_2.0-1_amd64.deb" ]
	[ "$(dpkg-deb --field "${lines[-1]}" Version)" = 1:2.0-1 ]
	dpkg-deb -c "${lines[-1]}" | grep -q " ./usr/share/doc/kbp-my-fix-$REL/changelog.Debian.gz$"
	# An output directory that doesn't exist yet is created.
	run "$PKG" -o "$OUT/new/dir" "$IN/livepatch-fix.ko"
	[ "$status" -eq 0 ]
	[ -f "$OUT/new/dir/kbp-livepatch-fix-${REL}_1_amd64.deb" ]
}

@test "pkg: control fields, contents, and the description from the manifest" {
	local deb=$BASE x=$BATS_TEST_TMPDIR/x f in=$BATS_FILE_TMPDIR/base
	[ "$deb" = "$in/debs/kbp-livepatch-fix-${REL}_1_amd64.deb" ]
	[ "$(dpkg-deb --field "$deb" Architecture)" = amd64 ]
	[ "$(dpkg-deb --field "$deb" Maintainer)" = "Jane Doe <jane@example.org>" ]
	[ "$(dpkg-deb --field "$deb" Section)" = kernel ]
	[ "$(dpkg-deb --field "$deb" Priority)" = optional ]
	[ "$(dpkg-deb --field "$deb" Depends)" = \
		"linux-image-$REL | linux-image-$REL-unsigned, kbuild-patch-runtime (>= $("$REPO/scripts/kbuild-patch" --version | awk '{ print $2 }'))" ]
	dpkg-deb --field "$deb" Description >"$x.desc"
	cat "$x.desc"
	grep -qF "$REL" "$x.desc"
	grep -qx "  fix.patch" "$x.desc"
	grep -qx "   $(sha256sum <"$PATCHES/more.patch" | cut -d' ' -f1)" "$x.desc"
	grep -qx "  vmlinux: meminfo_proc_show, changed code" "$x.desc"
	grep -qx "  vmlinux: c_start, changed code" "$x.desc"
	# No line longer than 80 columns (the control file's own indent
	# included), none empty.
	[ "$(dpkg-deb --field "$deb" Description | awk 'length > 80 || /^ *$/' | wc -l)" -eq 0 ]
	dpkg-deb -x "$deb" "$x"
	cmp "$in/livepatch-fix.ko" "$x/usr/lib/kbuild-patch/$REL/livepatch-fix.ko"
	cmp "$in/livepatch-fix.json" "$x/usr/lib/kbuild-patch/$REL/livepatch-fix.json"
	grep -q '^License: GPL-2$' "$x/usr/share/doc/kbp-livepatch-fix-$REL/copyright"
	zcat "$x/usr/share/doc/kbp-livepatch-fix-$REL/changelog.gz" | head -1 |
		grep -qxF "kbp-livepatch-fix-$REL (1) unstable; urgency=medium"
	# md5sums: every file, right.
	dpkg-deb -e "$deb" "$x/DEBIAN"
	(cd "$x" && md5sum -c DEBIAN/md5sums)
	[ "$(wc -l <"$x/DEBIAN/md5sums")" -eq "$(find "$x" -path "$x/DEBIAN" -prune -o -type f -print | wc -l)" ]
	# Everything owned by root, and the maintainer scripts executable.
	[ -z "$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')" ]
	for f in postinst prerm postrm; do [ -x "$x/DEBIAN/$f" ]; done
}

@test "pkg: the maintainer scripts are POSIX sh: dash, busybox sh and shellcheck -s sh accept them" {
	local x=$BATS_TEST_TMPDIR/x f
	dpkg-deb -e "$BASE" "$x"
	for f in postinst prerm postrm; do
		head -1 "$x/$f" | grep -qx '#!/bin/sh'
		grep -qx 'set -e' "$x/$f"
		dash -n "$x/$f"
		busybox sh -n "$x/$f"
		shellcheck -s sh -S style "$x/$f"
	done
	# The check can fail: a bashism is found.
	# shellcheck disable=SC2016 # a script's text: its $1 is the script's
	printf '#!/bin/sh\n[[ -n "$1" ]] && echo x\n' >"$x/bad"
	if shellcheck -s sh -S style "$x/bad"; then false; fi
}

@test "pkg: the same inputs give the same .deb; file times are SOURCE_DATE_EPOCH, else the module's" {
	fake_module "$IN" livepatch-fix
	touch -d @1700000000 "$IN/livepatch-fix.ko"
	run "$PKG" -o "$OUT/a" "$IN/livepatch-fix.ko"
	[ "$status" -eq 0 ]
	sleep 1
	run "$PKG" -o "$OUT/b" "$IN/livepatch-fix.ko"
	[ "$status" -eq 0 ]
	cmp "$OUT/a/kbp-livepatch-fix-${REL}_1_amd64.deb" "$OUT/b/kbp-livepatch-fix-${REL}_1_amd64.deb"
	[ -z "$(TZ=UTC dpkg-deb -c "$OUT/a/kbp-livepatch-fix-${REL}_1_amd64.deb" |
		awk '$4 " " $5 != "2023-11-14 22:13"')" ]
	SOURCE_DATE_EPOCH=1600000000 run "$PKG" -o "$OUT/c" "$IN/livepatch-fix.ko"
	[ "$status" -eq 0 ]
	[ -z "$(TZ=UTC dpkg-deb -c "$OUT/c/kbp-livepatch-fix-${REL}_1_amd64.deb" |
		awk '$4 " " $5 != "2020-09-13 12:26"')" ]
	zcat <(dpkg-deb --fsys-tarfile "$OUT/c/kbp-livepatch-fix-${REL}_1_amd64.deb" |
		tar -xO "./usr/share/doc/kbp-livepatch-fix-$REL/changelog.gz") |
		grep -qF 'Sun, 13 Sep 2020 12:26:40 +0000'
}

@test "pkg: a cumulative series: one package name for modules of their own names, versions in dpkg order" {
	local v1=$S1 v2=$S2
	[ "$v1" = "$BATS_FILE_TMPDIR/base/debs/kbp-fix-${REL}_1_amd64.deb" ]
	[ "$v2" = "$BATS_FILE_TMPDIR/base/debs/kbp-fix-${REL}_2_amd64.deb" ]
	[ "$(dpkg-deb --field "$v1" Package)" = "kbp-fix-$REL" ]
	[ "$(dpkg-deb --field "$v2" Package)" = "kbp-fix-$REL" ]
	dpkg --compare-versions "$(dpkg-deb --field "$v2" Version)" gt "$(dpkg-deb --field "$v1" Version)"
	dpkg-deb -c "$v1" | grep -q " ./usr/lib/kbuild-patch/$REL/livepatch-fix-1.ko$"
	dpkg-deb -c "$v2" | grep -q " ./usr/lib/kbuild-patch/$REL/livepatch-fix-2.ko$"
}

@test "pkg: refused: a module without its manifest" {
	fake_module "$IN" livepatch-fix
	rm "$IN/livepatch-fix.json"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	refused "its manifest $IN/livepatch-fix.json is missing"
}

@test "pkg: refused: the manifest of another module" {
	fake_module "$IN" livepatch-fix
	fake_module "$BATS_TEST_TMPDIR/other" livepatch-other
	cp "$BATS_TEST_TMPDIR/other/livepatch-other.json" "$IN/livepatch-fix.json"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	refused "is the manifest of module livepatch-other, but $IN/livepatch-fix.ko is module livepatch_fix"
}

@test "pkg: refused: a manifest of another build (release, patches), and one that is not JSON" {
	fake_module "$IN" livepatch-fix "$REL" "$REL"
	sed -i "s/\"kernel_release\": \"$REL\"/\"kernel_release\": \"6.12.1+deb12-amd64\"/" "$IN/livepatch-fix.json"
	grep -q '6.12.1+deb12-amd64' "$IN/livepatch-fix.json"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	refused "the kernel releases disagree: vermagic $REL"
	# kbp_kernel differs from the vermagic.
	fake_module "$IN" livepatch-fix "$REL" 6.12.1+deb12-amd64
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	refused "modinfo kbp_kernel 6.12.1+deb12-amd64"
	fake_module "$IN" livepatch-fix
	sed -i 's/"sha256": "\([0-9a-f]\)/"sha256": "x\1/' "$IN/livepatch-fix.json"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	refused "name different patches"
	echo '{ "module": "livepatch-fix", ' >"$IN/livepatch-fix.json"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	refused "$IN/livepatch-fix.json: not a kbuild-patch manifest"
}

@test "pkg: refused: a file that is not a kbuild-patch livepatch" {
	fake_module "$IN" livepatch-fix
	echo 'not ELF' >"$IN/text.ko"
	cp "$IN/livepatch-fix.json" "$IN/text.json"
	run "$PKG" -o "$OUT" "$IN/text.ko"
	refused "not a 64-bit x86 ELF file"
	# A kernel module's .modinfo without kbuild-patch's fields.
	printf '__attribute__((section(".modinfo"), used)) static const char mi[] = "name=plain\\0vermagic=%s SMP \\0";\n' "$REL" |
		gcc -c -x c -o "$IN/plain.ko" -
	cp "$IN/livepatch-fix.json" "$IN/plain.json"
	run "$PKG" -o "$OUT" "$IN/plain.ko"
	refused "no kbp_kernel in its modinfo: not a livepatch built by kbuild-patch"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.json"
	refused "not a .ko file"
	run "$PKG" -o "$OUT" "$IN/missing.ko"
	refused "$IN/missing.ko: no such readable file"
}

@test "pkg: a release apt knows by one of its two image packages only is known" {
	local r=''
	# A release with linux-image-REL but no -unsigned package in apt's
	# lists (older 6.1 ABIs), found independently.
	r=$(apt-cache pkgnames linux-image- | LC_ALL=C sort | awk '
		{ seen[$1] = 1; names[++n] = $1 }
		END {
			for (i = 1; i <= n; i++)
				if (names[i] ~ /^linux-image-[0-9.]+-[0-9]+-amd64$/ && !((names[i] "-unsigned") in seen)) {
					print substr(names[i], 13); exit
				}
		}')
	echo "release: $r"
	[ -n "$r" ]
	apt-cache show "linux-image-$r" | grep -qxF "Package: linux-image-$r"
	fake_module "$IN" livepatch-fix "$r"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$OUT/kbp-livepatch-fix-${r}_1_amd64.deb" ]
}

@test "pkg: refused: a release apt doesn't know" {
	fake_module "$IN" livepatch-fix "$BADREL"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko"
	refused "unknown release $BADREL"
	[[ $output == *"neither linux-image-$BADREL nor linux-image-$BADREL-unsigned"* ]]
}

@test "pkg: refused: invalid versions, package names and maintainers" {
	local v
	fake_module "$IN" livepatch-fix
	for v in 'a1' '1 2' '' '1_0'; do
		run "$PKG" -o "$OUT" --version "$v" "$IN/livepatch-fix.ko"
		refused "--version '$v' is not a valid Debian version"
	done
	run "$PKG" -o "$OUT" --name 'fix!' "$IN/livepatch-fix.ko"
	refused "package name kbp-fix!-$REL is not a valid Debian package name"
	run "$PKG" -o "$OUT" --maintainer 'nobody' "$IN/livepatch-fix.ko"
	refused "maintainer 'nobody' does not read NAME <EMAIL>"
	# The valid ones of the same kinds pass.
	run "$PKG" -o "$OUT/ok" --version 1.0~rc1+b2 --name fix.v2 "$IN/livepatch-fix.ko"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$OUT/ok/kbp-fix.v2-${REL}_1.0~rc1+b2_amd64.deb" ]
}

@test "pkg: refused: usage errors (no module, two modules, an unknown option, --runtime with a module)" {
	fake_module "$IN" livepatch-fix
	run "$PKG" -o "$OUT"
	refused "no module given"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko" "$IN/livepatch-fix.ko"
	refused "one module at a time"
	run "$PKG" -o "$OUT" --bogus "$IN/livepatch-fix.ko"
	refused "unknown option --bogus"
	run "$PKG" -o "$OUT" --runtime "$IN/livepatch-fix.ko"
	refused "--runtime takes no module"
	run "$PKG" -o "$OUT" --runtime --version 2
	refused "--runtime takes only -o and --maintainer"
	run "$PKG" -o "$OUT" "$IN/livepatch-fix.ko" --name
	refused "--name needs a value"
}

@test "pkg: an unprivileged user builds a package, and is refused an output directory it can't write" {
	# Root writes anywhere: the user is nobody. The inputs are in a
	# directory nobody can read.
	SHARED=$(mktemp -d /tmp/kbp-pkg-test.XXXXXX)
	chmod 755 "$SHARED"
	fake_module "$SHARED/in" livepatch-fix
	chmod -R a+rX "$SHARED/in"
	mkdir -m 755 "$SHARED/ro"
	mkdir -m 777 "$SHARED/rw"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent \
		"$PKG" -o "$SHARED/ro" "$SHARED/in/livepatch-fix.ko"
	OUT=$SHARED/ro refused "the output directory $SHARED/ro is not writable"
	# A directory it can't create.
	run setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent \
		"$PKG" -o "$SHARED/ro/sub" "$SHARED/in/livepatch-fix.ko"
	OUT=$SHARED/ro refused "cannot create the output directory $SHARED/ro/sub"
	# The same user where it can write: the files are root's in the .deb.
	run setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent \
		"$PKG" -o "$SHARED/rw" "$SHARED/in/livepatch-fix.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(stat -c %U "${lines[-1]}")" = nobody ]
	[ -z "$(dpkg-deb -c "${lines[-1]}" | awk '$2 != "root/root"')" ]
}

@test "pkg: exit 4 when the package built does not hold what it should; nothing is left, not even the output directory it created" {
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	# A dpkg-deb that builds a package whose module is not the input.
	cat >"$bin/dpkg-deb" <<-'EOF'
	#!/bin/bash
	if [ "$1" = --fsys-tarfile ]; then
		d=$(mktemp -d)
		/usr/bin/dpkg-deb -x "$2" "$d"
		find "$d" -name '*.ko' -exec sh -c 'echo x >>"$1"' sh {} \;
		tar -C "$d" -cf - .
		rm -rf "$d"
		exit 0
	fi
	exec /usr/bin/dpkg-deb "$@"
	EOF
	chmod +x "$bin/dpkg-deb"
	fake_module "$IN" livepatch-fix
	PATH=$bin:$PATH run "$PKG" -o "$OUT/a/b" "$IN/livepatch-fix.ko"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"internal error: /usr/lib/kbuild-patch/$REL/livepatch-fix.ko in kbp-livepatch-fix-${REL}_1_amd64.deb is not $IN/livepatch-fix.ko"* ]]
	[ -z "$(ls -A "$OUT")" ]
}

@test "pkg: without a maintainer it warns and uses kbuild-patch <root@localhost>; DEBFULLNAME and DEBEMAIL make one" {
	fake_module "$IN" livepatch-fix
	unset DEBEMAIL
	run "$PKG" -o "$OUT/a" "$IN/livepatch-fix.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"warning: no maintainer given"* ]]
	[ "$(dpkg-deb --field "${lines[-1]}" Maintainer)" = "kbuild-patch <root@localhost>" ]
	DEBFULLNAME="Jane Doe" DEBEMAIL=jane@example.org run "$PKG" -o "$OUT/b" "$IN/livepatch-fix.ko"
	[ "$status" -eq 0 ]
	[[ $output != *warning* ]]
	[ "$(dpkg-deb --field "${lines[-1]}" Maintainer)" = "Jane Doe <jane@example.org>" ]
}

@test "pkg: --help lists the exit codes; --version alone prints the version" {
	run "$PKG" --help
	[ "$status" -eq 0 ]
	[[ $output == *"Exit status: 0 package built, 1 input or environment error"* ]]
	[[ $output == *"4 internal error"* ]]
	run "$PKG" --version
	[ "$status" -eq 0 ]
	[ "$output" = "kbuild-patch-pkg $("$REPO/scripts/kbuild-patch" --version | awk '{ print $2 }')" ]
}

# --- the hotfix package's maintainer scripts --------------------------------

@test "maintainer scripts: postinst loads the module when its release runs (not in a chroot), and only then" {
	local c=$BATS_TEST_TMPDIR/c
	maint_setup
	dpkg-deb -e "$BASE" "$c"
	run_maint "$c/postinst" configure
	[ "$status" -eq 0 ]
	[ "$(cat "$CTL_LOG")" = "load /usr/lib/kbuild-patch/$REL/livepatch-fix.ko" ]
	# Safe twice (kbuild-patch-ctl load has nothing to do then).
	run_maint "$c/postinst" configure
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$CTL_LOG")" -eq 2 ]
	: >"$CTL_LOG"
	FAKE_REL=6.1.0-57-amd64 run_maint "$c/postinst" configure
	[ "$status" -eq 0 ]
	[ ! -s "$CTL_LOG" ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"installed for Linux $REL, not the running 6.1.0-57-amd64"*"next boot of $REL"* ]]
	# In a chroot (an image built on a machine that runs REL) the
	# kernel is not the target's: nothing is loaded, nor unloaded.
	CHROOT_RC=0 run_maint "$c/postinst" configure
	[ "$status" -eq 0 ]
	[ ! -s "$CTL_LOG" ]
	[[ $output == *"installed in a chroot: livepatch-fix is not loaded"* ]]
	mkdir "$SYSMOD/livepatch_fix"
	CHROOT_RC=0 run_maint "$c/prerm" remove
	[ "$status" -eq 0 ]
	[ ! -s "$CTL_LOG" ]
}

@test "maintainer scripts: a load that fails or stalls fails postinst with its status" {
	local c=$BATS_TEST_TMPDIR/c
	maint_setup
	dpkg-deb -e "$BASE" "$c"
	CTL_RC=2 run_maint "$c/postinst" configure
	[ "$status" -eq 2 ]
	[[ $output == *"loading livepatch-fix failed (kbuild-patch-ctl exit 2"*"files stay installed"* ]]
}

@test "maintainer scripts: an upgrade records the old module, loads the new one first, then unloads the old if still loaded" {
	local c1=$BATS_TEST_TMPDIR/c1 c2=$BATS_TEST_TMPDIR/c2 note
	maint_setup
	dpkg-deb -e "$S1" "$c1"
	dpkg-deb -e "$S2" "$c2"
	note=$RUNDIR/kbuild-patch/upgrade/kbp-fix-$REL
	# A non-replace patch: the old module stays loaded after the new load.
	mkdir "$SYSMOD/livepatch_fix_1"
	run_maint "$c1/prerm" upgrade 2
	[ "$status" -eq 0 ]
	[ "$(cat "$note")" = livepatch-fix-1 ]
	[ ! -s "$CTL_LOG" ]
	run_maint "$c2/postinst" configure 1
	[ "$status" -eq 0 ]
	[ "$(cat "$CTL_LOG")" = "load /usr/lib/kbuild-patch/$REL/livepatch-fix-2.ko
unload livepatch-fix-1" ]
	[ ! -e "$note" ]
	# Atomic replace: the old module is gone after the load; nothing to
	# unload.
	rmdir "$SYSMOD/livepatch_fix_1"
	: >"$CTL_LOG"
	run_maint "$c1/prerm" upgrade 2
	run_maint "$c2/postinst" configure 1
	[ "$status" -eq 0 ]
	[ "$(cat "$CTL_LOG")" = "load /usr/lib/kbuild-patch/$REL/livepatch-fix-2.ko" ]
	[ ! -e "$note" ]
	# An upgrade that never came: the old version stays, the note goes.
	run_maint "$c1/prerm" upgrade 2
	[ -e "$note" ]
	run_maint "$c1/postinst" abort-upgrade 2
	[ "$status" -eq 0 ]
	[ ! -e "$note" ]
	# In a chroot the build machine's modules are left alone.
	mkdir "$SYSMOD/livepatch_fix_1"
	: >"$CTL_LOG"
	run_maint "$c1/prerm" upgrade 2
	CHROOT_RC=0 run_maint "$c2/postinst" configure 1
	[ "$status" -eq 0 ]
	[ ! -s "$CTL_LOG" ]
	[ ! -e "$note" ]
	rmdir "$SYSMOD/livepatch_fix_1"
	# A reinstall of the same version unloads nothing.
	mkdir "$SYSMOD/livepatch_fix_2"
	: >"$CTL_LOG"
	run_maint "$c2/prerm" upgrade 2
	run_maint "$c2/postinst" configure 2
	[ "$status" -eq 0 ]
	[ "$(cat "$CTL_LOG")" = "load /usr/lib/kbuild-patch/$REL/livepatch-fix-2.ko" ]
}

@test "maintainer scripts: prerm remove unloads a loaded module only; postrm leaves nothing" {
	local c=$BATS_TEST_TMPDIR/c
	maint_setup
	dpkg-deb -e "$BASE" "$c"
	run_maint "$c/prerm" remove
	[ "$status" -eq 0 ]
	[ ! -s "$CTL_LOG" ]
	mkdir "$SYSMOD/livepatch_fix"
	run_maint "$c/prerm" remove
	[ "$status" -eq 0 ]
	[ "$(cat "$CTL_LOG")" = "unload livepatch-fix" ]
	# A stalled unpatching fails the removal.
	CTL_RC=2 run_maint "$c/prerm" remove
	[ "$status" -eq 2 ]
	[[ $output == *"unloading livepatch-fix failed"*"stays installed"* ]]
	# postrm remove and purge: the upgrade note and its directory go.
	run_maint "$c/prerm" upgrade 2
	[ -s "$RUNDIR/kbuild-patch/upgrade/kbp-livepatch-fix-$REL" ]
	run_maint "$c/postrm" remove
	[ "$status" -eq 0 ]
	[ ! -e "$RUNDIR/kbuild-patch/upgrade" ]
	run_maint "$c/postrm" purge
	[ "$status" -eq 0 ]
	run_maint "$c/postrm" bogus
	[ "$status" -eq 1 ]
}

# --- the runtime package ---------------------------------------------------

@test "runtime: kbuild-patch-runtime_VERSION_all.deb holds kbuild-patch-ctl, kbuild-patch-wait, their man pages, the unit and the completion" {
	local v deb x=$BATS_TEST_TMPDIR/x
	v=$("$REPO/scripts/kbuild-patch" --version | awk '{ print $2 }')
	run "$PKG" --runtime -o "$OUT"
	echo "$output"
	[ "$status" -eq 0 ]
	deb=${lines[-1]}
	[ "$deb" = "$OUT/kbuild-patch-runtime_${v}_all.deb" ]
	[ "$(dpkg-deb --field "$deb" Package)" = kbuild-patch-runtime ]
	[ "$(dpkg-deb --field "$deb" Version)" = "$v" ]
	[ "$(dpkg-deb --field "$deb" Architecture)" = all ]
	dpkg-deb --field "$deb" Depends | grep -qw kmod
	dpkg-deb -x "$deb" "$x"
	cmp "$REPO/scripts/kbuild-patch-ctl" "$x/usr/sbin/kbuild-patch-ctl"
	cmp "$REPO/scripts/kbuild-patch-wait" "$x/usr/bin/kbuild-patch-wait"
	[ -x "$x/usr/sbin/kbuild-patch-ctl" ] && [ -x "$x/usr/bin/kbuild-patch-wait" ]
	zcat "$x/usr/share/man/man8/kbuild-patch-ctl.8.gz" | cmp - "$REPO/man/kbuild-patch-ctl.8"
	zcat "$x/usr/share/man/man1/kbuild-patch-wait.1.gz" | cmp - "$REPO/man/kbuild-patch-wait.1"
	cmp "$REPO/contrib/bash-completion/kbuild-patch-ctl" \
		"$x/usr/share/bash-completion/completions/kbuild-patch-ctl"
	cmp "$REPO/contrib/systemd/kbuild-patch.service" "$x/lib/systemd/system/kbuild-patch.service"
	grep -qx 'ExecStart=/usr/sbin/kbuild-patch-ctl --timeout 30 load --all' \
		"$x/lib/systemd/system/kbuild-patch.service"
	[ -f "$x/usr/share/doc/kbuild-patch-runtime/copyright" ]
	zcat "$x/usr/share/doc/kbuild-patch-runtime/changelog.gz" | head -1 |
		grep -qxF "kbuild-patch-runtime ($v) unstable; urgency=medium"
	# Nothing else.
	[ "$(cd "$x" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" = \
		"./lib/systemd/system/kbuild-patch.service ./usr/bin/kbuild-patch-wait ./usr/sbin/kbuild-patch-ctl ./usr/share/bash-completion/completions/kbuild-patch-ctl ./usr/share/doc/kbuild-patch-runtime/changelog.gz ./usr/share/doc/kbuild-patch-runtime/copyright ./usr/share/man/man1/kbuild-patch-wait.1.gz ./usr/share/man/man8/kbuild-patch-ctl.8.gz " ]
}

@test "runtime: lintian reports no errors and no warnings; its scripts are POSIX sh" {
	local x=$BATS_TEST_TMPDIR/x f
	run "$PKG" --runtime -o "$OUT"
	[ "$status" -eq 0 ]
	run env TMPDIR="$BATS_TEST_TMPDIR" lintian --tag-display-limit 0 "${lines[-1]}"
	echo "$output"
	[ "$status" -eq 0 ]
	if grep -E '^[EW]: ' <<<"$output"; then false; fi
	dpkg-deb -e "$OUT/kbuild-patch-runtime_"*_all.deb "$x"
	for f in postinst prerm postrm; do
		dash -n "$x/$f"
		shellcheck -s sh -S style "$x/$f"
	done
	# (That lintian does report an error: test/integration/pkg.bats.)
}

@test "runtime: postinst enables the unit with deb-systemd-helper; postrm masks it on remove and purges it (and kbuild-patch-ctl's state) on purge" {
	local c=$BATS_TEST_TMPDIR/c log=$BATS_TEST_TMPDIR/dsh.log varlib=$BATS_TEST_TMPDIR/varlib
	maint_setup
	run "$PKG" --runtime -o "$OUT"
	[ "$status" -eq 0 ]
	dpkg-deb -e "${lines[-1]}" "$c"
	cat >"$FAKEBIN/deb-systemd-helper" <<-EOF
	#!/bin/sh
	echo "\$*" >>"$log"
	EOF
	chmod +x "$FAKEBIN/deb-systemd-helper"
	run_maint "$c/postinst" configure
	[ "$status" -eq 0 ]
	[ "$(cat "$log")" = "unmask kbuild-patch.service
--quiet was-enabled kbuild-patch.service
enable kbuild-patch.service" ]
	: >"$log"
	run_maint "$c/postrm" remove
	[ "$status" -eq 0 ]
	[ "$(cat "$log")" = "mask kbuild-patch.service" ]
	# purge: /var/lib/kbuild-patch (the namespace's) goes too.
	mkdir -p "$varlib/kbuild-patch/$REL"
	: >"$varlib/kbuild-patch/$REL/x.ko"
	: >"$log"
	# shellcheck disable=SC2016 # the inner sh expands its own variables
	run unshare -m sh -c 'mount --bind "$1" /var/lib && mount --bind "$RUNDIR" /run &&
		PATH=$FAKEBIN:$PATH exec "$2" purge' sh "$varlib" "$c/postrm"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$log")" = "purge kbuild-patch.service
unmask kbuild-patch.service" ]
	[ ! -e "$varlib/kbuild-patch" ]
	# Without deb-systemd-helper (nor anything else: this machine's
	# must not run): nothing to do, no failure.
	rm "$FAKEBIN/deb-systemd-helper"
	MAINT_PATH=/nonexistent run_maint "$c/postinst" configure
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "runtime: refused when one of its files is missing, naming it" {
	local t=$BATS_TEST_TMPDIR/tree
	mkdir -p "$t/scripts" "$t/man" "$t/contrib/systemd" "$t/contrib/bash-completion"
	cp "$PKG" "$REPO/scripts/kbuild-patch-wait" "$t/scripts/"
	cp "$REPO/man/kbuild-patch-wait.1" "$REPO/man/kbuild-patch-ctl.8" "$t/man/"
	cp "$REPO/contrib/systemd/kbuild-patch.service" "$t/contrib/systemd/"
	cp "$REPO/contrib/bash-completion/kbuild-patch-ctl" "$t/contrib/bash-completion/"
	run "$t/scripts/kbuild-patch-pkg" --runtime -o "$OUT"
	refused "kbuild-patch-runtime needs $t/scripts/kbuild-patch-ctl, missing here"
}

# --- bash completion -------------------------------------------------------

# complete_words WORD...: the candidates for the last WORD of
# "kbuild-patch-pkg WORD...", sorted.
complete_words() {
	COMP_WORDS=(kbuild-patch-pkg "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_kbuild_patch_pkg
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}

@test "completion: every option of --help and nothing else; -o directories; modules as the argument" {
	local help comp
	# shellcheck source=contrib/bash-completion/kbuild-patch-pkg disable=SC1091 # linted on its own by lint.bats
	. "$REPO/contrib/bash-completion/kbuild-patch-pkg"
	complete -p kbuild-patch-pkg | grep -q -- '-F _kbuild_patch_pkg'
	help=$("$PKG" --help | help_options)
	comp=$(complete_words - | grep -v '^$')
	[ "$(wc -l <<<"$help")" -ge 6 ]
	same_options "--help" "$help" "the completion" "$comp"
	cd "$BATS_TEST_TMPDIR"
	mkdir -p out/sub
	touch fix-1.ko fix-1.json notes.txt
	[ "$(complete_words -o o)" = out ]
	[ "$(complete_words --output out/)" = out/sub ]
	[ "$(complete_words '' | tr '\n' ' ')" = "fix-1.ko in out " ]
	[ "$(complete_words --name fix f | tr '\n' ' ')" = "fix-1.ko " ]
	[ -z "$(complete_words --version '')" ]
	[ "$(complete_words --ru)" = --runtime ]
}
