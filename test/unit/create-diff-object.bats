#!/usr/bin/env bats
# create-diff-object: compares an original and a patched kernel object
# and writes a diff object with only what changed. The inputs are the
# fixture pairs of test/unit/cdo/, compiled with kernel code generation
# flags (lib.bash); every expectation is derived from those inputs with
# readelf, never from the tool's own output.

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	local p

	cdo_build_tool
	# Every fixture pair: cdo/NAME.orig.c and cdo/NAME.patched.c.
	for p in "$CDO_FIX"/*.orig.c; do
		p=${p##*/}
		cdo_build_pair "${p%.orig.c}"
	done
	cdo_cc "$CDO_FIX/renum_peer.c" "$BATS_FILE_TMPDIR/orig"
	cdo_cc "$CDO_FIX/sympos_a.c" "$BATS_FILE_TMPDIR/orig"
	cdo_cc "$CDO_FIX/extref_lib.c" "$BATS_FILE_TMPDIR/orig"
	# Another file called neigh.c, in another directory.
	cdo_cc "$CDO_FIX/neigh_twin.c" "$BATS_FILE_TMPDIR/twin" neigh
	# The same source compiled a second time.
	cdo_cc "$CDO_FIX/body.orig.c" "$BATS_FILE_TMPDIR/again" body

	export VM_MISC="$BATS_FILE_TMPDIR/vmlinux-misc"
	export VM_EXTREF="$BATS_FILE_TMPDIR/vmlinux-extref"
	export VM_SYMPOS="$BATS_FILE_TMPDIR/vmlinux-sympos"
	export VM_SYMPOS_NO_B="$BATS_FILE_TMPDIR/vmlinux-sympos-no-b"
	export VM_NEIGH="$BATS_FILE_TMPDIR/vmlinux-neigh"
	export VM_LOCALS_SAME="$BATS_FILE_TMPDIR/vmlinux-locals-same"
	cdo_fake_vmlinux "$VM_MISC" "$(cdo_orig body)" "$(cdo_orig newfn)" \
		"$(cdo_orig string)" "$(cdo_orig bug)" "$(cdo_orig clone)" \
		"$(cdo_orig locals)" "$(cdo_orig untraceable)" \
		"$(cdo_orig altbody)"
	cdo_fake_vmlinux "$VM_EXTREF" "$(cdo_orig extref)" \
		"$(cdo_orig extref_lib)"
	cdo_fake_vmlinux "$VM_SYMPOS" "$(cdo_orig sympos_a)" \
		"$(cdo_orig sympos_b)" "$(cdo_orig sympos_c)"
	cdo_fake_vmlinux "$VM_SYMPOS_NO_B" "$(cdo_orig sympos_a)" \
		"$(cdo_orig sympos_c)"
	cdo_fake_vmlinux "$VM_NEIGH" "$BATS_FILE_TMPDIR/twin/neigh.o" \
		"$(cdo_orig neigh)"
	cdo_fake_vmlinux "$VM_LOCALS_SAME" "$(cdo_orig locals_same)"
	# renum's static locals are spelled like renum_peer's, which comes
	# first: in the vmlinux by address, in the module by symtab order.
	export VM_RENUM="$BATS_FILE_TMPDIR/vmlinux-renum"
	export KO_RENUM="$BATS_FILE_TMPDIR/renummod.ko"
	cdo_fake_vmlinux "$VM_RENUM" "$(cdo_orig renum_peer)" "$(cdo_orig renum)"
	ld -r -o "$KO_RENUM" "$(cdo_orig renum_peer)" "$(cdo_orig renum)"
	# A module as Debian ships it: one .text in link order (no function
	# sections) and no STT_FILE symbols.
	export KO_SYMPOS="$BATS_FILE_TMPDIR/symmod.ko" KO_SYMPOS_NOFILE="$BATS_FILE_TMPDIR/symmod-nofile.ko"
	printf 'SECTIONS { .text : { *(.text .text.*) } }\n' >"$BATS_FILE_TMPDIR/onetext.lds"
	ld -r -T "$BATS_FILE_TMPDIR/onetext.lds" -o "$KO_SYMPOS" "$(cdo_orig sympos_a)" \
		"$(cdo_orig sympos_b)" "$(cdo_orig sympos_c)"
	# shellcheck disable=SC2046 # one -N option per file symbol
	objcopy $(readelf -sW "$KO_SYMPOS" | awk '$4 == "FILE" { printf "-N %s ", $8 }') \
		"$KO_SYMPOS" "$KO_SYMPOS_NOFILE"
	export VM_COLDSTATIC="$BATS_FILE_TMPDIR/vmlinux-coldstatic"
	cdo_cc "$CDO_FIX/coldstatic_lib.c" "$BATS_FILE_TMPDIR/orig"
	cdo_fake_vmlinux "$VM_COLDSTATIC" "$(cdo_orig coldstatic)" \
		"$(cdo_orig coldstatic_lib)"
	cdo_symvers "$BATS_FILE_TMPDIR/Module.symvers-coldstatic" coldst_report

	export SYMVERS="$BATS_FILE_TMPDIR/Module.symvers"
	export SYMVERS_EXTREF="$BATS_FILE_TMPDIR/Module.symvers-extref"
	export SYMVERS_MOD="$BATS_FILE_TMPDIR/Module.symvers-mod"
	cdo_symvers "$SYMVERS"
	cdo_symvers "$SYMVERS_EXTREF" extref_exported \
		extref_ns_fn:vmlinux:EXTREF_NS
	# As if extref.c were part of module "mymod", which also exports
	# extref_unexported from another of its files.
	cdo_symvers "$SYMVERS_MOD" extref_exported extref_unexported:mymod
	# As a kernel's Module.symvers names modules: by path, with dashes.
	export SYMVERS_MODPATH="$BATS_FILE_TMPDIR/Module.symvers-modpath"
	cdo_symvers "$SYMVERS_MODPATH" extref_exported extref_unexported:fs/my-mod
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return
	OUT="$BATS_TEST_TMPDIR/out.o"
	MAN="$BATS_TEST_TMPDIR/manifest"
}

# diff_pair NAME VMLINUX SYMVERS [OPTION...]: run create-diff-object on
# the pair NAME, displayed as kernel/NAME.o, into $OUT and $MAN.
diff_pair() {
	local name=$1 vm=$2 sv=$3

	shift 3
	run --separate-stderr "$CDO" --symbols "$vm" --symvers "$sv" \
		--name "kernel/$name.o" --manifest "$MAN" "$@" \
		"$(cdo_orig "$name")" "$(cdo_patched "$name")" "$OUT"
	echo "status $status"
	echo "stdout: $output"
	# shellcheck disable=SC2154 # stderr is set by run --separate-stderr
	echo "stderr: $stderr"
}

# changed_only NAME VMLINUX SYMVERS FUNC: create-diff-object succeeds on
# the pair NAME, reports FUNC as its one changed function and carries only
# FUNC's section.
changed_only() {
	diff_pair "$1" "$2" "$3"
	[ "$status" -eq 0 ]
	[ "$output" = "kernel/$1.o: changed function: $4" ]
	[ "$(cdo_text_sections "$OUT")" = ".text.$4" ]
}

# refused_naming NAME SYM SECTION: create-diff-object refuses the pair
# NAME (exit 2) naming SYM and its SECTION, and writes no object.
refused_naming() {
	diff_pair "$1" "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"create-diff-object: kernel/$1.o: $2 ($3): "* ]]
	[ ! -e "$OUT" ]
}

# extref_klp NAME FILE: create-diff-object succeeds on the pair extref,
# and its changed extref_changed refers to NAME, the only one of FILE in
# the extref vmlinux (sympos 0), through .klp.sym.vmlinux.NAME,0 (klp_ref).
extref_klp() {
	local pos
	pos=$(cdo_vmlinux_sympos "$VM_EXTREF" "$1" "$2")
	[ "$pos" = 0 ]
	diff_pair extref "$VM_EXTREF" "$SYMVERS_EXTREF"
	[ "$status" -eq 0 ]
	klp_ref "$(cdo_patched extref)" extref_changed "$1" ".klp.sym.vmlinux.$1,$pos"
}

# extref_in_module MODULE SYMVERS: create-diff-object succeeds on the pair
# extref as an object of MODULE, with SYMVERS.
extref_in_module() {
	run --separate-stderr "$CDO" --objname "$1" --symvers "$2" \
		--name "$1/extref.o" "$(cdo_orig extref)" \
		"$(cdo_patched extref)" "$OUT"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
}

# klp_ref OBJ FUNC NAME KLP: every reference of the patched FUNC to
# NAME is, in $OUT, a reference to the WEAK undefined symbol KLP, at the
# same place, type and offset; NAME itself is not carried.
klp_ref() {
	local p=$1 func=$2 name=$3 klp=$4 expected

	expected=$(cdo_targets "$p" ".text.$func" |
		awk -v n="$name" -v k="$klp" '{
			t = $3; i = index(t, "+")
			if (substr(t, 1, i - 1) == n) print $1, $2, k substr(t, i)
		}')
	echo "expected: $expected"
	[ -n "$expected" ]
	[ "$(cdo_symbol "$OUT" "$klp")" = "$klp WEAK NOTYPE UND 0 0" ]
	diff <(echo "$expected") <(cdo_targets "$OUT" ".text.$func" |
		grep -F " $klp+")
	! cdo_symbols "$OUT" | awk '$4 != "UND"' | grep -qF "$name" || false
	! cdo_section_names "$OUT" | grep -qF "$name" || false
}

# plain_ref OBJ FUNC NAME: FUNC's references to NAME stay references to
# the GLOBAL undefined NAME, with no klp symbol for it.
plain_ref() {
	local p=$1 func=$2 name=$3 expected

	expected=$(cdo_targets "$p" ".text.$func" | grep -F " $name+")
	echo "expected: $expected"
	[ -n "$expected" ]
	[ "$(cdo_symbol "$OUT" "$name")" = "$name GLOBAL NOTYPE UND 0 0" ]
	diff <(echo "$expected") <(cdo_targets "$OUT" ".text.$func" |
		grep -F " $name+")
	! cdo_symbols "$OUT" | grep -q "^\.klp\.sym\..*\.$name," || false
}

# functions_of MANIFEST: its func and new lines (without the reasons).
functions_of() {
	grep -E '^(func|new)	' "$1"
}

# new_funcs ORIG PATCHED: functions defined only in PATCHED.
new_funcs() {
	comm -13 <(cdo_symbols "$1" | awk '$3 == "FUNC" { print $1 }' | sort) \
		<(cdo_symbols "$2" | awk '$3 == "FUNC" { print $1 }' | sort)
}

