#!/usr/bin/env bats
# Interruption and concurrency: kbuild-patch killed by SIGINT, SIGTERM and
# SIGKILL at deterministic points of every phase (KBP_FAULT_AT, see
# kbuild-patch(1)), and runs started together on one cache. After every
# kill the user's tree is unchanged, the output directory holds no partial
# file and no module that its manifest doesn't describe, and the next run
# succeeds without any cleanup, rebuilding what the killed run left
# half-made and reusing what it finished.
#
# The tests share one cache (made here, cold) and run in file order; the
# last one counts the kill points the others exercised.
# test-cost: long
# test-tier: slow

load ../lib/corpus-lib

setup_file() {
	corpus_setup
	# The runs' own cache and work directories, away from other users'.
	export XDG_CACHE_HOME=$BATS_FILE_TMPDIR/cache TMPDIR=$BATS_FILE_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	# No compiler launcher: a ccache hit would run no compiler, and the
	# kill points inside a compile wait for one.
	export KBP_CC_WRAPPER=none
	# A gcc that logs the C files it compiles (and, with KBP_TEST_SLOW_CC
	# set, lingers that many seconds after compiling fs/proc/meminfo.c),
	# then exits with the real compiler's status.
	local real
	real=$(command -v gcc)
	export KBP_TEST_BIN=$BATS_FILE_TMPDIR/bin KBP_TEST_CALLS=$BATS_FILE_TMPDIR/gcc-calls
	mkdir -p "$KBP_TEST_BIN"
	cat >"$KBP_TEST_BIN/gcc" <<-EOF
	#!/bin/sh
	for a in "\$@"; do case \$a in *.c) echo "\$a" >>"\$KBP_TEST_CALLS" ;; esac; done
	case " \$* " in *"/fs/proc/meminfo.c "*) ;; *) exec "$real" "\$@" ;; esac
	[ -n "\${KBP_TEST_SLOW_CC:-}" ] || exec "$real" "\$@"
	rc=0
	"$real" "\$@" || rc=\$?
	sleep "\$KBP_TEST_SLOW_CC"
	exit \$rc
	EOF
	chmod +x "$KBP_TEST_BIN/gcc"
	export PATH=$KBP_TEST_BIN:$PATH
	# The user's tree as it is now: names, sizes, modes, mtimes, ctimes
	# and inodes. Any write, creation, deletion or rename in the tree
	# changes a ctime, which no one can set back.
	tree_state "$K/source" >"$BATS_FILE_TMPDIR/tree-before"
	sha256sum "$K/source/fs/proc/meminfo.c" >"$BATS_FILE_TMPDIR/meminfo.sum"
	export KILLS=$BATS_FILE_TMPDIR/kills NAME=livepatch-kbp-intr
	export REF=$BATS_FILE_TMPDIR/ref
	mkdir -p "$REF"
}

# The signing options: every module here is signed, so the sign-file
# step has kill points too (the signature is deterministic).
SIGN=()
sign_opts() {
	SIGN=(--sign-key "$K/build/certs/signing_key.pem" --sign-cert "$K/build/certs/signing_key.x509")
}

# kbp_job ARGS...: kbuild-patch as a shell job (its own process group),
# as started from an interactive shell: a fault signal goes to the whole
# group, like Ctrl-C or kill -9 -PGID.
kbp_job() {
	sign_opts
	shell_job "$REPO/scripts/kbuild-patch" \
		-s "$K/source" -c "$K/config" -v "$K/vmlinux" "${SIGN[@]}" "$@"
}

