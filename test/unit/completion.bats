#!/usr/bin/env bats
# Bash completion for kbuild-patch (contrib/bash-completion/kbuild-patch):
# sourced in this shell, driven through COMP_WORDS/COMP_CWORD like bash
# does, and checked against kbuild-patch --help.

load ../lib/options-lib

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# shellcheck source=contrib/bash-completion/kbuild-patch disable=SC1091 # linted on its own by lint.bats
	. "$REPO/contrib/bash-completion/kbuild-patch"
	cd "$BATS_TEST_TMPDIR" || return
	mkdir -p src/linux certs
	touch fix.patch other.diff notes.txt certs/key.pem certs/key.x509 config-6.12
}

# complete_words WORD...: completes the last WORD of "kbuild-patch
# WORD..." and prints the candidates, sorted, one a line.
complete_words() {
	COMP_WORDS=(kbuild-patch "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_kbuild_patch
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}

@test "the completion is registered for kbuild-patch" {
	complete -p kbuild-patch | grep -q -- '-F _kbuild_patch'
}

@test "options: every option of --help completes, and nothing else" {
	local help comp
	help=$("$REPO/scripts/kbuild-patch" --help | help_options)
	comp=$(complete_words - | grep -v '^$')
	[ "$(wc -l <<<"$help")" -ge 20 ]
	same_options "--help" "$help" "the completion" "$comp"
}

@test "option prefixes complete to the matching options" {
	[ "$(complete_words --sign | tr '\n' ' ')" = "--sign-cert --sign-key " ]
	[ "$(complete_words --ex)" = "--explain" ]
	[ "$(complete_words --non)" = "--non-replace" ]
	[ "$(complete_words -R --sk | tr '\n' ' ')" = "--skip-cleanup --skip-compiler-check " ]
}

@test "--distro completes its values" {
	[ "$(complete_words --distro '')" = debian ]
	[ "$(complete_words --distro de)" = debian ]
	[ -z "$(complete_words --distro x)" ]
}

@test "-s and -o complete directories; -c, -v, --kallsyms, --sign-key and --sign-cert files" {
	[ "$(complete_words -s s)" = src ]
	[ "$(complete_words --output '' | tr '\n' ' ')" = "certs src " ]
	[ "$(complete_words -c conf)" = config-6.12 ]
	[ "$(complete_words -v no)" = notes.txt ]
	[ "$(complete_words --kallsyms 'fi')" = fix.patch ]
	[ "$(complete_words --sign-key certs/key | tr '\n' ' ')" = "certs/key.pem certs/key.x509 " ]
	[ "$(complete_words -s "$PWD/src" --sign-cert certs/key.x)" = certs/key.x509 ]
	# -n and -j take free values: nothing to offer.
	[ -z "$(complete_words -n '')" ]
	[ -z "$(complete_words -j '')" ]
}

@test "arguments complete to patch files and directories" {
	[ "$(complete_words -R '' | tr '\n' ' ')" = "certs fix.patch other.diff src " ]
	[ "$(complete_words -o out o)" = other.diff ]
}
