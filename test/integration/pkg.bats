#!/usr/bin/env bats
# kbuild-patch-pkg on real livepatches: two versions of a cumulative fix
# built by kbuild-patch for Debian's stock 6.12 kernel (the release
# debian.bats uses, so the two share the prepared tree and the kallsyms
# dump), the first one signed, packaged as one hotfix series; lintian
# checks the packages. (Its refusals, its maintainer scripts' logic and
# the runtime package: test/unit/pkg.bats. Installing the packages in a
# Debian system is not done here.)
# test-kernel: none

load ../lib/corpus-lib
load ../lib/debian-lib

setup_file() {
	debian_test_setup "$(debian_test_releases_fetched 1)"
	local d=$BATS_FILE_TMPDIR
	# A signing key of our own: the signature must survive packaging.
	openssl req -new -nodes -utf8 -sha256 -days 2 -batch -x509 \
		-newkey rsa:2048 -subj "/CN=kbuild-patch pkg test key" \
		-keyout "$d/key.pem" -out "$d/key.x509" -outform DER 2>/dev/null
	nice -n 10 "$REPO/scripts/kbuild-patch" --distro debian --release "$REL" \
		--kallsyms "$KALLSYMS" -o "$d/out" -n livepatch-fix-1 \
		--sign-key "$d/key.pem" --sign-cert "$d/key.x509" "$CORPUS/meminfo.patch" >&2
	nice -n 10 "$REPO/scripts/kbuild-patch" --distro debian --release "$REL" \
		--kallsyms "$KALLSYMS" -o "$d/out" -n livepatch-fix-2 \
		"$CORPUS/meminfo.patch" "$CORPUS/consoles-sympos.patch" >&2
	export DEBEMAIL="kbuild-patch tests <tests@example.org>"
	"$REPO/scripts/kbuild-patch-pkg" --name fix -o "$d/debs" "$d/out/livepatch-fix-1.ko" >"$d/v1.out"
	"$REPO/scripts/kbuild-patch-pkg" --name fix --version 2 -o "$d/debs" \
		"$d/out/livepatch-fix-2.ko" >"$d/v2.out"
	V1=$(tail -n 1 "$d/v1.out") V2=$(tail -n 1 "$d/v2.out")
	export V1 V2
}

MARKER='~Module signature appended~'

