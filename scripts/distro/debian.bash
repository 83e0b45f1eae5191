# shellcheck shell=bash
# shellcheck disable=SC2034 # sets the caller's SRC, CONFIG, SYMBOLS, ...
# distro/debian.bash: the inputs of kbuild-patch for a stock Debian kernel
# (--distro debian), sourced by kbuild-patch.
#
# From the release (6.12.117+deb12-amd64) it finds, or fetches into the
# cache, everything the build needs, all from Debian's own packages:
#   the source   linux-source-6.12 (must be the same upload as the image)
#   the config   /boot/config-REL, from linux-image-REL(-unsigned)
#   the modules  /lib/modules/REL, from the same package (.ko.xz)
#   Module.symvers  from linux-headers-REL
#   the symbols  a /proc/kallsyms dump (--kallsyms), a vmlinux (-v), the
#                -dbg package's vmlinux if installed, or else fetched from
#                linux-image-REL-dbg (about 1 GB; only the vmlinux is kept)
# Debian's System.map is a stub and the headers' vmlinux has only BTF, so
# neither can give the symbols.
#
# Everything fetched lands in $CACHE/debian/REL under a lock, each item
# renamed into place only when complete, so a killed run leaves nothing
# half-written behind.

# debian_release_of VERSION: the kernel release of a linux-source or
# linux-image package version, e.g. 6.12.117-1~deb12u1 -> 6.12.117+deb12.
debian_release_of() {
	local v=$1 up suite
	up=${v%%-*}
	suite=$(sed -n 's/.*~\(deb[0-9]*\)u[0-9]*$/\1/p' <<<"$v")
	[ -n "$suite" ] || suite=deb$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 12)
	echo "$up+$suite"
}

# debian_candidates PACKAGE: the versions apt knows of PACKAGE.
debian_candidates() {
	apt-cache madison "$1" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }'
}

# debian_fetch PACKAGE DIR: downloads PACKAGE's .deb into DIR (cached) and
# prints its path.
debian_fetch() {
	local pkg=$1 dir=$2 deb tmp
	deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*.deb" -print -quit 2>/dev/null)
	if [ -z "$deb" ]; then
		command -v apt-get >/dev/null || die "$EXIT_ERROR" "$pkg is needed and apt-get is missing; install $pkg"
		tmp=$dir/.fetch.$$
		mkdir -p "$tmp"
		(cd "$tmp" && apt-get download "$pkg" >>"$LOG" 2>&1) || {
			rm -rf "$tmp"
			return 1
		}
		deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
		[ -n "$deb" ] || { rm -rf "$tmp"; return 1; }
		mv "$deb" "$dir/"
		rm -rf "$tmp"
		deb=$dir/$(basename "$deb")
	fi
	echo "$deb"
}

# debian_extract DEB DEST PATH...: extracts PATHs (tar members, ./...)
# of DEB into DEST, atomically: DEST appears only once complete.
debian_extract() {
	local deb=$1 dest=$2 tmp
	shift 2
	[ -e "$dest/.complete" ] && return 0
	tmp=$dest.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "$@" 2>>"$LOG"; then
		rm -rf "$tmp"
		return 1
	fi
	touch "$tmp/.complete"
	rm -rf "$dest"
	mv "$tmp" "$dest"
}

