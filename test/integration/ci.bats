#!/usr/bin/env bats
# kbuild-patch-ci, the regression mode: a matrix of corpus patches x two
# targets (the test kernel, and its IBT=n JUMP_LABEL=n variant as a
# source tree),
# built and proven in the VM; the cache answering a re-run
# (counted in compiler calls); drift and regressions against a baseline;
# one-cell jobs merged; the reports read by real parsers (junitparser,
# prove); and the GitLab CI pipeline in contrib/ checked and run.
# test-kernel: noibt nojl

load ../lib/corpus-lib

CI_TOOL=$REPO/scripts/kbuild-patch-ci
PY=/usr/bin/python3	# Debian's, with python3-junitparser

# The matrix: four patches that load, one that must be refused.
MATRIX="meminfo cmdline-string consoles-sympos module-binfmt-misc FAIL-data-change"

setup_file() {
	corpus_setup
	local d=$BATS_FILE_TMPDIR/patches n f
	mkdir -p "$d"
	for n in $MATRIX; do
		for f in "$CORPUS/$n.patch" "$CORPUS/$n-LOADED.test" "$CORPUS/$n.fail" "$CORPUS/$n.vm"; do
			[ ! -e "$f" ] || cp "$f" "$d/"
		done
	done
	# The second target: the variant test kernel, named as a source
	# tree with its config and vmlinux, as a team with its own kernel
	# build would.
	local kn
	kn=$("$REPO/test/kernel/build-test-kernel" noibt nojl | tail -1)
	TREE="tree:$kn/source,$kn/config,$kn/vmlinux,$kn/bzImage"
	export TREE
}

# counting_wrapper FILE: a compiler launcher that logs each compile, and
# marks the compiler it runs (KBP_VIA=wrapper), so that the gcc of
# gcc_shim can tell compiles that didn't come through it.
counting_wrapper() {
	local w=$BATS_TEST_TMPDIR/count-cc
	cat >"$w" <<-EOF
	#!/bin/sh
	echo "\$*" >>"$1"
	KBP_VIA=wrapper exec "\$@"
	EOF
	chmod +x "$w"
	echo "$w"
}

# gcc_shim DIR LOG: DIR/gcc logs each kernel compile (-D__KERNEL__; not
# the host tools) of a .c file as "wrapper FILE" or "direct FILE".
gcc_shim() {
	local real
	real=$(command -v gcc)
	mkdir -p "$1"
	cat >"$1/gcc" <<-EOF
	#!/bin/sh
	case " \$* " in *" -D__KERNEL__ "*)
		for a in "\$@"; do case \$a in *.c) echo "\${KBP_VIA:-direct} \$a" >>"$2" ;; esac; done ;;
	esac
	exec "$real" "\$@"
	EOF
	chmod +x "$1/gcc"
}

# junit_cells FILE: "suite<TAB>case<TAB>failed" per test case, by
# junitparser.
junit_cells() {
	"$PY" - "$1" <<-'EOF'
	import sys
	from junitparser import JUnitXml, Failure, Error
	xml = JUnitXml.fromfile(sys.argv[1])
	for suite in xml:
	    for case in suite:
	        bad = any(isinstance(r, (Failure, Error)) for r in case.result)
	        print(f"{suite.name}\t{case.name}\t{'failed' if bad else 'ok'}")
	EOF
}

# junit_failure FILE CASE: the failure message and text of test CASE.
junit_failure() {
	"$PY" - "$1" "$2" <<-'EOF'
	import sys
	from junitparser import JUnitXml, Failure
	for suite in JUnitXml.fromfile(sys.argv[1]):
	    for case in suite:
	        if case.name == sys.argv[2]:
	            for r in case.result:
	                if isinstance(r, Failure):
	                    print(r.message)
	                    print(r.text)
	EOF
}

# field RESULTS PATCH N [TARGET]: field N of PATCH's line.
field() {
	awk -F'\t' -v p="$2" -v n="$3" -v t="${4:-}" \
		'!/^#/ && $2 == p && (t == "" || $1 == t) { print $n }' "$1"
}

