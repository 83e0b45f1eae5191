#!/usr/bin/env bats
# The man pages: each command's page documents exactly the options its
# --help lists (both ways), and every page renders without a warning.

load ../lib/options-lib

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export REPO
	make -s -C "$REPO" tools >&2
}

# check_page COMMAND PAGE: the options agree both ways.
check_page() {
	local help man
	help=$("$1" --help | help_options)
	man=$(man_options "$2")
	echo "--help: ${help//$'\n'/ }"
	echo "man: ${man//$'\n'/ }"
	# Each list is real: a broken extraction can't pass as agreement.
	[ "$(wc -l <<<"$help")" -ge 5 ]
	same_options "--help" "$help" "$(basename "$2")" "$man"
}

@test "kbuild-patch(1) documents exactly the options of kbuild-patch --help" {
	check_page "$REPO/scripts/kbuild-patch" "$REPO/man/kbuild-patch.1"
}

@test "kbuild-patch-vm(1) documents exactly the options of kbuild-patch-vm --help" {
	check_page "$REPO/scripts/kbuild-patch-vm" "$REPO/man/kbuild-patch-vm.1"
}

@test "kbuild-patch-ci(1) documents exactly the options of kbuild-patch-ci --help" {
	check_page "$REPO/scripts/kbuild-patch-ci" "$REPO/man/kbuild-patch-ci.1"
}

@test "create-diff-object(1) documents exactly the options of create-diff-object --help" {
	check_page "$REPO/create-diff-object/create-diff-object" \
		"$REPO/man/create-diff-object.1"
}

@test "klp-loadcheck(1) documents exactly the options of klp-loadcheck --help" {
	check_page "$REPO/create-diff-object/klp-loadcheck" \
		"$REPO/man/klp-loadcheck.1"
}

@test "the comparison notices an option missing from either side" {
	local page=$BATS_TEST_TMPDIR/kbuild-patch.1
	# A page without --explain's entry...
	awk '/^\.BR? \\-\\-explain/ { skip = 1 } skip && /^\.TP/ { skip = 0 }
		!skip' "$REPO/man/kbuild-patch.1" >"$page"
	! grep -q 'explain$' <(man_options "$page") || false
	run check_page "$REPO/scripts/kbuild-patch" "$page"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"in --help but not in kbuild-patch.1: --explain"* ]]
	# ...and a page with an option --help doesn't have.
	sed 's/^\.B \\-\\-version$/.B \\-\\-version\n.TP\n.B \\-\\-bogus/' \
		"$REPO/man/kbuild-patch.1" >"$page"
	run check_page "$REPO/scripts/kbuild-patch" "$page"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"in kbuild-patch.1 but not in --help: --bogus"* ]]
}

# render PAGE: man-db and groff's warnings while formatting PAGE.
render() {
	{ LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" >/dev/null; } 2>&1
	groff -man -Tutf8 -ww -z "$1" 2>&1
}

@test "every man page renders without warnings, and is installed" {
	local page prefix=$BATS_TEST_TMPDIR/prefix n=0
	for page in "$REPO"/man/*.[1-8]; do
		echo "$page"
		[ -z "$(render "$page")" ]
		# It says something: a NAME line and its options or sections.
		LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q '^NAME'
		n=$((n + 1))
	done
	[ "$n" -ge 4 ]
	# A page with a mistake does warn: the check can fail.
	printf '.TH X 1\n.SH NAME\nx \\- y\n.XYZ\n\\fQ\n' >"$BATS_TEST_TMPDIR/bad.1"
	[ -n "$(render "$BATS_TEST_TMPDIR/bad.1")" ]
	make -s -C "$REPO" install PREFIX="$prefix" >/dev/null
	for page in kbuild-patch.1 kbuild-patch-vm.1 create-diff-object.1 klp-loadcheck.1; do
		[ -f "$prefix/share/man/man1/$page" ]
	done
	[ -x "$prefix/libexec/kbuild-patch/klp-loadcheck" ]
	[ -f "$prefix/share/man/man7/kbuild-patch-macros.7" ]
	MANPATH=$prefix/share/man man -w kbuild-patch-macros | grep -q "$prefix/share/man/man7/kbuild-patch-macros.7"
}

# installed_page COMMAND SECTION PREFIX: scripts/COMMAND and its page
# agree (check_page), and make install into PREFIX puts the command in bin
# and the page in manSECTION.
installed_page() {
	check_page "$REPO/scripts/$1" "$REPO/man/$1.$2"
	make -s -C "$REPO" install PREFIX="$3" >/dev/null
	[ -x "$3/bin/$1" ]
	[ -f "$3/share/man/man$2/$1.$2" ]
}

@test "kbuild-patch-wait(1) documents exactly the options of kbuild-patch-wait --help, and is installed" {
	local prefix=$BATS_TEST_TMPDIR/prefix
	installed_page kbuild-patch-wait 1 "$prefix"
}

@test "kbuild-patch-pkg(1) documents exactly the options of kbuild-patch-pkg --help, and is installed with its completion" {
	local prefix=$BATS_TEST_TMPDIR/prefix
	installed_page kbuild-patch-pkg 1 "$prefix"
	[ -f "$prefix/share/bash-completion/completions/kbuild-patch-pkg" ]
	# The runtime package builds from what make install put there.
	DEBEMAIL="tests <tests@example.org>" "$prefix/bin/kbuild-patch-pkg" --runtime \
		-o "$BATS_TEST_TMPDIR/debs" >/dev/null
	dpkg-deb --fsys-tarfile "$BATS_TEST_TMPDIR"/debs/kbuild-patch-runtime_*_all.deb |
		tar -xO ./lib/systemd/system/kbuild-patch.service |
		grep -qx 'ExecStart=/usr/sbin/kbuild-patch-ctl --timeout 30 load --all'
	# make install's own unit runs the kbuild-patch-ctl it installed.
	grep -qx "ExecStart=$prefix/bin/kbuild-patch-ctl --timeout 30 load --all" \
		"$prefix/lib/systemd/system/kbuild-patch.service"
	make -s -C "$REPO" uninstall PREFIX="$prefix" >/dev/null
	[ ! -e "$prefix/bin/kbuild-patch-pkg" ]
	[ ! -e "$prefix/lib/systemd/system/kbuild-patch.service" ]
	[ ! -e "$prefix/share/bash-completion/completions/kbuild-patch-pkg" ]
}

@test "kbuild-patch-ctl(8) documents exactly the options of kbuild-patch-ctl --help, and is installed with its completion" {
	local prefix=$BATS_TEST_TMPDIR/prefix
	[ -z "$(render "$REPO/man/kbuild-patch-ctl.8")" ]
	installed_page kbuild-patch-ctl 8 "$prefix"
	[ -f "$prefix/share/bash-completion/completions/kbuild-patch-ctl" ]
	# The completion offers the commands.
	run bash -c ". '$REPO/contrib/bash-completion/kbuild-patch-ctl'
		COMP_WORDS=(kbuild-patch-ctl lo); COMP_CWORD=1; COMP_LINE='kbuild-patch-ctl lo'; COMP_POINT=\${#COMP_LINE}
		\$(complete -p kbuild-patch-ctl | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p') kbuild-patch-ctl lo kbuild-patch-ctl
		printf '%s\n' \"\${COMPREPLY[@]}\""
	echo "$output"
	[ "$output" = load ]
}
