# elf-lib.bash: ELF helpers shared by the unit and integration suites,
# reading objects with binutils only (never with the tools under test).
# shellcheck shell=bash

# section_signature OBJECT SECTION: a digest of SECTION's bytes and of
# its relocations (offset, type, symbol or section name, addend), so that
# two builds' copies of a function compare equal only when the code and
# everything it refers to are the same.
section_signature() {
	{
		objcopy -O binary --only-section="$2" "$1" /dev/stdout
		readelf -rW "$1" | awk -v sec="'.rela$2'" '
			/^Relocation section/ { in_sec = ($3 == sec); next }
			in_sec && NF >= 5 { print $1, $3, $5, $6, $7 }'
	} | sha256sum | cut -d' ' -f1
}
