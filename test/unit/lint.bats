#!/usr/bin/env bats
# lint: every bash script of the project is shellcheck-clean (warnings
# and errors), following sourced files and without following them.

@test "shellcheck: every bash script is clean at warning level" {
	local repo f scripts=()
	repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	cd "$repo"
	while IFS= read -r f; do
		head -1 "$f" | grep -qE '^#!.*(bash|sh)\b' ||
			grep -q '^# shellcheck shell=bash' "$f" || continue
		scripts+=("$f")
	done < <(git ls-files scripts test .ci contrib 2>/dev/null | grep -vE '\.(c|h|patch|test|py|md|in|fail|vm|config)$')
	[ ${#scripts[@]} -ge 8 ]
	printf '%s\n' "${scripts[@]}"
	shellcheck -x -S warning "${scripts[@]}"
	# Also each on its own, as an editor or a plain "shellcheck FILE"
	# checks it: a variable set for a sourced library only must still
	# read as used. (Given together, shellcheck reads the libraries a
	# script sources from the other arguments.)
	local bad=0
	for f in "${scripts[@]}"; do
		shellcheck -S warning "$f" || bad=1
	done
	[ "$bad" -eq 0 ]
}