# string_ref OBJ SECTION STR: "symbol addend" of SECTION's relocation to
# the string STR (as cdo_targets prints it).
string_ref() {
	local off
	off=$(cdo_targets "$1" "$2" | awk -v s="$3" '$3 == s { print $1 }')
	[ -n "$off" ] || return 0
	cdo_relocs "$1" "$2" | awk -v o="$off" '$1 == o { print $3, $4 }'
}

# mcount_targets OBJ: the functions (and offsets) __mcount_loc lists.
mcount_targets() {
	cdo_targets "$1" __mcount_loc | awk '{ print $2, $3 }' | sort
}

@test "body change: only that function is reported and carried, with its alias and manifest line" {
	local p pos alias val size
	p=$(cdo_patched body)
	[ "$(cdo_changed_bytes "$(cdo_orig body)" "$p")" = body_changed ]

	changed_only body "$VM_MISC" "$SYMVERS" body_changed
	! cdo_section_names "$OUT" | grep -q body_same || false
	! cdo_symbols "$OUT" | grep -q body_same || false
	[ "$(cdo_section_hex "$OUT" .text.body_changed)" = \
		"$(cdo_section_hex "$p" .text.body_changed)" ]
	[ "$(cdo_symbol "$OUT" body_changed)" = "$(cdo_symbol "$p" body_changed)" ]
	diff <(cdo_targets "$p" .text.body_changed) \
		<(cdo_targets "$OUT" .text.body_changed)

	pos=$(cdo_vmlinux_sympos "$VM_MISC" body_changed "")
	[ "$pos" = 0 ]
	alias=__kbp_new_vmlinux__body_changed__$pos
	read -r _ _ _ _ val size < <(cdo_symbol "$p" body_changed)
	[ "$(cdo_symbol "$OUT" "$alias")" = \
		"$alias GLOBAL FUNC .text.body_changed $val $size" ]
	[ "$(functions_of "$MAN")" = "$(printf 'func\tvmlinux\tbody_changed\t%s\t%s\tkernel/body.o' \
		"$pos" "$alias")" ]
}

@test "new function called from a changed one: reported new, carried, and called directly" {
	local p calls
	p=$(cdo_patched newfn)
	[ "$(new_funcs "$(cdo_orig newfn)" "$p")" = newfn_check ]

	diff_pair newfn "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$(cdo_reported changed)" = newfn_submit ]
	[ "$(cdo_reported new)" = newfn_check ]
	diff <(printf '.text.newfn_check\n.text.newfn_submit\n') \
		<(cdo_text_sections "$OUT")
	! cdo_symbols "$OUT" | grep -q newfn_other || false
	[ "$(cdo_symbol "$OUT" newfn_check)" = "$(cdo_symbol "$p" newfn_check)" ]

	# The call goes to the carried copy, not to the running kernel.
	calls=$(cdo_targets "$p" .text.newfn_submit | grep ' newfn_check+0$')
	[ -n "$calls" ]
	diff <(echo "$calls") <(cdo_targets "$OUT" .text.newfn_submit |
		grep ' newfn_check+0$')
	! cdo_symbols "$OUT" | grep -q 'klp\.sym.*newfn_check' || false
	# The new function's own references, its string included.
	cdo_targets "$p" .text.newfn_check | grep -q ' str:'
	diff <(cdo_targets "$p" .text.newfn_check) \
		<(cdo_targets "$OUT" .text.newfn_check)

	grep -qxF "$(printf 'new\tvmlinux\tnewfn_check\tkernel/newfn.o')" "$MAN"
	grep -q "^func	vmlinux	newfn_submit	" "$MAN"
	[ "$(functions_of "$MAN" | wc -l)" -eq 2 ]
}

@test "__mcount_loc keeps exactly one entry per carried function" {
	diff_pair newfn "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$(cdo_section_size "$OUT" __mcount_loc)" -eq $((2 * 8)) ]
	diff <(mcount_targets "$(cdo_patched newfn)" |
		grep -E ' newfn_(check|submit)\+') <(mcount_targets "$OUT")
}

@test "string literal change: the new bytes are carried in a .rodata string section and referenced" {
	local p new old
	p=$(cdo_patched string)
	new="str:$(cdo_hexstr 'hello from the patched kernel %%d\n' | tr ' ' _)"
	old="str:$(cdo_hexstr 'hello %%d\n' | tr ' ' _)"
	cdo_targets "$p" .text.string_hello | grep -qF " $new"
	cdo_targets "$(cdo_orig string)" .text.string_hello | grep -qF " $old"

	diff_pair string "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$output" = "kernel/string.o: changed function: string_hello" ]
	diff <(cdo_targets "$p" .text.string_hello) \
		<(cdo_targets "$OUT" .text.string_hello)
	! cdo_targets "$OUT" .text.string_hello | grep -qF " $old" || false
	# The reference is through a string section of the output.
	cdo_relocs "$OUT" .text.string_hello | awk '$3 ~ /^\.rodata\..*str/' |
		grep -q .
	cdo_section_names "$OUT" | grep -q '^\.rodata\..*str'
}

@test "a longer string that moves another function's string addend doesn't change that function" {
	local common a b
	common="str:$(cdo_hexstr 'string: common %%d\n' | tr ' ' _)"
	# string_other's reference to the shared string moved in the input.
	a=$(string_ref "$(cdo_orig string)" .text.string_other "$common")
	b=$(string_ref "$(cdo_patched string)" .text.string_other "$common")
	echo "orig: $a patched: $b"
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]

	diff_pair string "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$(cdo_reported changed)" = string_hello ]
	! cdo_section_names "$OUT" | grep -q string_other || false
}

@test "unchanged object: exit 3, no output object" {
	run --separate-stderr "$CDO" --symbols "$VM_MISC" --symvers "$SYMVERS" \
		--name kernel/body.o --manifest "$MAN" "$(cdo_orig body)" \
		"$BATS_FILE_TMPDIR/again/body.o" "$OUT"
	[ "$status" -eq 3 ]
	[ "$output" = "kernel/body.o: no functional change" ]
	[ ! -e "$OUT" ]
	[ ! -e "$MAN" ]
}

@test "comment-only change: exit 3, no output object" {
	! cmp -s "$CDO_FIX/comment.orig.c" "$CDO_FIX/comment.patched.c" || false
	diff_pair comment "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 3 ]
	[ "$output" = "kernel/comment.o: no functional change" ]
	[ ! -e "$OUT" ]
}

@test "changed initial value of a global variable: exit 2 naming it" {
	local sec
	sec=$(cdo_symbol "$(cdo_patched data)" data_limit | awk '{ print $4 }')
	[[ $sec == .data* ]]
	refused_naming data data_limit "$sec"
	[[ $output != *"function:"* ]]
}

@test "changed initial value of a static variable: exit 2 naming it" {
	local sec
	sec=$(cdo_symbol "$(cdo_patched sdata)" sdata_weight | awk '$2 == "LOCAL" { print $4 }')
	[[ $sec == .data* ]]
	refused_naming sdata sdata_weight "$sec"
}

@test "changed __init function: exit 2 naming it" {
	[ "$(cdo_symbol "$(cdo_patched init)" init_setup | awk '{ print $4 }')" = .init.text ]
	[ "$(cdo_section_hex "$(cdo_orig init)" .init.text)" != \
		"$(cdo_section_hex "$(cdo_patched init)" .init.text)" ]
	refused_naming init init_setup .init.text
}

@test "changed __exit function: exit 2 naming it, with the reason and a hint" {
	local o
	o=$(cdo_orig exit)
	[ "$(cdo_symbol "$(cdo_patched exit)" exit_cleanup | awk '{ print $4 }')" = .exit.text ]
	[ "$(cdo_section_hex "$o" .exit.text)" != \
		"$(cdo_section_hex "$(cdo_patched exit)" .exit.text)" ]
	# Like the kernel's __exit, it is notrace: no fentry call.
	cdo_targets "$o" .exit.text | grep -q ' exit_unregister+'
	! cdo_targets "$o" .exit.text | grep -q ' __fentry__+' || false
	diff_pair exit "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"create-diff-object: kernel/exit.o: exit_cleanup (.exit.text): changes to __exit code"*notrace*unloaded*"hint:"* ]]
	[ ! -e "$OUT" ]
}

@test "changed function without an fentry call: exit 2 naming it" {
	local o
	o=$(cdo_orig notrace)
	! cdo_targets "$o" .text.notrace_count | grep -q ' __fentry__+' || false
	cdo_targets "$o" .text.notrace_traced | grep -q ' __fentry__+'
	diff_pair notrace "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"kernel/notrace.o: notrace_count (.text.notrace_count): "*fentry* ]]
	[ ! -e "$OUT" ]
}

@test "extref: only the changed function is reported and carried" {
	changed_only extref "$VM_EXTREF" "$SYMVERS_EXTREF" extref_changed
	# Everything extref_changed calls stays in the kernel.
	[ -z "$(cdo_symbols "$OUT" | awk '$3 == "FUNC" && $4 != ".text.extref_changed"')" ]
}

@test "unchanged static function called from a changed one: WEAK UND .klp.sym.vmlinux.NAME,POS" {
	extref_klp extref_helper extref.c
}

@test "unchanged static variable read by a changed function: klp symbol, no copy" {
	extref_klp extref_count extref.c
}

@test "unchanged static variable compared with an immediate (addend -4 - imm size): klp symbol, no copy" {
	# cmpl $imm, extref_hits(%rip): the field is not the end of the insn.
	cdo_relocs "$(cdo_patched extref)" .text.extref_changed |
		awk '$3 == ".bss.extref_hits" && $4 < -4' | grep -q .
	extref_klp extref_hits extref.c
}

@test "unexported global function of another file: klp symbol" {
	! grep -qw extref_unexported "$SYMVERS_EXTREF" || false
	extref_klp extref_unexported ""
}

@test "exported functions (Module.symvers, __ksymtab_, namespace): plain GLOBAL UND, MODULE_IMPORT_NS in the manifest" {
	local p
	p=$(cdo_patched extref)
	grep -qP '\textref_exported\tvmlinux\t' "$SYMVERS_EXTREF"
	! grep -qw extref_ksymtab "$SYMVERS_EXTREF" || false
	cdo_symbol "$VM_EXTREF" __ksymtab_extref_ksymtab | grep -q ' OBJECT '
	diff_pair extref "$VM_EXTREF" "$SYMVERS_EXTREF"
	[ "$status" -eq 0 ]
	plain_ref "$p" extref_changed extref_exported
	plain_ref "$p" extref_changed extref_ksymtab
	plain_ref "$p" extref_changed extref_ns_fn
	[ "$(grep '^import_ns' "$MAN")" = "$(printf 'import_ns\tEXTREF_NS')" ]
}

