#!/usr/bin/env bats
# Traceability: the module's modinfo (kbp_patch, kbp_kernel,
# kbp_version), the NAME.json manifest beside it, and --explain. Every
# expectation comes from somewhere else than the tool: sha256sum of the
# patches, the kernel's build directory, the running kernel's sysfs and
# ftrace lists, objdump of the objects.

load ../lib/corpus-lib
load ../lib/helpers

setup_file() {
	corpus_setup
	local out=$BATS_FILE_TMPDIR/out
	# Two patches: a plain change and a syscall body without fentry.
	kbp -o "$out" -n trace-two "$CORPUS/cmdline-string.patch" \
		"$CORPUS/syscall-no-fentry.patch" >"$BATS_FILE_TMPDIR/two.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/two.log" >&2; return 1; }
}

# json_functions FILE: "OBJECT NAME ACTION SYMPOS" per function, sorted,
# read with python's json module (which also proves the file is JSON).
json_functions() {
	python3 - "$1" <<-'EOF'
	import json, sys
	m = json.load(open(sys.argv[1]))
	for o in m["objects"]:
	    for f in o["functions"]:
	        print(o["name"], f["name"], f["action"], f.get("sympos", "-"))
	EOF
}

@test "modinfo records each patch's name and sha256, the kernel release and the tool's version" {
	local ko=$BATS_FILE_TMPDIR/out/trace-two.ko p expected
	expected=$(for p in cmdline-string syscall-no-fentry; do
		echo "$p.patch:$(sha256sum <"$CORPUS/$p.patch" | cut -d' ' -f1)"
	done)
	diff <(modinfo -F kbp_patch "$ko" | sort) <(sort <<<"$expected")
	# The release the kernel was built as, and the one in vermagic.
	[ "$(modinfo -F kbp_kernel "$ko")" = "$(cat "$K/build/include/config/kernel.release")" ]
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$(modinfo -F kbp_kernel "$ko")" ]
	[ "$(modinfo -F kbp_version "$ko")" = "$("$REPO/scripts/kbuild-patch" --version | cut -d' ' -f2)" ]
}

@test "NAME.json is valid JSON with the patches, the release and a reason for each function" {
	local out=$BATS_FILE_TMPDIR/out
	python3 -m json.tool "$out/trace-two.json" >/dev/null
	run python3 - "$out/trace-two.json" "$CORPUS" "$(cat "$K/build/include/config/kernel.release")" <<-'EOF'
	import hashlib, json, os, sys
	m = json.load(open(sys.argv[1]))
	assert m["module"] == "trace-two", m["module"]
	assert m["kernel_release"] == sys.argv[3]
	assert m["replace"] is True and m["signed"] is False
	want = {p: hashlib.sha256(open(os.path.join(sys.argv[2], p), "rb").read()).hexdigest()
	        for p in ("cmdline-string.patch", "syscall-no-fentry.patch")}
	assert {p["file"]: p["sha256"] for p in m["patches"]} == want, m["patches"]
	for o in m["objects"]:
	    for f in o["functions"]:
	        print(o["name"], f["name"], f["action"], f["object_file"], "|", f["reason"])
	EOF
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"vmlinux cmdline_proc_show patched fs/proc/cmdline.o | changed code"* ]]
	# The syscall body has no fentry call: carried, reached through its
	# caller, which is patched for that reason.
	[[ $output == *"vmlinux __do_sys_newuname added kernel/sys.o | changed code, but no fentry call (untraceable)"* ]]
	[[ $output == *"vmlinux __x64_sys_newuname patched kernel/sys.o | caller of untraceable function __do_sys_newuname"* ]]
	# The build said the same.
	grep -q '__do_sys_newuname has no fentry call: carried as new code, reached by patching its caller __x64_sys_newuname' \
		"$BATS_FILE_TMPDIR/two.log"
}

