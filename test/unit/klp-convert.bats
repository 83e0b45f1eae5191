#!/usr/bin/env bats
# klp-convert: the post-link step that turns .klp.sym.* references of a
# linked livepatch module into SHN_LIVEPATCH symbols and .klp.rela.*
# sections (Documentation/livepatch/module-elf-format.rst). The inputs are
# compiled here from test/unit/klp-convert/*.c; every expectation is
# derived from the input object with readelf.

load klp-convert/helpers

setup_file() {
	build_klp_convert
	export IN="$BATS_FILE_TMPDIR/in.ko" OUT="$BATS_FILE_TMPDIR/out.ko"
	build_ko "$IN"
	"$KC" "$IN" "$OUT" 2>"$BATS_FILE_TMPDIR/out.log"
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# refused CMD...: klp-convert exits 1 and writes no out.ko.
refused() {
	run "$KC" "$@"
	echo "$output"
	[ "$status" -eq 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/out.ko" ]
	no_leftovers "$BATS_TEST_TMPDIR"
}

# refuse_name NAME: a module whose .klp.sym.vmlinux.counter,0 is renamed
# to NAME is refused with a message naming the file and the symbol.
refuse_name() {
	build_ko bad.ko "KLP_vmlinux_counter=$1"
	symbols bad.ko | grep -qF -- " $1"
	refused bad.ko out.ko
	[[ $output == *"klp-convert: bad.ko: $1 "*"malformed livepatch symbol name"* ]]
}

@test "klp symbols keep index and name and become GLOBAL SHN_LIVEPATCH" {
	local nklp
	nklp=$(symbols "$IN" | grep -c ' WEAK DEFAULT UND \.klp\.sym\.')
	[ "$nklp" -eq "$(wc -l <"$FIX/syms.map")" ]
	diff <(symbols "$IN" |
		sed -E '/ \.klp\.sym\./ s/ WEAK DEFAULT UND / GLOBAL DEFAULT OS [0xff20] /') \
		<(symbols "$OUT")
	symbols "$OUT" | grep 'UND \.klp\.sym\.' | no_output
}

@test "klp relocations move to .klp.rela.OBJ.<section> with offset, info, type and addend kept, in order" {
	relocs "$IN" | grep -q ' \.klp\.sym\.'
	relocs "$IN" | grep -v ' \.klp\.sym\.' | grep -q '^\.rela\.text\.'
	diff <(klp_expected_relocs "$IN" | sort -s -k1,1) \
		<(relocs "$OUT" | sort -s -k1,1)
	relocs "$OUT" | grep '^\.rela' | grep ' \.klp\.sym\.' | no_output
}

@test "klp relocation sections are RELA, flags AIo, link .symtab, info the patched section" {
	local symtab n=0 idx name type es flags link info align target
	symtab=$(section_field "$OUT" .symtab 1)
	while read -r idx name type _ _ es flags link info align; do
		[[ $name == .klp.rela.* ]] || continue
		n=$((n + 1))
		target=${name#.klp.rela.*.}
		echo "$name: $type $es $flags $link $info $align"
		[ "$type" = RELA ]
		[[ $flags == *A* && $flags == *I* && $flags == *o* ]]
		[ "$es" = 18 ] && [ "$align" = 8 ]
		[ "$link" = "$symtab" ]
		[ "$info" = "$(section_field "$OUT" "$target" 1)" ]
	done < <(sections "$OUT")
	[ "$n" -gt 0 ]
	[ "$n" -eq "$(klp_expected_relocs "$IN" | awk '$1 ~ /^\.klp\.rela\./ { print $1 }' |
		sort -u | wc -l)" ]
}

@test "module symbols get .klp.rela.MOD. sections that reference no vmlinux symbol" {
	local mod sec
	mod=$(awk '$2 !~ /^\.klp\.sym\.vmlinux\./ { s = substr($2, 10); sub(/\..*/, "", s); print s; exit }' \
		"$FIX/syms.map")
	[ -n "$mod" ]
	sec=$(sections "$OUT" | awk -v p=".klp.rela.$mod." 'index($2, p) == 1 { print $2 }')
	[ -n "$sec" ]
	relocs "$OUT" | awk -v p=".klp.rela.$mod." 'index($1, p) == 1' | grep -q " .klp.sym.$mod."
	relocs "$OUT" | awk -v p=".klp.rela.$mod." 'index($1, p) == 1' |
		grep ' \.klp\.sym\.vmlinux\.' | no_output
	# a function that uses both objects gets one section for each
	for sec in $sec; do
		[ "$(section_field "$OUT" "$sec" 9)" = \
			"$(section_field "$OUT" ".klp.rela.vmlinux.${sec#.klp.rela."$mod".}" 9)" ] &&
			return 0
	done
	false
}

@test "every other section keeps its header and its bytes; new sections are appended" {
	local idx name type size es flags link info align osize moved
	local nin nnew symtab shstr
	symtab=$(section_field "$IN" .symtab 1)
	shstr=$(readelf -hW "$IN" | awk '/Section header string table index/ { print $NF }')
	[ -n "$shstr" ] && [ "$shstr" = "$(readelf -hW "$OUT" | awk '/Section header string table index/ { print $NF }')" ]
	for name in .modinfo .gnu.linkonce.this_module __versions __mcount_loc \
		__patchable_function_entries .bss.patch_state; do
		[ -n "$(section_field "$IN" "$name" 1)" ]
	done
	while read -r idx name type _ size es flags link info align; do
		diff <(echo "$name $type $es $flags $link $info $align") \
			<(sections "$OUT" | awk -v i="$idx" '$1 == i { print $2, $3, $6, $7, $8, $9, $10 }')
		osize=$(section_field "$OUT" "$name" 5)
		moved=$(klp_expected_relocs "$IN" | awk -v t="${name#.rela}" \
			'$1 ~ /^\.klp\.rela\./ && substr($1, length($1) - length(t) + 1) == t' | wc -l)
		if [ "$idx" = "$shstr" ]; then
			local a b
			a=$(section_bytes "$IN" "$idx" | tr -d ' \n')
			b=$(section_bytes "$OUT" "$idx" | tr -d ' \n')
			[ "${b:0:${#a}}" = "$a" ] && [ ${#b} -gt ${#a} ]
		elif [ "$idx" = "$symtab" ]; then
			[ "$osize" = "$size" ]
		elif [ "$type" = RELA ] && [ "$moved" -gt 0 ]; then
			[ $((16#$osize)) -eq $((16#$size - moved * 24)) ]
		elif [ "$type" = NOBITS ]; then
			[ "$osize" = "$size" ]
		else
			diff <(section_bytes "$IN" "$idx") <(section_bytes "$OUT" "$idx")
		fi
	done < <(sections "$IN")
	nin=$(sections "$IN" | wc -l)
	nnew=$(klp_expected_relocs "$IN" | awk '$1 ~ /^\.klp\.rela\./ { print $1 }' | sort -u | wc -l)
	[ "$nnew" -gt 0 ]
	[ "$(sections "$OUT" | wc -l)" -eq $((nin + nnew)) ]
	sections "$OUT" | awk -v n="$nin" '$1 > n { print $2 }' |
		grep -v '^\.klp\.rela\.' | no_output
	readelf -hW "$OUT" | grep -q 'REL (Relocatable file)'
	readelf -hW "$OUT" | grep -q 'Advanced Micro Devices X86-64'
}

@test "one summary line counts klp symbols, relocations and sections; -d adds debug lines" {
	local nsym nrel nsec
	nsym=$(symbols "$IN" | grep -c ' \.klp\.sym\.')
	nrel=$(relocs "$IN" | grep -c ' \.klp\.sym\.')
	nsec=$(klp_expected_relocs "$IN" | awk '$1 ~ /^\.klp\.rela\./ { print $1 }' | sort -u | wc -l)
	[ "$(wc -l <"$BATS_FILE_TMPDIR/out.log")" -eq 1 ]
	grep -qx "klp-convert: $IN: $nsym klp symbols, $nrel relocations in $nsec sections" \
		"$BATS_FILE_TMPDIR/out.log"
	run "$KC" -d "$IN" out.ko
	[ "$status" -eq 0 ]
	[ "$(grep -c '^klp-convert: debug: ' <<<"$output")" -ge "$((nsym + nrel))" ]
	for sec in $(klp_expected_relocs "$IN" | awk '$1 ~ /^\.klp\.rela\./ { print $1 }' | sort -u); do
		grep -qF "new section" <<<"$(grep -F -- "$sec" <<<"$output")"
	done
	cmp out.ko "$OUT"
}

@test "a second run is a clean no-op: same bytes, and in place the file is not rewritten" {
	local ino
	run "$KC" "$OUT" again.ko
	[ "$status" -eq 0 ]
	cmp again.ko "$OUT"
	cp "$OUT" inplace.ko
	ino=$(stat -c %i inplace.ko)
	touch -d @1000000000 inplace.ko
	run "$KC" inplace.ko inplace.ko
	[ "$status" -eq 0 ]
	cmp inplace.ko "$OUT"
	[ "$(stat -c %i:%Y inplace.ko)" = "$ino:1000000000" ]
}

@test "OUT may equal IN: converts in place through a rename" {
	cp "$IN" mod.ko
	chmod 0640 mod.ko
	run "$KC" mod.ko mod.ko
	[ "$status" -eq 0 ]
	cmp mod.ko "$OUT"
	[ "$(stat -c %a mod.ko)" = 640 ]
	no_leftovers .
}

@test "an object without klp symbols is copied unchanged" {
	gcc "${KFLAGS[@]}" -c -o plain.o "$FIX/module.c"
	symbols plain.o | grep '\.klp\.' | no_output
	run "$KC" plain.o out.ko
	[ "$status" -eq 0 ]
	cmp plain.o out.ko
}

@test "new relocations in an already converted module are appended to its klp section" {
	local idx off sym ksec nold
	cp "$OUT" conv.ko
	# point the first relocation of a shrunk .rela section at a klp symbol
	ksec=$(sections conv.ko | awk '$2 ~ /^\.klp\.rela\.vmlinux\.\.text\./ { print $2; exit }')
	idx=$(section_field conv.ko ".rela${ksec#.klp.rela.vmlinux.}" 1)
	off=$(section_field conv.ko ".rela${ksec#.klp.rela.vmlinux.}" 4)
	sym=$(symbols conv.ko | awk '/ \.klp\.sym\.vmlinux\./ { sub(":", "", $1); print $1; exit }')
	[ -n "$idx" ] && [ -n "$sym" ]
	poke_le32 conv.ko $((16#$off + 12)) "$sym"
	nold=$(relocs conv.ko | grep -c "^$ksec ")
	relocs conv.ko | awk -v s=".rela${ksec#.klp.rela.vmlinux.}" '$1 == s' | head -1 >moved
	grep -q ' \.klp\.sym\.vmlinux\.' moved
	run "$KC" conv.ko out.ko
	[ "$status" -eq 0 ]
	[ "$(sections out.ko | wc -l)" -eq "$(sections conv.ko | wc -l)" ]
	[ "$(relocs out.ko | grep -c "^$ksec ")" -eq $((nold + 1)) ]
	diff <(relocs conv.ko | grep "^$ksec "; sed "s/^[^ ]*/$ksec/" moved) \
		<(relocs out.ko | grep "^$ksec ")
	relocs out.ko | grep '^\.rela' | grep ' \.klp\.sym\.' | no_output
}

@test "names at the kernel's limits are accepted: 55-char OBJNAME, 511-char SYMNAME" {
	local obj sym
	obj=$(printf 'm%.0s' {1..55})
	sym=$(printf 's%.0s' {1..511})
	build_ko edge.ko "KLP_binfmt_misc_load=.klp.sym.$obj.load,0" \
		"KLP_vmlinux_counter=.klp.sym.vmlinux.$sym,18446744073709551614"
	run "$KC" edge.ko out.ko
	[ "$status" -eq 0 ]
	symbols out.ko | grep -qF "GLOBAL DEFAULT OS [0xff20] .klp.sym.$obj.load,0"
	symbols out.ko | grep -qF "GLOBAL DEFAULT OS [0xff20] .klp.sym.vmlinux.$sym,"
	sections out.ko | awk '{ print $2 }' | grep -q "^\.klp\.rela\.$obj\.\.text\."
}

@test "malformed: no SYMPOS" {
	refuse_name .klp.sym.vmlinux.counter
}

@test "malformed: SYMPOS not decimal" {
	refuse_name .klp.sym.vmlinux.counter,x1
}

@test "malformed: characters after SYMPOS" {
	refuse_name .klp.sym.vmlinux.counter,1x
}

@test "malformed: empty OBJNAME" {
	refuse_name .klp.sym..counter,0
}

@test "malformed: no SYMNAME" {
	refuse_name .klp.sym.vmlinux,0
}

@test "malformed: SYMPOS beyond unsigned long" {
	refuse_name .klp.sym.vmlinux.counter,18446744073709551616
}

@test "malformed: OBJNAME longer than 55 characters" {
	refuse_name ".klp.sym.$(printf 'm%.0s' {1..56}).counter,0"
}

@test "malformed: SYMNAME longer than 511 characters" {
	refuse_name ".klp.sym.vmlinux.$(printf 's%.0s' {1..512}),0"
}

@test "a klp symbol referenced from a non-SHF_ALLOC section is refused" {
	cc_klp "$FIX/nonalloc.c" na.o
	relocs na.o | grep -q '^\.rela\.klp_test_nonalloc .* \.klp\.sym\.vmlinux\.'
	[ "$(section_field na.o .klp_test_nonalloc 7)" = - ]
	refused na.o out.ko
	[[ $output == *"klp-convert: na.o: .klp.sym.vmlinux.c_start,2 (.klp_test_nonalloc+0x0): "*"non-allocated"* ]]
}

@test "a defined symbol with a klp name is refused" {
	cc_klp "$FIX/defined.c" def.o KLP_defined=.klp.sym.vmlinux.defined,0
	symbols def.o | grep -v ' UND ' | grep -q ' \.klp\.sym\.vmlinux\.defined,0$'
	refused def.o out.ko
	[[ $output == *"klp-convert: def.o: .klp.sym.vmlinux.defined,0 "*"defined"* ]]
}

@test "an SHT_REL relocation section is refused" {
	cp "$IN" rel.ko
	set_section_type rel.ko .rela.text.patched_plain 9
	readelf -SW rel.ko | grep -q '\.rela\.text\.patched_plain *REL '
	refused rel.ko out.ko
	[[ $output == *"klp-convert: rel.ko: .rela.text.patched_plain: SHT_REL"* ]]
}

@test "anything but a relocatable x86_64 ELF64 is refused" {
	echo nop | as --32 -o x32.o -
	readelf -hW x32.o | grep -q 'ELF32'
	refused x32.o out.ko
	[[ $output == *"x32.o: not a relocatable x86_64 ELF64"* ]]
	readelf -hW "$KC" | grep -Eq 'Type: +(DYN|EXEC)'
	refused "$KC" out.ko
	[[ $output == *"not a relocatable x86_64 ELF64"* ]]
	echo 'not elf' >text.ko
	refused text.ko out.ko
	[[ $output == *"text.ko: not an ELF file"* ]]
	refused missing.ko out.ko
	[[ $output == *"missing.ko: No such file"* ]]
}

@test "a failure leaves an existing OUT and an in-place IN untouched" {
	build_ko bad.ko KLP_vmlinux_counter=.klp.sym.vmlinux.counter
	cp bad.ko bad.orig
	run "$KC" bad.ko bad.ko
	[ "$status" -eq 1 ]
	cmp bad.ko bad.orig
	echo previous >prev.ko
	run "$KC" bad.ko prev.ko
	[ "$status" -eq 1 ]
	[ "$(cat prev.ko)" = previous ]
	no_leftovers .
}

@test "usage errors exit 1; -h exits 0" {
	run "$KC"
	[ "$status" -eq 1 ]
	[[ $output == *usage:* ]]
	run "$KC" "$IN"
	[ "$status" -eq 1 ]
	run "$KC" -x "$IN" out.ko
	[ "$status" -eq 1 ]
	[ ! -e out.ko ]
	run "$KC" -h
	[ "$status" -eq 0 ]
	[[ $output == *usage:* ]]
}

@test "create-diff-object's __kbp_new_ aliases lose their names, so the function's own name comes first at its address" {
	cat >alias.c <<-'C'
	int kbp_fn(int x) { return x * 3; }
	extern int __kbp_new_vmlinux__kbp_fn__0(int) __attribute__((alias("kbp_fn")));
	int kbp_other(int x) { return x - 1; }
	C
	gcc "${KFLAGS[@]}" -c -o alias.o alias.c
	ld -r -o alias.ko alias.o "$BATS_FILE_TMPDIR/in.ko"
	# In the input, the alias is a named global at kbp_fn's address.
	symbols alias.ko | grep -qE ' FUNC GLOBAL DEFAULT [0-9]+ __kbp_new_vmlinux__kbp_fn__0$'
	run "$KC" alias.ko out.ko
	echo "$output"
	[ "$status" -eq 0 ]
	# Only that symbol's name changes: same index, value, size, type,
	# binding and section; every other symbol as it was.
	diff <(symbols alias.ko | sed -E 's/ __kbp_new_vmlinux__kbp_fn__0$//' |
		sed -E '/ \.klp\.sym\./ s/ WEAK DEFAULT UND / GLOBAL DEFAULT OS [0xff20] /') \
		<(symbols out.ko)
	# Kallsyms takes the first named symbol at an address: kbp_fn.
	at=$(symbols out.ko | awk '$8 == "kbp_fn" { print $2, $7 }')
	[ "$(symbols out.ko | awk -v a="$at" '$2 " " $7 == a && $4 == "FUNC" && NF == 8 { print $8; exit }')" = kbp_fn ]
	[ "$(symbols out.ko | awk -v a="$at" '$2 " " $7 == a && $4 == "FUNC"' | wc -l)" -eq 2 ]
}