@test "module object: its own symbols use .klp.sym.MODULE even when the module exports them" {
	grep -qP '\textref_unexported\tmymod\t' "$SYMVERS_MOD"
	extref_in_module mymod "$SYMVERS_MOD"
	klp_ref "$(cdo_patched extref)" extref_changed extref_helper \
		".klp.sym.mymod.extref_helper,0"
	plain_ref "$(cdo_patched extref)" extref_changed extref_exported
	klp_ref "$(cdo_patched extref)" extref_changed extref_unexported \
		".klp.sym.mymod.extref_unexported,0"
}

@test "module object: its own exports, named by path and with dashes in Module.symvers (fs/my-mod for my_mod), use .klp.sym.MODULE" {
	grep -qP '\textref_unexported\tfs/my-mod\t' "$SYMVERS_MODPATH"
	extref_in_module my_mod "$SYMVERS_MODPATH"
	klp_ref "$(cdo_patched extref)" extref_changed extref_unexported \
		".klp.sym.my_mod.extref_unexported,0"
	# Another module's export stays a plain reference (a dependency).
	extref_in_module other_mod "$SYMVERS_MODPATH"
	plain_ref "$(cdo_patched extref)" extref_changed extref_unexported
}

@test "sympos: a call to a static dup() that three files of vmlinux have gets its address rank" {
	local pos cpos
	[ "$(cdo_symbols "$VM_SYMPOS" | awk '$1 == "dup" && $3 == "FUNC"' | wc -l)" -eq 3 ]
	pos=$(cdo_vmlinux_sympos "$VM_SYMPOS" dup sympos_b.c)
	[ "$pos" -eq 2 ]
	cpos=$(cdo_vmlinux_sympos "$VM_SYMPOS" sympos_b_caller "")
	diff_pair sympos_b "$VM_SYMPOS" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$output" = "kernel/sympos_b.o: changed function: sympos_b_caller" ]
	klp_ref "$(cdo_patched sympos_b)" sympos_b_caller dup ".klp.sym.vmlinux.dup,$pos"
	[ "$(functions_of "$MAN")" = "$(printf 'func\tvmlinux\tsympos_b_caller\t%s\t__kbp_new_vmlinux__sympos_b_caller__%s\tkernel/sympos_b.o' \
		"$cpos" "$cpos")" ]
}

@test "module object without file symbols (as Debian ships them): a call to its static dup() gets the symtab-order sympos, told by the neighbours" {
	local pos
	# Independently, from the module with its file symbols: the second.
	pos=$(module_sympos "$KO_SYMPOS" dup sympos_b.c)
	[ "$pos" -eq 2 ]
	[ "$(readelf -sW "$KO_SYMPOS_NOFILE" | awk '$4 == "FILE"' | wc -l)" -eq 0 ]
	[ "$(readelf -sW "$KO_SYMPOS_NOFILE" | awk '$4 == "FUNC" && $8 == "dup"' | wc -l)" -eq 3 ]
	[ "$(readelf -SW "$KO_SYMPOS_NOFILE" | grep -c ' \.text')" -eq 1 ]
	diff_pair sympos_b "$KO_SYMPOS_NOFILE" "$SYMVERS" --objname symmod
	[ "$status" -eq 0 ]
	klp_ref "$(cdo_patched sympos_b)" sympos_b_caller dup ".klp.sym.symmod.dup,$pos"
	# The third file's copy is the third.
	[ "$(module_sympos "$KO_SYMPOS" dup sympos_c.c)" -eq 3 ]
}

@test "sympos: a changed dup() gets its address rank in the manifest and its alias" {
	local pos alias
	pos=$(cdo_vmlinux_sympos "$VM_SYMPOS" dup sympos_c.c)
	[ "$pos" -gt 1 ]
	diff_pair sympos_c "$VM_SYMPOS" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$output" = "kernel/sympos_c.o: changed function: dup" ]
	alias=__kbp_new_vmlinux__dup__$pos
	[ "$(functions_of "$MAN")" = "$(printf 'func\tvmlinux\tdup\t%s\t%s\tkernel/sympos_c.o' "$pos" "$alias")" ]
	cdo_symbol "$OUT" "$alias" | grep -q "^$alias GLOBAL FUNC .text.dup "
}

@test "sympos: two files of the same name are told apart by their other locals" {
	local blocks pos
	# Both blocks are called neigh.c and both have a neigh_dup.
	blocks=$(cdo_symbols "$VM_NEIGH" | awk '$3 == "FILE" && $1 == "neigh.c"' | wc -l)
	[ "$blocks" -eq 2 ]
	[ "$(cdo_vmlinux_sympos "$VM_NEIGH" neigh_dup neigh.c)" = ambiguous ]
	# Ours is the one in the block that also holds neigh_mine_count.
	pos=$(readelf -sW "$VM_NEIGH" | awk '
		$1 !~ /^[0-9]+:$/ { next }
		$4 == "FILE" { b++; next }
		$8 == "neigh_dup" { addr[b] = $2; all[++n] = $2 }
		$8 == "neigh_mine_count" { mine = b }
		END {
			r = 1
			for (i = 1; i <= n; i++) if (all[i] "" < addr[mine] "") r++
			print r
		}')
	[ "$pos" -eq 2 ]
	diff_pair neigh "$VM_NEIGH" "$SYMVERS"
	[ "$status" -eq 0 ]
	klp_ref "$(cdo_patched neigh)" neigh_caller neigh_dup ".klp.sym.vmlinux.neigh_dup,$pos"
}

@test "sympos: a symbol missing from --symbols is an error" {
	! cdo_symbols "$VM_SYMPOS_NO_B" | grep -q sympos_b || false
	diff_pair sympos_b "$VM_SYMPOS_NO_B" "$SYMVERS"
	[ "$status" -eq 1 ]
	[[ $stderr == *"create-diff-object: kernel/sympos_b.o: "*"not found"* ]]
	[ ! -e "$OUT" ]
}

@test "compiler clones (.constprop.N, .isra.N) in both builds are not reported changed" {
	local o p pos c
	o=$(cdo_orig clone)
	p=$(cdo_patched clone)
	for f in "$o" "$p"; do
		cdo_symbols "$f" | grep -qE '^clone_scale\.constprop\.[0-9]+ LOCAL FUNC '
		cdo_symbols "$f" | grep -qE '^clone_weight\.isra\.[0-9]+ LOCAL FUNC '
	done
	changed_only clone "$VM_MISC" "$SYMVERS" clone_third
	for c in $(cdo_symbols "$p" | awk '$1 ~ /^clone_(scale|weight)\./ { print $1 }'); do
		pos=$(cdo_vmlinux_sympos "$VM_MISC" "$c" clone.c)
		[ "$pos" = 0 ]
		klp_ref "$p" clone_third "$c" ".klp.sym.vmlinux.$c,$pos"
	done
}

@test "renumbered function-local static (calls.N) of an unchanged function is correlated" {
	local o p seen
	o=$(cdo_orig locals)
	p=$(cdo_patched locals)
	[ "$(cdo_symbols "$o" | awk '$1 ~ /^calls\./ { print $1 }')" != \
		"$(cdo_symbols "$p" | awk '$1 ~ /^calls\./ { print $1 }')" ]
	changed_only locals "$VM_MISC" "$SYMVERS" locals_seen
	# The new static comes along as new data.
	seen=$(cdo_symbols "$p" | awk '$1 ~ /^seen\./ { print $1 }')
	[ -n "$seen" ]
	cdo_symbol "$OUT" "$seen" | grep -q "^$seen LOCAL OBJECT "
	diff <(cdo_targets "$p" .text.locals_seen) <(cdo_targets "$OUT" .text.locals_seen)
	! cdo_symbols "$OUT" | grep -q 'calls' || false
}

@test "a new function-local static named like an unchanged function's one is new data, not the old one" {
	local o p
	o=$(cdo_orig locals_same)
	p=$(cdo_patched locals_same)
	# calls.0 is locals_count's in the original, locals_seen's new one
	# in the patched object.
	[ "$(cdo_targets "$o" .text.locals_count | grep -o ' calls\.[0-9]*+' | sort -u)" != \
		"$(cdo_targets "$p" .text.locals_count | grep -o ' calls\.[0-9]*+' | sort -u)" ]
	changed_only locals_same "$VM_LOCALS_SAME" "$SYMVERS" locals_seen
	diff <(cdo_targets "$p" .text.locals_seen) <(cdo_targets "$OUT" .text.locals_seen)
	! cdo_symbols "$OUT" | grep -q '^\.klp\.sym\..*calls' || false
}

# static_of OBJ FUNC: the static locals (NAME.N) that FUNC's code refers
# to in OBJ, one a line.
static_of() {
	cdo_targets "$1" ".text.$2" | awk '{ t = $3; sub(/\+.*/, "", t) }
		t ~ /^[A-Za-z_][A-Za-z0-9_]*\.[0-9]+$/ { print t }' | sort -u
}

# module_sympos KO NAME FILE: NAME's sympos in module KO as the kernel
# counts it (symtab order among the defined same-named symbols) for the
# local one of file block FILE: 0 when the name is unique.
module_sympos() {
	readelf -sW "$1" | awk -v n="$2" -v f="$3" '
		/^Symbol table / { on = ($3 == "'\''.symtab'\''"); next }
		!on || $1 !~ /^[0-9]+:$/ { next }
		$4 == "FILE" { file = $8; next }
		$8 == n && $7 != "UND" {
			c++
			if ($5 == "LOCAL" && file == f) { mine = c; m++ }
		}
		END {
			if (m != 1) print (m ? "ambiguous" : "missing")
			else print (c == 1 ? 0 : mine)
		}'
}

@test "a static local renumbered by a new printk site is referenced by the running kernel's name and sympos" {
	local o p old new pos
	o=$(cdo_orig renum)
	p=$(cdo_patched renum)
	old=$(static_of "$o" renum_count)
	new=$(static_of "$p" renum_count)
	echo "renum_count uses $old, patched $new"
	[ "$(wc -w <<<"$old")" -eq 1 ] && [ "$(wc -w <<<"$new")" -eq 1 ]
	# The shape: same variable, another number; the printk's statics.
	[ "${old%.*}" = "${new%.*}" ] && [ "$old" != "$new" ]
	cdo_section_names "$p" | grep -qx .printk_index
	! cdo_section_names "$o" | grep -qx .printk_index || false
	# The running kernel has the old name twice (renum_peer.c has it).
	[ "$(cdo_symbols "$VM_RENUM" | awk -v n="$old" '$1 == n' | wc -l)" -eq 2 ]
	pos=$(cdo_vmlinux_sympos "$VM_RENUM" "$old" renum.c)
	[ "$pos" -ge 1 ]
	diff_pair renum "$VM_RENUM" "$SYMVERS"
	[ "$status" -eq 0 ]
	grep -q "^func	vmlinux	renum_count	" "$MAN"
	klp_ref "$p" renum_count "$new" ".klp.sym.vmlinux.$old,$pos"
	# Nothing in the output spells the patched build's number.
	! cdo_symbols "$OUT" | grep -qF ".$new," || false
}

@test "module object: a renumbered static local gets the module's name and symtab-order sympos" {
	local p old new pos
	p=$(cdo_patched renum)
	old=$(static_of "$(cdo_orig renum)" renum_count)
	new=$(static_of "$p" renum_count)
	[ "$old" != "$new" ]
	pos=$(module_sympos "$KO_RENUM" "$old" renum.c)
	# renum_peer.o comes first in the module: ours is the second.
	[ "$pos" -eq 2 ]
	run --separate-stderr "$CDO" --symbols "$KO_RENUM" --objname renummod \
		--symvers "$SYMVERS" --name renummod/renum.o --manifest "$MAN" \
		"$(cdo_orig renum)" "$p" "$OUT"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	klp_ref "$p" renum_count "$new" ".klp.sym.renummod.$old,$pos"
}

@test "a static local whose only use moves into the function's .cold part is still the original variable" {
	local o p e
	o=$(cdo_orig coldstatic)
	p=$(cdo_patched coldstatic)
	e=$(static_of "$o" coldst_check)
	[ "$(wc -w <<<"$e")" -eq 1 ]
	# The shape: the original's hot code uses it, the patched one's
	# doesn't; the patched .cold part does.
	[ -z "$(static_of "$p" coldst_check)" ]
	cdo_symbol "$p" coldst_check.cold | grep -q ' LOCAL FUNC .text.unlikely.coldst_check '
	[ "$(static_of "$p" unlikely.coldst_check)" = "$e" ]
	[ -z "$(static_of "$o" unlikely.coldst_check)" ]
	diff_pair coldstatic "$VM_COLDSTATIC" "$BATS_FILE_TMPDIR/Module.symvers-coldstatic"
	[ "$status" -eq 0 ]
	klp_ref "$p" unlikely.coldst_check "$e" ".klp.sym.vmlinux.$e,0"
}

@test "a static local that the target has several copies of, none telling which is ours, is refused with exit 2" {
	local ks=$BATS_TEST_TMPDIR/kallsyms old
	old=$(static_of "$(cdo_orig renum)" renum_count)
	# A kallsyms dump has no file symbols, and each of renum.c's data
	# symbols is also renum_peer.c's: no neighbour tells them apart.
	kallsyms_of "$VM_RENUM" >"$ks"
	[ "$(awk -v n="$old" '$3 == n' "$ks" | wc -l)" -eq 2 ]
	for s in $(cdo_symbols "$(cdo_orig renum)" | awk '$3 == "OBJECT" { print $1 }'); do
		[ "$(awk -v n="$s" '$3 == n' "$ks" | wc -l)" -ge 2 ]
	done
	diff_pair renum "$ks" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"create-diff-object: kernel/renum.o: renum_count (.text.renum_count): uses the static local $old, but $ks has several symbols of that name"*"refusing to guess"* ]]
	[ ! -e "$OUT" ] && [ ! -e "$MAN" ]
	# With the vmlinux, the file symbols tell them apart.
	diff_pair renum "$VM_RENUM" "$SYMVERS"
	[ "$status" -eq 0 ]
}

