#!/usr/bin/env bats
# malformed: create-diff-object and klp-convert refuse truncated and
# corrupted ELF with exit 1 (the documented error, see --help) and a
# message naming the file, never a crash, hang or runaway output. Each
# test corrupts one field of a valid object (malformed-lib.bash) and is a
# regression test for a class of bug the fuzzer (test/fuzz/) found or
# that the ELF reader must guard against.

bats_require_minimum_version 1.5.0

load lib
load malformed-lib
load klp-convert/helpers

setup_file() {
	cdo_build_tool
	cdo_build_pair body
	build_klp_convert
	export KO="$BATS_FILE_TMPDIR/in.ko"
	build_ko "$KO"
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return
}

# cdo_refuses SIDE WHAT CORRUPTION...: with a copy of the body pair's
# SIDE (orig or patched) object, bad.o, corrupted by CORRUPTION (a
# command run on bad.o), create-diff-object exits 1 with a message that
# names bad.o and contains WHAT, and writes no output. The same pair
# uncorrupted is a real change (exit 0), so the corruption alone is
# refused.
cdo_refuses() {
	local side=$1 what=$2 orig patched

	shift 2
	cp "$BATS_FILE_TMPDIR/$side/body.o" bad.o
	orig=$(cdo_orig body) patched=$(cdo_patched body)
	run "$CDO" "$orig" "$patched" good.o
	[ "$status" -eq 0 ]
	"$@" bad.o
	if [ "$side" = orig ]; then orig=bad.o; else patched=bad.o; fi
	run --separate-stderr timeout 60 "$CDO" --manifest man "$orig" \
		"$patched" out.o
	echo "status $status"
	# shellcheck disable=SC2154 # stderr is set by run --separate-stderr
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"create-diff-object: bad.o: "*"$what"* ]]
	[ ! -e out.o ] && [ ! -e man ]
}

# Both sides, one after the other.
cdo_refuses_both() {
	cdo_refuses patched "$@"
	cdo_refuses orig "$@"
}

# kc_refuses WHAT CORRUPTION...: klp-convert on a corrupted copy of the
# test module exits 1 naming it, with WHAT, and leaves no output.
kc_refuses() {
	local what=$1

	shift
	cp "$KO" bad.ko
	run "$KC" bad.ko good.ko
	[ "$status" -eq 0 ]
	"$@" bad.ko
	run --separate-stderr timeout 60 "$KC" bad.ko out.ko
	echo "status $status"
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"klp-convert: bad.ko: "*"$what"* ]]
	[ -z "$(find . -name 'out.ko*')" ]
}

truncate_to() { truncate -s "$1" "$2"; }
shoff_past_eof() { elf_poke "$1" 40 8 $(($(stat -c %s "$1") + 4096)); }
no_sections() { elf_poke "$1" 40 8 0 && elf_poke "$1" 60 2 0; }
# shdr_set SECTION FIELD SIZE VALUE FILE
shdr_set() { elf_shdr_poke "$5" "$1" "$2" "$3" "$4"; }
# sym_set SYMBOL FIELD SIZE VALUE FILE
sym_set() { elf_sym_poke "$5" "$1" "$2" "$3" "$4"; }
# rela_set RELASEC N FIELD SIZE VALUE FILE
rela_set() { elf_rela_poke "$6" "$1" "$2" "$3" "$4" "$5"; }

@test "create-diff-object: a truncated object exits 1" {
	cdo_refuses_both "truncated or corrupt" truncate_to 1000
	cdo_refuses_both "" truncate_to 100
	cdo_refuses_both "" truncate_to 0
}

@test "create-diff-object: a section header table past EOF or absent exits 1" {
	cdo_refuses_both "no section headers" shoff_past_eof
	cdo_refuses_both "no section headers" no_sections
}

@test "create-diff-object: a section whose contents lie past EOF exits 1" {
	cdo_refuses_both ".text.body_changed: cannot read data" \
		shdr_set .text.body_changed "$SH_OFFSET" 8 999999
	cdo_refuses_both ".text.body_changed: cannot read data" \
		shdr_set .text.body_changed "$SH_SIZE" 8 999999
}

@test "create-diff-object: a bad sh_link of .symtab exits 1" {
	cdo_refuses_both ".symtab: bad string table index 99" \
		shdr_set .symtab "$SH_LINK" 4 99
	# In range, but not a string table.
	cdo_refuses_both ".symtab: bad string table index" \
		shdr_set .symtab "$SH_LINK" 4 4
}

@test "create-diff-object: a bad sh_info of a relocation section exits 1" {
	local n
	n=$(elf_shndx "$(cdo_patched body)" .rela.text.body_same_a)
	cdo_refuses_both ".rela.text.body_changed: bad relocation section header" \
		shdr_set .rela.text.body_changed "$SH_INFO" 4 0
	cdo_refuses_both ".rela.text.body_changed: bad relocation section header" \
		shdr_set .rela.text.body_changed "$SH_INFO" 4 999
	# Relocations that apply to a relocation section.
	cdo_refuses_both ".rela.text.body_changed: bad relocation section header" \
		shdr_set .rela.text.body_changed "$SH_INFO" 4 "$n"
}

@test "create-diff-object: a symbol with a bad st_shndx exits 1" {
	cdo_refuses_both "body_changed: section index 200 out of range" \
		sym_set body_changed "$ST_SHNDX" 2 200
}

@test "create-diff-object: a symbol that lies outside its section exits 1" {
	cdo_refuses_both "body_changed: value 0x1000 size 0x" \
		sym_set body_changed "$ST_VALUE" 8 4096
	cdo_refuses_both "body_changed: value 0x10 size 0x1000 lies outside its section .text.body_changed" \
		sym_set body_changed 16 8 4096
}

