# helpers.bash: shared helpers for the integration bats suites, which run
# scratch modules and guest scripts against the real test kernel through
# scripts/kbuild-patch-vm. Load it with "load helpers" at the top of a .bats
# file in test/integration/.
#
# Rules the helpers keep, and that suites should keep too: nothing is ever
# written into the checkout or into the test kernel directory K; sources
# are copied into $BATS_FILE_TMPDIR (or $BATS_TEST_TMPDIR) and built there.
#
# Variables:
#   KBP_ROOT        the checkout (derived from this file's location)
#   KBP_VM          the runner; defaults to $KBP_ROOT/scripts/kbuild-patch-vm
#                   (set it to test an installed copy)
#   KBP_VM_TIMEOUT  default --timeout that kbp_vm passes (120 s)
#   K               the test kernel directory; set it in setup_file with
#                   K=$(kbp_test_kernel); export K
#
# Functions:
#   kbp_test_kernel             build or reuse the test kernel, print K
#   kbp_module_copy NAME [DEST] copy test/integration/modules/NAME to DEST
#                               (default $BATS_FILE_TMPDIR/modules/NAME),
#                               print DEST
#   kbp_build_ext_module DIR    build the external module in DIR against
#                               $K/build
#   kbp_vm ARGS...              run the runner on $K/bzImage
#   kbp_guest_functions         print POSIX sh functions for guest scripts

KBP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KBP_VM=${KBP_VM:-$KBP_ROOT/scripts/kbuild-patch-vm}
KBP_VM_TIMEOUT=${KBP_VM_TIMEOUT:-120}

# kbp_test_kernel: build the test kernel, or reuse the cached one (waiting on
# the build lock if another build runs), and print its directory K.
kbp_test_kernel() {
	local k
	k=$("$KBP_ROOT/test/kernel/build-test-kernel" | tail -n 1) || return 1
	if [ -z "$k" ] || [ ! -e "$k/bzImage" ] || [ ! -d "$k/build" ]; then
		echo "kbp_test_kernel: build-test-kernel printed '$k', which is not a kernel dir" >&2
		return 1
	fi
	printf '%s\n' "$k"
}

# kbp_module_copy NAME [DEST]: copy the test module sources
# test/integration/modules/NAME into the scratch directory DEST (default
# $BATS_FILE_TMPDIR/modules/NAME) and print DEST.
kbp_module_copy() {
	local src=$KBP_ROOT/test/integration/modules/$1
	local dest=${2:-$BATS_FILE_TMPDIR/modules/$1}
	[ -d "$src" ] || { echo "kbp_module_copy: no test module $src" >&2; return 1; }
	mkdir -p "$dest"
	cp -R "$src/." "$dest/"
	chmod -R u+w "$dest"
	printf '%s\n' "$dest"
}

# kbp_build_ext_module DIR: build the external module whose sources (C files
# and a Kbuild file) are in DIR against $K/build, with make M=DIR modules.
# DIR must be a scratch copy: the objects and the .ko land in DIR. The make
# output goes to DIR/build.log and, on failure, to stderr.
kbp_build_ext_module() {
	local dir
	dir=$(cd "$1" && pwd) || return 1
	[ -n "${K:-}" ] || { echo "kbp_build_ext_module: K is not set; call kbp_test_kernel in setup_file" >&2; return 1; }
	case $dir/ in "$KBP_ROOT"/* | "$K"/*)
		echo "kbp_build_ext_module: refusing to build in $dir (inside the checkout or K); use kbp_module_copy" >&2
		return 1 ;;
	esac
	if ! make -C "$K/build" M="$dir" modules >"$dir/build.log" 2>&1; then
		echo "kbp_build_ext_module: building $dir against $K/build failed:" >&2
		cat "$dir/build.log" >&2
		return 1
	fi
}

# kbp_vm ARGS...: run the VM runner on the test kernel, with a default
# --timeout of $KBP_VM_TIMEOUT s (a later --timeout in ARGS wins).
kbp_vm() {
	"$KBP_VM" --kernel "$K/bzImage" --timeout "$KBP_VM_TIMEOUT" "$@"
}

# kbp_guest_functions: print POSIX sh (busybox ash) functions to put at the
# top of a guest script, e.g. { kbp_guest_functions; cat body.sh; } >script.
#
#   kbp_fail MSG [RC]
#       print "kbp_fail: MSG" and exit RC (default 1)
#   kbp_wait_transition PATCH [TIMEOUT_S]
#       wait (default 30 s, 0.1 s steps) until no transition of PATCH is
#       in flight: /sys/kernel/livepatch/PATCH/transition reads 0, or the
#       directory is gone (a disabled patch's directory disappears as soon
#       as its unpatching completes, so this is the normal case after
#       "echo 0 > enabled"). Returns 0 then, 1 on timeout. It cannot tell a
#       mistyped PATCH from an unloaded one, so check the effect afterwards.
#   kbp_rmmod MODULE [TIMEOUT_S]
#       rmmod MODULE, retrying while it is busy (a disabled livepatch drops
#       its module reference asynchronously); default 30 s. Returns 0 once
#       it is gone, 1 on timeout.
#   kbp_uptime_cs
#       print the uptime in centiseconds (for durations in the guest)
#   kbp_start_sleeper
#       start "sleep 1000" in the background, its pid in $sleeper, and wait
#       (10 s) until it sleeps in hrtimer_nanosleep (its /proc stack);
#       returns 0 then, 1 on timeout
kbp_guest_functions() {
	cat <<'EOF'
kbp_fail() {
	echo "kbp_fail: $1" >&2
	exit "${2:-1}"
}
kbp_wait_transition() {
	_kbp_d=/sys/kernel/livepatch/$1
	_kbp_n=$(( ${2:-30} * 10 ))
	while [ -d "$_kbp_d" ] && [ "$(cat "$_kbp_d/transition" 2>/dev/null)" != 0 ]; do
		if [ "$_kbp_n" -le 0 ]; then
			echo "kbp_wait_transition: $_kbp_d/transition did not read 0 within ${2:-30} s" >&2
			return 1
		fi
		sleep 0.1
		_kbp_n=$((_kbp_n - 1))
	done
	return 0
}
kbp_rmmod() {
	_kbp_n=$(( ${2:-30} * 10 ))
	until rmmod "$1" 2>/dev/null; do
		if [ "$_kbp_n" -le 0 ]; then
			rmmod "$1"
			echo "kbp_rmmod: could not remove $1 within ${2:-30} s" >&2
			return 1
		fi
		sleep 0.1
		_kbp_n=$((_kbp_n - 1))
	done
	return 0
}
kbp_uptime_cs() {
	read -r _kbp_u _ </proc/uptime
	_kbp_s=${_kbp_u%.*}
	_kbp_c=${_kbp_u#*.}
	echo $((_kbp_s * 100 + ${_kbp_c#0}))
}
kbp_start_sleeper() {
	sleep 1000 &
	sleeper=$!
	_kbp_n=100
	until grep -q 'hrtimer_nanosleep+' /proc/$sleeper/stack 2>/dev/null; do
		[ "$_kbp_n" -gt 0 ] || return 1
		sleep 0.1
		_kbp_n=$((_kbp_n - 1))
	done
	return 0
}
EOF
}
