#!/usr/bin/env bats
# Kernels without jump labels (CONFIG_JUMP_LABEL=n): static keys compile
# to plain loads and branches, and there is no __jump_table. The corpus
# patches whose new code branches on a static key (a tracepoint, a boot
# parameter's key, dynamic debug) are built against the variant test
# kernel (build-test-kernel noibt nojl: the main fragment plus
# test-kernel-noibt.config and test-kernel-nojl.config; one kernel for
# both, to keep make check's kernel builds to two) and proven in its
# VM: the branch in the new
# code follows the key flipped after the load, both ways, and the patch
# reverts on unload. The same patches on the main kernel carry
# __jump_table entries instead.
# test-kernel: noibt nojl

load ../lib/corpus-lib

setup_file() {
	K_MAIN=$("$REPO/test/kernel/build-test-kernel" | tail -1)
	[ -e "$K_MAIN/.complete" ]
	corpus_setup noibt nojl
	[ -e "$K/.complete" ]
	export K_MAIN
}

# Each patch, its new function, and a regex for the key its code reads.
# static-key-exported's key is exported: a plain relocation; the others
# are klp relocations to vmlinux symbols, or the module's own descriptor.
PATCH_FUNC_KEY=(
	"static-key-tracepoint uptime_proc_show \.klp\.sym\.vmlinux\.__tracepoint_sched_switch,0"
	"static-key-exported uevent_seqnum_show [ .]init_on_free([ +,]|$)"
	"static-call-tracepoint write_full [ .]__tracepoint_console([ +,]|$)"
	"dyndbg-new-pr-debug show_stat [ .]__dyndbg([ +]|$)"
)

# text_refs KO FUNC REGEX: relocations of FUNC's code, plain or klp
# (.rela.text.FUNC, .klp.rela.OBJ..text.FUNC), whose line matches REGEX.
text_refs() {
	# The regex through the environment, not -v (see count_relas).
	readelf -rW "$1" | KBP_RE=$3 awk -v f=".text.$2" '
		/^Relocation section/ {
			s = $3; gsub("\047", "", s)
			in_sec = length(s) > length(f) &&
				 substr(s, length(s) - length(f) + 1) == f
			next
		}
		in_sec && $0 ~ ENVIRON["KBP_RE"] { n++ }
		END { print n + 0 }'
}

# jump_table_free KO: no __jump_table in KO, nor its relocations (plain
# or klp), nor any relocation that names it.
jump_table_free() {
	if readelf -SW "$1" | grep -F __jump_table; then return 1; fi
	if readelf -rW "$1" | grep -F __jump_table; then return 1; fi
	return 0
}

# nojl_lifecycle NAME: corpus_lifecycle on the JUMP_LABEL=n kernel, then
# the checks of the module: no __jump_table, and the new code reads the
# key itself.
nojl_lifecycle() {
	local name=$1 entry func key ko=$BATS_TEST_TMPDIR/out/livepatch-$1.ko
	for entry in "${PATCH_FUNC_KEY[@]}"; do
		read -r n func key <<<"$entry"
		[ "$n" = "$name" ] && break
	done
	[ "$n" = "$name" ]
	corpus_lifecycle "$name"
	jump_table_free "$ko"
	echo "relocations of $func to the key: $(text_refs "$ko" "$func" "$key")"
	[ "$(text_refs "$ko" "$func" "$key")" -ge 1 ]
}

@test "variant kernel: JUMP_LABEL is off, and IBT; nothing else differs from the main kernel's config" {
	grep -qx 'CONFIG_JUMP_LABEL=y' "$K_MAIN/config"
	if grep -E '^CONFIG_JUMP_LABEL=' "$K/config"; then false; fi
	# The rest of the code generation is the same (thunks, ...): the
	# delta is JUMP_LABEL and IBT (with X86_CET, which only IBT selects).
	diff <(grep '^CONFIG_' "$K_MAIN/config") <(grep '^CONFIG_' "$K/config") |
		grep '^[<>]' >"$BATS_TEST_TMPDIR/delta" || true
	cat "$BATS_TEST_TMPDIR/delta"
	[ "$(sort "$BATS_TEST_TMPDIR/delta" | tr '\n' ' ')" = "< CONFIG_JUMP_LABEL=y < CONFIG_X86_CET=y < CONFIG_X86_KERNEL_IBT=y " ]
	grep -qx 'CONFIG_MITIGATION_RETHUNK=y' "$K/config"
	grep -qx 'CONFIG_DYNAMIC_DEBUG=y' "$K/config"
}