@test "create-diff-object: a relocation with an out-of-range symbol index exits 1" {
	cdo_refuses_both ".rela.text.body_changed: relocation 0: symbol 77 out of range" \
		rela_set .rela.text.body_changed 0 "$R_SYM" 4 77
}

@test "create-diff-object: a relocation outside its section exits 1" {
	cdo_refuses_both ".rela.text.body_changed: relocation 0 at offset 0x1000 lies outside .text.body_changed" \
		rela_set .rela.text.body_changed 0 "$R_OFFSET" 8 4096
	# The last byte of an 8-byte field past the end.
	cdo_refuses_both "relocation 0 at offset 0x11 lies outside __mcount_loc" \
		rela_set .rela__mcount_loc 0 "$R_OFFSET" 8 17
}

@test "create-diff-object: a PC-relative addend at the edge of its type is no crash (no signed overflow)" {
	local side orig patched sec n
	cdo_build_pair strings
	for side in orig patched; do
		cp "$BATS_FILE_TMPDIR/$side/strings.o" bad.o
		# The first PC32 relocation in code against a section symbol
		# (a string): its target is addend + the field's end.
		read -r sec n < <(readelf -rW bad.o | awk '
			/^Relocation section/ { s = $3; gsub("'\''", "", s); i = 0; next }
			$3 == "R_X86_64_PC32" && s ~ /^\.rela\.text/ && $5 ~ /^\./ { print s, i; exit }
			$3 ~ /^R_X86_64/ { i++ }')
		[ -n "$sec" ]
		# INT64_MAX - 3: adding the field's end overflowed (found by fuzzing).
		rela_set "$sec" "$n" "$R_ADDEND" 8 9223372036854775804 bad.o
		orig=$(cdo_orig strings) patched=$(cdo_patched strings)
		if [ "$side" = orig ]; then orig=bad.o; else patched=bad.o; fi
		run --separate-stderr timeout 60 "$CDO" "$orig" "$patched" out.o
		echo "$side ($sec #$n): status $status, stderr: $stderr"
		[ "$status" -le 3 ]
		[[ $stderr != *"runtime error"* ]]
	done
}

@test "create-diff-object: a corrupted string table offset exits 1" {
	cdo_refuses_both "symbol 9 has a bad name" \
		sym_set body_changed "$ST_NAME" 4 99999
	cdo_refuses_both "has no name" \
		shdr_set .text.body_changed "$SH_NAME" 4 99999
}

@test "create-diff-object: an absurd section alignment exits 1, with no huge output" {
	cdo_refuses_both ".text.body_changed: bad section alignment 0x10000000000" \
		shdr_set .text.body_changed "$SH_ADDRALIGN" 8 $((1 << 40))
	cdo_refuses_both ".text.body_changed: bad section alignment 0x3" \
		shdr_set .text.body_changed "$SH_ADDRALIGN" 8 3
}

@test "create-diff-object: a special section without contents exits 1" {
	cdo_refuses patched "__mcount_loc: a special section without contents" \
		shdr_set __mcount_loc "$SH_TYPE" 4 8
}

@test "create-diff-object: an undefined STT_FUNC symbol is no crash: the diff is the same" {
	local und
	und=$(readelf -sW "$(cdo_patched body)" | awk '$7 == "UND" && $8 == "printk"')
	[ -n "$und" ]
	cp "$(cdo_patched body)" bad.o
	sym_set printk "$ST_INFO" 1 $(((1 << 4) | 2)) bad.o
	readelf -sW bad.o | grep -E 'FUNC +GLOBAL +DEFAULT +UND printk$'
	run --separate-stderr "$CDO" --name body.o --manifest man \
		"$(cdo_orig body)" bad.o out.o
	echo "$stderr"
	[ "$status" -eq 0 ]
	run --separate-stderr "$CDO" --name body.o --manifest good-man \
		"$(cdo_orig body)" "$(cdo_patched body)" good.o
	[ "$status" -eq 0 ]
	diff good-man man
}

@test "klp-convert: a truncated module exits 1" {
	kc_refuses "no section headers (a truncated or corrupt file?)" \
		truncate_to 1000
	kc_refuses "" truncate_to 100
	kc_refuses "" truncate_to 0
	kc_refuses "no section headers" shoff_past_eof
}

@test "klp-convert: an empty symbol table exits 1" {
	kc_refuses ".symtab: empty symbol table" shdr_set .symtab "$SH_SIZE" 8 0
}

@test "klp-convert: a section name table without data exits 1" {
	kc_refuses "the section name table has no data" \
		shdr_set .shstrtab "$SH_TYPE" 4 8
}

@test "klp-convert: an absurd section alignment exits 1, with no huge output" {
	kc_refuses ".text.patched_show: bad section alignment 0x2000000000000000" \
		shdr_set .text.patched_show "$SH_ADDRALIGN" 8 $((1 << 61))
}

@test "klp-convert: a bad sh_link, symbol name or relocation exits 1" {
	kc_refuses ".symtab: bad string table index 99" \
		shdr_set .symtab "$SH_LINK" 4 99
	kc_refuses "bad name" sym_set patched_show "$ST_NAME" 4 99999
	kc_refuses "relocation 0 refers to symbol 7777, beyond the symbol table" \
		rela_set .rela.text.patched_show 0 "$R_SYM" 4 7777
	kc_refuses "relocation section has a bad link or info" \
		shdr_set .rela.text.patched_show "$SH_INFO" 4 999
}