kdir() {
	local d
	for d in "$XDG_CACHE_HOME"/kbuild-patch/trees/*/; do
		[ -d "$d" ] && echo "${d%/}"
	done
}

signum() { case $1 in INT) echo 2 ;; TERM) echo 15 ;; KILL) echo 9 ;; esac; }

# kill_run POINT SIGNAL [PATCH]: a run of PATCH (default meminfo.patch,
# module $NAME, into $OUT) killed at POINT by SIGNAL; checks that it was,
# and that the user's tree is as it was.
kill_run() {
	local point=$1 sig=$2 patch=${3:-$CORPUS/meminfo.patch}
	KBP_FAULT_AT=$point KBP_FAULT_SIGNAL=$sig run kbp_job -o "$OUT" -n "$NAME" "$patch"
	echo "$output"
	echo "$point $sig exit $status"
	[ "$status" -eq $((128 + $(signum "$sig"))) ]
	[[ $output == *"fault injection: SIG$sig at $point"* ]]
	echo "$point $sig" >>"$KILLS"
	check_tree
}

check_tree() {
	[ "$(tree_state "$K/source")" = "$(cat "$BATS_FILE_TMPDIR/tree-before")" ]
	sha256sum -c --quiet "$BATS_FILE_TMPDIR/meminfo.sum"
}

# check_output_after_kill SIGNAL: a module in $OUT is complete and its
# manifest describes it: both are the old ones (A) or both the new ones
# (B). After INT or TERM no temporary file is left either.
check_output_after_kill() {
	local sig=$1 f
	ls -A "$OUT"
	if [ -e "$OUT/$NAME.ko" ]; then
		if cmp -s "$OUT/$NAME.ko" "$REF/A.ko"; then
			cmp "$OUT/$NAME.json" "$REF/A.json"
		else
			cmp "$OUT/$NAME.ko" "$REF/B.ko"
			cmp "$OUT/$NAME.json" "$REF/B.json"
		fi
	fi
	for f in "$OUT"/* "$OUT"/.[!.]*; do
		[ -e "$f" ] || continue
		case ${f##*/} in
		"$NAME.ko" | "$NAME.json") ;;
		".$NAME.ko.tmp."* | ".$NAME.json.tmp."*) [ "$sig" = KILL ] ;;
		*) echo "unexpected file $f"; false ;;
		esac
	done
}

