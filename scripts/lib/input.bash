# shellcheck shell=bash
# SC2015: "TEST && TEST || die ..." is meant: die when either test fails.
# shellcheck disable=SC2015
# lib/input.bash: the checks of kbuild-patch's input that fail early,
# each with what to do (sourced by kbuild-patch; bad-input.bats tests
# them): tools and their packages, the patches, the output directory and
# free space, the config, and whether source, config and vmlinux are one
# kernel.

# tool_package TOOL: the Debian package that installs TOOL.
tool_package() {
	case $1 in
	ld | nm | objdump | readelf | objcopy) echo binutils ;;
	unshare | flock) echo util-linux ;;
	sha256sum) echo coreutils ;;
	x86_64-linux-gnu-gcc-*) echo "gcc-${1##*-}" ;;
	*) echo "$1" ;;	# make, gcc, patch, mount, flex, bison, bc
	esac
}
# need_tools TOOL...: each TOOL must be on PATH.
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			die "$EXIT_ERROR" "$t is not installed (needed to build the module); install it: apt-get install $(tool_package "$t")"
	done
}

# patch_sections FILE: one line per file a patch changes ("PATH FLAGS",
# FLAGS among create delete rename binary, and hunks=N), parsed from the
# unified or git diff; a context diff gives "-context- hunks=N".
patch_sections() {
	awk '
	function flush() {
		if (path != "")
			print path "\t" flags "hunks=" hunks
		path = ""; flags = ""; hunks = 0
	}
	function strip(p) {
		sub(/\t.*/, "", p)
		sub(/^"/, "", p); sub(/"$/, "", p)
		if (p != "/dev/null")
			sub(/^[^\/]*\//, "", p)
		return p
	}
	old > 0 || new > 0 {	# inside a hunk
		c = substr($0, 1, 1)
		if (c == "-") old--
		else if (c == "+") new--
		else if (c == " " || $0 == "") { old--; new-- }
		else if (c != "\\") { old = 0; new = 0 }
		if (old > 0 || new > 0 || c != "\\")
			next
	}
	/^diff --git / { flush(); path = strip($4); next }
	/^(new|deleted) file mode / { flags = flags ($1 == "new" ? "create " : "delete "); next }
	/^(rename|copy) from / { flags = flags "rename "; next }
	/^GIT binary patch/ || /^Binary files .* differ$/ {
		if (path == "") { p = $3; path = strip(p) }
		flags = flags "binary "; next
	}
	/^\+\+\+ / && prev ~ /^--- / {
		o = strip(substr(prev, 5)); n = strip(substr($0, 5))
		if (path == "" || (n != path && o != path)) { flush() }
		path = n == "/dev/null" ? o : n
		if (o == "/dev/null" && index(flags, "create") == 0) flags = flags "create "
		if (n == "/dev/null" && index(flags, "delete") == 0) flags = flags "delete "
	}
	{ prev = $0 }
	/^@@ -[0-9]+(,[0-9]+)? \+[0-9]+(,[0-9]+)? @@/ {
		if (path == "") next
		split($2, a, ","); split($3, b, ",")
		old = (2 in a) ? a[2] + 0 : 1
		new = (2 in b) ? b[2] + 0 : 1
		hunks++
		next
	}
	/^\*\*\*\*\*\*\*\*\*\*\*\*\*\*\*$/ { ctx++ }
	END { flush(); if (ctx) print "-context-\thunks=" ctx }' "$1"
}

# path_policy REL: "refuse REASON" for a file a livepatch can't change,
# "ignore REASON" for one that isn't part of the running kernel, or
# nothing.
path_policy() {
	case $1 in
	Makefile | */Makefile | Makefile.* | */Makefile.* | Kbuild | */Kbuild | \
		Kconfig | */Kconfig | Kconfig.* | */Kconfig.* | *.mk)
		echo "refuse the patch changes the kernel's build system (Makefile, Kbuild or Kconfig); a livepatch replaces functions of the running kernel and can't change its configuration or how it was built. Hint: drop that part of the patch; a fix that needs a new config option or object needs a new kernel" ;;
	scripts/*)
		echo "refuse the patch changes the kernel's build scripts or host tools (scripts/), which aren't part of the running kernel and would change how the objects are built. Hint: drop that part of the patch" ;;
	arch/x86/boot/* | arch/x86/realmode/rm/*)
		echo "refuse the patch changes boot or real-mode code, which ran before the kernel did and can't be live patched. Hint: drop that part of the patch, or ship it in a new kernel" ;;
	Documentation/* | LICENSES/* | tools/* | MAINTAINERS | CREDITS | README | \
		COPYING | .mailmap | .gitignore | */.gitignore)
		echo "ignore not part of the running kernel (documentation, user-space tools or selftests)" ;;
	*) ;;
	esac
}

