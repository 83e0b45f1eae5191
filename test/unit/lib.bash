# lib.bash - helpers for the create-diff-object unit tests: build the tool,
# compile the fixture pairs of test/unit/cdo/ the way kbuild compiles
# kernel objects, link fake vmlinux images, write Module.symvers files,
# and read ELF files back with readelf into one-line-per-item lists.
#
# Objects land in $BATS_FILE_TMPDIR:
#   orig/NAME.o, patched/NAME.o   cdo_build_pair NAME
#   DIR/AS.o                      cdo_cc SRC DIR AS
# Each source is compiled as "AS.c" from its own directory, so both
# versions of a pair carry the same STT_FILE name, as in a kernel build.

CDO_UNIT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib/elf-lib.bash
. "$CDO_UNIT_DIR/../lib/elf-lib.bash"
CDO_FIX="$CDO_UNIT_DIR/cdo"
CDO_SRC=${CDO_SRC:-"$CDO_UNIT_DIR/../../create-diff-object"}

# The code generation flags of a distribution kernel (see design.md).
# shellcheck disable=SC2054 # "16,16" is one argument
CDO_KFLAGS=(-O2 -mcmodel=kernel -fno-PIE -mno-red-zone
	-fno-asynchronous-unwind-tables -fcf-protection=branch -fno-jump-tables
	-mindirect-branch=thunk-extern -mindirect-branch-register
	-mfunction-return=thunk-extern -fpatchable-function-entry=16,16 -pg
	-mfentry -mrecord-mcount -ffunction-sections -fdata-sections -nostdinc
	-fno-common -Wall -Werror)
CDO_CC=${CDO_CC:-gcc-12}

# Exported by every fake kernel: what the compiler itself calls.
CDO_BASE_EXPORTS=(printk __fentry__ __x86_return_thunk
	__x86_indirect_thunk_rax)