# recover COMPILES: the next run, without any cleanup: it succeeds, reuses
# the prepared tree (the marker planted in it stays), compiles
# fs/proc/meminfo.c COMPILES times (2: the original again, 1: the
# original from the cache), and leaves exactly the new module and its
# manifest, and no temporary file in the cache.
recover() {
	local compiles=$1 kd
	kd=$(kdir)
	: >"$KBP_TEST_CALLS"
	run kbp_job -o "$OUT" -n "$NAME" "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$kd/kbp-test-marker" ]
	grep -c 'fs/proc/meminfo\.c$' "$KBP_TEST_CALLS" || true
	[ "$(grep -c 'fs/proc/meminfo\.c$' "$KBP_TEST_CALLS")" -eq "$compiles" ]
	[ "$(find "$OUT" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')" = "$NAME.json $NAME.ko " ]
	cmp "$OUT/$NAME.ko" "$REF/B.ko"
	cmp "$OUT/$NAME.json" "$REF/B.json"
	[ -z "$(find "$kd" -name '*.tmp.*' -not -path "$kd/obj/*")" ]
}

# kill_and_recover POINT SIGNAL COMPILES: the output directory holds the
# old module (A, another patch under the same name), a run is killed at
# POINT, then the next one must recover.
kill_and_recover() {
	OUT=$BATS_TEST_TMPDIR/out-${1/:/-}
	mkdir -p "$OUT"
	cp "$REF/A.ko" "$OUT/$NAME.ko"
	cp "$REF/A.json" "$OUT/$NAME.json"
	kill_run "$1" "$2"
	check_output_after_kill "$2"
	recover "$3"
}

# The new module (B: meminfo.patch) and an old one of the same name (A:
# cmdline-string.patch), each from an uninterrupted run (B is the first
# test's, when it ran).
refs() {
	local out=$BATS_FILE_TMPDIR/ref-out
	if [ ! -e "$REF/B.ko" ]; then
		run kbp_job -o "$out" -n "$NAME" "$CORPUS/meminfo.patch"
		[ "$status" -eq 0 ]
		cp "$out/$NAME.ko" "$REF/B.ko"
		cp "$out/$NAME.json" "$REF/B.json"
	fi
	if [ ! -e "$REF/A.ko" ]; then
		run kbp_job -o "$out" -n "$NAME" "$CORPUS/cmdline-string.patch"
		[ "$status" -eq 0 ]
		cp "$out/$NAME.ko" "$REF/A.ko"
		cp "$out/$NAME.json" "$REF/A.json"
	fi
	! cmp -s "$REF/A.ko" "$REF/B.ko" || false
	touch "$(kdir)/kbp-test-marker"
}

@test "kills while the cache's tree is prepared: the next run rebuilds it; once stamped, it is reused" {
	local kd p sig
	OUT=$BATS_TEST_TMPDIR/out
	# The cache is cold.
	[ -z "$(kdir)" ]
	# Each kill leaves the tree half-prepared, without its stamp: the
	# next run must start it over (the marker planted in it goes).
	for p in prepare:1/KILL prepare:2/INT prepare:3/TERM prepare:4/KILL probe:1/TERM; do
		sig=${p#*/}
		p=${p%/*}
		kill_run "$p" "$sig"
		kd=$(kdir)
		[ -n "$kd" ]
		[ -z "$(ls -A "$OUT" 2>/dev/null)" ]
		# The run before this one left the marker; this one removed it.
		[ ! -e "$kd/kbp-test-marker" ]
		case $p in
		prepare:*) [ ! -e "$kd/.complete" ] ;;
		probe:*) [ -e "$kd/.complete" ] ;;
		esac
		touch "$kd/kbp-test-marker"
	done
	# The stamp is there now: the tree is kept from here on. A kill
	# between the probe's output and its rename leaves a temporary file.
	kill_run probe:2 KILL
	[ -e "$kd/kbp-test-marker" ]
	ls "$kd"
	[ -z "$(find "$kd" -maxdepth 1 -name 'special-sizes.*' -not -name '*.tmp.*')" ]
	[ -n "$(find "$kd" -maxdepth 1 -name 'special-sizes.*.tmp.*')" ]
	# The next run reuses the tree, finishes the probe, and removes what
	# the killed one left.
	run kbp_job -o "$OUT" -n "$NAME" "$CORPUS/meminfo.patch"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$kd/kbp-test-marker" ]
	[ -z "$(find "$kd" -maxdepth 1 -name '*.tmp.*')" ]
	[ -n "$(find "$kd" -maxdepth 1 -name 'special-sizes.*' -not -name '*.tmp.*')" ]
	[ "$(find "$OUT" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')" = "$NAME.json $NAME.ko " ]
	check_tree
	# That module is the reference B of the later tests: each run after
	# a kill must build it again byte for byte (the concurrency test
	# proves it in the VM).
	cp "$OUT/$NAME.ko" "$REF/B.ko"
	cp "$OUT/$NAME.json" "$REF/B.json"
}

@test "kills while applying and building the original objects: the object cache takes only finished objects" {
	local kd
	refs
	kd=$(kdir)
	kill_and_recover apply:1 INT 1
	kill_and_recover apply:2 KILL 1
	# With the original object not cached yet, a kill before it is
	# renamed into the cache means it is compiled again.
	rm "$kd/objs/fs/proc/meminfo.o" "$kd/objs/fs/proc/meminfo.o.cmd"
	kill_and_recover original:1 KILL 2
	rm "$kd/objs/fs/proc/meminfo.o" "$kd/objs/fs/proc/meminfo.o.cmd"
	kill_and_recover original:3 KILL 2
	# Once renamed into the cache, it is reused.
	rm "$kd/objs/fs/proc/meminfo.o" "$kd/objs/fs/proc/meminfo.o.cmd"
	kill_and_recover original:5 INT 1
}

@test "kills while building the patched objects and diffing them" {
	refs
	kill_and_recover patched:1 INT 1
	# Killed with the patched object still in the shared build directory.
	kill_and_recover patched:2 KILL 1
	kill_and_recover diff:2 KILL 1
}

@test "kills while generating, building and post-linking the module" {
	refs
	kill_and_recover module:2 KILL 1
	kill_and_recover kbuild:1 INT 1
	kill_and_recover kbuild:2 KILL 1
	kill_and_recover postlink:2 KILL 1
}

@test "kills while signing and writing the output: a module there is always complete and matches its manifest" {
	refs
	kill_and_recover sign:1 TERM 1
	kill_and_recover sign:2 KILL 1
	kill_and_recover output:2 TERM 1
	# Between the manifest's rename and the module's: the old module is
	# already gone, the new one not there yet.
	kill_and_recover output:3 KILL 1
	kill_and_recover output:4 INT 1
}

@test "kills at the remaining points: lock taken, objects moved and cached, diff, module sources, post-link, output" {
	local kd
	refs
	kd=$(kdir)
	# Holding the prepared tree's lock: the kernel drops it with the
	# descriptor, and the next run takes it at once.
	kill_and_recover lock:1 KILL 1
	# Compiled, not cached yet; then with only the .cmd file cached: a
	# cached object counts only with both, so it is compiled again.
	rm "$kd/objs/fs/proc/meminfo.o" "$kd/objs/fs/proc/meminfo.o.cmd"
	kill_and_recover original:2 TERM 2
	rm "$kd/objs/fs/proc/meminfo.o" "$kd/objs/fs/proc/meminfo.o.cmd"
	kill_and_recover original:4 KILL 2
	kill_and_recover patched:3 TERM 1
	kill_and_recover diff:1 INT 1
	kill_and_recover diff:3 KILL 1
	kill_and_recover module:1 TERM 1
	kill_and_recover module:3 KILL 1
	kill_and_recover postlink:1 INT 1
	kill_and_recover output:1 KILL 1
}

@test "a SIGKILL of the run alone (OOM) during a compile: the next run waits for the orphaned build, says so once, and succeeds" {
	local msg
	refs
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
	sign_opts
	# Not a process group leader: only the script is killed; its compile
	# lingers 6 s (KBP_TEST_SLOW_CC) still holding the cache's lock.
	run env KBP_FAULT_AT=patched:1 KBP_FAULT_SIGNAL=KILL KBP_TEST_SLOW_CC=6 \
		"$REPO/scripts/kbuild-patch" -s "$K/source" -c "$K/config" \
		-v "$K/vmlinux" "${SIGN[@]}" -o "$OUT" -n "$NAME" "$CORPUS/meminfo.patch" 3>&-
	echo "$output"
	[ "$status" -eq 137 ]
	[[ $output == *"fault injection: SIGKILL at patched:1"* ]]
	echo "patched:1 KILL" >>"$KILLS"
	check_tree
	recover 1
	msg=$(grep -c 'waiting for another kbuild-patch run on the prepared tree' <<<"$output")
	[ "$msg" -eq 1 ]
	[[ $output == *"(pid "*", which was killed; its build processes still run)"* ]]
}

@test "two runs at once, different patches and outputs: both succeed, one waited, both modules load" {
	local o1=$BATS_TEST_TMPDIR/o1 o2=$BATS_TEST_TMPDIR/o2 w1 w2 guest=$BATS_TEST_TMPDIR/guest.sh
	refs
	sign_opts
	kbp_job -o "$o1" -n "$NAME" --keep "$CORPUS/meminfo.patch" >"$BATS_TEST_TMPDIR/r1" 2>&1 &
	local p1=$!
	kbp_job -o "$o2" -n "$NAME-2" --keep "$CORPUS/cmdline-string.patch" >"$BATS_TEST_TMPDIR/r2" 2>&1 &
	local p2=$!
	local s1=0 s2=0
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	cat "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
	[ "$s1" -eq 0 ]
	[ "$s2" -eq 0 ]
	# Exactly one of them waited, and said so once.
	[ "$(cat "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2" | grep -c 'waiting for another kbuild-patch run on the prepared tree .* (pid [0-9]*)$')" -eq 1 ]
	# Both kept their own work directory (nothing removed the other's).
	w1=$(kept_work "$(cat "$BATS_TEST_TMPDIR/r1")")
	w2=$(kept_work "$(cat "$BATS_TEST_TMPDIR/r2")")
	[ -n "$w1" ] && [ -n "$w2" ] && [ "$w1" != "$w2" ]
	[ -s "$w1/build.log" ] && [ -s "$w2/build.log" ]
	rm -rf "$w1" "$w2"
	# The first is byte for byte the module of an uninterrupted run.
	cmp "$o1/$NAME.ko" "$REF/B.ko"
	# Both load, patch, and unload in the VM.
	{
		echo '#!/bin/sh'
		guest_lifecycle "$BATS_TEST_TMPDIR/g1.sh" "$o1/$NAME.ko" "$CORPUS/meminfo-LOADED.test"
		guest_lifecycle "$BATS_TEST_TMPDIR/g2.sh" "$o2/$NAME-2.ko" "$CORPUS/cmdline-string-LOADED.test"
		echo "cat >/tmp/g1.sh <<'KBP_G1_EOF'"
		cat "$BATS_TEST_TMPDIR/g1.sh"
		echo "KBP_G1_EOF"
		echo "cat >/tmp/g2.sh <<'KBP_G2_EOF'"
		cat "$BATS_TEST_TMPDIR/g2.sh"
		echo "KBP_G2_EOF"
		echo 'sh /tmp/g1.sh || exit $?'
		echo 'sh /tmp/g2.sh || exit $?'
		echo 'echo KBP-BOTH-OK'
	} >"$guest"
	run vm_run "$guest" --module "$o1/$NAME.ko" --module "$o2/$NAME-2.ko"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c KBP-LIFECYCLE-OK <<<"$output")" -eq 2 ]
	[[ $output == *KBP-BOTH-OK* ]]
}

@test "the same patch into the same output twice at once: both succeed and the output is one complete module" {
	local out=$BATS_TEST_TMPDIR/out s1=0 s2=0
	refs
	kbp_job -o "$out" -n "$NAME" "$CORPUS/meminfo.patch" >"$BATS_TEST_TMPDIR/r1" 2>&1 &
	local p1=$!
	kbp_job -o "$out" -n "$NAME" "$CORPUS/meminfo.patch" >"$BATS_TEST_TMPDIR/r2" 2>&1 &
	local p2=$!
	# Each job waited for and checked on its own line, as in the test
	# above: a failure then says which run it was.
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	cat "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
	[ "$s1" -eq 0 ]
	[ "$s2" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2" | grep -c 'waiting for another kbuild-patch run')" -eq 1 ]
	[ "$(find "$out" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')" = "$NAME.json $NAME.ko " ]
	cmp "$out/$NAME.ko" "$REF/B.ko"
	cmp "$out/$NAME.json" "$REF/B.json"
}

@test "the kills above: every fault point, each signal at several, a SIGKILL in every phase (run the whole file)" {
	local phase
	cat "$KILLS"
	[ "$(cut -d' ' -f1 "$KILLS" | sort -u | wc -l)" -ge 20 ]
	for sig in INT TERM KILL; do
		[ "$(grep -c " $sig$" "$KILLS")" -ge 4 ]
	done
	for phase in lock prepare probe apply original patched diff module kbuild postlink sign output; do
		grep -q "^$phase:[0-9]* KILL$" "$KILLS" || { echo "no SIGKILL in $phase"; false; }
	done
	# Every fault point of the script is exercised by a kill above, but
	# the dependency scan's (depscan.bats kills it: it needs its own cache).
	grep -o 'fault_point [a-z]*:[0-9]*' "$REPO/scripts/kbuild-patch" | cut -d' ' -f2 |
		grep -v '^scan:' | sort -u >"$BATS_TEST_TMPDIR/all"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/all")" -ge 30 ]
	cut -d' ' -f1 "$KILLS" | sort -u >"$BATS_TEST_TMPDIR/done"
	comm -23 "$BATS_TEST_TMPDIR/all" "$BATS_TEST_TMPDIR/done" >"$BATS_TEST_TMPDIR/missed"
	echo "not exercised: $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/missed")"
	[ ! -s "$BATS_TEST_TMPDIR/missed" ]
}
