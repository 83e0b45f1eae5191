#!/usr/bin/env bats
# fuzz-smoke: a short run of the libFuzzer harnesses of test/fuzz/ (ASan,
# UBSan, leak checks) from the unit-test seeds: create-diff-object with
# the input as either object of the pair, and klp-convert. Any crash,
# sanitizer report, leak, hang (10 s) or undocumented exit status fails.
# The long run is `make fuzz` (test/fuzz/run-fuzz).

setup_file() {
	local top
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export FUZZ_BIN="$BATS_FILE_TMPDIR/bin"
	make -s -C "$top/test/fuzz" O="$FUZZ_BIN" >&2
	export SEEDS="$BATS_FILE_TMPDIR/seeds"
	"$top/test/fuzz/make-seeds" "$SEEDS" >&2
}

# smoke HARNESS SECONDS SEEDDIR [VAR=VALUE...]: fuzz for SECONDS; the run
# must end cleanly after executing inputs.
smoke() {
	local bin=$1 secs=$2 seeds=$3 runs

	shift 3
	mkdir -p corpus artifacts
	run env UBSAN_OPTIONS=print_stacktrace=1 "$@" "$FUZZ_BIN/$bin" \
		-close_fd_mask=3 -timeout=10 -max_len=65536 \
		-max_total_time="$secs" -artifact_prefix=artifacts/ \
		corpus "$seeds"
	echo "$output" | tail -40
	[ "$status" -eq 0 ]
	[ -z "$(ls artifacts)" ]
	runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' <<<"$output")
	# Far more inputs than seeds: the harness ran and mutated.
	[ "${runs:-0}" -gt 1000 ]
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return
}

@test "fuzz smoke: create-diff-object, fuzzed PATCHED.o" {
	smoke fuzz-cdo 20 "$SEEDS/cdo" KBP_FUZZ_OTHER="$SEEDS/cdo-other.o" \
		KBP_FUZZ_SYMBOLS="$SEEDS/vmlinux" KBP_FUZZ_SIDE=patched
}

@test "fuzz smoke: create-diff-object, fuzzed ORIG.o" {
	smoke fuzz-cdo 15 "$SEEDS/cdo" KBP_FUZZ_OTHER="$SEEDS/cdo-other.o" \
		KBP_FUZZ_SYMBOLS="$SEEDS/vmlinux" KBP_FUZZ_SIDE=orig
}

@test "fuzz smoke: klp-convert" {
	smoke fuzz-klp-convert 15 "$SEEDS/klp"
}

@test "run-fuzz refuses a seed directory that lacks a target's seeds, before building or fuzzing; takes a complete one" {
	local top old=$BATS_TEST_TMPDIR/old-seeds
	top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# A seed directory from an older make-seeds: no seeds for the three
	# side inputs (--symbols, --ibt-sealed, --symvers).
	cp -r "$SEEDS" "$old"
	rm -r "$old/symbols" "$old/sealed" "$old/symvers"
	run "$top/test/fuzz/run-fuzz" --seeds "$old" --time 60 "$BATS_TEST_TMPDIR/out"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"the seed directory $old lacks symbols/ sealed/ symvers/; make it again with test/fuzz/make-seeds $old"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	# The complete one is taken: a short run of one target.
	run "$top/test/fuzz/run-fuzz" --seeds "$SEEDS" --time 3 --only cdo-symvers "$BATS_TEST_TMPDIR/out"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^INFO: exiting: 0 ' "$BATS_TEST_TMPDIR/out/cdo-symvers/log"
	[[ $output =~ cdo-symvers\ +executions\ [1-9][0-9]*, ]]
}
