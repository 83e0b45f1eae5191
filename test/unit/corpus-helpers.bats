#!/usr/bin/env bats
# The corpus tests' own ELF helpers (test/lib/corpus-lib.bash), on
# small objects made here, so that a helper that counts wrongly under
# one awk or the other (make check runs this file under mawk and again
# under gawk) fails here rather than passing a corpus test vacuously.

load ../lib/corpus-lib

setup_file() {
	local d=$BATS_FILE_TMPDIR
	cat >"$d/a.c" <<-'EOF'
	extern int table[];
	extern int ext_fn(int);
	static __attribute__((noinline)) int dup(int x) { return x * 3 + table[1]; }
	int caller(int x) { return dup(x) + table[3] + ext_fn(x); }
	int _start(void) { return caller(1); }
	EOF
	cat >"$d/b.c" <<-'EOF'
	int table[8];
	int ext_fn(int x) { return x; }
	static __attribute__((noinline)) int dup(int x) { return x - 1; }
	int other(int x) { return dup(x); }
	EOF
	gcc -O2 -ffunction-sections -fdata-sections -fno-pie -fno-asynchronous-unwind-tables \
		-c -o "$d/a.o" "$d/a.c"
	gcc -O2 -ffunction-sections -fdata-sections -fno-pie -c -o "$d/b.o" "$d/b.c"
	# A linked image with a.o first: a.c's dup has the lower address.
	mkdir -p "$d/k"
	gcc -nostdlib -static -no-pie -o "$d/k/vmlinux" "$d/a.o" "$d/b.o"
	# klp symbols, as a livepatch module has them.
	cat >"$d/klp.s" <<-'EOF'
	.data
	.quad ".klp.sym.vmlinux.dup,2"
	.quad ".klp.sym.vmlinux.dupe,1"
	.quad ".klp.sym.ext4.dup,0"
	EOF
	as -o "$d/klp.o" "$d/klp.s"
}

@test "count_relas: a regex with \\+, \\. and alternatives counts exactly the matching relocations of one section" {
	local o=$BATS_FILE_TMPDIR/a.o
	readelf -rW "$o"
	# Independently of the helper: caller's relocations, as readelf prints
	# them, name table + 8 (table[3], PC-relative) once and dup once.
	readelf -rW "$o" | sed -n "/^Relocation section '.rela.text.caller'/,/^\$/p" | grep -q ' table + 8$'
	[ "$(count_relas "$o" .rela.text.caller ' table \+ 8$')" -eq 1 ]
	[ "$(count_relas "$o" .rela.text.caller ' (dup|\.text\.dup) [-+] ')" -eq 1 ]
	[ "$(count_relas "$o" .rela.text.caller ' (ext_fn|table) [-+] ')" -eq 2 ]
	# Another section's relocations are not counted: dup's own refer to
	# table + 0 (table[1]), not + 8.
	[ "$(count_relas "$o" .rela.text.dup ' table \+ 8$')" -eq 0 ]
	[ "$(count_relas "$o" .rela.text.dup ' table \+ 0$')" -eq 1 ]
	# A dot in the regex is a literal dot when escaped.
	[ "$(count_relas "$o" .rela.text.caller 'table\.')" -eq 0 ]
}

@test "file_funcs and vmlinux_rank: a file's local functions; a duplicate's address rank" {
	K=$BATS_FILE_TMPDIR/k
	readelf -sW "$K/vmlinux"
	# A linked image lists each file's locals after its FILE symbol and
	# every global after the last block.
	[ "$(file_funcs a.c)" = dup ]
	[ "$(file_funcs b.c)" = dup ]
	[ "$(vmlinux_rank dup a.c)" = 1 ]
	[ "$(vmlinux_rank dup b.c)" = 2 ]
}

@test "klp_sym_of: the klp symbols of one name, of any object and sympos, and no other name" {
	[ "$(klp_sym_of "$BATS_FILE_TMPDIR/klp.o" dup | sort | tr '\n' ' ')" = ".klp.sym.ext4.dup,0 .klp.sym.vmlinux.dup,2 " ]
	[ "$(klp_sym_of "$BATS_FILE_TMPDIR/klp.o" dupe)" = ".klp.sym.vmlinux.dupe,1" ]
}