@test "pkg (Debian): the series' packages: their names, paths on the last line, control fields" {
	local deb v want debs
	v=$("$REPO/scripts/kbuild-patch" --version | awk '{ print $2 }')
	[ "$V1" = "$BATS_FILE_TMPDIR/debs/kbp-fix-${REL}_1_amd64.deb" ]
	[ "$V2" = "$BATS_FILE_TMPDIR/debs/kbp-fix-${REL}_2_amd64.deb" ]
	debs=("$BATS_FILE_TMPDIR"/debs/*)
	[ "${#debs[@]}" -eq 2 ]
	for deb in "$V1" "$V2"; do
		[ "$(dpkg-deb --field "$deb" Package)" = "kbp-fix-$REL" ]
		[ "$(dpkg-deb --field "$deb" Architecture)" = amd64 ]
		[ "$(dpkg-deb --field "$deb" Depends)" = \
			"linux-image-$REL | linux-image-$REL-unsigned, kbuild-patch-runtime (>= $v)" ]
		[ "$(dpkg-deb --field "$deb" Section)" = kernel ]
		[ "$(dpkg-deb --field "$deb" Priority)" = optional ]
		[ "$(dpkg-deb --field "$deb" Maintainer)" = "kbuild-patch tests <tests@example.org>" ]
	done
	# The image package it pins is the one apt has for the release.
	apt-cache show "linux-image-$REL" | grep -qxF "Package: linux-image-$REL"
	# Installed-Size: the files' KiB, each rounded up, one per directory.
	want=$(dpkg-deb -c "$V2" | awk '$1 ~ /^-/ { kb += int(($3 + 1023) / 1024) }
		$1 ~ /^d/ && $NF != "./" { kb++ } END { print kb }')
	[ "$(dpkg-deb --field "$V2" Installed-Size)" -eq "$want" ]
	# The series is in dpkg's order.
	dpkg --compare-versions "$(dpkg-deb --field "$V2" Version)" gt "$(dpkg-deb --field "$V1" Version)"
}

@test "pkg (Debian): the description names the release, each patch with its sha256, and the functions" {
	local desc f
	desc=$(dpkg-deb --field "$V2" Description)
	echo "$desc"
	[[ $desc == *"Linux $REL"* ]]
	for f in meminfo consoles-sympos; do
		grep -qx "  $f.patch" <<<"$desc"
		grep -qx "   $(sha256sum <"$CORPUS/$f.patch" | cut -d' ' -f1)" <<<"$desc"
	done
	# The patched functions, which the module defines (its own symbol
	# table, read here with readelf).
	for f in meminfo_proc_show c_start; do
		readelf -sW "$BATS_FILE_TMPDIR/out/livepatch-fix-2.ko" |
			awk -v f="$f" '$4 == "FUNC" && $8 == f' | grep -q .
		grep -qx "  vmlinux: $f, changed code" <<<"$desc"
	done
	if grep -q c_start <<<"$(dpkg-deb --field "$V1" Description)"; then false; fi
}

@test "pkg (Debian): the module is installed as built, its signature kept, with its manifest, and nothing else" {
	local x=$BATS_TEST_TMPDIR/x key=$BATS_FILE_TMPDIR/key.x509
	dpkg-deb -x "$V1" "$x"
	cmp "$BATS_FILE_TMPDIR/out/livepatch-fix-1.ko" "$x/usr/lib/kbuild-patch/$REL/livepatch-fix-1.ko"
	cmp "$BATS_FILE_TMPDIR/out/livepatch-fix-1.json" "$x/usr/lib/kbuild-patch/$REL/livepatch-fix-1.json"
	[ "$(tail -c $((${#MARKER} + 1)) "$x/usr/lib/kbuild-patch/$REL/livepatch-fix-1.ko")" = "$MARKER" ]
	[ "$(modinfo -F signer "$x/usr/lib/kbuild-patch/$REL/livepatch-fix-1.ko")" = \
		"$(openssl x509 -inform DER -in "$key" -noout -subject -nameopt multiline |
			sed -n 's/^ *commonName *= *//p')" ]
	[ "$(modinfo -F vermagic "$x/usr/lib/kbuild-patch/$REL/livepatch-fix-1.ko" | awk '{ print $1 }')" = "$REL" ]
	[ "$(cd "$x" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" = \
		"./usr/lib/kbuild-patch/$REL/livepatch-fix-1.json ./usr/lib/kbuild-patch/$REL/livepatch-fix-1.ko ./usr/share/doc/kbp-fix-$REL/changelog.gz ./usr/share/doc/kbp-fix-$REL/copyright " ]
	[ -z "$(dpkg-deb -c "$V1" | awk '$2 != "root/root"')" ]
	dpkg-deb -c "$V2" | grep -q " ./usr/lib/kbuild-patch/$REL/livepatch-fix-2.ko$"
}

@test "pkg (Debian): lintian reports no errors and no warnings on the hotfix packages; it does report a bad one" {
	local deb x=$BATS_TEST_TMPDIR/x
	for deb in "$V1" "$V2"; do
		run env TMPDIR="$BATS_TEST_TMPDIR" lintian --tag-display-limit 0 "$deb"
		echo "$output"
		[ "$status" -eq 0 ]
		if grep -E '^[EW]: ' <<<"$output"; then false; fi
	done
	# The check can fail: the fallback maintainer's address is an error.
	run env -u DEBEMAIL "$REPO/scripts/kbuild-patch-pkg" -o "$x" \
		"$BATS_FILE_TMPDIR/out/livepatch-fix-1.ko"
	[ "$status" -eq 0 ]
	run env TMPDIR="$BATS_TEST_TMPDIR" lintian --tag-display-limit 0 "${lines[-1]}"
	echo "$output"
	grep -q "^E: kbp-livepatch-fix-1-$REL: bogus-mail-host Maintainer root@localhost" <<<"$output"
}

@test "pkg (Debian): the maintainer scripts pass sh -n and shellcheck -s sh" {
	local x=$BATS_TEST_TMPDIR/x f
	dpkg-deb -e "$V2" "$x"
	for f in postinst prerm postrm; do
		sh -n "$x/$f"
		shellcheck -s sh -S style "$x/$f"
	done
	grep -qxF "mod='livepatch-fix-2'" "$x/postinst"
	grep -qxF "rel='$REL'" "$x/postinst"
}

@test "pkg (Debian): refused with real modules: the other version's manifest, and a release apt doesn't know" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/o bad=${REL/deb12/deb99} f
	mkdir -p "$in" "$out"
	cp "$BATS_FILE_TMPDIR/out/livepatch-fix-1.ko" "$in/"
	cp "$BATS_FILE_TMPDIR/out/livepatch-fix-2.json" "$in/livepatch-fix-1.json"
	run "$REPO/scripts/kbuild-patch-pkg" -o "$out" "$in/livepatch-fix-1.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"is the manifest of module livepatch-fix-2, but $in/livepatch-fix-1.ko is module livepatch_fix_1"* ]]
	[ -z "$(ls -A "$out")" ]
	# The same module for a release apt doesn't know: its release
	# rewritten (same length) in the module and the manifest.
	[ "$bad" != "$REL" ] && [ ${#bad} -eq ${#REL} ]
	if apt-cache show "linux-image-$bad" "linux-image-$bad-unsigned" 2>/dev/null | grep -q '^Package:'; then
		false
	fi
	for f in ko json; do
		perl -0777 -pe "s/\\Q$REL\\E/$bad/g" "$BATS_FILE_TMPDIR/out/livepatch-fix-1.$f" >"$in/livepatch-fix-1.$f"
	done
	[ "$(modinfo -F vermagic "$in/livepatch-fix-1.ko" | awk '{ print $1 }')" = "$bad" ]
	run "$REPO/scripts/kbuild-patch-pkg" -o "$out" "$in/livepatch-fix-1.ko"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"unknown release $bad"* ]]
	[ -z "$(ls -A "$out")" ]
}