# check_patch_file PATCH: refuses, before any work, a patch that is
# empty or no patch at all, or that changes binaries, creates, deletes or
# renames files, or changes files a livepatch can't carry.
check_patch_file() {
	local p=$1 sections path flags policy total=0 n
	if ! grep -q '[^[:space:]]' "$p"; then
		die "$EXIT_ERROR" "patch $p is empty: it has no hunks, so there is nothing to build. Hint: check that the diff that made it (git diff, diff -u) printed the change"
	fi
	sections=$(patch_sections "$p")
	[ -n "$sections" ] ||
		die "$EXIT_ERROR" "$p is not a patch: it has no unified diff in it (no '--- a/FILE', '+++ b/FILE' and '@@' hunk lines). Hint: give a patch made by git diff, git format-patch or diff -u"
	while IFS=$'\t' read -r path flags; do
		n=${flags##*hunks=}
		total=$((total + n))
		[ "$path" != -context- ] || continue
		case " $flags" in
		*" binary "*) die "$EXIT_UNSUPPORTED" "$path: the patch changes a binary file (git binary diff); a livepatch can only carry changes to C code. Hint: drop that part of the patch" ;;
		*" rename "*) die "$EXIT_UNSUPPORTED" "$path: the patch renames or copies a file (to this name); that can't be live patched" ;;
		*" create "*) die "$EXIT_UNSUPPORTED" "$path: the patch creates a file; that can't be live patched. Hint: put new functions in a file the kernel already builds" ;;
		*" delete "*) die "$EXIT_UNSUPPORTED" "$path: the patch deletes a file; that can't be live patched" ;;
		esac
		policy=$(path_policy "$path")
		case $policy in
		refuse\ *) die "$EXIT_UNSUPPORTED" "$path: ${policy#refuse }" ;;
		ignore\ *) warn "$path: ${policy#ignore }: its change is ignored" ;;
		esac
	done <<<"$sections"
	[ "$total" -gt 0 ] ||
		die "$EXIT_ERROR" "patch $p has no hunks: it changes no file's contents, so there is nothing to build. Hint: check that the diff that made it printed the change"
}