@test "__bug_table keeps exactly the entries of the carried function, and __mcount_loc one entry" {
	local p n expected
	p=$(cdo_patched bug)
	# Entries whose bug address (first field) is in bug_check, and one
	# in bug_same so that something has to be left out.
	expected=$(cdo_targets "$p" __bug_table | awk '$1 % 12 == 0 { print int($1 / 12), $3 }')
	n=$(grep -c ' bug_check+' <<<"$expected")
	[ "$n" -ge 2 ]
	grep -q ' bug_same+' <<<"$expected"

	diff_pair bug "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$output" = "kernel/bug.o: changed function: bug_check" ]
	[ "$(cdo_section_size "$OUT" __bug_table)" -eq $((n * 12)) ]
	diff <(awk '$2 ~ /^bug_check\+/ { print $2 }' <<<"$expected") \
		<(cdo_targets "$OUT" __bug_table | awk '$1 % 12 == 0 { print $3 }')
	# Each kept entry: the same file string, line and flags.
	local i=0 g
	while read -r g; do
		[ "$(cdo_section_hex "$OUT" __bug_table $((i * 12 + 8)) 4)" = \
			"$(cdo_section_hex "$p" __bug_table $((g * 12 + 8)) 4)" ]
		diff <(cdo_targets "$p" __bug_table | awk -v o=$((g * 12 + 4)) '$1 == o { print $2, $3 }') \
			<(cdo_targets "$OUT" __bug_table | awk -v o=$((i * 12 + 4)) '$1 == o { print $2, $3 }')
		i=$((i + 1))
	done < <(awk '$2 ~ /^bug_check\+/ { print $1 }' <<<"$expected")
	[ "$i" -eq "$n" ]
	# __mcount_loc: one entry, for bug_check.
	[ "$(cdo_section_size "$OUT" __mcount_loc)" -eq 8 ]
	diff <(mcount_targets "$p" | grep ' bug_check+') <(mcount_targets "$OUT")
}

@test "usage: wrong argument counts exit 1 with the usage" {
	run --separate-stderr "$CDO"
	[ "$status" -eq 1 ]
	[[ $stderr == *"usage: create-diff-object"* ]]
	run --separate-stderr "$CDO" "$(cdo_orig body)" "$(cdo_patched body)"
	[ "$status" -eq 1 ]
	[[ $stderr == *"usage: create-diff-object"* ]]
	run --separate-stderr "$CDO" --no-such-option "$(cdo_orig body)" \
		"$(cdo_patched body)" "$OUT"
	[ "$status" -eq 1 ]
	[ ! -e "$OUT" ]
}

@test "non-ELF, missing and non-relocatable inputs exit 1 with a message naming the file" {
	echo "not an object" >bogus.o
	run --separate-stderr "$CDO" bogus.o "$(cdo_patched body)" "$OUT"
	[ "$status" -eq 1 ]
	[[ $stderr == *"create-diff-object: bogus.o: not an ELF file"* ]]
	[ ! -e "$OUT" ]
	run --separate-stderr "$CDO" "$(cdo_orig body)" missing.o "$OUT"
	[ "$status" -eq 1 ]
	[[ $stderr == *"missing.o: cannot open"* ]]
	run --separate-stderr "$CDO" "$(cdo_orig body)" "$VM_MISC" "$OUT"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$VM_MISC: not an x86_64 ELF64 relocatable object"* ]]
	[ ! -e "$OUT" ]
}

@test "an object name that can't be a livepatch object name exits 1" {
	run --separate-stderr "$CDO" --objname my.mod "$(cdo_orig body)" \
		"$(cdo_patched body)" "$OUT"
	[ "$status" -eq 1 ]
	[[ $stderr == *'"my.mod"'* ]]
	[ ! -e "$OUT" ]
}

@test "per-site statics (__warned) of a changed function are fresh copies; unchanged users aren't reported" {
	local name
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-fresh" "$(cdo_orig fresh)"
	diff_pair fresh "$BATS_FILE_TMPDIR/vmlinux-fresh" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$(cdo_reported changed)" = fresh_changed ]
	[ -z "$(cdo_reported new)" ]
	# The flag the changed function uses: gcc names it __warned.N.
	name=$(cdo_targets "$(cdo_patched fresh)" .text.fresh_changed | grep -o '__warned\.[0-9]*' | head -1)
	[ -n "$name" ]
	# It is defined in the output (a fresh copy), not a klp reference.
	cdo_symbol "$OUT" "$name" | awk '$4 != "UND"' | grep -q .
	if cdo_symbols "$OUT" | grep -q '^\.klp\.sym\..*__warned'; then false; fi
}

@test "a changed static inline helper changes every caller it was inlined into, and no other function" {
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-inline" "$(cdo_orig inline)"
	diff_pair inline "$BATS_FILE_TMPDIR/vmlinux-inline" "$SYMVERS"
	[ "$status" -eq 0 ]
	# The helper was inlined: no symbol of its own in either build.
	[ -z "$(cdo_symbol "$(cdo_orig inline)" inline_scale)" ]
	[ "$(cdo_reported changed | tr '\n' ' ')" = "inline_user_a inline_user_b " ]
	[ -z "$(cdo_reported new)" ]
	if cdo_section_names "$OUT" | grep -q inline_bystander; then false; fi
}

@test "a .cold part goes with its changed function and is reached inside the patch" {
	local cold
	cold=$(cdo_symbols "$(cdo_orig cold)" | awk '$3 == "FUNC" && $1 ~ /^cold_fn\.cold/ { print $1 }')
	# gcc really split the function in both builds.
	[ -n "$cold" ]
	cdo_symbols "$(cdo_patched cold)" | awk '$3 == "FUNC"' | grep -q "^$cold "
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-cold" "$(cdo_orig cold)"
	diff_pair cold "$BATS_FILE_TMPDIR/vmlinux-cold" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$(cdo_reported changed)" = cold_fn ]
	# The cold part is defined in the output, and no klp symbol names it.
	cdo_symbol "$OUT" "$cold" | awk '$4 != "UND"' | grep -q .
	if cdo_symbols "$OUT" | grep -q "^\.klp\.sym\..*cold_fn"; then false; fi
}