@test "matrix: 5 patches x 2 targets built and loaded in the VM; JUnit and TAP pass real parsers; every compile went through --cc-wrapper" {
	local out=$BATS_FILE_TMPDIR/run1 calls=$BATS_TEST_TMPDIR/calls w n name json
	local all=$BATS_TEST_TMPDIR/all-compiles
	w=$(counting_wrapper "$calls")
	gcc_shim "$BATS_TEST_TMPDIR/bin" "$all"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run "$CI_TOOL" --patches "$BATS_FILE_TMPDIR/patches" --target test-kernel \
		--target "$TREE" -o "$out" -j 2 --no-cache --cc-wrapper "$w" \
		--results "$BATS_FILE_TMPDIR/baseline.tsv" --junit "$out.xml" --tap "$out.tap"
	echo "$output"
	[ "$status" -eq 0 ]
	# The table: a line per cell.
	for name in $MATRIX; do
		[ "$(grep -c "^\(test-kernel\|tree:\S*\) *$name " <<<"$output")" -eq 2 ]
	done
	# Every cell ran: the loadable ones passed in the VM, the other was
	# refused as its .fail expects.
	for name in meminfo cmdline-string consoles-sympos module-binfmt-misc; do
		[ "$(field "$BATS_FILE_TMPDIR/baseline.tsv" "$name" 3 | sort -u)" = passed ]
		grep -q "KBP-VM-STATUS.*: 0" "$out"/test-kernel/"$name"/vm.log
	done
	[ "$(field "$BATS_FILE_TMPDIR/baseline.tsv" FAIL-data-change 3 | sort -u)" = refused ]
	[ "$(field "$BATS_FILE_TMPDIR/baseline.tsv" FAIL-data-change 4 | sort -u)" = yes ]
	# The functions column is the module's manifest, read by a JSON parser.
	json=$(ls "$out"/test-kernel/consoles-sympos/out/*.json)
	[ "$(field "$BATS_FILE_TMPDIR/baseline.tsv" consoles-sympos 5 test-kernel)" = \
		"$("$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join(sorted(o["name"] + ":" + ("+" if f["action"] == "added" else "") + f["name"]
      for o in m["objects"] for f in o["functions"])))' "$json")" ]
	# JUnit: a suite per target, a case per patch, no failure.
	run junit_cells "$out.xml"
	echo "$output"
	[ "${#lines[@]}" -eq 10 ]
	[ "$(cut -f1 <<<"$output" | sort -u | wc -l)" -eq 2 ]
	[ "$(grep -c 'ok$' <<<"$output")" -eq 10 ]
	# TAP: prove reads 10 tests, all ok.
	run prove -v -e cat "$out.tap"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"Tests=10"* ]]
	# Every kernel compile went through the launcher, none around it: the
	# patched objects (the original ones may come from kbuild-patch's
	# cache), and the modules' own sources.
	cat "$all"
	[ "$(grep -c '^wrapper .*fs/proc/meminfo\.c$' "$all")" -ge 2 ]
	[ "$(grep -c '^wrapper .*livepatch-main\.c$' "$all")" -ge 8 ]
	if grep '^direct ' "$all"; then false; fi
	[ "$(grep -c 'meminfo\.c' "$calls")" -eq "$(grep -c 'meminfo\.c' "$all")" ]
}

@test "a warm re-run is answered by the cache: zero compiler calls, the same results" {
	local out=$BATS_FILE_TMPDIR/run2 calls=$BATS_TEST_TMPDIR/calls w
	[ -s "$BATS_FILE_TMPDIR/baseline.tsv" ]
	w=$(counting_wrapper "$calls")
	: >"$calls"
	run "$CI_TOOL" --patches "$BATS_FILE_TMPDIR/patches" --target test-kernel \
		--target "$TREE" -o "$out" --cc-wrapper "$w" --results "$out.tsv"
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -s "$calls" ]
	[ "$(grep -v '^#' "$out.tsv" | cut -f10 | sort -u)" = yes ]
	# Same cells, same results, same functions.
	diff <(grep -v '^#' "$BATS_FILE_TMPDIR/baseline.tsv" | cut -f1-6) \
		<(grep -v '^#' "$out.tsv" | cut -f1-6)
	# The cached cell still hands out its module.
	ls "$out"/test-kernel/meminfo/out/livepatch-meminfo.ko
}

@test "drift against the baseline: a rejected hunk is a regression with its text; fuzz is reported; a changed function set is named" {
	local d=$BATS_TEST_TMPDIR/patches out=$BATS_TEST_TMPDIR/run3 f report
	[ -s "$BATS_FILE_TMPDIR/baseline.tsv" ]
	mkdir -p "$d"
	cp "$BATS_FILE_TMPDIR"/patches/{meminfo,cmdline-string,consoles-sympos}* "$d/"
	# meminfo: context lines that the tree doesn't have (a newer release
	# changed them), more than fuzz can skip: the hunk is rejected.
	sed -i 's/^ \t\(.*\)$/ \t\1 \/* changed upstream *\//' "$d/meminfo.patch"
	[ "$(grep -c 'changed upstream' "$d/meminfo.patch")" -ge 3 ]
	# cmdline-string: the first context line differs; patch applies it
	# with fuzz.
	f=$d/cmdline-string.patch
	awk 'BEGIN { done = 0 } /^@@/ { h = 1; print; next }
		h && !done && /^ / { print " /* drifted context */"; done = 1; next }
		{ print }' "$f" >"$f.new"
	mv "$f.new" "$f"
	# consoles-sympos: the fix now also touches c_next.
	cp "$CORPUS/consoles-sympos.patch" "$d/consoles-sympos.patch"
	extra_function_hunk >>"$d/consoles-sympos.patch"
	run "$CI_TOOL" --patches "$d" --target test-kernel -o "$out" \
		--baseline "$BATS_FILE_TMPDIR/baseline.tsv" --results "$out.tsv" \
		--junit "$out.xml" --tap "$out.tap"
	echo "$output"
	[ "$status" -eq 2 ]
	report=$output
	[ "$(field "$out.tsv" meminfo 3)" = apply-failed ]
	[ "$(field "$out.tsv" meminfo 6)" = rejected ]
	grep -q 'REGRESSED: was passed, now apply-failed' <<<"$report"
	# The report carries the rejected hunk, with its file.
	run junit_failure "$out.xml" meminfo
	echo "$output"
	[[ $output == *"apply-failed"* ]]
	[[ $output == *"rejected hunk #1 of fs/proc/meminfo.c:"* ]]
	[[ $output == *"changed upstream"* ]]
	# Fuzz: reported, and the cell still passes (no regression).
	[ "$(field "$out.tsv" cmdline-string 6)" = fuzz ]
	[ "$(field "$out.tsv" cmdline-string 3)" = passed ]
	# The changed function set: regressed, naming the added function.
	[ "$(field "$out.tsv" consoles-sympos 3)" = passed ]
	grep -q "REGRESSED: functions changed: +vmlinux:c_next" <<<"$report"
	run prove -e cat "$out.tap"
	[ "$status" -ne 0 ]
	[[ $output == *"Failed 2/3 subtests"* ]]
}

# A hunk appended to consoles-sympos.patch that changes c_next too: a
# NULL check before its "++*pos;" (the line is taken from the tree).
extra_function_hunk() {
	local src=$K/source/fs/proc/consoles.c l
	l=$(awk '/^static void \*c_next/ { f = 1 } f && /\+\+\*pos;/ { print NR; exit }' "$src")
	[ -n "$l" ]
	printf -- '--- a/fs/proc/consoles.c\n+++ b/fs/proc/consoles.c\n'
	printf '@@ -%d,1 +%d,3 @@\n' "$l" "$l"
	printf '+\tif (!con)\n+\t\treturn NULL;\n'
	sed -n "${l}p" "$src" | sed 's/^/ /'
}

@test "one job per cell, then --merge: the merged report equals the full run" {
	local out=$BATS_TEST_TMPDIR/jobs n
	[ -s "$BATS_FILE_TMPDIR/baseline.tsv" ]
	mkdir -p "$out"
	for n in meminfo FAIL-data-change; do
		run "$CI_TOOL" --patches "$BATS_FILE_TMPDIR/patches" --only "$n" \
			--target test-kernel -o "$out/cells" --results "$out/$n.tsv"
		[ "$status" -eq 0 ]
		[ "$(grep -vc '^#' "$out/$n.tsv")" -eq 1 ]
	done
	run "$CI_TOOL" --merge --baseline "$BATS_FILE_TMPDIR/baseline.tsv" \
		--junit "$out/report.xml" --tap "$out/report.tap" --results "$out/all.tsv" \
		"$out/meminfo.tsv" "$out/FAIL-data-change.tsv"
	echo "$output"
	[ "$status" -eq 0 ]
	diff <(grep -v '^#' "$BATS_FILE_TMPDIR/baseline.tsv" | grep -P '^test-kernel\t(meminfo|FAIL-data-change)\t' | cut -f1-6 | sort) \
		<(grep -v '^#' "$out/all.tsv" | cut -f1-6 | sort)
	[ "$(junit_cells "$out/report.xml" | grep -c 'ok$')" -eq 2 ]
	run prove -e cat "$out/report.tap"
	[ "$status" -eq 0 ]
	# Not a results file: refused with a message.
	run "$CI_TOOL" --merge "$out/report.tap"
	[ "$status" -eq 1 ]
	[[ $output == *"is not a kbuild-patch-ci results file"* ]]
}

@test "a cell whose target has no image to boot is built-not-booted, not a pass; with --build-only (or --no-vm), build-only cells are" {
	local p=$BATS_TEST_TMPDIR/patches t
	mkdir -p "$p"
	cp "$CORPUS/meminfo.patch" "$CORPUS/meminfo-LOADED.test" "$p/"
	# The variant kernel as a tree without its image (none beside vmlinux).
	t=${TREE%,*}
	[ ! -e "$(dirname "${t##*,}")/arch/x86/boot/bzImage" ]
	run "$CI_TOOL" --patches "$p" --target "$t" -o "$BATS_TEST_TMPDIR/r1" --results "$BATS_TEST_TMPDIR/r1.tsv"
	echo "$output"
	[ "$status" -eq 2 ]
	[ "$(field "$BATS_TEST_TMPDIR/r1.tsv" meminfo 3)" = built-not-booted ]
	[ "$(field "$BATS_TEST_TMPDIR/r1.tsv" meminfo 4)" = no ]
	grep -q 'not loaded: no kernel image to boot' "$BATS_TEST_TMPDIR/r1.tsv"
	run "$CI_TOOL" --patches "$p" --target "$t" --no-vm -o "$BATS_TEST_TMPDIR/r2" --results "$BATS_TEST_TMPDIR/r2.tsv"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field "$BATS_TEST_TMPDIR/r2.tsv" meminfo 3)" = built ]
	[ "$(field "$BATS_TEST_TMPDIR/r2.tsv" meminfo 4)" = yes ]
	run "$CI_TOOL" --patches "$p" --target "$t" --build-only -o "$BATS_TEST_TMPDIR/r3" --results "$BATS_TEST_TMPDIR/r3.tsv"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field "$BATS_TEST_TMPDIR/r3.tsv" meminfo 3)" = built ]
}

@test "usage errors exit 1 with a message" {
	run "$CI_TOOL" --target test-kernel
	[ "$status" -eq 1 ]
	[[ $output == *"no patch directory given"* ]]
	run "$CI_TOOL" --patches "$BATS_FILE_TMPDIR/patches"
	[ "$status" -eq 1 ]
	[[ $output == *"no target given"* ]]
	run "$CI_TOOL" --patches "$BATS_FILE_TMPDIR/patches" --target nosuch:x
	[ "$status" -eq 1 ]
	[[ $output == *"unknown target 'nosuch:x'"* ]]
	run "$CI_TOOL" --patches "$BATS_FILE_TMPDIR/patches" --target "tree:/nonexistent,$K/config,$K/vmlinux"
	[ "$status" -eq 1 ]
	[[ $output == *"/nonexistent not found"* ]]
	run "$CI_TOOL" --patches "$BATS_FILE_TMPDIR/patches" --target test-kernel --only nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"no patch"*"nosuch"* ]]
}

