#!/usr/bin/env bats
# valgrind: create-diff-object and klp-convert on real kernel objects
# (test/integration/corpus/meminfo.patch against the test kernel) make no memory
# errors and leak nothing definitely. The tools of an installed copy are
# replaced by wrappers that run the real ones under valgrind, so the
# pipeline calls them with exactly its own arguments.
# The slow tier (make check-slow): make check-sanitize runs the unit
# suites of both tools under ASan and UBSan in CI.
# test-tier: slow

load ../lib/corpus-lib

setup_file() {
	corpus_setup
}

@test "valgrind: create-diff-object and klp-convert on meminfo.o: no errors, no definite leaks" {
	local prefix=$BATS_TEST_TMPDIR/prefix logs=$BATS_TEST_TMPDIR/vg t log
	make -s -C "$REPO" install PREFIX="$prefix" >/dev/null
	mkdir -p "$logs"
	for t in create-diff-object klp-convert; do
		mv "$prefix/libexec/kbuild-patch/$t" "$prefix/libexec/kbuild-patch/$t.real"
		cat >"$prefix/libexec/kbuild-patch/$t" <<-EOF
		#!/bin/sh
		exec valgrind --error-exitcode=99 --leak-check=full \\
			--show-leak-kinds=definite --errors-for-leak-kinds=definite \\
			--log-file="$logs/$t.%p.log" \\
			"$prefix/libexec/kbuild-patch/$t.real" "\$@"
		EOF
		chmod +x "$prefix/libexec/kbuild-patch/$t"
	done
	run "$prefix/bin/kbuild-patch" -s "$K/source" -c "$K/config" \
		-v "$K/vmlinux" -o "$BATS_TEST_TMPDIR/out" "$CORPUS/meminfo.patch"
	echo "$output"
	for log in "$logs"/*.log; do
		echo "== $log"
		cat "$log"
	done
	[ "$status" -eq 0 ]
	[ -e "$BATS_TEST_TMPDIR/out/livepatch-meminfo.ko" ]
	# Each tool ran under valgrind, which counted no errors (leaks of the
	# definite kind count as errors here).
	for t in create-diff-object klp-convert; do
		ls "$logs/$t".*.log
		for log in "$logs/$t".*.log; do
			grep -q "Command: $prefix/libexec/kbuild-patch/$t.real" "$log"
			grep -q 'ERROR SUMMARY: 0 errors from 0 contexts' "$log"
			! grep -E 'definitely lost: [1-9]' "$log" || false
		done
	done
}