@test "the manifest's functions are exactly what the kernel patches (sysfs) and what ftrace can't trace" {
	local out=$BATS_FILE_TMPDIR/out
	{
		kbp_guest_functions
		cat <<-'EOF'
		insmod /modules/trace-two.ko || kbp_fail insmod
		kbp_wait_transition trace_two || kbp_fail transition
		for o in /sys/kernel/livepatch/trace_two/*/; do
			for f in "$o"*/; do
				[ -d "$f" ] && echo "SYSFS $(basename "$o") $(basename "$f")"
			done
		done
		grep -q '^__do_sys_newuname\b' /sys/kernel/tracing/available_filter_functions &&
			echo "TRACEABLE __do_sys_newuname"
		grep -q '^__x64_sys_newuname\b' /sys/kernel/tracing/available_filter_functions &&
			echo "TRACEABLE __x64_sys_newuname"
		EOF
	} >"$BATS_TEST_TMPDIR/guest.sh"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" --module "$out/trace-two.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	# sysfs names each patched function "NAME,SYMPOS" under its object
	# (a unique symbol's sympos 0 shows as 1).
	[ -n "$(sed -n 's/^SYSFS //p' <<<"$output")" ]
	diff <(sed -n 's/^SYSFS //p' <<<"$output" | tr -d '\r' | sort) \
		<(json_functions "$out/trace-two.json" |
			awk '$3 == "patched" { print $1, $2 "," ($4 == 0 ? 1 : $4) }' | sort)
	# What the manifest adds instead of patching is what ftrace can't
	# redirect; what it patches, ftrace can.
	[ "$(json_functions "$out/trace-two.json" | awk '$3 == "added" { print $2 }')" = __do_sys_newuname ]
	[[ $output != *"TRACEABLE __do_sys_newuname"* ]]
	[[ $output == *"TRACEABLE __x64_sys_newuname"* ]]
	# The added function is code in the module.
	readelf -sW "$out/trace-two.ko" | awk '$4 == "FUNC" && $7 != "UND" { print $8 }' |
		grep -qx __do_sys_newuname
}

@test "a header change: the reason names the header; no manifest is left when the build fails" {
	local out=$BATS_TEST_TMPDIR/out header
	run kbp -o "$out" "$CORPUS/header-loadavg.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	header=$(sed -n 's|^+++ b/||p' "$CORPUS/header-loadavg.patch")
	[[ $header == *.h ]]
	run python3 -c 'import json, sys
for o in json.load(open(sys.argv[1]))["objects"]:
    for f in o["functions"]:
        print(f["name"], "|", f["reason"])' "$out/livepatch-header-loadavg.json"
	echo "$output"
	[[ $output == *"loadavg_proc_show | changed code (the object changed through $header)"* ]]
	# A refused build leaves neither the module nor the manifest.
	run kbp -o "$BATS_TEST_TMPDIR/out2" "$CORPUS/FAIL-data-change.patch"
	[ "$status" -eq 2 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/out2")" ]
}

# insns OBJECT SECTION: "ADDR BYTES" per instruction of SECTION (objdump).
insns() {
	objdump -d -j "$2" "$1" | awk -F'\t' '/^ *[0-9a-f]+:\t/ && NF >= 3 {
		a = $1; gsub(/[ :]/, "", a); b = $2; gsub(/ +$/, "", b); print a, b }'
}

@test "--explain shows the first differing instruction of a function changed through a header" {
	local out=$BATS_TEST_TMPDIR/out work line soff first addr len
	run kbp -o "$out" --explain --keep "$CORPUS/header-loadavg.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	work=$(kept_work "$output")
	[ -d "$work" ]
	line=$(grep -F 'fs/proc/loadavg.o: explain: loadavg_proc_show: first difference at ' <<<"$output")
	soff=$(sed -n 's/.*(\.text\.loadavg_proc_show+\(0x[0-9a-f]*\)).*/\1/p' <<<"$line")
	[ -n "$soff" ]
	# Independently: the first instruction where objdump of the original
	# and of the patched object differ (address or bytes).
	first=$(paste -d'|' <(insns "$work/orig/fs/proc/loadavg.o" .text.loadavg_proc_show) \
		<(insns "$work/patched/fs/proc/loadavg.o" .text.loadavg_proc_show) |
		awk -F'|' '$1 != $2 { print $2; exit }')
	rm -rf "$work"
	echo "first differing instruction (patched): $first"
	addr=$((16#${first%% *}))
	len=$(wc -w <<<"${first#* }")
	# The reported offset is inside that instruction...
	[ $((soff)) -ge "$addr" ] && [ $((soff)) -lt $((addr + len)) ]
	# ...and the instruction shown for the patched build is that one.
	grep -F "      patched .text.loadavg_proc_show: ${first%% *}: ${first#* }  " <<<"$output"
	# The other changed objects of the header have no functional change.
	[ "$(grep -c ': explain: ' <<<"$output")" -eq 1 ]
}
