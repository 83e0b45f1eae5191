# options-lib.bash: the options a command's --help lists and the ones its
# man page documents, one per line, sorted, so that tests can compare the
# two both ways (man.bats, completion.bats, cli.bats).
# shellcheck shell=bash

# help_options: the options of the --help text on stdin. An option line
# starts with at most 8 spaces and a dash; its first column (up to a run
# of two spaces) holds the option names, e.g. "  -s, --sourcedir DIR".
help_options() {
	awk 'match($0, /^ +-/) && RLENGTH <= 9 {
		sub(/^ +/, "")
		split($0, col, /  +/)
		gsub(/,/, " ", col[1])
		n = split(col[1], w, / +/)
		for (i = 1; i <= n; i++)
			if (w[i] ~ /^--?[A-Za-z0-9]/)
				print w[i]
	}' | LC_ALL=C sort -u
}

# man_options PAGE: the options of PAGE's OPTIONS section: the words
# that look like options on each tag line (the line after a .TP).
# shellcheck disable=SC2020 # tr: comma and blank each become a line break
man_options() {
	awk '/^\.SH/ { inopt = ($2 == "OPTIONS"); prev = ""; next }
		inopt && prev == ".TP" { print }
		{ prev = $0 }' "$1" |
		sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' | tr ', ' '\n\n' |
		grep -E '^--?[A-Za-z0-9][-A-Za-z0-9]*$' | LC_ALL=C sort -u
}

# same_options WHAT-A A WHAT-B B: A and B (lists) are equal; otherwise
# print what each lacks and fail.
same_options() {
	local missing
	missing=$(LC_ALL=C comm -23 <(echo "$2") <(echo "$4"))
	[ -z "$missing" ] || echo "in $1 but not in $3: ${missing//$'\n'/ }"
	missing=$(LC_ALL=C comm -13 <(echo "$2") <(echo "$4"))
	[ -z "$missing" ] || echo "in $3 but not in $1: ${missing//$'\n'/ }"
	[ "$2" = "$4" ]
}
