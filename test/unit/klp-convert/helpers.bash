# helpers.bash - builds the inputs of klp-convert.bats and reads ELF files
# back with readelf into one-line-per-item lists that tests can compare.
#
# Inputs look like the diff objects create-diff-object writes: gcc cannot
# emit a symbol name that contains ',', so the C fixtures use placeholder
# names (KLP_*) and objcopy renames them to .klp.sym.OBJ.NAME,POS.

FIX="$BATS_TEST_DIRNAME/klp-convert"
# shellcheck disable=SC2034 # used by klp-convert.bats
SRC_C="$BATS_TEST_DIRNAME/../../create-diff-object/klp-convert.c"

# The code generation flags of a distribution kernel (see design.md).
# shellcheck disable=SC2054 # 16,16 is one argument
KFLAGS=(-O2 -mcmodel=kernel -fno-PIE -mno-red-zone
	-fno-asynchronous-unwind-tables -fcf-protection=branch -fno-jump-tables
	-mindirect-branch=thunk-extern -mindirect-branch-register
	-mfunction-return=thunk-extern -fpatchable-function-entry=16,16 -pg
	-mfentry -mrecord-mcount -ffunction-sections -fdata-sections)

# cc_klp SRC OUT [PLACEHOLDER=NAME...]: compile SRC and rename the
# placeholders as syms.map says, or as given.
cc_klp() {
	local src=$1 out=$2 map kv old new
	local -A over=()
	shift 2
	map=$(mktemp "$(tmpdir)/map.XXXXXX")
	for kv in "$@"; do
		over[${kv%%=*}]=${kv#*=}
		echo "${kv%%=*} ${kv#*=}"
	done >"$map"
	while read -r old new; do
		[ -n "${over[$old]+set}" ] || echo "$old $new"
	done <"$FIX/syms.map" >>"$map"
	gcc "${KFLAGS[@]}" -c -o "$out" "$src"
	objcopy --redefine-syms="$map" "$out"
}

# build_klp_convert: build klp-convert and export KC, its path. With
# KBP_TOOLS_DIR set (make check-sanitize), use the one built there.
build_klp_convert() {
	if [ -n "${KBP_TOOLS_DIR:-}" ]; then
		[ -x "$KBP_TOOLS_DIR/klp-convert" ] || return 1
		export KC="$KBP_TOOLS_DIR/klp-convert"
		return 0
	fi
	export KC="$BATS_FILE_TMPDIR/klp-convert"
	gcc -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$KC" \
		"$SRC_C" "${SRC_C%/*}/log.c" "${SRC_C%/*}/atomic-file.c" -lelf
}

# tmpdir: the test's scratch directory (the file's one in setup_file).
tmpdir() {
	echo "${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}"
}

# build_ko OUT [PLACEHOLDER=NAME...]: patch.c + module.c, ld -r.
build_ko() {
	local out=$1 dir
	shift
	dir=$(mktemp -d "$(tmpdir)/obj.XXXXXX")
	cc_klp "$FIX/patch.c" "$dir/patch.o" "$@"
	gcc "${KFLAGS[@]}" -c -o "$dir/module.o" "$FIX/module.c"
	ld -r -o "$out" "$dir/patch.o" "$dir/module.o"
}

# sections FILE: "idx name type off size es flags link info align",
# flags "-" when there are none.
sections() {
	readelf -SW "$1" | sed -nE 's/^ *\[ *([0-9]+)\] /\1 /p' |
		awk '$1 != 0 {
			if (NF == 10) { f = "-"; l = $8; i = $9; a = $10 }
			else { f = $8; l = $9; i = $10; a = $11 }
			print $1, $2, $3, $5, $6, $7, f, l, i, a
		}'
}

# section_field FILE NAME COLUMN: one column of sections() for NAME.
section_field() {
	sections "$1" | awk -v n="$2" -v c="$3" '$2 == n { print $c }'
}

# relocs FILE: "relasec offset info type symbol addend", in file order.
relocs() {
	readelf -rW "$1" | awk '
		/^Relocation section / { s = $3; gsub(/'\''/, "", s); next }
		length($1) == 16 && $1 ~ /^[0-9a-f]+$/ {
			if (NF >= 7) print s, $1, $2, $3, $5, $6 $7
			else print s, $1, $2, $3, "-", $NF
		}'
}

# symbols FILE: readelf -sW of .symtab with blanks squeezed.
symbols() {
	readelf -sW "$1" | awk '$1 ~ /^[0-9]+:$/ { $1 = $1; print }'
}

# klp_expected_relocs FILE: relocs() as klp-convert must leave them: each
# relocation against .klp.sym.OBJ.* moved from .rela<X> to .klp.rela.OBJ.<X>.
klp_expected_relocs() {
	relocs "$1" | awk '
		$5 ~ /^\.klp\.sym\./ {
			obj = substr($5, 10); sub(/\..*/, "", obj)
			t = $1; sub(/^\.rela/, "", t)
			$1 = ".klp.rela." obj "." t
		}
		{ print }'
}

# section_bytes FILE IDX: the file bytes of section IDX, as hex.
section_bytes() {
	local off size
	read -r off size < <(sections "$1" | awk -v i="$2" '$1 == i { print $4, $5 }')
	tail -c +$((16#$off + 1)) "$1" | head -c $((16#$size)) | od -An -v -tx1
}

# poke_le32 FILE OFFSET VALUE: overwrite 4 bytes, little endian.
poke_le32() {
	local v=$3
	printf '%b' "$(printf '\\x%02x' $((v & 255)) $((v >> 8 & 255)) \
		$((v >> 16 & 255)) $((v >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# set_section_type FILE NAME TYPE: rewrite sh_type in the section header.
set_section_type() {
	local shoff idx
	shoff=$(readelf -hW "$1" | awk '/Start of section headers/ { print $5 }')
	idx=$(section_field "$1" "$2" 1)
	[ -n "$idx" ]
	poke_le32 "$1" $((shoff + idx * 64 + 4)) "$3"
}

# no_leftovers DIR: klp-convert left no temporary file behind.
no_leftovers() {
	local f
	for f in "$1"/*klp-convert.*; do
		[ ! -e "$f" ] || { echo "left behind: $f"; return 1; }
	done
}

# no_output: fail, showing it, if stdin is not empty.
no_output() {
	local o
	o=$(cat)
	[ -z "$o" ] || { echo "unexpected: $o"; return 1; }
}