@test "a change to the .cold part alone patches its function, which carries the new cold part" {
	local cold sec
	cold=$(cdo_symbols "$(cdo_orig coldonly)" | awk '$3 == "FUNC" && $1 ~ /^cold_fn\.cold/ { print $1 }')
	[ -n "$cold" ]
	# The shape, independently: the hot part is the same in both builds
	# (bytes and relocations), the cold part is not.
	for sec in .text.cold_fn .text.unlikely.cold_fn; do
		readelf -SW "$(cdo_orig coldonly)" | grep -qF " $sec "
	done
	[ "$(section_signature "$(cdo_orig coldonly)" .text.cold_fn)" = \
		"$(section_signature "$(cdo_patched coldonly)" .text.cold_fn)" ]
	[ "$(section_signature "$(cdo_orig coldonly)" .text.unlikely.cold_fn)" != \
		"$(section_signature "$(cdo_patched coldonly)" .text.unlikely.cold_fn)" ]
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-coldonly" "$(cdo_orig coldonly)"
	diff_pair coldonly "$BATS_FILE_TMPDIR/vmlinux-coldonly" "$SYMVERS"
	[ "$status" -eq 0 ]
	# The function with the fentry call is what gets patched.
	[ "$(cdo_reported changed)" = cold_fn ]
	awk -F'\t' '$1 == "func" { print $3 }' "$MAN" | grep -qx cold_fn
	cdo_symbol "$OUT" cold_fn | awk '$4 != "UND"' | grep -q .
	cdo_symbol "$OUT" "$cold" | awk '$4 != "UND"' | grep -q .
	# The output's cold part has the patched code (its references to
	# what the kernel keeps become klp relocations, so bytes only).
	cmp <(objcopy -O binary --only-section=.text.unlikely.cold_fn "$OUT" /dev/stdout) \
		<(objcopy -O binary --only-section=.text.unlikely.cold_fn "$(cdo_patched coldonly)" /dev/stdout)
}

@test "a changed data layout (an object grows) is refused, naming the object, both sizes and a hint" {
	local before after
	before=$(cdo_symbol "$(cdo_orig layout)" layout_stats | awk '{ print $6 }')
	after=$(cdo_symbol "$(cdo_patched layout)" layout_stats | awk '{ print $6 }')
	[ "$before" -lt "$after" ]
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-layout" "$(cdo_orig layout)"
	diff_pair layout "$BATS_FILE_TMPDIR/vmlinux-layout" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"layout_stats"*"changed data layout ($after bytes, was $before)"*"klp_shadow_"* ]]
	[ ! -e "$OUT" ]
}

@test "untraceable: a changed static function without fentry is carried, its callers are patched" {
	local o p f
	o=$(cdo_orig untraceable)
	p=$(cdo_patched untraceable)
	# The inputs: only untr_body's code changed; it and untr_middle have
	# no fentry call, the others have one.
	[ "$(cdo_changed_bytes "$o" "$p")" = untr_body ]
	for f in untr_body untr_middle; do
		! cdo_targets "$o" ".text.$f" | grep -q ' __fentry__+' || false
	done
	for f in untr_direct untr_outer untr_unrelated; do
		cdo_targets "$o" ".text.$f" | grep -q ' __fentry__+'
	done

	diff_pair untraceable "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	diff <(printf 'untr_body\nuntr_middle\n') <(cdo_reported untraceable)
	diff <(printf 'untr_direct\nuntr_outer\n') <(cdo_reported changed)
	[[ $output == *"untr_body has no fentry call: carried as new code, reached by patching its caller untr_direct"* ]]
	diff <(printf '.text.untr_body\n.text.untr_direct\n.text.untr_middle\n.text.untr_outer\n') \
		<(cdo_text_sections "$OUT")
	# Each caller calls the carried copy, not the running kernel's.
	diff <(cdo_targets "$p" .text.untr_direct) <(cdo_targets "$OUT" .text.untr_direct)
	diff <(cdo_targets "$p" .text.untr_outer) <(cdo_targets "$OUT" .text.untr_outer)
	diff <(cdo_targets "$p" .text.untr_middle) <(cdo_targets "$OUT" .text.untr_middle)
	! cdo_symbols "$OUT" | grep -q 'klp\.sym.*untr_' || false
	# Only traceable functions become klp functions.
	diff <(printf 'untr_direct\nuntr_outer\n') <(awk -F'\t' '$1 == "func" { print $3 }' "$MAN" | sort)
	diff <(printf 'untr_body\nuntr_middle\n') <(awk -F'\t' '$1 == "new" { print $3 }' "$MAN" | sort)
}

# alt_entries FILE SECTION SIZE: "entry function" for each entry of the
# special SECTION (entries of SIZE bytes) by the function its first field
# points into.
alt_entries() {
	cdo_targets "$1" "$2" | awk -v es="$3" '$1 % es == 0 { sub(/\+.*/, "", $3); print int($1 / es), $3 }'
}

