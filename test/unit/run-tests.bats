#!/usr/bin/env bats
# test/run-tests, the runner behind make check: its options, its tiers,
# and its count (a skip is no pass; a failure fails the run).

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	T=$BATS_TEST_TMPDIR/suite
	mkdir -p "$T"
}

# suite_file NAME BODY [TAG]: a .bats file with one test running BODY.
suite_file() {
	{
		echo '#!/usr/bin/env bats'
		[ -z "${3:-}" ] || echo "$3"
		echo "@test \"$1\" {"
		echo "	$2"
		echo '}'
	} >"$T/$1.bats"
}

@test "run-tests: an unknown tier or a bad job count exits 1, naming it" {
	suite_file pass true
	run "$REPO/test/run-tests" --tier qick "$T"
	[ "$status" -eq 1 ]
	[[ $output == *"not 'qick'"* ]]
	run "$REPO/test/run-tests" --jobs 0 "$T"
	[ "$status" -eq 1 ]
	[[ $output == *"not '0'"* ]]
}

@test "run-tests: passes and failures are counted, a skip fails the run, the slow tier stays out of quick" {
	suite_file pass true
	suite_file fail false
	suite_file skipped skip
	suite_file slow true '# test-tier: slow'
	run "$REPO/test/run-tests" --jobs 2 --tier quick "$T"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(tail -1 <<<"$output")" = "1 passed, 1 failed" ]
	[[ $output == *"1 skipped"* ]]
	[[ $output == *"slow.bats is in the slow tier"* ]]
	rm "$T/fail.bats" "$T/skipped.bats"
	run "$REPO/test/run-tests" --tier quick "$T"
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output")" = "1 passed, 0 failed" ]
	run "$REPO/test/run-tests" --tier slow "$T"
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output")" = "1 passed, 0 failed" ]
	[[ $output == *"slow.bats"* ]]
}

@test "run-tests: a test that never reports (its bats killed) counts as failed" {
	# (printf: bats would take an "@test" line here for one of its own.)
	# shellcheck disable=SC2016 # $PPID is the generated test's, expanded when it runs
	printf '%stest "%s" { %s; }\n' @ one true @ two 'kill -KILL $PPID' @ three true \
		>"$T/killed.bats"
	run "$REPO/test/run-tests" "$T"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"1 of the 3 tests never reported a result"* ]]
	[ "$(tail -1 <<<"$output")" = "2 passed, 1 failed" ]
}

@test "run-tests: each file's line has its CPU time, its child processes' included, serial or two at once" {
	# busy burns 2 s or more of CPU in a child (a fixed amount of work,
	# not a time: on a loaded machine a child gets less CPU per second);
	# idle sleeps as long.
	suite_file busy "awk 'BEGIN { for (i = 0; i < 8e7; i++) s += i }'"
	suite_file idle 'sleep 2'
	local jobs cpu
	for jobs in 1 2; do
		run "$REPO/test/run-tests" --jobs $jobs "$T"
		echo "$output"
		[ "$status" -eq 0 ]
		cpu=$(sed -n 's|^# run-tests: .*/busy.bats: [0-9]* s, CPU \([0-9]*\) s$|\1|p' <<<"$output")
		[ "$cpu" -ge 1 ]
		cpu=$(sed -n 's|^# run-tests: .*/idle.bats: [0-9]* s, CPU \([0-9]*\) s$|\1|p' <<<"$output")
		[ "$cpu" -lt 1 ]
	done
}
