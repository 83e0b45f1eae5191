# debian-lib.bash: helpers for the stock Debian kernel tests
# (debian.bats): the release, the stock vmlinuz and a kallsyms dump,
# fetched and computed here independently of kbuild-patch.
# shellcheck shell=bash
# shellcheck disable=SC2154 # $output and $status come from bats' run

# debian_test_release: the release of the installed linux-source-6.12,
# e.g. 6.12.117-1~deb12u1 -> 6.12.117+deb12-amd64 (see design.md).
debian_test_release() {
	local v
	v=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	echo "${v%%-*}+$(sed -n 's/.*~\(deb[0-9]*\)u[0-9]*$/\1/p' <<<"$v")-amd64"
}

# debian_test_releases_fetched N: the N newest 6.12 releases (amd64)
# whose upload is not the installed linux-source-6.12's, newest last: a
# user's kernel whose source kbuild-patch must fetch. The fleet test and
# debian.bats share the newest, and so its prepared tree.
debian_test_releases_fetched() {
	local inst v
	inst=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	for v in $(debian_test_versions linux-source-6.12 | grep -vxF -- "$inst" | tail -n "$1"); do
		debian_test_release_of 6.12 "$v" || return 1
	done
}

# debian_test_release_abi SERIES: the newest ABI-named release of SERIES
# (6.1 -> 6.1.0-57-amd64) whose source upload apt has: the image package
# whose version is linux-source-SERIES's newest.
debian_test_release_abi() {
	debian_test_release_of "$1" "$(debian_test_versions "linux-source-$1" | tail -n 1)"
}

# debian_test_release_of SERIES VERSION: the amd64 release of SERIES
# (either scheme: 6.1.0-57-amd64, 6.12.117+deb12-amd64) whose image
# package has VERSION, the source upload, by apt's metadata.
debian_test_release_of() {
	local series=$1 v=$2 pkg
	for pkg in $(apt-cache search --names-only \
		"^linux-image-${series//./\\.}\\.[0-9]+(-[0-9]+|\\+deb[0-9]+)-amd64-unsigned\$" |
		awk '{ print $1 }' | sort -V -r); do
		if debian_test_versions "$pkg" | grep -qxF -- "$v"; then
			pkg=${pkg#linux-image-}
			echo "${pkg%-unsigned}"
			return 0
		fi
	done
	echo "debian_test_release_of: no linux-image-$series.*-amd64 of version $v" >&2
	return 1
}

# debian_test_setup REL: setup_file of a stock-kernel suite: the tools,
# and REL's stock vmlinuz with a kallsyms dump taken in it; exports REL,
# DEB_DIR, VMLINUZ and KALLSYMS.
debian_test_setup() {
	tools_setup
	REL=$1
	DEB_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/kbuild-patch/test-debian
	VMLINUZ=$(debian_test_vmlinuz "$REL" "$DEB_DIR")
	KALLSYMS=$BATS_FILE_TMPDIR/kallsyms
	debian_test_kallsyms "$VMLINUZ" "$KALLSYMS"
	export REL DEB_DIR VMLINUZ KALLSYMS
}

# debian_test_versions PACKAGE: the versions apt knows of PACKAGE, oldest
# first.
debian_test_versions() {
	apt-cache madison "$1" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -V -u
}

# debian_test_symvers REL DIR: Module.symvers of REL, from its headers
# package, in DIR.
debian_test_symvers() {
	local rel=$1 dir=$2
	local dl
	if [ ! -s "$dir/Module.symvers-$rel" ]; then
		mkdir -p "$dir"
		dl=$(mktemp -d "$dir/dl-h.XXXXXX")
		(cd "$dl" && apt-get download "linux-headers-$rel" >&2)
		dpkg-deb --fsys-tarfile "$dl"/linux-headers-"$rel"_*.deb |
			tar -x -O "./usr/src/linux-headers-$rel/Module.symvers" >"$dl/Module.symvers"
		mv "$dl/Module.symvers" "$dir/Module.symvers-$rel"
		rm -rf "$dl"
	fi
	echo "$dir/Module.symvers-$rel"
}

# debian_test_module REL NAME DIR: the stock module NAME.ko of REL, from
# Debian's image package, decompressed in DIR (reused when present).
debian_test_module() {
	local rel=$1 name=$2 dir=$3 f dl
	if [ ! -s "$dir/$rel-$name.ko" ]; then
		mkdir -p "$dir"
		dl=$(mktemp -d "$dir/dl-m.XXXXXX")
		(cd "$dl" && apt-get download "linux-image-$rel-unsigned" >&2)
		f=$(dpkg-deb -c "$dl"/linux-image-"$rel"-unsigned_*.deb |
			awk -v n="/$name.ko" '{ f = $NF } index(f, n) && f ~ /\.ko(\.xz)?$/ { print f; exit }')
		dpkg-deb --fsys-tarfile "$dl"/linux-image-"$rel"-unsigned_*.deb |
			tar -x -O "$f" >"$dl/in"
		case $f in
		*.xz) xz -dc "$dl/in" >"$dl/ko" ;;
		*) cp "$dl/in" "$dl/ko" ;;
		esac
		mv "$dl/ko" "$dir/$rel-$name.ko"
		rm -rf "$dl"
	fi
	echo "$dir/$rel-$name.ko"
}