@test "contrib GitLab pipeline: valid by the schema and the cross-checks (each mutation is caught), and its jobs run here" {
	local p=$REPO/contrib/gitlab-ci/kbuild-patch.gitlab-ci.yml
	local schema=$REPO/test/unit/gitlab-ci.schema.json check=$REPO/test/unit/check-gitlab-ci
	local help=$BATS_TEST_TMPDIR/help proj=$BATS_TEST_TMPDIR/proj m tsvs
	"$CI_TOOL" --help >"$help"
	run "$check" "$p" "$schema" "$help"
	echo "$output"
	[ "$status" -eq 0 ]
	# The checker isn't vacuous: each mutation fails it.
	for m in 's/^  stage: report$/  stage: reports/' \
		's/^    - job: cell$/    - job: cells/' \
		's/--results "results/--result "results/' \
		's/^  artifacts:$/  artifact:/' \
		's/^      - KBP_TARGET:$/      - KBP_TARGETS:/'; do
		sed "$m" "$p" >"$BATS_TEST_TMPDIR/mutated.yml"
		! cmp -s "$p" "$BATS_TEST_TMPDIR/mutated.yml" || false
		run "$check" "$BATS_TEST_TMPDIR/mutated.yml" "$schema" "$help"
		echo "$m: $output"
		[ "$status" -ne 0 ]
	done
	# Run the pipeline's own job scripts here, as the runner would: the
	# cells (their target swapped for the test kernel), then the report.
	mkdir -p "$proj/patches"
	cp "$BATS_FILE_TMPDIR"/patches/* "$proj/patches/"
	"$check" "$p" "$schema" "$help" --jobs >"$BATS_TEST_TMPDIR/jobs.json"
	"$PY" - "$BATS_TEST_TMPDIR/jobs.json" "$proj" >"$BATS_TEST_TMPDIR/run.sh" <<-'EOF'
	import json, shlex, sys
	jobs, proj = json.load(open(sys.argv[1])), sys.argv[2]
	print("set -e")
	for i, job in enumerate(sorted(jobs, key=lambda j: j["stage"] != "cells")):
	    env = dict(job["variables"], CI_JOB_ID=str(100 + i), CI_PROJECT_DIR=proj)
	    if "KBP_TARGET" in env:
	        env["KBP_TARGET"] = "test-kernel"
	    env.pop("XDG_CACHE_HOME", None)
	    print("(cd " + shlex.quote(proj))
	    for k, v in env.items():
	        print(f"export {k}={shlex.quote(v)}")
	    for cmd in job["script"]:
	        print(cmd.strip())
	    print(")")
	EOF
	PATH=$REPO/scripts:$PATH run bash "$BATS_TEST_TMPDIR/run.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	tsvs=("$proj"/results/*.tsv)
	[ "${#tsvs[@]}" -eq 3 ]
	[ "$(junit_cells "$proj/report.xml" | grep -c 'ok$')" -eq 3 ]
	run prove -e cat "$proj/report.tap"
	[ "$status" -eq 0 ]
}

# ccache_stat DIR KEY: one counter of ccache's statistics.
ccache_stat() {
	CCACHE_DIR=$1 ccache --print-stats | awk -v k="$2" '$1 == k { print $2 }'
}

@test "kbuild-patch compiles through ccache when it is installed: misses, then hits; --cc-wrapper none bypasses it" {
	local cc=$BATS_TEST_TMPDIR/ccache out=$BATS_TEST_TMPDIR/out
	command -v ccache
	local hits misses
	# A fresh ccache directory: the first run fills it.
	CCACHE_DIR=$cc run kbp -o "$out/1" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 0 ]
	misses=$(ccache_stat "$cc" cache_miss)
	hits=$(ccache_stat "$cc" direct_cache_hit)
	[ "$misses" -ge 3 ]	# cmdline.c, the module's sources
	# The same build again: the patched object and the module are hits.
	CCACHE_DIR=$cc run kbp -o "$out/2" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 0 ]
	[ "$(ccache_stat "$cc" direct_cache_hit)" -ge $((hits + 3)) ]
	[ "$(( $(ccache_stat "$cc" cache_miss) - misses ))" -lt "$(( $(ccache_stat "$cc" direct_cache_hit) - hits ))" ]
	# No launcher: ccache sees nothing.
	hits=$(ccache_stat "$cc" direct_cache_hit)
	misses=$(ccache_stat "$cc" cache_miss)
	CCACHE_DIR=$cc run kbp --cc-wrapper none -o "$out/3" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 0 ]
	[ "$(ccache_stat "$cc" direct_cache_hit)" -eq "$hits" ]
	[ "$(ccache_stat "$cc" cache_miss)" -eq "$misses" ]
	# A launcher that isn't installed: exit 1, named.
	run kbp --cc-wrapper no-such-launcher -o "$out/4" "$CORPUS/cmdline-string.patch"
	[ "$status" -eq 1 ]
	[[ $output == *"compiler launcher 'no-such-launcher' (--cc-wrapper) not found"* ]]
}