@test "variant kernel: vmlinux has no jump table; the main kernel's has one" {
	local k size start stop
	# The linker script puts __jump_table inside .data, between
	# __start___jump_table and __stop___jump_table.
	for k in "$K_MAIN" "$K"; do
		start=$(nm "$k/vmlinux" | awk '$3 == "__start___jump_table" { print $1 }')
		stop=$(nm "$k/vmlinux" | awk '$3 == "__stop___jump_table" { print $1 }')
		[ -n "$start" ] && [ -n "$stop" ]
		size=$((16#$stop - 16#$start))
		echo "$k: $size bytes of jump table"
		if [ "$k" = "$K" ]; then [ "$size" -eq 0 ]; else [ "$size" -gt 0 ]; fi
	done
	readelf -SW "$K_MAIN/build/vmlinux.o" | grep -qF ' __jump_table '
	if readelf -SW "$K/build/vmlinux.o" | grep -F __jump_table; then false; fi
	# objtool still ran (per object, without IBT): its return sites.
	readelf -SW "$K/build/vmlinux.o" | grep -qF ' .return_sites '
}

@test "nojl: static-key-tracepoint: the new code's plain branch follows the tracepoint flipped after the load" {
	nojl_lifecycle static-key-tracepoint
}

@test "nojl: static-key-exported: the new code's plain branch follows init_on_free=1, and =0" {
	local out=$BATS_TEST_TMPDIR/out
	nojl_lifecycle static-key-exported
	# The other direction, with the key off at boot: same module.
	key_off_guest >"$BATS_TEST_TMPDIR/off.sh"
	run vm_run "$BATS_TEST_TMPDIR/off.sh" --module "$out/livepatch-static-key-exported.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-KEY-OFF-OK* ]]
}

@test "nojl: static-call-tracepoint: the event fires from the new code once enabled in tracefs" {
	nojl_lifecycle static-call-tracepoint
}

@test "nojl: dyndbg-new-pr-debug: the new descriptor's flag, set in the control file, drives the new code" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-dyndbg-new-pr-debug.ko want have
	nojl_lifecycle dyndbg-new-pr-debug
	# The one new descriptor is carried, with this kernel's struct
	# _ddebug size (no static key in it): the size of the descriptors
	# in the kernel's own symbol table.
	want=$(readelf -sW "$K/vmlinux" | awk '$8 ~ /^__UNIQUE_ID_ddebug/ { print $3; exit }')
	have=$(readelf -SW "$ko" | sed -nE 's/^ *\[ *[0-9]+\] //p' |
		awk '$1 == "__dyndbg" { print $5 }')
	[ -n "$have" ]
	have=$((16#$have))
	echo "descriptor size $want, module __dyndbg $have bytes"
	[ -n "$want" ] && [ "$have" -eq "$want" ]
	# The main kernel's descriptor carries a static key: a different size.
	[ "$want" -ne "$(readelf -sW "$K_MAIN/vmlinux" |
		awk '$8 ~ /^__UNIQUE_ID_ddebug/ { print $3; exit }')" ]
}

@test "main kernel: the same patches carry __jump_table entries, and their code doesn't read the key" {
	local out=$BATS_TEST_TMPDIR/out entry n func key ko sites refs
	local -a patches=()
	for entry in "${PATCH_FUNC_KEY[@]}"; do
		read -r n func key <<<"$entry"
		patches+=("$CORPUS/$n.patch")
	done
	K=$K_MAIN run kbp -n livepatch-jl-contrast -o "$out" "${patches[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	ko=$out/livepatch-jl-contrast.ko
	for entry in "${PATCH_FUNC_KEY[@]}"; do
		read -r n func key <<<"$entry"
		sites=$(count_relas "$ko" .rela__jump_table " \\.text\\.$func ")
		refs=$(text_refs "$ko" "$func" "$key")
		echo "$n: $sites __jump_table relocations into $func, $refs key reads"
		[ "$sites" -ge 2 ]
		# Where nothing else of the key's symbol is used, the code
		# doesn't refer to it: trace_console() reads another field of
		# __tracepoint_console, and show_stat passes its descriptor to
		# __dynamic_pr_debug.
		case $n in
		static-key-tracepoint | static-key-exported) [ "$refs" -eq 0 ] ;;
		esac
	done
}

@test "nojl: a pr_debug in module binfmt_misc, carried as the patch's own descriptor with jump labels, uses the module's without them" {
	local out=$BATS_TEST_TMPDIR/out name=module-pr-debug ko
	# corpus.bats proves the copy on the main kernel (a __jump_table
	# entry can't reach a key in a module); here there is no entry, and
	# the new code keeps using the module's own descriptors.
	corpus_build "$name" "$out"
	ko=$out/livepatch-$name.ko
	jump_table_free "$ko"
	# The patched parser (check_special_flags, inlined in
	# bm_register_write) reads the module's own descriptors (klp
	# relocations to binfmt_misc symbols in its __dyndbg).
	[ "$(text_refs "$ko" bm_register_write '\.klp\.sym\.binfmt_misc\.__UNIQUE_ID_ddebug')" -ge 1 ]
	# Live: the parser takes a blank between flags, and its pr_debug
	# follows the module's descriptor switched in the control file, both
	# ways. Before the load and after the unload, "P F" is refused.
	cat >"$BATS_TEST_TMPDIR/check" <<-'EOF'
	grep -q '^binfmt_misc ' /proc/modules || insmod /modules/binfmt_misc.ko || exit 2
	mkdir -p /tmp/bm
	grep -q ' /tmp/bm binfmt_misc ' /proc/mounts || mount -t binfmt_misc none /tmp/bm || exit 2
	ctl=/proc/dynamic_debug/control
	[ -e $ctl ] || ctl=/sys/kernel/debug/dynamic_debug/control
	# printed_on_register on|off: registers a format with flags "P F",
	# which only the patched parser accepts, with the F flag's pr_debug
	# switched on or off; true when it registered and "flag: F" printed.
	printed_on_register() {
		if [ "$1" = on ]; then f=+p; else f=-p; fi
		echo "module binfmt_misc format \"flag: F\" $f" >$ctl || exit 2
		dmesg -c >/dev/null
		printf ':kbpnojl:E::kbpnojl::/bin/sh:P F\n' >/tmp/bm/register 2>/dev/null || exit 1
		echo -1 >/tmp/bm/kbpnojl
		dmesg | grep -q 'register: flag: F'
	}
	printed_on_register on || exit 1
	if printed_on_register off; then exit 1; fi
	exit 0
	EOF
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$ko" "$BATS_TEST_TMPDIR/check"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$ko" \
		--module "$K/build/fs/binfmt_misc.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
}