# debian_resolve: sets SRC, CONFIG, SYMBOLS, SYMVERS, MODULES_DIR and
# KERNELRELEASE for the release $RELEASE (default: uname -r).
debian_resolve() {
	local rel=${RELEASE:-$(uname -r)} series up flavour srcpkg srcver img imgver
	local dir deb want tarball src

	[[ $rel =~ ^([0-9]+\.[0-9]+)\.[0-9]+\+deb[0-9]+-([a-z0-9-]+)$ ]] ||
		die "$EXIT_ERROR" "'$rel' is not a Debian kernel release (like 6.12.117+deb12-amd64); use --release REL"
	series=${BASH_REMATCH[1]}
	flavour=${BASH_REMATCH[2]}
	up=${rel%%+*}
	for tool in dpkg-query dpkg-deb apt-cache tar xz; do
		command -v "$tool" >/dev/null || die "$EXIT_ERROR" "$tool is not installed (needed for --distro debian)"
	done
	dir=$CACHE/debian/$rel
	mkdir -p "$dir/debs"
	exec 6>"$dir.lock"
	flock 6

	# The source, the same upload as the image.
	srcpkg=linux-source-$series
	srcver=$(dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null || true)
	want=$(debian_candidates "$srcpkg" | grep -m1 "^$up-" || true)
	if [ -z "$srcver" ]; then
		if [ "$(id -u)" -ne 0 ] || [ -z "$want" ]; then
			die "$EXIT_ERROR" "$srcpkg is not installed; install the source of $rel: apt-get install $srcpkg${want:+=$want}"
		fi
		phase "installing $srcpkg=$want"
		apt-get install -y "$srcpkg=$want" >>"$LOG" 2>&1 ||
			die "$EXIT_ERROR" "apt-get install $srcpkg=$want failed"
		srcver=$want
	fi
	if [ "$(debian_release_of "$srcver")-$flavour" != "$rel" ]; then
		die "$EXIT_ERROR" "$srcpkg $srcver is the source of $(debian_release_of "$srcver")-$flavour, not of $rel; install the matching source: apt-get install $srcpkg=${want:-$up-...}"
	fi

	# The image: config, modules; its version must be the source's.
	img=linux-image-$rel-unsigned
	if [ -r "/boot/config-$rel" ] && [ -d "/lib/modules/$rel/kernel" ]; then
		CONFIG=/boot/config-$rel
		MODULES_DIR=/lib/modules/$rel
		imgver=$(dpkg-query -W -f='${Version}' "linux-image-$rel" 2>/dev/null ||
			dpkg-query -W -f='${Version}' "$img" 2>/dev/null || echo "$srcver")
	else
		deb=$(debian_fetch "$img" "$dir/debs" || debian_fetch "linux-image-$rel" "$dir/debs") ||
			die "$EXIT_ERROR" "cannot download $img; is $rel a kernel in the configured apt sources? (apt-get update)"
		imgver=$(dpkg-deb -f "$deb" Version)
		phase "unpacking $(basename "$deb") (cached)"
		debian_extract "$deb" "$dir/image" ./boot ./lib/modules ./usr/lib/modules 2>/dev/null ||
			debian_extract "$deb" "$dir/image" ./boot ./lib/modules ||
			debian_extract "$deb" "$dir/image" ./boot ./usr/lib/modules ||
			die "$EXIT_ERROR" "cannot unpack $deb"
		CONFIG=$dir/image/boot/config-$rel
		MODULES_DIR=$dir/image/lib/modules/$rel
		[ -d "$MODULES_DIR" ] || MODULES_DIR=$dir/image/usr/lib/modules/$rel
	fi
	[ "$imgver" = "$srcver" ] ||
		die "$EXIT_ERROR" "the image of $rel is version $imgver but $srcpkg is $srcver; install the same upload of both: apt-get install $srcpkg=$imgver"
	[ -r "$CONFIG" ] || die "$EXIT_ERROR" "no config-$rel in the image package of $rel"

	# Module.symvers, from the headers of the same release.
	if [ -r "/usr/src/linux-headers-$rel/Module.symvers" ]; then
		SYMVERS=/usr/src/linux-headers-$rel/Module.symvers
	else
		deb=$(debian_fetch "linux-headers-$rel" "$dir/debs") ||
			die "$EXIT_ERROR" "cannot download linux-headers-$rel (for Module.symvers)"
		debian_extract "$deb" "$dir/headers" "./usr/src/linux-headers-$rel/Module.symvers" ||
			die "$EXIT_ERROR" "no Module.symvers in $deb"
		SYMVERS=$dir/headers/usr/src/linux-headers-$rel/Module.symvers
	fi

	# The symbols.
	if [ -n "$KALLSYMS" ]; then
		SYMBOLS=$KALLSYMS
	elif [ -n "$VMLINUX" ]; then
		SYMBOLS=$VMLINUX
	elif [ -r "/usr/lib/debug/boot/vmlinux-$rel" ]; then
		SYMBOLS=/usr/lib/debug/boot/vmlinux-$rel
	else
		if [ ! -e "$dir/dbg/.complete" ]; then
			phase "fetching linux-image-$rel-dbg (about 1 GB) for the kernel's symbols; --kallsyms FILE avoids this"
			deb=$(debian_fetch "linux-image-$rel-dbg" "$dir/debs") ||
				die "$EXIT_ERROR" "cannot download linux-image-$rel-dbg; pass --kallsyms FILE (a /proc/kallsyms dump of the target, read as root)"
			debian_extract "$deb" "$dir/dbg" "./usr/lib/debug/boot/vmlinux-$rel" ||
				die "$EXIT_ERROR" "no vmlinux-$rel in $deb"
			rm -f "$deb"
		fi
		SYMBOLS=$dir/dbg/usr/lib/debug/boot/vmlinux-$rel
	fi

	# The source tree, unpacked once per upload.
	src=$CACHE/debian/source-$srcver
	if [ ! -e "$src/.complete" ]; then
		tarball=/usr/src/$srcpkg.tar.xz
		[ -r "$tarball" ] || die "$EXIT_ERROR" "$tarball is missing; reinstall $srcpkg"
		phase "unpacking $tarball (cached)"
		rm -rf "$src.tmp.$$"
		mkdir -p "$src.tmp.$$"
		tar -xJf "$tarball" -C "$src.tmp.$$" --strip-components=1 ||
			die "$EXIT_ERROR" "cannot unpack $tarball"
		touch "$src.tmp.$$/.complete"
		rm -rf "$src"
		mv "$src.tmp.$$" "$src"
	fi
	SRC=$src
	KERNELRELEASE=$rel
	exec 6>&-
	phase "Debian $rel: $srcpkg $srcver, config $CONFIG, symbols $SYMBOLS"
}

# debian_module NAME DIR: the shipped NAME.ko of the release, decompressed
# into DIR; prints its path.
debian_module() {
	local name=$1 out=$2 f
	f=$(find "$MODULES_DIR" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) -print -quit 2>/dev/null)
	[ -n "$f" ] || return 1
	mkdir -p "$out"
	case $f in
	*.ko.xz) xz -dc "$f" >"$out/$name.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$out/$name.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$out/$name.ko" ;;
	*) cp "$f" "$out/$name.ko" ;;
	esac
	echo "$out/$name.ko"
}
