# shellcheck shell=bash
# shellcheck disable=SC2034 # sets the caller's SRC, CONFIG, SYMBOLS, ...
# distro/debian.bash: the inputs of kbuild-patch for a stock Debian kernel
# (--distro debian), sourced by kbuild-patch.
#
# From the release (6.12.118+deb12-amd64, or ABI-named: 6.1.0-57-amd64)
# it finds, or fetches into the cache, everything the build needs, all
# from Debian's own packages, at the image's own upload:
#   the source   linux-source-X.Y of that upload (fetched, never installed)
#   the config   /boot/config-REL, from linux-image-REL(-unsigned)
#   the modules  /lib/modules/REL, from the same package (.ko.xz); from a
#                fetched package only the modules a build reads are
#                unpacked, each when first needed
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

# debian_records PACKAGE...: one line "PACKAGE VERSION SOURCE" for each
# version of each PACKAGE that apt knows (SOURCE: the first word of the
# Source field, "linux (6.1.192-3)" -> linux, or the package's own name).
# One apt-cache run for them all: each run costs most of a second where
# apt's binary cache isn't kept. Only exact names count: apt-cache show
# falls back to a regex search for a name it doesn't know.
debian_records() {
	# (apt-cache exits 100 when it knows none of them.)
	{ apt-cache show "$@" 2>/dev/null || true; } | awk -v names="$*" '
		BEGIN { n = split(names, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		function flush() {
			if (pkg in want && ver != "") print pkg, ver, (src != "" ? src : pkg)
			pkg = ver = src = ""
		}
		/^Package: / { pkg = $2 }
		/^Version: / { ver = $2 }
		/^Source: / { src = $2 }
		/^$/ { flush() }
		END { flush() }' | sort -u
}

# debian_fetch PACKAGE VERSION DIR: downloads that version of PACKAGE
# into DIR (cached) and prints the .deb's path. apt-get download needs no
# root and installs nothing.
debian_fetch() {
	local pkg=$1 ver=$2 dir=$3 deb tmp
	deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*.deb" -print -quit 2>/dev/null)
	if [ -z "$deb" ]; then
		command -v apt-get >/dev/null || die "$EXIT_ERROR" "$pkg is needed and apt-get is missing; install apt"
		tmp=$dir/.fetch.$$
		mkdir -p "$tmp"
		(cd "$tmp" && apt-get download "$pkg=$ver" >>"$LOG" 2>&1) || {
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

# debian_tar DEB TAR-ARGS...: tar over the files of DEB, with tar's status.
# dpkg-deb is killed by SIGPIPE when tar stops early (--occurrence): only
# tar's status tells.
debian_tar() {
	local deb=$1 status
	shift
	dpkg-deb --fsys-tarfile "$deb" 2>/dev/null | tar "$@" && status=0 || status=${PIPESTATUS[1]}
	return "$status"
}

# debian_extract DEB DEST FILE...: extracts the FILEs (tar members,
# ./...) of DEB into DEST, atomically: DEST appears only once complete.
# tar stops reading once it has them all (the config and the vmlinuz come
# first in an image package, before its 100 MB of modules).
debian_extract() {
	local deb=$1 dest=$2 tmp
	shift 2
	[ -e "$dest/.complete" ] && return 0
	tmp=$dest.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if ! debian_tar "$deb" -x -C "$tmp" --occurrence "$@" 2>>"$LOG"; then
		rm -rf "$tmp"
		return 1
	fi
	touch "$tmp/.complete"
	rm -rf "$dest"
	mv "$tmp" "$dest"
}

# debian_extract_first DEB DIR PATTERN: extracts into DIR the first member
# of DEB that matches the tar wildcard PATTERN and prints its path (as in
# the archive). tar stops reading at that member: the modules early in the
# package cost a fraction of a second, where the whole 100 MB of them cost
# about 6 s.
debian_extract_first() {
	local deb=$1 dir=$2 pattern=$3 status=0 member
	mkdir -p "$dir"
	debian_tar "$deb" -x -v -C "$dir" --wildcards --occurrence "$pattern" \
		2>>"$LOG" >"$dir/.member" || status=$?
	member=$(head -n 1 "$dir/.member")
	rm -f "$dir/.member"
	[ "$status" -eq 0 ] && [ -n "$member" ] && [ -f "$dir/$member" ] || return 1
	echo "$member"
}

# debian_image REL RECORDS: prints "PACKAGE VERSION" of the image package
# of the release REL, from dpkg if it is installed, else from RECORDS
# (debian_records of its two names). Debian's ABI-named releases
# (6.1.0-57-amd64) keep their name across uploads: if apt knows several,
# the running kernel's own (/proc/version) picks one, or the user must.
debian_image() {
	local rel=$1 records=$2 pkg vers running
	for pkg in "linux-image-$rel-unsigned" "linux-image-$rel"; do
		if [ -r "/boot/config-$rel" ] &&
			dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep ' installed$' >/dev/null; then
			echo "$pkg $(dpkg-query -W -f='${Version}' "$pkg")"
			return 0
		fi
	done
	for pkg in "linux-image-$rel-unsigned" "linux-image-$rel"; do
		vers=$(awk -v p="$pkg" '$1 == p { print $2 }' <<<"$records")
		[ -n "$vers" ] && break
	done
	[ -n "$vers" ] || return 1
	if [ "$(wc -l <<<"$vers")" -gt 1 ]; then
		running=
		[ "$rel" != "$(uname -r)" ] ||
			running=$(sed -n 's/.* Debian \([^ ]*\) .*/\1/p' /proc/version 2>/dev/null)
		grep -qxF -- "$running" <<<"$vers" ||
			die "$EXIT_ERROR" "apt knows several uploads of $pkg ($(tr '\n' ' ' <<<"$vers")); build on the machine that runs $rel, or keep only its upload in the apt sources"
		vers=$running
	fi
	echo "$pkg $vers"
}

# debian_source PACKAGE VERSION: unpacks that upload of linux-source-X.Y
# into $CACHE/debian/source-VERSION, once, under a lock, and sets SRC to
# it. The installed package is used if it is that upload; else the
# .deb is fetched (no root; nothing is installed or changed). The
# tarball is xz in dozens of blocks, which xz -T0 (5.4) decompresses on
# every core at once; tar -J would use one.
debian_source() {
	local pkg=$1 ver=$2 src=$CACHE/debian/source-$2 tarball=/usr/src/$1.tar.xz tmp deb
	mkdir -p "$CACHE/debian"
	exec 7>"$src.lock"
	flock 7
	if [ ! -e "$src/.complete" ]; then
		# Holding the lock: any temporary of this upload is a killed run's.
		rm -rf "$src".tmp.* "$src".fetch.*
		tmp=$src.tmp.$$
		mkdir -p "$tmp"
		if [ "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)" = "$ver" ] &&
			[ -r "$tarball" ]; then
			phase "unpacking $tarball (cached)"
			xz -dc -T0 "$tarball" | tar -x -C "$tmp" --strip-components=1 ||
				die "$EXIT_ERROR" "cannot unpack $tarball"
		else
			phase "fetching $pkg=$ver (cached; the installed packages are left as they are)"
			deb=$(debian_fetch "$pkg" "$ver" "$src.fetch.$$") ||
				die "$EXIT_ERROR" "cannot download $pkg=$ver; is the archive that has it in the apt sources? (apt-get update)"
			phase "unpacking $(basename "$deb") (cached)"
			dpkg-deb --fsys-tarfile "$deb" | tar -xO ".${tarball}" |
				xz -dc -T0 | tar -x -C "$tmp" --strip-components=1 ||
				die "$EXIT_ERROR" "cannot unpack $tarball from $deb"
			rm -rf "$src.fetch.$$"
		fi
		touch "$tmp/.complete"
		rm -rf "$src"
		mv "$tmp" "$src"
	fi
	exec 7>&-
	SRC=$src
}

# debian_resolve: sets SRC, CONFIG, SYMBOLS, SYMVERS, MODULES_DIR and
# KERNELRELEASE for the release $RELEASE (default: uname -r). Both of
# Debian's schemes: 6.12.118+deb12-amd64 and the ABI-named 6.1.0-57-amd64.
# The release maps to its upload and its source package only through the
# image package's metadata (Version, Source).
debian_resolve() {
	local rel=${RELEASE:-$(uname -r)} img imgver srcname srcpkg series
	local dir deb tool records srcrecords

	[[ $rel =~ ^[0-9]+\.[0-9]+\.[0-9]+[-+][a-z0-9.+-]*[a-z0-9]$ ]] ||
		die "$EXIT_ERROR" "'$rel' is not a Debian kernel release (like 6.12.118+deb12-amd64 or 6.1.0-57-amd64); use --release REL"
	for tool in dpkg-query dpkg-deb apt-cache apt-get tar xz; do
		command -v "$tool" >/dev/null || die "$EXIT_ERROR" "$tool is not installed (needed for --distro debian)"
	done
	dir=$CACHE/debian/$rel
	mkdir -p "$dir/debs"
	exec 6>"$dir.lock"
	flock 6

	img='' imgver=''
	records=$(debian_records "linux-image-$rel-unsigned" "linux-image-$rel")
	read -r img imgver < <(debian_image "$rel" "$records" || true) || true
	[ -n "${imgver:-}" ] ||
		die "$EXIT_ERROR" "'$rel' is not a Debian kernel release that apt knows: no package linux-image-$rel(-unsigned); is it in the apt sources? (apt-get update)"

	# The source: the linux-source-X.Y binary of the image's own source
	# package, at the image's version.
	srcname=$(awk -v p="linux-image-$rel-unsigned" -v v="$imgver" \
		'$1 == p && $2 == v { print $3; exit }' <<<"$records")
	series=$(sed -n 's/^\([0-9]*\.[0-9]*\)[.-].*/\1/p' <<<"$imgver")
	srcpkg=linux-source-$series
	srcrecords=$(debian_records "$srcpkg" | awk -v v="$imgver" '$2 == v')
	[ -n "$srcrecords" ] ||
		[ "$(dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null || true)" = "$imgver" ] ||
		die "$EXIT_ERROR" "the source of $rel ($srcpkg $imgver) is not in the apt sources; add the archive that has it (for old uploads, snapshot.debian.org) and apt-get update"
	if [ -n "$srcname" ] && [ -n "$srcrecords" ] && [ "$(awk '{ print $3; exit }' <<<"$srcrecords")" != "$srcname" ]; then
		die "$EXIT_ERROR" "$srcpkg $imgver is not built from $srcname, the source package of $img; report this"
	fi

	# The image: config, modules.
	if [ -r "/boot/config-$rel" ] && [ -d "/lib/modules/$rel/kernel" ]; then
		CONFIG=/boot/config-$rel
		MODULES_DIR=/lib/modules/$rel
	else
		deb=$(debian_fetch "$img" "$imgver" "$dir/debs") ||
			die "$EXIT_ERROR" "cannot download $img=$imgver; is $rel a kernel in the configured apt sources? (apt-get update)"
		phase "unpacking $(basename "$deb") (config; modules when needed; cached)"
		debian_extract "$deb" "$dir/image" "./boot/config-$rel" "./boot/vmlinuz-$rel" ||
			die "$EXIT_ERROR" "cannot unpack $deb"
		CONFIG=$dir/image/boot/config-$rel
		# The modules stay in the package until a build reads one:
		# debian_module unpacks each into MODULES_DIR.
		IMAGE_DEB=$deb
		MODULES_DIR=$dir/modules
	fi
	[ -r "$CONFIG" ] || die "$EXIT_ERROR" "no config-$rel in the image package of $rel"
	grep -q '^CONFIG_LIVEPATCH=y' "$CONFIG" ||
		die "$EXIT_ERROR" "$rel is built without CONFIG_LIVEPATCH; it cannot load a livepatch"

	# Module.symvers, from the headers of the same upload.
	if [ -r "/usr/src/linux-headers-$rel/Module.symvers" ] &&
		[ "$(dpkg-query -W -f='${Version}' "linux-headers-$rel" 2>/dev/null || true)" = "$imgver" ]; then
		SYMVERS=/usr/src/linux-headers-$rel/Module.symvers
	else
		deb=$(debian_fetch "linux-headers-$rel" "$imgver" "$dir/debs") ||
			die "$EXIT_ERROR" "cannot download linux-headers-$rel=$imgver (for Module.symvers)"
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
			deb=$(debian_fetch "linux-image-$rel-dbg" "$imgver" "$dir/debs") ||
				die "$EXIT_ERROR" "cannot download linux-image-$rel-dbg=$imgver; pass --kallsyms FILE (a /proc/kallsyms dump of the target, read as root)"
			debian_extract "$deb" "$dir/dbg" "./usr/lib/debug/boot/vmlinux-$rel" ||
				die "$EXIT_ERROR" "no vmlinux-$rel in $deb"
			rm -f "$deb"
		fi
		SYMBOLS=$dir/dbg/usr/lib/debug/boot/vmlinux-$rel
	fi
	exec 6>&-

	debian_source "$srcpkg" "$imgver"
	KERNELRELEASE=$rel
	phase "Debian $rel: $srcpkg $imgver, config $CONFIG, symbols $SYMBOLS"
}

# debian_module_file PATTERN: the shipped module (compressed or not) of
# the release whose path matches the tar wildcard PATTERN (below
# lib/modules/REL/), from MODULES_DIR or else unpacked from the image
# package into it, under the release's lock; prints its path.
debian_module_file() {
	local pattern=$1 f tmp member rc=0
	f=$(find "$MODULES_DIR" -path "$MODULES_DIR/$pattern" -type f -print -quit 2>/dev/null)
	if [ -z "$f" ] && [ -n "$IMAGE_DEB" ]; then
		exec 6>"$CACHE/debian/$KERNELRELEASE.lock"
		flock 6
		f=$(find "$MODULES_DIR" -path "$MODULES_DIR/$pattern" -type f -print -quit 2>/dev/null)
		if [ -z "$f" ]; then
			tmp=$MODULES_DIR.tmp.$$
			rm -rf "$tmp"
			member=$(debian_extract_first "$IMAGE_DEB" "$tmp" "*/modules/$KERNELRELEASE/$pattern") || rc=1
			if [ $rc -eq 0 ]; then
				f=$MODULES_DIR/${member#*/modules/"$KERNELRELEASE"/}
				mkdir -p "$(dirname "$f")"
				mv "$tmp/$member" "$f"
			fi
			rm -rf "$tmp"
		fi
		exec 6>&-
	fi
	[ -n "$f" ] || return 1
	echo "$f"
}

# debian_module NAME DIR: the shipped NAME.ko of the release, decompressed
# into DIR; prints its path.
debian_module() {
	local name=$1 out=$2 f
	# A module's file may spell its name with dashes (nls-utf8.ko loads
	# as nls_utf8).
	f=$(debian_module_file "*/${name//[_-]/[_-]}.ko*") || return 1
	mkdir -p "$out"
	case $f in
	*.ko.xz) xz -dc "$f" >"$out/$name.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$out/$name.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$out/$name.ko" ;;
	*) cp "$f" "$out/$name.ko" ;;
	esac
	echo "$out/$name.ko"
}

# debian_vermagic DIR: the vermagic of a module shipped with the release
# (the first one in the package), decompressed into DIR.
debian_vermagic() {
	local f name ko
	f=$(debian_module_file "kernel/*.ko*") || return 1
	name=$(basename "$f")
	ko=$(debian_module "${name%%.ko*}" "$1") || return 1
	modinfo -F vermagic "$ko" | xargs
}
