#!/usr/bin/env bats
# klp-loadcheck: the build-time load check. A livepatch module built from
# the klp-convert fixtures (test/unit/klp-convert) is checked against a
# fake target: a vmlinux linked from test/unit/loadcheck/vmlinux_{a,b}.c
# (c_start twice, counter once, the exports), its kallsyms (nm) and a
# module binfmt_misc.ko. Every symbol resolves until a name, a sympos, an
# export, a CRC or a namespace is made wrong; then the check exits 4 (an
# internal error) naming the symbol and why. Expected counts come from
# readelf and nm on the inputs.

load klp-convert/helpers

LC_DIR="$BATS_TEST_DIRNAME/loadcheck"

setup_file() {
	local dir=$BATS_FILE_TMPDIR/target src
	build_klp_convert
	if [ -n "${KBP_TOOLS_DIR:-}" ]; then
		export KL="$KBP_TOOLS_DIR/klp-loadcheck"
	else
		src=$BATS_FILE_TMPDIR/src
		mkdir -p "$src"
		cp "$BATS_TEST_DIRNAME"/../../create-diff-object/*.[ch] \
			"$BATS_TEST_DIRNAME/../../create-diff-object/Makefile" "$src/"
		make -s -C "$src" klp-loadcheck >&2
		export KL="$src/klp-loadcheck"
	fi
	[ -x "$KL" ]
	mkdir -p "$dir"
	gcc -O2 -c -o "$dir/vmlinux_a.o" "$LC_DIR/vmlinux_a.c"
	gcc -O2 -c -o "$dir/vmlinux_b.o" "$LC_DIR/vmlinux_b.c"
	ld -e 0 -o "$dir/vmlinux" "$dir/vmlinux_a.o" "$dir/vmlinux_b.o"
	nm -n --defined-only "$dir/vmlinux" >"$dir/kallsyms"
	gcc -O2 -c -o "$dir/binfmt_misc.o" "$LC_DIR/binfmt_misc.c"
	ld -r -o "$dir/binfmt_misc.ko" "$dir/binfmt_misc.o"
	export VML=$dir/vmlinux KALLSYMS=$dir/kallsyms MODKO=$dir/binfmt_misc.ko
	# The CRC that module.c's __versions gives klp_enable_patch.
	KLP_CRC=$(sed -n 's/.*{ *\(0x[0-9a-f]*\), *"klp_enable_patch" *}.*/\1/p' "$FIX/module.c")
	[ -n "$KLP_CRC" ]
	export KLP_CRC
	export SYMVERS=$BATS_FILE_TMPDIR/Module.symvers
	symvers >"$SYMVERS"
	export GOOD=$BATS_FILE_TMPDIR/good.ko
	build_ko "$BATS_FILE_TMPDIR/good.in.ko"
	"$KC" "$BATS_FILE_TMPDIR/good.in.ko" "$GOOD"
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# symvers [NAME=CRC[,NAMESPACE]...]: a Module.symvers exporting every
# global function of the fake vmlinux: CRC 0 (no version), except
# klp_enable_patch, which has the CRC of the module's __versions; the
# arguments override a symbol's CRC and namespace, or drop it (NAME=).
symvers() {
	local name crc ns kv
	local -A over=()
	for kv in "$@"; do over[${kv%%=*}]=${kv#*=}; done
	nm -g --defined-only "$VML" | awk '$2 == "T" { print $3 }' | while read -r name; do
		crc=0x00000000
		[ "$name" != klp_enable_patch ] || crc=$KLP_CRC
		ns=
		if [ -n "${over[$name]+set}" ]; then
			[ -n "${over[$name]}" ] || continue
			crc=${over[$name]%%,*}
			[[ ${over[$name]} != *,* ]] || ns=${over[$name]#*,}
		fi
		printf '%s\t%s\tvmlinux\tEXPORT_SYMBOL\t%s\n' "$crc" "$name" "$ns"
	done
}

# lc ARGS... MODULE.ko: klp-loadcheck against the fake target.
lc() {
	run "$KL" --symbols "$VML" --symvers "$SYMVERS" \
		--module "binfmt_misc=$MODKO" "$@"
	echo "status $status"
	echo "$output"
}

# bad_ko PLACEHOLDER=NAME: the fixture module with one klp symbol renamed,
# converted: bad.ko.
bad_ko() {
	build_ko bad.in.ko "$1"
	"$KC" bad.in.ko bad.ko
	symbols bad.ko | grep -qF " ${1#*=}"
}

# refused_internal: the last lc exited 4 as an internal error.
refused_internal() {
	[ "$status" -eq 4 ]
	[[ $output == *"klp-loadcheck: internal error: "* ]]
	[[ $output == *"please report"* ]]
}

# refused_ko PLACEHOLDER=NAME: bad.ko (bad_ko), which the check refuses
# as an internal error (refused_internal).
refused_ko() {
	bad_ko "$1"
	lc bad.ko
	refused_internal
}

# named_count FILE NAME: how many symbols NAME the target FILE has.
named_count() {
	nm "$1" | awk -v n="$2" '$NF == n' | wc -l
}

@test "every symbol of a converted module resolves: klp relocations, exports with their CRC; exit 0" {
	local nklp nund
	# The distinct symbols of the .klp.rela.* sections, and the named
	# undefined symbols, as readelf sees them.
	nklp=$(relocs "$GOOD" | awk '$1 ~ /^\.klp\.rela\./ { print $5 }' | sort -u | wc -l)
	nund=$(symbols "$GOOD" | awk '$7 == "UND" && NF == 8' | wc -l)
	[ "$nklp" -gt 0 ] && [ "$nund" -gt 0 ]
	lc "$GOOD"
	[ "$status" -eq 0 ]
	[[ $output == *"all $((nklp + nund)) symbols resolve: $nklp of klp relocations, 0 patched functions, $nund exports"* ]]
	[[ $output != *"internal error"* ]]
}

@test "a kallsyms dump stands in for vmlinux" {
	run "$KL" --symbols "$KALLSYMS" --symvers "$SYMVERS" \
		--module "binfmt_misc=$MODKO" "$GOOD"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"symbols resolve"* ]]
}

@test "a klp symbol renamed to a name vmlinux lacks: exit 4, the symbol, the object and the kernel's own message" {
	[ "$(named_count "$VML" no_such_counter)" -eq 0 ]
	refused_ko KLP_vmlinux_counter=.klp.sym.vmlinux.no_such_counter,0
	[[ $output == *"bad.ko: .klp.sym.vmlinux.no_such_counter,0 (in .klp.rela.vmlinux."*"): vmlinux has no symbol no_such_counter ($VML)"* ]]
	[[ $output == *"symbol 'no_such_counter' not found in symbol table"* ]]
	[[ $output == *"1 of "*" symbols don't resolve"* ]]
}

@test "a sympos beyond the same-named symbols of vmlinux: exit 4" {
	local n
	n=$(named_count "$VML" c_start)
	[ "$n" -eq 2 ]
	refused_ko "KLP_vmlinux_c_start=.klp.sym.vmlinux.c_start,$((n + 1))"
	[[ $output == *"sympos $((n + 1)), but vmlinux has only $n symbol(s) c_start"* ]]
	[[ $output == *"symbol position $((n + 1)) for symbol 'c_start' in object 'vmlinux' not found"* ]]
}

@test "sympos 0 for a name vmlinux has twice: exit 4, ambiguous" {
	refused_ko KLP_vmlinux_c_start=.klp.sym.vmlinux.c_start,0
	[[ $output == *"vmlinux has $(named_count "$VML" c_start) symbols c_start"* ]]
	[[ $output == *"unresolvable ambiguity for symbol 'c_start'"* ]]
}

@test "a module's klp symbols resolve in that module's own symbol table" {
	[ "$(named_count "$MODKO" entries)" -eq 1 ]
	refused_ko KLP_binfmt_misc_entries=.klp.sym.binfmt_misc.entries,2
	[[ $output == *"sympos 2, but binfmt_misc has only 1 symbol(s) entries ($MODKO)"* ]]
	# vmlinux has a counter, binfmt_misc doesn't.
	[ "$(named_count "$VML" counter)" -eq 1 ]
	refused_ko KLP_binfmt_misc_entries=.klp.sym.binfmt_misc.counter,0
	[[ $output == *"binfmt_misc has no symbol counter ($MODKO)"* ]]
}

@test "an undefined symbol that nothing exports: exit 4, naming it" {
	symbols "$GOOD" | awk '$7 == "UND"' | grep -q ' printk$'
	symvers printk= >symvers.noprintk
	run "$KL" --symbols "$VML" --symvers symvers.noprintk \
		--module "binfmt_misc=$MODKO" "$GOOD"
	echo "$output"
	refused_internal
	[[ $output == *"good.ko: printk: undefined, and neither vmlinux nor a module exports it"* ]]
	[[ $output == *"1 of "*" symbols don't resolve"* ]]
}

@test "MODVERSIONS: a CRC that differs from __versions, or a versioned export missing from it: exit 4" {
	symvers "klp_enable_patch=$(printf '0x%08x' $((KLP_CRC ^ 1)))" >symvers.crc
	run "$KL" --symbols "$VML" --symvers symvers.crc \
		--module "binfmt_misc=$MODKO" "$GOOD"
	echo "$output"
	refused_internal
	[[ $output == *"klp_enable_patch: __versions has CRC $KLP_CRC"*"disagrees about version of symbol klp_enable_patch"* ]]
	symvers printk=0x0badf00d >symvers.crc
	run "$KL" --symbols "$VML" --symvers symvers.crc \
		--module "binfmt_misc=$MODKO" "$GOOD"
	echo "$output"
	refused_internal
	[[ $output == *"printk: no CRC for it in __versions"*"no symbol version for printk"* ]]
}

@test "a namespaced export needs its import_ns in .modinfo" {
	local dir
	symvers printk=0x00000000,KBP_TEST_NS >symvers.ns
	run "$KL" --symbols "$VML" --symvers symvers.ns \
		--module "binfmt_misc=$MODKO" "$GOOD"
	echo "$output"
	refused_internal
	[[ $output == *"printk: exported in namespace KBP_TEST_NS, which the module doesn't import"* ]]
	# The same module with MODULE_IMPORT_NS(KBP_TEST_NS)'s modinfo.
	dir=$(mktemp -d obj.XXXXXX)
	gcc -c -o "$dir/ns.o" "$LC_DIR/import-ns.c"
	ld -r -o ns.in.ko "$BATS_FILE_TMPDIR/good.in.ko" "$dir/ns.o"
	"$KC" ns.in.ko ns.ko
	run "$KL" --symbols "$VML" --symvers symvers.ns \
		--module "binfmt_misc=$MODKO" ns.ko
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "the klp_func tables' functions resolve with their sympos (--funcs)" {
	printf 'vmlinux\tc_start\t2\nbinfmt_misc\tload_misc_binary\t0\n' >funcs
	lc --funcs funcs "$GOOD"
	[ "$status" -eq 0 ]
	[[ $output == *", 2 patched functions,"* ]]
	printf 'vmlinux\tc_start\t0\n' >funcs
	lc --funcs funcs "$GOOD"
	refused_internal
	[[ $output == *"patched function c_start,0 of vmlinux: vmlinux has 2 symbols c_start"* ]]
}

@test "bad input and usage exit 1, never 4" {
	local dir
	# A module's klp symbols without that module's symbol table.
	run "$KL" --symbols "$VML" --symvers "$SYMVERS" "$GOOD"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"no symbols of module binfmt_misc given"* ]]
	printf 'vmlinux c_start 2\n' >funcs
	lc --funcs funcs "$GOOD"
	[ "$status" -eq 1 ]
	[[ $output == *"funcs:1: not \"OBJNAME<TAB>NAME<TAB>SYMPOS\""* ]]
	lc no-such.ko
	[ "$status" -eq 1 ]
	head -c 100 "$GOOD" >truncated.ko
	lc truncated.ko
	[ "$status" -eq 1 ]
	run "$KL" "$GOOD"
	[ "$status" -eq 1 ]
	[[ $output == *"usage: klp-loadcheck"* ]]
	run "$KL" --symbols "$VML" --module binfmt_misc "$GOOD"
	[ "$status" -eq 1 ]
	[[ $output == *"--module binfmt_misc: not NAME=FILE"* ]]
	[[ $output != *"internal error"* ]]
	run "$KL" -h
	[ "$status" -eq 0 ]
	[[ $output == *"4 internal error"* ]]
}