# Output directory: created if missing, and on failure removed again
# (with the parents this run created); files already in it survive.
OUT_CREATED=()
prepare_outdir() {
	local d=$1 err probe
	while [ ! -e "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do
		OUT_CREATED+=("$d")
		d=$(dirname "$d")
	done
	err=$(mkdir -p -- "$OUTDIR" 2>&1) ||
		die "$EXIT_ERROR" "cannot create output directory $OUTDIR: ${err##*: }. Hint: use -o with a directory you can write"
	if ! probe=$(mktemp "$OUTDIR/.kbuild-patch-probe.XXXXXX" 2>&1); then
		unwind_outdir
		die "$EXIT_ERROR" "output directory $OUTDIR is not writable: ${probe##*: }. Hint: use -o with a writable directory"
	fi
	rm -f -- "$probe"
	check_space "$OUTDIR" 8 "the module" "free space there or use -o with another directory" ||
		{ unwind_outdir; exit "$EXIT_ERROR"; }
}
unwind_outdir() {	# on failure: remove the directories this run created
	local d
	for d in "${OUT_CREATED[@]}"; do rmdir -- "$d" 2>/dev/null || return 0; done
}

# check_space DIR KB WHAT HINT: DIR's file system needs KB kilobytes free.
check_space() {
	local avail
	avail=$(df -Pk -- "$1" 2>/dev/null | awk 'NR == 2 { print $4 }')
	[ -z "$avail" ] || [ "$avail" -ge "$2" ] || {
		echo "$PROG: error: No space left on device for $3 in $1: ${avail} KB free, at least $2 KB needed. Hint: $4" >&2
		return 1
	}
}
# full_disk_diagnosis: after a failure, names a full file system among
# the work, output and cache directories ("No space left on device").
# Refusals (2, 3) and interruptions stand as they are.
full_disk_diagnosis() {
	local d avail
	for d in "${WORK:-}" "$OUTDIR" "${CACHE:-}"; do
		[ -n "$d" ] && [ -e "$d" ] || continue
		avail=$(df -Pk -- "$d" 2>/dev/null | awk 'NR == 2 { print $4 }')
		[ -n "$avail" ] && [ "$avail" -lt 64 ] || continue
		echo "$PROG: error: No space left on device in $d (${avail} KB free); free some space there (or set TMPDIR, -o, XDG_CACHE_HOME elsewhere) and run again" >&2
		return 0
	done
	return 1
}

# check_config_file CONFIG: CONFIG must be an x86_64 kernel .config.
check_config_file() {
	local config=$1
	grep -qE '^CONFIG_[A-Z0-9_]+=' "$config" ||
		die "$EXIT_ERROR" "$config is not a kernel config (no CONFIG_...= lines). Hint: use -c with the .config the kernel was built with, e.g. /boot/config-RELEASE"
	grep -q '^CONFIG_X86_64=y' "$config" ||
		die "$EXIT_ERROR" "$config is not an x86_64 kernel's config (no CONFIG_X86_64=y); kbuild-patch builds livepatches for x86_64 kernels only"
}

# source_version SRC: VERSION.PATCHLEVEL.SUBLEVEL from the tree's Makefile.
source_version() {
	awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
		END { if (v != "") print v "." p "." s e }' "$1/Makefile"
}

# check_kernel_match SRC CONFIG VMLINUX KALLSYMS SKIP_CC_CHECK: the source
# tree, the config and the kernel symbols (VMLINUX or KALLSYMS, either
# may be empty)
# must describe the same kernel. The vmlinux's linux_banner ("Linux
# version REL (user@host) (COMPILER) #N SMP PREEMPT_DYNAMIC ...") gives
# its release, compiler and SMP/preempt flags.
check_kernel_match() {
	local src=$1 config=$2 vmlinux=$3 kallsyms=$4 skip_cc=$5
	local banner rel cc uts srcver flag opt want local_v
	if [ -n "$vmlinux" ]; then
		grep -q ' klp_enable_patch$' < <(readelf -sW "$vmlinux" 2>/dev/null) ||
			die "$EXIT_ERROR" "$vmlinux has no klp_enable_patch: the kernel was built without CONFIG_LIVEPATCH (or isn't a vmlinux with symbols), though $config has it. Hint: check that -c and -v name the same kernel"
		banner=$(grep -a -m1 -o 'Linux version [0-9][^[:cntrl:]]*' "$vmlinux" || true)
	elif [ -n "$kallsyms" ]; then
		grep -q ' klp_enable_patch$' "$kallsyms" ||
			die "$EXIT_ERROR" "$kallsyms has no klp_enable_patch: the kernel runs without CONFIG_LIVEPATCH, or the dump isn't its /proc/kallsyms (read it as root)"
	fi
	[[ ${banner:-} =~ ^Linux\ version\ ([^ ]+)\ \([^\)]*\)\ \((.*)\)\ (#.*)$ ]] ||
		{ debug "no linux_banner in ${vmlinux:-the symbols}: the kernel's version isn't checked"; return 0; }
	rel=${BASH_REMATCH[1]} cc=${BASH_REMATCH[2]} uts=${BASH_REMATCH[3]}
	srcver=$(source_version "$src")
	if [ -n "$srcver" ] && [[ $rel != "$srcver" && $rel != "$srcver"[!0-9]* ]]; then
		die "$EXIT_ERROR" "the source tree $src is Linux $srcver, but $vmlinux is $rel. Hint: use -s with the source of the running kernel's version ($rel)"
	fi
	local_v=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$config")
	[ -z "$local_v" ] || [[ $rel == *"$local_v"* ]] ||
		die "$EXIT_ERROR" "$config is not the config of $vmlinux: its CONFIG_LOCALVERSION \"$local_v\" isn't in the kernel's release $rel. Hint: use -c with the .config the kernel was built with"
	for flag in SMP PREEMPT PREEMPT_DYNAMIC PREEMPT_RT; do
		case $flag in
		PREEMPT) opt=PREEMPT_BUILD ;;
		*) opt=$flag ;;
		esac
		want=n
		grep -q "^CONFIG_$opt=y" "$config" && want=y
		# UTS_VERSION names only the strongest preemption model.
		[ "$flag" != PREEMPT ] || ! grep -q '^CONFIG_PREEMPT_\(DYNAMIC\|RT\)=y' "$config" || continue
		[ "$flag" != PREEMPT_DYNAMIC ] || ! grep -q '^CONFIG_PREEMPT_RT=y' "$config" || continue
		if [[ " $uts " == *" $flag "* ]]; then
			[ "$want" = y ] || die "$EXIT_ERROR" "$config is not the config of $vmlinux: the kernel is built with $flag (\"$uts\"), the config has no CONFIG_$opt=y. Hint: use -c with the .config the kernel was built with"
		else
			[ "$want" = n ] || die "$EXIT_ERROR" "$config is not the config of $vmlinux: the config has CONFIG_$opt=y, the kernel isn't built with $flag (\"$uts\"). Hint: use -c with the .config the kernel was built with"
		fi
	done
	[ "$skip_cc" -eq 0 ] || return 0
	local kcc_text
	kcc_text=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$config")
	[ -z "$kcc_text" ] || [[ $cc == "$kcc_text"* ]] ||
		die "$EXIT_ERROR" "$config is not the config of $vmlinux: the config's compiler is \"$kcc_text\", the kernel was built by \"$cc\". Hint: use -c with the .config the kernel was built with"
}

# apply_failure PATCH-OUTPUT: which files and hunks patch(1) rejected.
apply_failure() {
	awk '
	/^(patching|checking) file / { f = $3; sub(/^'\''/, "", f); sub(/'\''$/, "", f) }
	/^\|\+\+\+ / { nf = $2; sub(/^[^\/]*\//, "", nf); sub(/\t.*/, "", nf) }
	/^Hunk #[0-9]+ FAILED at / { r = r sep f ": hunk #" substr($2, 2) " FAILED at line " $5 + 0; sep = "; " }
	/Reversed \(or previously applied\) patch detected/ { r = r sep f ": already applied (or reversed)"; sep = "; " }
	/^No file to patch/ { r = r sep (nf != "" ? nf : "a file") ": no such file in the source tree"; sep = "; " }
	/malformed patch|Only garbage|unexpected end of file/ { sub(/^patch: \*+ /, ""); r = r sep $0; sep = "; " }
	END { print r }' "$1"
}
