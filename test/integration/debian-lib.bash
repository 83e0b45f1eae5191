# debian-lib.bash: helpers for the stock Debian kernel tests
# (debian.bats): the release, the stock vmlinuz and a kallsyms dump,
# fetched and computed here independently of kbuild-patch.
# shellcheck shell=bash

# debian_test_release: the release of the installed linux-source-6.12,
# e.g. 6.12.117-1~deb12u1 -> 6.12.117+deb12-amd64 (see design.md).
debian_test_release() {
	local v
	v=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	echo "${v%%-*}+$(sed -n 's/.*~\(deb[0-9]*\)u[0-9]*$/\1/p' <<<"$v")-amd64"
}

# debian_test_vmlinuz REL DIR: the stock vmlinuz of REL, from Debian's
# image package, in DIR (reused when present).
debian_test_vmlinuz() {
	local rel=$1 dir=$2
	if [ ! -s "$dir/vmlinuz-$rel" ]; then
		mkdir -p "$dir/dl"
		(cd "$dir/dl" && apt-get download "linux-image-$rel-unsigned" >&2)
		dpkg-deb --fsys-tarfile "$dir"/dl/linux-image-"$rel"-unsigned_*.deb |
			tar -x -O "./boot/vmlinuz-$rel" >"$dir/vmlinuz-$rel.tmp"
		mv "$dir/vmlinuz-$rel.tmp" "$dir/vmlinuz-$rel"
		rm -rf "$dir/dl"
	fi
	echo "$dir/vmlinuz-$rel"
}

# debian_test_kallsyms VMLINUZ OUT: boots the stock kernel (nokaslr, so
# the addresses are the link-time ones) and saves its /proc/kallsyms.
debian_test_kallsyms() {
	local vmlinuz=$1 out=$2 script
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
}