@test "a plain reference to an export of a module the patch patches: exit 4 (the patch couldn't load before that module)" {
	local name
	# Independently: the patch has klp relocations into binfmt_misc and
	# plain undefined symbols; one of them becomes binfmt_misc's export.
	relocs "$GOOD" | awk '$1 ~ /^\.klp\.rela\.binfmt_misc\./' | grep -q .
	name=$(symbols "$GOOD" | awk '$7 == "UND" && NF == 8 && $8 != "klp_enable_patch" { print $8; exit }')
	[ -n "$name" ]
	sed "s|\t$name\tvmlinux\t|\t$name\tfs/binfmt_misc\t|" "$SYMVERS" >modsymvers
	grep -qP "\t$name\tfs/binfmt_misc\t" modsymvers
	run "$KL" --symbols "$VML" --symvers modsymvers --module "binfmt_misc=$MODKO" "$GOOD"
	echo "$output"
	refused_internal
	[[ $output == *"$name: a plain reference to an export of fs/binfmt_misc, a module this patch patches"* ]]
	# Exported by another module, it is a dependency, not an error.
	sed "s|\t$name\tvmlinux\t|\t$name\tfs/other_mod\t|" "$SYMVERS" >othersymvers
	run "$KL" --symbols "$VML" --symvers othersymvers --module "binfmt_misc=$MODKO" "$GOOD"
	echo "$output"
	[ "$status" -eq 0 ]
}