@test "untraceable: the special-section entries of a carried notrace body come with it and point into the new copy" {
	local o p s es
	o=$(cdo_orig altbody)
	p=$(cdo_patched altbody)
	# The inputs: only altb_body changed, and it has no fentry call.
	[ "$(cdo_changed_bytes "$o" "$p")" = altb_body ]
	! cdo_targets "$o" .text.altb_body | grep -q ' __fentry__+' || false
	cdo_targets "$o" .text.altb_direct | grep -q ' __fentry__+'
	# Alternative code refers to the body: its static_cpu_has() jumps back
	# from .altinstr_replacement and .altinstr_aux, and altb_via_alt's
	# replacement calls it.
	[ "$(cdo_targets "$p" .altinstr_replacement | grep -c ' altb_body+')" -eq 2 ]
	[ "$(cdo_targets "$p" .altinstr_aux | grep -c ' altb_body+')" -eq 2 ]
	# The body has an entry in each table, and another function has one
	# in .altinstructions that must stay out.
	for s in .altinstructions:14 __ex_table:12 __jump_table:16; do
		alt_entries "$p" "${s%:*}" "${s#*:}" | grep -q ' altb_body$'
	done
	alt_entries "$p" .altinstructions 14 | grep -q ' altb_plain$'

	diff_pair altbody "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	diff <(printf 'altb_body\n') <(cdo_reported untraceable)
	# The caller through an alternative is a caller too.
	diff <(printf 'altb_direct\naltb_via_alt\n') <(cdo_reported changed)
	[[ $output == *"altb_body has no fentry call: carried as new code, reached by patching its caller altb_via_alt"* ]]
	# Each table keeps exactly the entries of the carried functions.
	for s in .altinstructions:14 __ex_table:12 __jump_table:16; do
		es=${s#*:}
		s=${s%:*}
		diff <(alt_entries "$p" "$s" "$es" | awk '$2 == "altb_body" || $2 == "altb_via_alt" { print $2 }') \
			<(alt_entries "$OUT" "$s" "$es" | awk '{ print $2 }')
	done
	# Every reference to the body, from the carried code and from the
	# kept entries, goes to the new copy: altb_body is defined in $OUT and
	# never a symbol of the running kernel.
	cdo_symbol "$OUT" altb_body | grep -q ' FUNC .text.altb_body '
	! cdo_symbols "$OUT" | grep -q 'klp\.sym.*altb_body' || false
	for s in .altinstr_replacement .altinstr_aux __ex_table __jump_table .altinstructions; do
		diff <(cdo_targets "$p" "$s" | awk '$3 ~ /^altb_body\+/' | wc -l) \
			<(cdo_targets "$OUT" "$s" | awk '$3 ~ /^altb_body\+/' | wc -l)
	done
	diff <(cdo_targets "$p" .text.altb_direct) <(cdo_targets "$OUT" .text.altb_direct)
	# Alternative code keeps only what the kept entries and the carried
	# code lead to: altb_plain's replacement and test stay out.
	cat <(cdo_targets "$p" .altinstr_replacement) <(cdo_targets "$p" .altinstr_aux) |
		grep -q ' altb_plain+'
	if cat <(cdo_targets "$OUT" .altinstr_replacement) <(cdo_targets "$OUT" .altinstr_aux) |
		grep -q 'altb_plain'; then false; fi
	local want=0 g b e
	for g in $(alt_entries "$p" .altinstructions 14 | awk '$2 != "altb_plain" { print $1 }'); do
		# replacementlen: the last byte of struct alt_instr
		want=$((want + 0x$(cdo_section_hex "$p" .altinstructions $((g * 14 + 13)) 1)))
	done
	[ "$want" -gt 0 ]
	[ "$(cdo_section_size "$OUT" .altinstr_replacement)" -eq "$want" ]
	# .altinstr_aux: the body's static_cpu_has() test, from where the
	# body jumps ("jmp 6f") to where altb_plain's test starts.
	b=$(cdo_targets "$p" .text.altb_body | sed -n 's/.* \.altinstr_aux+\([0-9]*\)$/\1/p')
	e=$(cdo_targets "$p" .text.altb_plain | sed -n 's/.* \.altinstr_aux+\([0-9]*\)$/\1/p')
	[ "$e" -gt "$b" ]
	[ "$(cdo_section_hex "$OUT" .altinstr_aux)" = "$(cdo_section_hex "$p" .altinstr_aux "$b" $((e - b)))" ]
}

@test "untraceable: a reference to a notrace body from alternative code that no function owns is refused (exit 2)" {
	# The input: .altinstr_replacement jumps into the body, and no
	# .altinstructions entry owns that code.
	cdo_targets "$(cdo_patched altorphan)" .altinstr_replacement | grep -q ' alto_body+'
	[ -z "$(cdo_section_size "$(cdo_patched altorphan)" .altinstructions)" ]
	diff_pair altorphan "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"kernel/altorphan.o: alto_body (.text.alto_body): has no fentry call"*".altinstr_replacement+0x"*"in no function"*"traceable function"* ]]
	[ ! -e "$OUT" ]
}

@test "untraceable: a changed function without fentry whose address is stored in data is refused" {
	diff_pair untraceable_ptr "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"kernel/untraceable_ptr.o: untp_body (.text.untp_body): has no fentry call"*"address is stored in .data.untp_hook"*"traceable function"* ]]
	[ ! -e "$OUT" ]
}

# kallsyms_of VMLINUX: a /proc/kallsyms-like dump ("ADDR TYPE NAME") of
# VMLINUX's symbols, as nm prints them: no file symbols, address order.
kallsyms_of() {
	nm -n "$1" | awk 'NF == 3'
}

@test "kallsyms dump: a static dup() of three files gets the same sympos as from vmlinux, by its neighbours" {
	local ks=$BATS_TEST_TMPDIR/kallsyms pos
	kallsyms_of "$VM_SYMPOS" >"$ks"
	! grep -q ' [fF] ' "$ks" || false
	[ "$(awk '$3 == "dup"' "$ks" | wc -l)" -eq 3 ]
	pos=$(cdo_vmlinux_sympos "$VM_SYMPOS" dup sympos_b.c)
	[ "$pos" -eq 2 ]
	diff_pair sympos_b "$ks" "$SYMVERS"
	[ "$status" -eq 0 ]
	klp_ref "$(cdo_patched sympos_b)" sympos_b_caller dup ".klp.sym.vmlinux.dup,$pos"
	# The third file's dup, changed, is named by its own rank.
	pos=$(cdo_vmlinux_sympos "$VM_SYMPOS" dup sympos_c.c)
	diff_pair sympos_c "$ks" "$SYMVERS"
	[ "$status" -eq 0 ]
	grep -q "^func	vmlinux	dup	$pos	" "$MAN"
}

@test "kallsyms dump: a module's symbols and bad input" {
	local ks=$BATS_TEST_TMPDIR/kallsyms
	# A loaded module's lines don't count as vmlinux symbols.
	{ kallsyms_of "$VM_SYMPOS"; echo "ffffffffc0001000 t dup	[somemod]"; } >"$ks"
	diff_pair sympos_b "$ks" "$SYMVERS"
	[ "$status" -eq 0 ]
	grep -q "dup,$(cdo_vmlinux_sympos "$VM_SYMPOS" dup sympos_b.c)\$" <(cdo_symbols "$OUT" | awk '{ print $1 }')
	rm -f "$OUT"
	# Addresses hidden by kptr_restrict: an error that says what to do.
	kallsyms_of "$VM_SYMPOS" | sed 's/^[0-9a-f]*/0000000000000000/' >"$ks"
	diff_pair sympos_b "$ks" "$SYMVERS"
	[ "$status" -eq 1 ]
	[[ $stderr == *"no symbol addresses"*"kptr_restrict=0"* ]]
	printf 'this is not kallsyms\n' >"$ks"
	diff_pair sympos_b "$ks" "$SYMVERS"
	[ "$status" -eq 1 ]
	[[ $stderr == *"not a kallsyms line"* ]]
	[ ! -e "$OUT" ]
}

# pidx_sites FILE: "FUNC FMT" (both as hex bytes joined by _) for each
# .printk_index entry of FILE: the function name and the format of the
# struct pi_entry it points to, read through FILE's relocations.
pidx_sites() {
	local file=$1 entry sec func fsec fmt

	while read -r _ _ entry; do
		entry=${entry%+0}
		sec=$(cdo_symbol "$file" "$entry" | awk '{ print $4 }')
		fmt=$(cdo_targets "$file" "$sec" | awk '$1 == 0 { print $3 }')
		func=$(cdo_targets "$file" "$sec" | awk '$1 == 8 { print $3 }')
		fsec=$(cdo_symbol "$file" "${func%+0}" | awk '{ print $4 }')
		echo "$(cdo_string_at "$file" "$fsec" 0 | tr ' ' _) ${fmt#str:}"
	done < <(cdo_targets "$file" .printk_index)
}

@test "printk index: the .printk_index entries of the included functions' printk sites come along, as fresh copies" {
	local want got all fn
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-pidx" "$(cdo_orig printkidx)"
	diff_pair printkidx "$BATS_FILE_TMPDIR/vmlinux-pidx" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$(cdo_reported changed)" = pidx_changed ]
	# Independently of the tool: the patched object's sites whose
	# pi_entry names pidx_changed; pidx_same has sites too, one with a
	# format that pidx_changed also prints.
	all=$(pidx_sites "$(cdo_patched printkidx)" | sort)
	echo "object: $all"
	fn=$(cdo_hexstr pidx_changed | tr ' ' _)
	want=$(awk -v f="$fn" '$1 == f' <<<"$all")
	[ "$(wc -l <<<"$want")" -eq 3 ]
	[ "$(wc -l <<<"$all")" -eq 5 ]
	got=$(pidx_sites "$OUT" | sort)
	echo "diff object: $got"
	[ "$got" = "$want" ]
	# The pi_entry records and their __func__ strings are the patch's own
	# copies, not references to the running kernel's.
	if cdo_symbols "$OUT" | grep -E '^\.klp\.sym\..*(_entry|__func__)'; then false; fi
	[ "$(cdo_symbols "$OUT" | awk '$3 == "OBJECT" && $1 ~ /^_entry\./ && $4 != "UND"' | wc -l)" -eq 3 ]
}

@test "static calls: an exported key of a called exported trampoline is kept addressable for objtool; else nothing, or klp calls" {
	local vm=$BATS_FILE_TMPDIR/vmlinux-sc sv=$BATS_FILE_TMPDIR/symvers-sc want k
	cdo_cc "$CDO_FIX/staticcall_lib.c" "$BATS_FILE_TMPDIR/orig"
	cdo_fake_vmlinux "$vm" "$(cdo_orig staticcall)" "$BATS_FILE_TMPDIR/orig/staticcall_lib.o"
	# Independently of the tool: the keys of the trampolines that the
	# patched sc_user calls.
	want=$(cdo_relocs "$(cdo_patched staticcall)" .text.sc_user |
		awk '$3 ~ /^__SCT__/ { sub(/^__SCT__/, "__SCK__", $3); print $3 }' | sort)
	[ "$(wc -l <<<"$want")" -eq 2 ]

	# EXPORT_STATIC_CALL: key and trampoline exported.
	cdo_symvers "$sv" __SCK__sc_first __SCT__sc_first __SCK__sc_second __SCT__sc_second
	diff_pair staticcall "$vm" "$sv"
	[ "$status" -eq 0 ]
	[ "$(cdo_relocs "$OUT" .discard.addressable | awk '$2 == "R_X86_64_64" && $4 == 0 { print $3 }' | sort)" = "$want" ]
	[ "$(cdo_section_size "$OUT" .discard.addressable)" -eq 16 ]
	for k in $want; do
		cdo_symbol "$OUT" "$k" | grep -qE '^__SCK__[a-z_]+ GLOBAL NOTYPE UND '
	done

	# EXPORT_STATIC_CALL_TRAMP: the key stays private; nothing to add
	# (the loader finds the key in its tramp_key table).
	cdo_symvers "$sv" __SCT__sc_first __SCT__sc_second
	diff_pair staticcall "$vm" "$sv"
	[ "$status" -eq 0 ]
	[ -z "$(cdo_section_size "$OUT" .discard.addressable)" ]
	if cdo_symbols "$OUT" | grep -q '__SCK__'; then false; fi

	# Nothing exported: the trampolines are klp symbols, which objtool
	# doesn't take for static calls, and no key is referenced.
	cdo_symvers "$sv"
	diff_pair staticcall "$vm" "$sv"
	[ "$status" -eq 0 ]
	[ -z "$(cdo_section_size "$OUT" .discard.addressable)" ]
	[ "$(cdo_relocs "$OUT" .text.sc_user | grep -c '\.klp\.sym\.vmlinux\.__SCT__sc_')" -eq 2 ]
	if cdo_symbols "$OUT" | grep -q '__SCK__'; then false; fi
}
@test "a changed compiler clone (.isra.N) is paired with its twin and patched under its own name and sympos" {
	local o p c pos alias val size
	o=$(cdo_orig clonechg)
	p=$(cdo_patched clonechg)
	c=$(cdo_symbols "$p" | awk '$3 == "FUNC" && $1 ~ /^clone_weight\.isra\.[0-9]+$/ { print $1 }')
	[ -n "$c" ]
	# The same clone in both builds, and only its code differs.
	cdo_symbols "$o" | awk '$3 == "FUNC"' | grep -q "^$c "
	[ "$(cdo_changed_bytes "$o" "$p")" = "$c" ]
	# clone.c has a clone of that name too, earlier in the image.
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-clonechg" "$(cdo_orig clone)" "$o"
	pos=$(cdo_vmlinux_sympos "$BATS_FILE_TMPDIR/vmlinux-clonechg" "$c" clonechg.c)
	[ "$pos" -eq 2 ]
	changed_only clonechg "$BATS_FILE_TMPDIR/vmlinux-clonechg" "$SYMVERS" "$c"
	# The klp_func names the clone and its rank; the alias is the copy.
	[ "$(functions_of "$MAN" | wc -l)" -eq 1 ]
	read -r kind obj name mpos alias _ < <(functions_of "$MAN")
	[ "$kind $obj $name $mpos" = "func vmlinux $c $pos" ]
	read -r _ _ _ _ val size < <(cdo_symbol "$p" "$c")
	[ "$(cdo_symbol "$OUT" "$alias")" = "$alias GLOBAL FUNC .text.$c $val $size" ]
}

@test "a changed function in a section it shares with others (__sched's .sched.text): exit 2 naming it" {
	local o
	o=$(cdo_orig sched)
	# Both functions really are in the one .sched.text section.
	[ "$(cdo_symbols "$o" | awk '$3 == "FUNC" && $4 == ".sched.text"' | wc -l)" -eq 2 ]
	cdo_fake_vmlinux "$BATS_FILE_TMPDIR/vmlinux-sched" "$o"
	diff_pair sched "$BATS_FILE_TMPDIR/vmlinux-sched" "$SYMVERS"
	[ "$status" -eq 2 ]
	[[ $stderr == *"kernel/sched.o: sched_sleep (.sched.text): shares its section with 1 other function(s)"* ]]
	[ ! -e "$OUT" ]
}

# kbuild-patch.h (kmod/): the fixtures include the real header, on top of
# stand-ins for the kernel headers it needs (cdo/kinclude).

# macros_setup: a fake vmlinux of the originals of the pairs that include
# kbuild-patch.h (built by setup_file) and a Module.symvers; sets VM_MAC,
# SV_MAC.
macros_setup() {
	VM_MAC=$BATS_FILE_TMPDIR/vmlinux-macros
	SV_MAC=$BATS_FILE_TMPDIR/symvers-macros
	if [ ! -e "$VM_MAC" ]; then
		cdo_fake_vmlinux "$VM_MAC" "$(cdo_orig macros)" "$(cdo_orig ignonly)" \
			"$(cdo_orig printk)" "$(cdo_orig statedup)"
		# The static call's key belongs to module mymod.
		cdo_symvers "$SV_MAC" vprintk _printk klp_shadow_free_all \
			__SCK__mod_sc:mymod
	fi
}

# marker_callbacks OBJ: "KIND FUNCTION" for each pointer in the
# .kbp.callbacks.KIND sections of OBJ, sorted.
marker_callbacks() {
	local s
	for s in $(cdo_section_names "$1" | grep '^\.kbp\.callbacks\.'); do
		cdo_targets "$1" "$s" | awk -v k="${s#.kbp.callbacks.}" '{ sub(/\+0$/, "", $3); print k, $3 }'
	done | sort
}

@test "kbuild-patch.h callbacks: each is carried as a new function with a global alias, and the manifest names its object and kind" {
	local p objname display want fn kind alias val size
	local -a syms
	macros_setup
	p=$(cdo_patched macros)
	want=$(marker_callbacks "$p")
	echo "$want"
	# One of each kind, and kpatch-build's name counts as ours.
	[ "$(awk '{ print $1 }' <<<"$want" | tr '\n' ' ')" = "post_patch post_unpatch pre_patch pre_unpatch " ]
	for objname in vmlinux mymod; do
		display=$objname/macros.o
		syms=(--symbols "$VM_MAC")
		# A module's symbols aren't in vmlinux (sympos 0 without them).
		[ "$objname" = vmlinux ] || syms=()
		run --separate-stderr "$CDO" "${syms[@]}" --symvers "$SV_MAC" \
			--objname "$objname" --name "$display" --manifest "$MAN" \
			"$(cdo_orig macros)" "$p" "$OUT"
		echo "$output"; echo "$stderr"
		[ "$status" -eq 0 ]
		diff <(awk -F'\t' '$1 == "callback" { print $3, $5 }' "$MAN" | sort) <(echo "$want")
		while read -r kind fn; do
			[ "$(cdo_reported new | grep -cx "$fn")" -eq 1 ]
			[ "$(cdo_section_hex "$OUT" ".text.$fn")" = "$(cdo_section_hex "$p" ".text.$fn")" ]
			read -r _ _ _ alias _ < <(awk -F'\t' -v k="$kind" '$1 == "callback" && $3 == k' "$MAN")
			grep -qxF "$(printf 'callback\t%s\t%s\t%s\t%s\t%s' "$objname" "$kind" "$alias" "$fn" "$display")" "$MAN"
			read -r _ _ _ _ val size < <(cdo_symbol "$p" "$fn")
			[ "$(cdo_symbol "$OUT" "$alias")" = "$alias GLOBAL FUNC .text.$fn $val $size" ]
		done <<<"$want"
		# The markers themselves stay out.
		if cdo_section_names "$OUT" | grep '^\.kbp\.'; then false; fi
		# KBP_GET_STATE calls the module template's kbp_get_state.
		plain_ref "$p" mac_post_patch kbp_get_state
	done
}

@test "kbuild-patch.h KBP_STATE: each (id, version) of the object becomes a state line" {
	local p want
	macros_setup
	p=$(cdo_patched macros)
	# The { unsigned long id, version } pairs of .kbp.state.
	# (little endian; the fixture's values fit in 32 bits).
	want=$(cdo_section_hex "$p" .kbp.state | awk '
		function nib(c) { return index("0123456789abcdef", c) - 1 }
		function le(i,  v, j) {
			v = 0
			for (j = i + 3; j >= i; j--)
				v = v * 256 + nib(substr($j, 1, 1)) * 16 + nib(substr($j, 2, 1))
			return v
		}
		{ for (i = 1; i <= NF; i += 16) printf "state\t%d\t%d\tkernel/macros.o\n", le(i), le(i + 8) }' | sort)
	echo "$want"
	[ "$(wc -l <<<"$want")" -eq 2 ]
	diff_pair macros "$VM_MAC" "$SV_MAC"
	[ "$status" -eq 0 ]
	diff <(grep '^state' "$MAN" | sort) <(echo "$want")

	# One id at two versions in one object: an error naming both.
	rm -f "$OUT"
	diff_pair statedup "$VM_MAC" "$SV_MAC"
	[ "$status" -eq 1 ]
	grep -qE 'kernel/statedup.o: KBP_STATE\(5, \.\.\.\): declared with versions (1 and 2|2 and 1)$' <<<"$stderr"
	[ ! -e "$OUT" ]
}

@test "kbuild-patch.h KBP_IGNORE_FUNCTION/SECTION: ignored changes are not reported nor carried; callers use the kernel's copy" {
	local o p pos
	macros_setup
	o=$(cdo_orig macros)
	p=$(cdo_patched macros)
	# The existing functions whose code the patch changes.
	diff <(comm -23 <(cdo_changed_bytes "$o" "$p") <(new_funcs "$o" "$p" | sort)) \
		<(printf '%s\n' mac_changed mac_ignored mac_sc_user mac_sec_ignored)
	diff_pair macros "$VM_MAC" "$SV_MAC"
	[ "$status" -eq 0 ]
	diff <(cdo_reported changed) <(printf '%s\n' mac_changed mac_sc_user)
	if cdo_section_names "$OUT" | grep -E 'mac_(sec_)?ignored'; then false; fi
	if grep -P '\tmac_(sec_)?ignored\t' "$MAN"; then false; fi
	pos=$(cdo_vmlinux_sympos "$VM_MAC" mac_ignored "")
	klp_ref "$p" mac_changed mac_ignored ".klp.sym.vmlinux.mac_ignored,$pos"
	pos=$(cdo_vmlinux_sympos "$VM_MAC" mac_sec_ignored "")
	klp_ref "$p" mac_changed mac_sec_ignored ".klp.sym.vmlinux.mac_sec_ignored,$pos"

	# Only ignored changes (kpatch-build's KPATCH_IGNORE_FUNCTION through
	# kpatch-macros.h, and KBP_IGNORE_SECTION): no functional change.
	diff <(cdo_changed_bytes "$(cdo_orig ignonly)" "$(cdo_patched ignonly)") \
		<(printf '%s\n' ign_fn ign_sec)
	rm -f "$OUT"
	diff_pair ignonly "$VM_MAC" "$SV_MAC"
	[ "$status" -eq 3 ]
	[ ! -e "$OUT" ]
}

@test "kbuild-patch.h KBP_STATIC_CALL: no trampoline call, the module's key is read through a klp relocation" {
	local p
	macros_setup
	p=$(cdo_patched macros)
	# The patched code reads the key and calls no trampoline.
	cdo_relocs "$p" .text.mac_sc_user | awk '{ print $3 }' | grep -qx __SCK__mod_sc
	if cdo_relocs "$p" .text.mac_sc_user | grep __SCT__; then false; fi
	run --separate-stderr "$CDO" --objname mymod --symvers "$SV_MAC" \
		--name mymod/macros.o "$(cdo_orig macros)" "$p" "$OUT"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	klp_ref "$p" mac_sc_user __SCK__mod_sc ".klp.sym.mymod.__SCK__mod_sc,0"
	if cdo_symbols "$OUT" | grep __SCT__; then false; fi
	[ -z "$(cdo_section_size "$OUT" .discard.addressable)" ]
}

@test "kbuild-patch.h KBP_PRINTK: the printing function stays out of .text.unlikely, unlike with printk(); its helper comes along" {
	local p
	macros_setup
	p=$(cdo_patched printk)
	# printk() is __cold: gcc moves a function that calls it to
	# .text.unlikely; KBP_PRINTK's helper is not __cold.
	cdo_section_names "$p" | grep -qx .text.unlikely.pk_plain
	cdo_section_names "$p" | grep -qx .text.pk_kbp
	diff_pair printk "$VM_MAC" "$SV_MAC"
	[ "$status" -eq 0 ]
	cdo_reported new | grep -qx pk_kbp
	cdo_reported new | grep -qE '^kbp_printk(\..*)?$'
	# pk_kbp calls the carried helper, which calls vprintk.
	cdo_targets "$OUT" .text.pk_kbp | grep -qE ' kbp_printk(\.[a-z0-9.]*)?\+0$'
	cdo_symbols "$OUT" | grep -q '^vprintk GLOBAL NOTYPE UND '
}

# first_diff A B: the 0-based index of the first line where the lists A
# and B (one item a line) differ, or nothing when one is a prefix.
first_diff() {
	paste -d'|' <(echo "$1") <(echo "$2") |
		awk -F'|' '$1 != $2 { print NR - 1; exit }'
}

@test "--explain: the first differing code bytes of a changed function, where its section bytes first differ" {
	local o p ob pb first val line
	o=$(cdo_orig body)
	p=$(cdo_patched body)
	ob=$(cdo_section_hex "$o" .text.body_changed | tr ' ' '\n' | grep .)
	pb=$(cdo_section_hex "$p" .text.body_changed | tr ' ' '\n' | grep .)
	first=$(first_diff "$ob" "$pb")
	[ -n "$first" ]
	val=$(cdo_symbols "$p" | awk '$1 == "body_changed" { print $5 }')
	diff_pair body "$VM_MISC" "$SYMVERS" --explain
	[ "$status" -eq 0 ]
	line=$(grep -F 'kernel/body.o: explain: body_changed: ' <<<"$output")
	[[ $line == *"first difference at body_changed+$(printf '0x%x' $((first - val))) (.text.body_changed+$(printf '0x%x' "$first")): code: "* ]]
	# The bytes shown start with the two differing bytes.
	[[ $line == *"orig $(sed -n "$((first + 1))p" <<<"$ob") "*"| patched $(sed -n "$((first + 1))p" <<<"$pb") "* ]]
	# Only changed functions are explained.
	[ "$(grep -c 'explain:' <<<"$output")" -eq 1 ]
}

@test "--explain: a changed string shows the first differing relocation, with both strings" {
	local o p ot pt first off line
	o=$(cdo_orig string)
	p=$(cdo_patched string)
	# The code bytes are the same: only a relocation's target differs.
	[ -z "$(cdo_changed_bytes "$o" "$p")" ]
	ot=$(cdo_targets "$o" .text.string_hello)
	pt=$(cdo_targets "$p" .text.string_hello)
	first=$(first_diff "$ot" "$pt")
	[ -n "$first" ]
	off=$(sed -n "$((first + 1))p" <<<"$pt" | awk '{ print $1 }')
	diff_pair string "$VM_MISC" "$SYMVERS" --explain
	[ "$status" -eq 0 ]
	line=$(grep -F 'kernel/string.o: explain: string_hello: ' <<<"$output")
	[[ $line == *"(.text.string_hello+$(printf '0x%x' "$off")): relocation: orig "*'"hello %d\n"'*' | patched '*'"hello from the patched kernel %d\n"'* ]]
}

@test "without --explain nothing is explained" {
	diff_pair body "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	[[ $output != *"explain:"* ]]
}

@test "manifest reasons: changed code, new function, untraceable body and the caller patched for it" {
	diff_pair body "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	[ "$(grep '^reason' "$MAN")" = "$(printf 'reason\tvmlinux\tbody_changed\tchanged code')" ]
	diff_pair newfn "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	grep -qxF "$(printf 'reason\tvmlinux\tnewfn_check\tnew function')" "$MAN"
	grep -qxF "$(printf 'reason\tvmlinux\tnewfn_submit\tchanged code')" "$MAN"
	# One reason for each function of the manifest, and no other.
	diff <(functions_of "$MAN" | cut -f3 | sort) <(grep '^reason' "$MAN" | cut -f3 | sort)
	diff_pair untraceable "$VM_MISC" "$SYMVERS"
	[ "$status" -eq 0 ]
	diff <(functions_of "$MAN" | cut -f3 | sort) <(grep '^reason' "$MAN" | cut -f3 | sort)
	# The changed body without fentry, a carried caller without fentry
	# and the traceable callers patched to reach it, each with its
	# callee as the build's own lines name it.
	grep -q "$(printf '^reason\tvmlinux\tuntr_body\tchanged code, but no fentry call')" "$MAN"
	grep -q "$(printf '^reason\tvmlinux\tuntr_middle\tcaller of untraceable function untr_body, itself untraceable')" "$MAN"
	grep -qF 'untr_body has no fentry call: carried as new code, reached by patching its caller untr_direct' <<<"$output"
	grep -q "$(printf '^reason\tvmlinux\tuntr_direct\tcaller of untraceable function untr_body: patched')" "$MAN"
	grep -q "$(printf '^reason\tvmlinux\tuntr_outer\tcaller of untraceable function untr_middle: patched')" "$MAN"
}

# Boot-time constants (arch/x86/include/asm/runtime-const.h): the fixtures
# use the kernel's inline asm, from cdo/kinclude/asm/runtime-const.h.

# rt_setup: a fake vmlinux of the originals of the rtconst, rtshift and
# rtbad pairs (built by setup_file) and of rtconst_lib.c (which defines
# rtc_user_max), and a Module.symvers that exports rtc_user_max; sets
# VM_RT and SV_RT.
rt_setup() {
	VM_RT=$BATS_FILE_TMPDIR/vmlinux-rt
	SV_RT=$BATS_FILE_TMPDIR/symvers-rt
	[ ! -e "$VM_RT" ] || return 0
	cdo_cc "$CDO_FIX/rtconst_lib.c" "$BATS_FILE_TMPDIR/orig"
	cdo_fake_vmlinux "$VM_RT" "$(cdo_orig rtconst)" "$(cdo_orig rtshift)" \
		"$(cdo_orig rtbad)" "$(cdo_orig rtconst_lib)"
	cdo_symvers "$SV_RT" rtc_user_max
}

# rt_entries OBJ TABLE: "section offset" of the code each entry of TABLE
# (runtime_ptr_SYM: the imm64; runtime_shift_SYM: the imm8) points to.
# An entry is ".long 1b - N - ." against the code's section symbol.
rt_entries() {
	cdo_relocs "$1" "$2" | awk '$2 == "R_X86_64_PC32" { print $3, $4 }'
}

# insn_at OBJ SECTION OFFSET: objdump's "mnemonic operands" of the
# instruction at OFFSET of SECTION, with spaces squeezed and no comment.
insn_at() {
	objdump -d --no-show-raw-insn -j "$2" "$1" |
		awk -v a="$(printf '%x' "$3")" -F'\t' '
			$1 ~ "^ *" a ":$" { sub(/ *#.*/, "", $2); print $2 }' |
		tr -s ' '
}

@test "boot-time constants: each runtime_const_ptr() placeholder in carried code loads its variable: mov SYM(%rip),%reg + nop, PC32 to SYM, plain if exported, else a klp symbol" {
	local p pos sec off insn reg n=0 want got sym
	rt_setup
	p=$(cdo_patched rtconst)
	pos=$(cdo_vmlinux_sympos "$VM_RT" rtc_table rtconst.c)
	[ "$pos" = 0 ]
	grep -qw rtc_user_max "$SV_RT"
	diff_pair rtconst "$VM_RT" "$SV_RT"
	[ "$status" -eq 0 ]
	# The notrace body comes in through its caller, despite its entry.
	diff <(echo rtc_body) <(cdo_reported untraceable)
	diff <(printf 'rtc_access_ok\nrtc_caller\nrtc_lookup\nrtc_r9\n') <(cdo_reported changed)
	for sym in rtc_user_max rtc_table; do
		while read -r sec off; do
			# The input: REX.W B8+r with the placeholder imm64.
			insn=$((off - 2))
			[[ "$(cdo_section_hex "$p" "$sec" "$insn" 10)" =~ ^4[89]\ b[89a-f]\ ef\ cd\ ab\ 89\ 67\ 45\ 23\ 01$ ]]
			# shellcheck disable=SC2016 # a sed program: \$ is a literal dollar, $ the end of line
			reg=$(insn_at "$p" "$sec" "$insn" | sed -n 's/^movabs \$0x123456789abcdef,\(%[a-z0-9]*\)$/\1/p')
			[ -n "$reg" ]
			if ! cdo_text_sections "$OUT" | grep -qxF "$sec"; then
				[ "$sec" = .text.rtc_unchanged ]
				continue
			fi
			n=$((n + 1))
			[ "$(insn_at "$OUT" "$sec" "$insn")" = "mov 0x0(%rip),$reg" ]
			[ "$(insn_at "$OUT" "$sec" $((insn + 7)))" = "nopl (%rax)" ]
			[ "$(insn_at "$OUT" "$sec" $((insn + 10)))" = "$(insn_at "$p" "$sec" $((insn + 10)))" ]
			want="$((insn + 3)) R_X86_64_PC32 rtc_user_max -4"
			[ "$sym" = rtc_user_max ] ||
				want="$((insn + 3)) R_X86_64_PC32 .klp.sym.vmlinux.rtc_table,$pos -4"
			cdo_relocs "$OUT" "$sec" | grep -qxF "$want"
		done < <(rt_entries "$p" "runtime_ptr_$sym")
	done
	# Every entry of a carried function: rtc_access_ok, rtc_r9 (r9:
	# REX.B in, REX.R out), rtc_body, rtc_lookup.
	[ "$n" -eq 4 ]
	# shellcheck disable=SC2016 # the literal instruction text (AT&T $ immediate)
	insn_at "$p" .text.rtc_r9 "$(($(rt_entries "$p" runtime_ptr_rtc_user_max | awk '$1 == ".text.rtc_r9" { print $2 }') - 2))" |
		grep -qx 'movabs $0x123456789abcdef,%r9'
	[ "$(cdo_symbol "$OUT" rtc_user_max)" = "rtc_user_max GLOBAL NOTYPE UND 0 0" ]
	[ "$(cdo_symbol "$OUT" ".klp.sym.vmlinux.rtc_table,$pos")" = ".klp.sym.vmlinux.rtc_table,$pos WEAK NOTYPE UND 0 0" ]
	# Only the 10 bytes of each site changed; the tables stay behind and
	# no placeholder is left.
	for sec in $(cdo_text_sections "$OUT"); do
		want=$(cdo_section_hex "$p" "$sec" | tr ' ' '\n')
		got=$(cdo_section_hex "$OUT" "$sec" | tr ' ' '\n')
		for off in $(rt_entries "$p" runtime_ptr_rtc_user_max | awk -v s="$sec" '$1 == s { print $2 }') \
			$(rt_entries "$p" runtime_ptr_rtc_table | awk -v s="$sec" '$1 == s { print $2 }'); do
			want=$(awk -v a=$((off - 2)) 'NR > a && NR <= a + 10 { $0 = "x" } 1' <<<"$want")
			got=$(awk -v a=$((off - 2)) 'NR > a && NR <= a + 10 { $0 = "x" } 1' <<<"$got")
		done
		[ "$want" = "$got" ]
	done
	! cdo_section_names "$OUT" | grep -q '^runtime_' || false
	! objdump -d "$OUT" | grep -q 0x123456789abcdef || false
}

@test "boot-time constants: a runtime_const_shift_right_32() in carried code is refused (exit 2), naming the function and the constant, with a hint" {
	local p sec off
	rt_setup
	p=$(cdo_patched rtshift)
	# The input: rts_hash's entry points at the imm8 (12) of shrl $12.
	read -r sec off < <(rt_entries "$p" runtime_shift_rts_shift)
	[ "$sec" = .text.rts_hash ]
	[ "$(cdo_section_hex "$p" "$sec" $((off - 2)) 3)" = "$(cdo_section_hex "$p" "$sec" $((off - 2)) 2) 0c" ]
	[[ "$(insn_at "$p" "$sec" $((off - 2)))" == "shr \$0xc,%"* ]]
	diff_pair rtshift "$VM_RT" "$SV_RT"
	[ "$status" -eq 2 ]
	[[ $stderr == *"kernel/rtshift.o: rts_hash (.text.rts_hash): uses the boot-time constant rts_shift"* ]]
	[[ $stderr == *"patch a caller instead"* ]]
	[ ! -e "$OUT" ]
}

@test "boot-time constants: a runtime_ptr_ entry whose code is not the placeholder is refused (exit 2)" {
	local p sec off
	rt_setup
	p=$(cdo_patched rtbad)
	# Checked as rtshift's input above, spelled out: each its own insn.
	read -r sec off < <(rt_entries "$p" runtime_ptr_rtc_user_max)
	[ "$sec" = .text.rtb_get ]
	[[ "$(insn_at "$p" "$sec" $((off - 2)))" == "movabs \$0x1122334455667788,%"* ]]
	diff_pair rtbad "$VM_RT" "$SV_RT"
	[ "$status" -eq 2 ]
	[[ $stderr == *"kernel/rtbad.o: rtb_get (.text.rtb_get): "*"not the placeholder"* ]]
	[ ! -e "$OUT" ]
}

@test "output: the diff object and the manifest appear together or not at all, with no temporary file left" {
	local dir=$BATS_TEST_TMPDIR/out
	mkdir -p "$dir"
	# The object can't take its name (a directory holds it): neither
	# file is left, and nothing else in the directory.
	mkdir "$dir/body.o"
	run --separate-stderr "$CDO" --symbols "$VM_MISC" --symvers "$SYMVERS" \
		--name kernel/body.o --manifest "$dir/body.manifest" \
		"$(cdo_orig body)" "$(cdo_patched body)" "$dir/body.o"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$dir/body.o: rename: Is a directory"* ]]
	ls -A "$dir"
	[ "$(ls -A "$dir")" = body.o ]
	[ -z "$(ls -A "$dir/body.o")" ]
	# Both, with the mode a new file gets under the umask.
	rmdir "$dir/body.o"
	(umask 027 && "$CDO" --symbols "$VM_MISC" --symvers "$SYMVERS" \
		--name kernel/body.o --manifest "$dir/body.manifest" \
		"$(cdo_orig body)" "$(cdo_patched body)" "$dir/body.o")
	[ "$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')" = "body.manifest body.o " ]
	[ "$(stat -c %a "$dir/body.o" "$dir/body.manifest" | tr '\n' ' ')" = "640 640 " ]
	readelf -SW "$dir/body.o" | grep -q ' \.text\.body_changed '
}
