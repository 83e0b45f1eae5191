# shellcheck shell=bash
# SC2015: "TEST && TEST || die ..." is meant: die when either test fails.
# shellcheck disable=SC2015
# lib/depscan.bash: which objects of the kernel's config are built from a
# file, without the kernel's build directory and without building the
# kernel (sourced by kbuild-patch, which provides run, kmake, in_view,
# phase, debug, die and fault_point).
#
# Three steps, each cached in SCAN (a directory of the prepared tree):
#  1. the objects: "make -n" over vmlinux and the modules prints the
#     compile command of every object the config builds, and runs none;
#  2. the include graph: every #include of the source tree, resolved as
#     the preprocessor would (a quoted name beside its includer, then the
#     kernel's include directories); the files that can reach a changed
#     file are a superset of its users, found in seconds (reach.awk);
#  3. the exact users: the preprocessor's dependency output (gcc -M) of
#     only those candidate objects, with their own command lines, cached
#     per object.
# A header used by a few dozen objects of a distribution config costs
# about a minute cold instead of a whole kernel build.
#
# A changed .c file needs none of that when its directory builds it:
# "make DIR/" descends from the top only into the directories the config
# builds, down to DIR, and there makes DIR's objects of the config, so
# its "make -n" lists them in seconds, where the whole tree's takes most
# of a minute (depscan_dir_is_object). Only a file that it doesn't find
# takes the whole scan, which decides.

# depscan_stale SRC SCAN [STAMP]: the cached scan is missing, or a source
# file, Makefile or Kconfig file changed since it was made (a user's
# tree). STAMP: the file that stamps it (default SCAN/.complete).
depscan_stale() {
	local src=$1 stamp=${3:-$2/.complete} newer
	[ -e "$stamp" ] || return 0
	newer=$(find "$src" -path "$src/.git" -prune -o \
		\( -name '*.[chS]' -o -name 'Makefile*' -o -name Kbuild -o -name 'Kconfig*' \) \
		-newer "$stamp" -print -quit 2>/dev/null)
	[ -z "$newer" ] || { debug "the scan in $2 is stale: $newer"; return 0; }
	return 1
}

