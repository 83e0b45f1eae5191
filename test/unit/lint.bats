#!/usr/bin/env bats
# lint: every bash script of the project is shellcheck-clean (warnings
# and errors), following sourced files and without following them; every
# bats file is clean at style level.

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

# The bats files too (their "#!/usr/bin/env bats" keeps them out of the
# test above), at style level and each on its own, as the plain
# "shellcheck -S style -s bash FILE" of an editor checks them: what is
# meant (a guest script in single quotes, an awk program) carries its
# "# shellcheck disable=SCxxxx # why" on the line before.
@test "shellcheck: every tracked test/**/*.bats file is clean at style level (-S style -s bash)" {
	local repo f bad=0 files=()
	repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	cd "$repo"
	mapfile -t files < <(git ls-files 'test/*.bats')
	[ ${#files[@]} -ge 30 ]
	for f in "${files[@]}"; do
		shellcheck -S style -s bash "$f" || bad=1
	done
	[ "$bad" -eq 0 ]
}
