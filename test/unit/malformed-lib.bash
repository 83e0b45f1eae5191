# shellcheck shell=bash
# malformed-lib.bash - corrupts chosen fields of an ELF64 object in place,
# for malformed.bats. Offsets come from readelf, so each helper hits the
# field it names in whatever object it is given.

# elf_poke FILE OFFSET SIZE VALUE: write VALUE as a SIZE-byte little
# endian integer at OFFSET of FILE.
elf_poke() {
	local f=$1 off=$2 size=$3 val=$4 i bytes=

	for ((i = 0; i < size; i++)); do
		bytes+=$(printf '\\%03o' $(((val >> (8 * i)) & 255)))
	done
	# shellcheck disable=SC2059 # bytes is a string of octal escapes
	printf "$bytes" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# elf_shoff FILE: e_shoff, the file offset of the section header table.
elf_shoff() {
	readelf -hW "$1" | sed -nE 's/^ *Start of section headers: *([0-9]+).*/\1/p'
}

# elf_shndx FILE NAME: the index of section NAME.
elf_shndx() {
	readelf -SW "$1" | sed -nE 's/^ *\[ *([0-9]+)\] ([^ ]+) .*/\1 \2/p' |
		awk -v n="$2" '$2 == n { print $1; exit }'
}

# elf_sec_off FILE NAME: the file offset of section NAME's contents.
elf_sec_off() {
	readelf -SW "$1" | sed -nE 's/^ *\[ *[0-9]+\] ([^ ]+) +[A-Z_]+ +[0-9a-f]+ ([0-9a-f]+) .*/\1 \2/p' |
		awk -v n="$2" '$1 == n { print $2; exit }' | { read -r h && echo $((16#$h)); }
}

# Field offsets in an Elf64_Shdr, an Elf64_Sym and an Elf64_Rela.
# shellcheck disable=SC2034 # used by malformed.bats
{
	SH_NAME=0 SH_TYPE=4 SH_OFFSET=24 SH_SIZE=32 SH_LINK=40 SH_INFO=44
	SH_ADDRALIGN=48
	ST_NAME=0 ST_INFO=4 ST_SHNDX=6 ST_VALUE=8
	R_OFFSET=0 R_SYM=12 R_ADDEND=16
}

# elf_shdr_poke FILE SECTION FIELD SIZE VALUE: set a field of the header
# of section SECTION (a name).
elf_shdr_poke() {
	local idx

	idx=$(elf_shndx "$1" "$2")
	[ -n "$idx" ] || return 1
	elf_poke "$1" $(($(elf_shoff "$1") + idx * 64 + $3)) "$4" "$5"
}

# elf_symndx FILE NAME: the .symtab index of symbol NAME.
elf_symndx() {
	readelf -sW "$1" | awk -v n="$2" '
		/^Symbol table / { on = ($3 == "'\''.symtab'\''"); next }
		on && $8 == n { sub(":", "", $1); print $1; exit }'
}

# elf_sym_poke FILE SYMBOL FIELD SIZE VALUE: set a field of SYMBOL.
elf_sym_poke() {
	local idx

	idx=$(elf_symndx "$1" "$2")
	[ -n "$idx" ] || return 1
	elf_poke "$1" $(($(elf_sec_off "$1" .symtab) + idx * 24 + $3)) "$4" "$5"
}

# elf_rela_poke FILE RELASEC N FIELD SIZE VALUE: set a field of the Nth
# (from 0) relocation of section RELASEC.
elf_rela_poke() {
	local off

	off=$(elf_sec_off "$1" "$2")
	[ -n "$off" ] || return 1
	elf_poke "$1" $((off + $3 * 24 + $4)) "$5" "$6"
}