# depscan_dir_is_object SRC SCAN FILE: the config builds FILE (relative
# to the source tree) as an object of its own, as "make -n DIR/" of its
# directory says. Cached per directory in SCAN/dirs. A file that isn't
# found there may still be built from elsewhere (a Makefile that names
# "../" objects): only the whole scan says it isn't.
depscan_dir_is_object() {
	local src=$1 scan=$2 file=$3 dir list
	dir=$(dirname "$file")
	[ "$dir" != . ] || return 1
	list=$scan/dirs/${dir//\//%}
	if depscan_stale "$src" "$scan" "$list"; then
		phase "listing the objects of $dir/ in this config (make -n $dir/; cached)"
		mkdir -p "$scan/dirs"
		rm -f "$list"
		depscan_commands "$src" "$list.all" "$dir/"
		# (Only DIR's: make also prints what the top level prepares.)
		awk -F '\t' -v d="$dir/" 'index($1, d) == 1' "$list.all" >"$list.tmp"
		rm -f "$list.all" "$list.all.make-n"
		mv "$list.tmp" "$list"
	fi
	depscan_listed "$list" "$file"
}

# depscan_commands SRC OUT TARGET...: the compile commands that
# "make -n TARGET..." prints, as compile-commands.awk's lines, in OUT.
# make -n runs no compile, only the sub-makes; -Oline keeps two jobs'
# lines apart. Linking is never reached, so make may fail at the end:
# what counts is that the compile commands are there.
depscan_commands() {
	local src=$1 out=$2
	shift 2
	debug "make -n -k -Oline $*"
	kmake -n -k -Oline KCFLAGS="$KCFLAGS_DIFF" OBJECT_FILES_NON_STANDARD=y \
		"$@" >"$out.make-n" 2>>"$LOG" || true
	awk -v srctree="$src" -f "$KBP_LIB/path.awk" -f "$KBP_LIB/compile-commands.awk" "$out.make-n" >"$out" ||
		die "$EXIT_ERROR" "reading the compile commands of make -n $* ($out.make-n) failed"
	# (Kept when it printed none, to be read.)
	[ ! -s "$out" ] || rm -f "$out.make-n"
}

# depscan_listed LIST FILE: a command list names FILE as an object's source.
depscan_listed() {
	awk -F '\t' -v f="$2" '$2 == f { found = 1; exit } END { exit !found }' "$1"
}

# depscan_prepare SRC OBJ SCAN: makes steps 1 and 2 of SCAN, unless
# fresh. Killed midway, nothing is stamped and the next run starts over.
depscan_prepare() {
	local src=$1 obj=$2 scan=$3 dirs
	depscan_stale "$src" "$scan" || return 0
	phase "listing the objects of this config and the source's includes (make -n; cached in $scan)"
	rm -rf "$scan"
	mkdir -p "$scan/deps"
	fault_point scan:1
	depscan_commands "$src" "$scan/commands" vmlinux modules
	[ -s "$scan/commands" ] ||
		die "$EXIT_ERROR" "make -n printed no compile command for this config; see $scan/commands.make-n and the log $LOG"
	# Only x86 of the architectures; not the documentation or tools.
	dirs=$(cd "$src" && find . -mindepth 1 -maxdepth 1 -type d ! -name arch \
		! -name Documentation ! -name tools ! -name .git -printf '%P\n' | sort)
	dirs="$dirs arch/x86"
	# shellcheck disable=SC2086 # word splitting of the directory list
	{
		(cd "$src" && find $dirs -type f)
		(cd "$obj" && find include/generated arch/x86/include/generated -type f 2>/dev/null)
	} >"$scan/files"
	# shellcheck disable=SC2086
	{
		(cd "$src" && grep -rIE "$DEPSCAN_DIRECTIVE" $dirs || true)
		(cd "$obj" && grep -rIE "$DEPSCAN_DIRECTIVE" include/generated arch/x86/include/generated || true)
	} 2>/dev/null | awk '
	{
		c = index($0, ":"); line = substr($0, c + 1)
		if (!match(line, /[<"][^>"]*[>"]/)) next
		print substr($0, 1, c - 1) "\t" (substr(line, RSTART, 1) == "<" ? "a" : "q") \
			"\t" substr(line, RSTART + 1, RLENGTH - 2)
	}' >"$scan/includes"
	fault_point scan:2
	touch "$scan/.complete"
	debug "scan: $(wc -l <"$scan/commands") objects, $(wc -l <"$scan/includes") includes"
}
# An #include, or a macro that names a header for a computed #include
# (#define TRACE_INCLUDE_FILE ..., GENL_MAGIC_INCLUDE_FILE <...>).
DEPSCAN_DIRECTIVE='^[[:space:]]*#[[:space:]]*(include|define[[:space:]]+[A-Za-z0-9_]+[[:space:]]+[<"][^>"]*\.[A-Za-z]+[>"])'

# depscan_is_object SCAN FILE: the config builds FILE (relative to the
# source tree) as an object of its own.
depscan_is_object() {
	depscan_listed "$1/commands" "$2"
}

# depscan_users SRC OBJ SCAN JOBS OUT FILE...: writes to OUT the objects
# built from any FILE (paths relative to the source tree), as
# "OBJECT<TAB>SOURCE" lines.
depscan_users() {
	local src=$1 obj=$2 scan=$3 jobs=$4 out=$5 todo re f o d
	shift 5
	# What a killed run left (the tree's lock is held: no other run).
	find "$scan" \( -name '*.tmp' -o -name 'todo.*' \) -delete
	todo=$scan/todo.$$
	# Candidates (step 2), then their dependency lists where not cached
	# or older than a file they list (step 3).
	# An object is a candidate when its source, or a file its command
	# line forces in (-include), can reach a changed file.
	awk -v T="$*" -f "$KBP_LIB/path.awk" -f "$KBP_LIB/reach.awk" "$scan/files" "$scan/includes" |
		awk -F '\t' -v dir="$scan/deps" -v src="$src/" '
		NR == FNR { reach[$0] = 1; next }
		{
			hit = $2 in reach
			n = split($3, w, " ")
			for (i = 1; !hit && i < n; i++)
				if (w[i] == "-include") {
					f = w[i + 1]
					if (substr(f, 1, length(src)) == src)
						f = substr(f, length(src) + 1)
					hit = f in reach
				}
			if (!hit)
				next
			d = $1; gsub("/", "%", d)
			print $1 "\t" $2 "\t" dir "/" d ".d\t" $3
		}' - "$scan/commands" >"$todo"
	debug "$*: $(wc -l <"$todo") candidate object(s)"
	depscan_deps "$obj" "$todo" "$jobs"
	re=
	for f in "$@"; do
		re="$re${re:+|}$(sed 's/[][\.^$*+?(){}|/]/\\&/g' <<<"$src/$f")"
	done
	while IFS=$'\t' read -r o f d _; do
		! grep -qE "(^|[ ])($re)( |\\\\|$)" "$d" || printf '%s\t%s\n' "$o" "$f"
	done <"$todo" >"$out"
	rm -f "$todo"
}

# depscan_deps OBJ TODO JOBS: runs the preprocessor's dependency output
# for the objects of TODO whose cached list is missing or stale. -MG
# takes a header generated during the build (security/selinux/flask.h)
# as it is, missing here.
depscan_deps() {
	local obj=$1 todo=$2 jobs=$3 cmds
	cmds=$todo.sh
	while IFS=$'\t' read -r o _ d cmd; do
		depscan_dep_fresh "$d" && continue
		cmd=${cmd/@KBP_OUTPUT@/-M -MG -MT $o -MF $d.tmp -o \/dev\/null}
		printf '%s && mv %s.tmp %s\n' "$cmd" "$d" "$d"
	done <"$todo" >"$cmds"
	[ -s "$cmds" ] || return 0
	phase "finding the users among $(wc -l <"$cmds") candidate object(s) (the preprocessor's dependencies; cached)"
	fault_point scan:3 cc1
	# shellcheck disable=SC2016 # the inner shell expands $0 and $1
	run in_view clean xargs -d '\n' -n 1 -P "$jobs" sh -c 'cd "$0" && eval "$1"' "$obj" <"$cmds" ||
		die "$EXIT_ERROR" "the preprocessor failed on an object built from the changed file; see the log $LOG"
	rm -f "$cmds"
}

# depscan_dep_fresh DEPS: DEPS exists and no file it lists is newer.
depscan_dep_fresh() {
	local newer
	[ -e "$1" ] || return 1
	# tr turns blanks and line continuations into line breaks; the file
	# is only read (the inner shell's $0 names it for find -newer).
	# shellcheck disable=SC1003,SC2020,SC2094,SC2016
	newer=$(tr -s ' \\' '\n\n' <"$1" | grep '^/' | sort -u |
		xargs -r -d '\n' sh -c 'find "$@" -newer "$0" -print -quit 2>/dev/null' "$1")
	[ -z "$newer" ]
}