# cdo_build_tool: build create-diff-object from a copy of its sources and
# export CDO, its path. With KBP_TOOLS_DIR set (make check-sanitize), use
# the create-diff-object built there instead.
cdo_build_tool() {
	local dir="$BATS_FILE_TMPDIR/cdo-tool"

	if [ -n "${KBP_TOOLS_DIR:-}" ]; then
		[ -x "$KBP_TOOLS_DIR/create-diff-object" ] || return 1
		export CDO="$KBP_TOOLS_DIR/create-diff-object"
		return 0
	fi

	mkdir -p "$dir"
	cp "$CDO_SRC"/*.c "$CDO_SRC"/*.h "$CDO_SRC/Makefile" "$dir/"
	make -s -C "$dir" create-diff-object >&2
	export CDO="$dir/create-diff-object"
}

# cdo_cc SRC DIR [AS]: compile SRC as DIR/AS.c (default: SRC's name)
# into DIR/AS.o. The fixtures' headers: cdo/kinclude (the kernel's, cut
# down) and kmod/ (kbuild-patch.h).
cdo_cc() {
	local src=$1 dir=$2 as=${3:-$(basename "$1" .c)}

	mkdir -p "$dir"
	cp "$src" "$dir/$as.c"
	(cd "$dir" && "$CDO_CC" "${CDO_KFLAGS[@]}" -I"$CDO_FIX/kinclude" \
		-I"$CDO_UNIT_DIR/../../kmod" -c -o "$as.o" "$as.c")
}

# cdo_build_pair NAME [AS]: cdo/NAME.orig.c -> orig/AS.o and
# cdo/NAME.patched.c -> patched/AS.o.
cdo_build_pair() {
	local as=${2:-$1}

	cdo_cc "$CDO_FIX/$1.orig.c" "$BATS_FILE_TMPDIR/orig" "$as"
	cdo_cc "$CDO_FIX/$1.patched.c" "$BATS_FILE_TMPDIR/patched" "$as"
}

# cdo_orig NAME / cdo_patched NAME: the objects of a built pair.
cdo_orig() { echo "$BATS_FILE_TMPDIR/orig/$1.o"; }
cdo_patched() { echo "$BATS_FILE_TMPDIR/patched/$1.o"; }

# cdo_fake_vmlinux OUT OBJ...: link OBJs and the stubs of what the
# compiler calls into an executable "vmlinux" with real addresses, one
# STT_FILE block of locals per object, in the order given.
cdo_fake_vmlinux() {
	local out=$1 stubs="$BATS_FILE_TMPDIR/stubs/stubs.o"

	shift
	[ -e "$stubs" ] || cdo_cc "$CDO_FIX/stubs.c" "$BATS_FILE_TMPDIR/stubs"
	ld -e 0 -o "$out" "$@" "$stubs"
}

# cdo_symvers OUT [NAME[:MODULE[:NAMESPACE]]...]: a Module.symvers that
# exports CDO_BASE_EXPORTS and NAMEs (from vmlinux unless MODULE).
cdo_symvers() {
	local out=$1 e name mod ns crc=4096

	shift
	: >"$out"
	for e in "${CDO_BASE_EXPORTS[@]}" "$@"; do
		IFS=: read -r name mod ns <<<"$e"
		crc=$((crc + 1))
		printf '0x%08x\t%s\t%s\tEXPORT_SYMBOL%s\t%s\n' "$crc" "$name" \
			"${mod:-vmlinux}" "${ns:+_GPL}" "$ns" >>"$out"
	done
}

# The awk function hex(S): the value of the lower-case hex digits S
# (readelf's), for an awk without strtonum (mawk). cdo_sections,
# cdo_symbols and cdo_relocs start their programs with it.
CDO_AWK_HEX='
	function hex(s,  i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}'

# cdo_sections FILE: "idx name type offset size flags" (decimal offset
# and size, flags "-" when there are none), index 0 left out.
cdo_sections() {
	readelf -SW "$1" | sed -nE 's/^ *\[ *([0-9]+)\] /\1 /p' | awk "$CDO_AWK_HEX"'
		$1 != 0 {
			print $1, $2, $3, hex($5), hex($6), (NF == 10 ? "-" : $8)
		}'
}

# cdo_section_names FILE: the section names, one a line.
cdo_section_names() {
	cdo_sections "$1" | awk '{ print $2 }'
}

# cdo_section_size FILE NAME: the size of section NAME, empty if none.
cdo_section_size() {
	cdo_sections "$1" | awk -v n="$2" '$2 == n { print $5 }'
}

# cdo_section_hex FILE NAME [OFFSET [LENGTH]]: bytes of section NAME as
# space-separated hex.
cdo_section_hex() {
	local off size start len

	read -r off size < <(cdo_sections "$1" |
		awk -v n="$2" '$2 == n { print $4, $5 }')
	[ -n "$off" ] || return 1
	start=${3:-0}
	len=${4:-$((size - start))}
	tail -c +$((off + start + 1)) "$1" | head -c "$len" | od -An -v -tx1 |
		tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# cdo_string_at FILE SECTION OFFSET: the NUL-terminated string at OFFSET
# of SECTION, as hex bytes (without the NUL).
cdo_string_at() {
	local hex

	hex=$(cdo_section_hex "$1" "$2" "$3") || return 1
	hex=" $hex "
	echo "${hex%% 00 *}" | sed 's/^ //; s/ $//'
}

# cdo_hexstr FORMAT: printf FORMAT as hex bytes, e.g. 'hi %%d\n'.
cdo_hexstr() {
	# shellcheck disable=SC2059
	printf "$1" | od -An -v -tx1 | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# cdo_symbols FILE: "name bind type section value size" for each .symtab
# entry but the null one; section is a section name, UND or ABS; a
# section symbol is named after its section; value and size decimal.
cdo_symbols() {
	local secs

	secs=$(cdo_sections "$1" | awk '{ print $1, $2 }')
	readelf -sW "$1" | awk -v secs="$secs" "$CDO_AWK_HEX"'
		BEGIN {
			n = split(secs, l, "\n")
			for (i = 1; i <= n; i++) {
				split(l[i], f, " ")
				sec[f[1]] = f[2]
			}
		}
		/^Symbol table / { on = ($3 == "'\''.symtab'\''"); next }
		on && $1 ~ /^[0-9]+:$/ && $1 != "0:" {
			ndx = ($7 in sec) ? sec[$7] : $7
			name = (NF >= 8) ? $8 : ""
			if ($4 == "SECTION") name = ndx
			print name, $5, $4, ndx, hex($2), $3
		}'
}

# cdo_symbol FILE NAME: the cdo_symbols line(s) of NAME.
cdo_symbol() {
	cdo_symbols "$1" | awk -v n="$2" '$1 == n'
}

# cdo_relocs FILE SECTION: "offset type symbol addend" for each relocation
# applied to SECTION (decimal offset and addend), by offset.
cdo_relocs() {
	readelf -rW "$1" | awk -v want=".rela$2" "$CDO_AWK_HEX"'
		/^Relocation section / {
			s = $3; gsub(/'\''/, "", s); on = (s == want); next
		}
		on && NF >= 7 && length($1) == 16 {
			print hex($1), $3, $5, ($6 == "-" ? -hex($7) : hex($7))
		}' | sort -n -s -k1,1
}

# cdo_targets FILE SECTION: "offset type target" for each relocation of
# SECTION, with what it points to: "SYMBOL+OFF" for a named symbol (OFF is
# the offset into it; a PC-relative field is counted from its own end),
# the covering function or object for a reference through a section
# symbol (the first in .symtab order when aliases cover it too; or the
# section's only one, for a reference just outside it),
# "str:HEX" for a string, else "SECTION+OFF".
cdo_targets() {
	local file=$1 syms secs off type sym add t line kind name

	syms=$(cdo_symbols "$file")
	secs=$(cdo_sections "$file")
	while read -r off type sym add; do
		t=$add
		case $type in
		R_X86_64_PC32 | R_X86_64_PLT32) t=$((add + 4)) ;;
		esac
		line=$(awk -v s="$sym" -v t="$t" '
			$3 == "SECTION" && $1 == s { issec = 1 }
			$4 == s && ($3 == "FUNC" || $3 == "OBJECT") {
				n++; only = $1; oval = $5
				if (hit == "" && t >= $5 && t < $5 + $6) {
					hit = $1; hval = $5
				}
			}
			END {
				if (!issec) print "sym", s, t
				else if (hit != "") print "sym", hit, t - hval
				else if (n == 1) print "sym", only, t - oval
				else print "sec", s, t
			}' <<<"$syms")
		read -r kind name t <<<"$line"
		if [ "$kind" = sec ] && awk -v s="$name" '$2 == s && $6 ~ /S/ { f = 1 }
			END { exit !f }' <<<"$secs"; then
			echo "$off $type str:$(cdo_string_at "$file" "$name" "$t" | tr ' ' '_')"
		else
			echo "$off $type $name+$t"
		fi
	done < <(cdo_relocs "$file" "$2")
}

# cdo_text_sections FILE: the text sections (flag X) of FILE, sorted.
cdo_text_sections() {
	cdo_sections "$1" | awk '$6 ~ /X/ && $5 > 0 { print $2 }' | sort
}

# cdo_changed_bytes ORIG PATCHED: the functions whose section bytes differ
# between the two objects (an oracle for changes that show in the code).
cdo_changed_bytes() {
	local f

	while read -r f; do
		[ "$(cdo_section_hex "$1" ".text.$f" 2>/dev/null)" = \
			"$(cdo_section_hex "$2" ".text.$f")" ] || echo "$f"
	done < <(cdo_symbols "$2" | awk '$3 == "FUNC" && $4 != "UND" { print $1 }') |
		sort
}

# cdo_vmlinux_sympos VMLINUX NAME FILE: the sympos kallsyms gives the
# symbol NAME of the STT_FILE block FILE (a file name, or "" for a
# global): 0 when NAME is unique, else its 1-based rank by address among
# the symbols of that name. Prints "ambiguous" when FILE has several.
cdo_vmlinux_sympos() {
	readelf -sW "$1" | awk -v n="$2" -v f="$3" '
		/^Symbol table / { on = ($3 == "'\''.symtab'\''"); next }
		!on || $1 !~ /^[0-9]+:$/ { next }
		$4 == "FILE" { file = $8; next }
		$8 == n && $7 != "UND" && $4 != "SECTION" {
			addr[++c] = $2
			if (($5 == "LOCAL" ? file : "") == f) { mine = $2; m++ }
		}
		END {
			if (m != 1) { print (m ? "ambiguous" : "missing"); exit }
			if (c == 1) { print 0; exit }
			r = 1
			for (i = 1; i <= c; i++)
				if (addr[i] "" < mine "") r++
			print r
		}'
}

# cdo_reported KIND: the functions of $output (a create-diff-object run)
# reported as "KIND function: NAME", sorted.
cdo_reported() {
	# shellcheck disable=SC2154 # set by bats' run
	sed -nE "s/^.*: $1 function: (.*)\$/\\1/p" <<<"$output" | sort
}