# debian_test_vmlinuz REL DIR: the stock vmlinuz of REL, from Debian's
# image package, in DIR (reused when present). Each fetch has a download
# directory of its own: the stock suites run at once and share DIR.
debian_test_vmlinuz() {
	local rel=$1 dir=$2 dl
	if [ ! -s "$dir/vmlinuz-$rel" ]; then
		mkdir -p "$dir"
		dl=$(mktemp -d "$dir/dl.XXXXXX")
		(cd "$dl" && apt-get download "linux-image-$rel-unsigned" >&2)
		dpkg-deb --fsys-tarfile "$dl"/linux-image-"$rel"-unsigned_*.deb |
			tar -x -O "./boot/vmlinuz-$rel" >"$dl/vmlinuz"
		mv "$dl/vmlinuz" "$dir/vmlinuz-$rel"
		rm -rf "$dl"
	fi
	echo "$dir/vmlinuz-$rel"
}

# debian_lifecycle NAME [DIR]: builds patch NAME (of DIR, default the
# corpus) for the stock kernel REL and proves it in VMLINUZ: live after
# the load, gone after the unload, and no version or vermagic complaint
# from the module loader. REL, VMLINUZ and KALLSYMS are the caller's.
debian_lifecycle() {
	local name=$1 dir=${2:-$CORPUS} out=$BATS_TEST_TMPDIR/out ko
	run kbp_debian -o "$out" "$dir/$name.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	ko=$out/livepatch-$name.ko
	debian_prove "$ko" "$dir/$name-LOADED.test"
}

# debian_prove KO TEST: KO has REL's vermagic, and in REL's own vmlinuz
# TEST fails before the load, passes while KO is live and fails after the
# unload, with nothing refused by the module loader.
debian_prove() {
	local ko=$1 test=$2
	[ "$(modinfo -F vermagic "$ko" | awk '{ print $1 }')" = "$REL" ]
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$ko" "$test"
	run "$REPO/scripts/kbuild-patch-vm" --kernel "$VMLINUZ" --module "$ko" \
		--timeout 300 "$BATS_TEST_TMPDIR/guest.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
	[[ $output == *"Linux version $REL "* ]]
	if grep -Ei 'disagrees about version|version magic|Unknown symbol|invalid module format' <<<"$output"; then
		false
	fi
}

# kbp_debian ARGS...: kbuild-patch for the stock kernel REL, with the
# symbols of KALLSYMS.
kbp_debian() {
	"$REPO/scripts/kbuild-patch" --distro debian --release "$REL" \
		--kallsyms "$KALLSYMS" "$@"
}

# debian_test_kallsyms VMLINUZ OUT: boots the stock kernel (nokaslr, so
# the addresses are the link-time ones) and saves its /proc/kallsyms.
debian_test_kallsyms() {
	local vmlinuz=$1 out=$2 script cached=''
	# A stock vmlinuz fetched into test-debian keeps its dump beside it:
	# the next suite needs no boot for it.
	[[ $vmlinuz != */test-debian/* ]] || cached=$vmlinuz.kallsyms
	if [ -n "$cached" ] && [ -s "$cached" ]; then
		cp "$cached" "$out"
		return 0
	fi
	script=$(mktemp)
	cat >"$script" <<-'GUEST'
	#!/bin/sh
	# Keep late boot messages off the console while the dump runs.
	dmesg -n 1
	echo KBP-KALLSYMS-BEGIN
	gzip -c /proc/kallsyms | base64
	echo KBP-KALLSYMS-END
	GUEST
	"$REPO/scripts/kbuild-patch-vm" --kernel "$vmlinuz" --append nokaslr \
		--timeout 300 "$script" >"$out.console"
	rm -f "$script"
	sed -n '/^KBP-KALLSYMS-BEGIN/,/^KBP-KALLSYMS-END/p' "$out.console" |
		sed '1d;$d' | tr -d '\r' | grep -E '^[A-Za-z0-9+/=]+$' | base64 -d | gunzip >"$out"
	[ "$(wc -l <"$out")" -gt 10000 ]
	if [ -n "$cached" ]; then
		cp "$out" "$cached.tmp.$$"
		mv "$cached.tmp.$$" "$cached"
	fi
}

# package_state PKG: its version and status, or "none".
package_state() {
	dpkg-query -W -f='${Version} ${Status}\n' "$1" 2>/dev/null || echo none
}

# crcs_match KO SYMVERS: every symbol version KO imports is SYMVERS's
# CRC of that symbol; prints how many were compared.
crcs_match() {
	local crc sym want n=0
	while read -r crc sym; do
		want=$(awk -v s="$sym" '$2 == s { print $1 }' "$2")
		[ -n "$want" ] || { echo "$sym: not in $2" >&2; return 1; }
		[ $((crc)) -eq $((want)) ] || { echo "$sym: $crc, but $2 has $want" >&2; return 1; }
		n=$((n + 1))
	done < <(modprobe --dump-modversions "$1")
	echo "$n"
}
