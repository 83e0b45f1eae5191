# corpus-lib.bash: helpers for the patch corpus tests (corpus.bats).
# Each test/integration/corpus/NAME.patch has a NAME-LOADED.test guest check or
# a NAME.fail expectation; see design.md, "Integration tests".
# shellcheck shell=bash
# shellcheck disable=SC2154 # $output and $status come from bats' run

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The patch corpus; the integration suites with their fixture
# directories (macros/, coexist/, ...); the tests' helper programs.
CORPUS=$REPO/test/integration/corpus
INTEGRATION=$REPO/test/integration
TESTLIB=$REPO/test/lib
# shellcheck source=test/lib/elf-lib.bash
. "$TESTLIB/elf-lib.bash"

# Sets K (the test kernel) and builds the tools; call from setup_file.
# Arguments are passed to build-test-kernel: "corpus_setup nojl" makes K
# the JUMP_LABEL=n kernel.
corpus_setup() {
	K=$("$REPO/test/kernel/build-test-kernel" "$@" | tail -1)
	export K
	tools_setup
}

# Builds the tools, for a suite without the test kernel (the stock Debian
# ones, tagged "# test-kernel: none", which run while it builds).
tools_setup() {
	export REPO CORPUS INTEGRATION TESTLIB
	make -s -C "$REPO" tools >&2
}

# kbuild-patch against the test kernel; extra arguments are passed on.
kbp() {
	"$REPO/scripts/kbuild-patch" -s "$K/source" -c "$K/config" \
		-v "$K/vmlinux" "$@"
}

# shell_job CMD...: CMD as a job of an interactive shell: in its own
# process group (a fault signal to the group reaches every process, as
# Ctrl-C or kill -9 -PGID does), and with SIGINT and SIGQUIT at their
# defaults. A shell without job control starts background commands with
# them ignored, and a program can't trap a signal ignored when it started:
# a test run in the background must not change what Ctrl-C does.
shell_job() {
	bash -c 'set -m
		perl -e '\''$SIG{INT} = $SIG{QUIT} = "DEFAULT"; exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n"'\'' -- "$@" &
		wait $!' shell-job "$@"
}

# modname FILE.ko: the module name the kernel uses.
modname() {
	local n
	n=$(basename "$1" .ko)
	echo "${n//-/_}"
}

# The guest half of guest_lifecycle: $MOD, $KO and $NCHECKS are set and
# the checks are in /tmp/check0.. before this runs.
read -r -d '' GUEST_LIFECYCLE <<'GUEST' || true
wait_transition() {
	n=0
	while [ "$(cat /sys/kernel/livepatch/$MOD/transition 2>/dev/null)" = 1 ]; do
		n=$((n + 1))
		[ $n -le 300 ] || return 1
		sleep 0.1
	done
}
# Prints how many checks pass.
count_passing() {
	p=0
	j=0
	while [ $j -lt $NCHECKS ]; do
		sh /tmp/check$j >/dev/null 2>&1 && p=$((p + 1))
		j=$((j + 1))
	done
	echo $p
}
[ -z "$EXTRA_BEFORE" ] || (eval "$EXTRA_BEFORE") || { echo "KBP-FAIL: the setup before the load failed"; exit 21; }
[ "$(count_passing)" = 0 ] || { echo "KBP-FAIL: a check passes before the load"; exit 10; }
insmod /modules/$KO || { echo "KBP-FAIL: insmod failed"; exit 11; }
[ -d /sys/kernel/livepatch/$MOD ] || { echo "KBP-FAIL: no /sys/kernel/livepatch/$MOD"; exit 12; }
wait_transition || { echo "KBP-FAIL: the transition did not finish"; exit 13; }
[ "$(cat /sys/kernel/livepatch/$MOD/enabled)" = 1 ] || { echo "KBP-FAIL: not enabled"; exit 14; }
n=$(count_passing)
[ "$n" = "$NCHECKS" ] || { echo "KBP-FAIL: $n of $NCHECKS checks pass after the load"; exit 15; }
[ -z "$EXTRA_LOADED" ] || (eval "$EXTRA_LOADED") || { echo "KBP-FAIL: extra check failed"; exit 20; }
echo 0 >/sys/kernel/livepatch/$MOD/enabled || { echo "KBP-FAIL: disable failed"; exit 16; }
wait_transition || { echo "KBP-FAIL: the unpatch transition did not finish"; exit 17; }
# The patch drops its module reference from a workqueue: retry rmmod.
n=0
until rmmod $MOD 2>/dev/null; do
	n=$((n + 1))
	[ $n -le 100 ] || { echo "KBP-FAIL: rmmod failed"; exit 18; }
	sleep 0.1
done
[ "$(count_passing)" = 0 ] || { echo "KBP-FAIL: a check passes after the unload"; exit 19; }
echo "KBP-LIFECYCLE-OK"
exit 0
GUEST

# guest_lifecycle OUT MODULE.ko TEST...: writes a guest script to OUT that
# checks that every TEST fails before the load, passes once the patch is
# live, and fails again after disable and rmmod. $EXTRA_LOADED, if set,
# is one more guest command that must pass while the patch is live;
# $EXTRA_BEFORE, if set, a guest command run first, before the load (to
# set up state that the new code must find).
guest_lifecycle() {
	local out=$1 ko=$2 t i=0
	shift 2
	{
		echo '#!/bin/sh'
		echo "MOD=$(modname "$ko")"
		echo "KO=$(basename "$ko")"
		printf 'EXTRA_LOADED=%q\n' "${EXTRA_LOADED:-}"
		printf 'EXTRA_BEFORE=%q\n' "${EXTRA_BEFORE:-}"
		for t in "$@"; do
			echo "cat >/tmp/check$i <<'KBP_CHECK_EOF'"
			cat "$t"
			echo "KBP_CHECK_EOF"
			i=$((i + 1))
		done
		echo "NCHECKS=$i"
		echo "$GUEST_LIFECYCLE"
	} >"$out"
}

# vm_run SCRIPT [runner options...]: boots the test kernel and runs it.
vm_run() {
	local script=$1
	shift
	"$REPO/scripts/kbuild-patch-vm" --kernel "$K/bzImage" --timeout 300 \
		"$@" "$script"
}

# kbp_dl_task: builds the guest helper kbp-dl-task (a SCHED_DEADLINE
# task, see kbp-dl-task.c) static, once per bats file, and prints its
# path. NAME.vm files name it as --module "$(kbp_dl_task)".
kbp_dl_task() {
	local bin=$BATS_FILE_TMPDIR/kbp-dl-task
	[ -x "$bin" ] || gcc -static -O2 -Wall -Wextra -Werror -o "$bin" "$TESTLIB/kbp-dl-task.c" >&2
	echo "$bin"
}

# corpus_build NAME OUT: builds NAME.patch into OUT and checks the result;
# kbuild-patch's output is kept in OUT.log. CORPUS_KBP_ARGS, if set, are
# more kbuild-patch options (e.g. --keep). The load check ran and passed
# (every symbol resolves in the test kernel), and no tool reported an
# internal error.
corpus_build() {
	local name=$1 out=$2
	run kbp -o "$out" ${CORPUS_KBP_ARGS[@]+"${CORPUS_KBP_ARGS[@]}"} "$CORPUS/$name.patch"
	echo "$output"
	printf '%s\n' "$output" >"$out.log"
	[ "$status" -eq 0 ]
	[ -f "$out/livepatch-$name.ko" ]
	[[ $output == *"kbuild-patch: checking that every symbol resolves in the target"* ]]
	[[ $output != *"internal error"* ]]
	no_runtime_const_placeholder "$out/livepatch-$name.ko"
}

# no_runtime_const_placeholder FILE.ko: no code of the module loads the
# placeholder of a boot-time constant (runtime_const_ptr()'s
# 0x0123456789abcdef, see arch/x86/include/asm/runtime-const.h), which
# the kernel replaces only in vmlinux, at boot.
no_runtime_const_placeholder() {
	if objdump -d "$1" | grep -F 0x123456789abcdef; then
		echo "$1: loads the placeholder of a boot-time constant"
		return 1
	fi
}

# vm_extras ARRAY NAME...: appends the runner options of each NAME.vm
# (shell words, e.g. --expect 'REGEX') to the array variable ARRAY.
vm_extras() {
	local array=$1 name i
	local -a more
	local -A seen=()
	shift
	for name in "$@"; do
		[ -f "$CORPUS/$name.vm" ] || continue
		eval "more=($(cat "$CORPUS/$name.vm"))"
		# A module that two patches need is copied into the guest once
		# (the runner refuses two files of one name).
		i=0
		while [ "$i" -lt ${#more[@]} ]; do
			if [ "${more[$i]}" = --module ] && [ $((i + 1)) -lt ${#more[@]} ]; then
				if [ -z "${seen[${more[$((i + 1))]}]:-}" ]; then
					seen[${more[$((i + 1))]}]=1
					eval "$array+=(--module \"\${more[\$((i + 1))]}\")"
				fi
				i=$((i + 2))
			else
				eval "$array+=(\"\${more[\$i]}\")"
				i=$((i + 1))
			fi
		done
	done
}

# corpus_lifecycle NAME: builds NAME.patch and proves it in the VM.
corpus_lifecycle() {
	local name=$1 out=$BATS_TEST_TMPDIR/out
	local -a extra=()
	corpus_build "$name" "$out"
	guest_lifecycle "$BATS_TEST_TMPDIR/guest.sh" "$out/livepatch-$name.ko" \
		"$CORPUS/$name-LOADED.test"
	vm_extras extra "$name"
	run vm_run "$BATS_TEST_TMPDIR/guest.sh" \
		--module "$out/livepatch-$name.ko" "${extra[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *KBP-LIFECYCLE-OK* ]]
}

# corpus_refusal NAME: NAME.patch must be refused as NAME.fail says.
corpus_refusal() {
	local name=$1 out=$BATS_TEST_TMPDIR/out code msg
	code=$(sed -n 1p "$CORPUS/$name.fail")
	msg=$(sed -n 2p "$CORPUS/$name.fail")
	run kbp -o "$out" "$CORPUS/$name.patch"
	echo "$output"
	[ "$status" -eq "$code" ]
	[[ $output == *"$msg"* ]]
	# A refusal is the input's, never an internal error (exit 4).
	[[ $output != *"internal error"* ]]
	# Nothing, not even a partial file, is left in the output directory.
	[ -z "$(ls -A "$out" 2>/dev/null)" ]
}

# count_relas FILE SECTION REGEX: relocations of SECTION matching REGEX.
count_relas() {
	# The regex goes through the environment: awk -v would process its
	# backslashes (gawk turns "\+" into "+"; mawk doesn't).
	readelf -rW "$1" | KBP_RE=$3 awk -v sec="'$2'" '
		/^Relocation section/ { in_sec = ($3 == sec); next }
		in_sec && $0 ~ ENVIRON["KBP_RE"] { n++ }
		END { print n + 0 }'
}

# tree_signature DIR: names, sizes, modes and mtimes of every file.
tree_signature() {
	find "$1" -printf '%P %s %m %T@ %y\n' | LC_ALL=C sort | sha256sum
}
# tree_state DIR: also every file's ctime and inode. Any write, creation,
# deletion or rename in DIR changes a ctime, which no one can set back.
tree_state() {
	find "$1" -printf '%P %s %m %T@ %C@ %i %y\n' | LC_ALL=C sort | sha256sum
}

# direct_calls KO SECTION: the call instructions of SECTION (a thunk
# call reads "cs call" with -mindirect-branch-cs-prefix) other than those
# of the indirect-call thunks and of static-call trampolines, which
# .retpoline_sites and .static_call_sites record instead. A call is
# classified by the relocation of its operand, plain or klp.
direct_calls() {
	objdump -dr -j "$2" "$1" | awk '
		/^ *[0-9a-f]+:\t/ {
			if (pending) n++
			pending = ($0 ~ /\t(cs )?call /)
			next
		}
		pending && /R_X86_64_/ {
			if ($NF !~ /__x86_indirect_thunk_|__SCT__/) n++
			pending = 0
		}
		END { if (pending) n++; print n + 0 }'
}

# objtool_sites KO: for each text section of KO, "SECTION RET RETPOLINE
# CALLS" as the code has them (jumps to the return thunk, uses of the
# indirect-call thunks, direct calls other than to those thunks and to
# static-call trampolines, which .static_call_sites records) and,
# after " | ", as .return_sites, .retpoline_sites and .call_sites record
# them.
objtool_sites() {
	local ko=$1 sec ret thunk calls
	while read -r sec; do
		ret=$(count_relas "$ko" ".rela$sec" ' __x86_return_thunk ')
		thunk=$(count_relas "$ko" ".rela$sec" ' __x86_indirect_thunk_')
		calls=$(direct_calls "$ko" "$sec")
		printf '%s %s %s %s | %s %s %s\n' "$sec" "$ret" "$thunk" "$calls" \
			"$(count_relas "$ko" .rela.return_sites " \\$sec \\+")" \
			"$(count_relas "$ko" .rela.retpoline_sites " \\$sec \\+")" \
			"$(count_relas "$ko" .rela.call_sites " \\$sec \\+")"
	done < <(readelf -SW "$ko" | sed -nE 's/^ *\[ *[0-9]+\] //p' |
		awk '$1 ~ /^\.(text|init\.text|exit\.text)/ && $0 ~ / AX / { print $1 }')
}

# kept_work OUTPUT: the work directory a --keep run of kbuild-patch names.
kept_work() {
	sed -n 's/.*work directory kept: //p' <<<"$1"
}

# logging_cc DIR LOG CC...: DIR/CC, for each compiler CC, logs each compile
# (-c) of a C file as "c SOURCE" and each dependency run (-M) as
# "M SOURCE" to LOG, then runs the real CC.
logging_cc() {
	local dir=$1 log=$2 cc real
	shift 2
	mkdir -p "$dir"
	for cc in "$@"; do
		real=$(command -v "$cc")
		cat >"$dir/$cc" <<-EOF
		#!/bin/sh
		kind=
		case " \$* " in *" -c "*) kind=c ;; *" -M "*) kind=M ;; esac
		if [ -n "\$kind" ]; then
			for a in "\$@"; do case \$a in *.c) echo "\$kind \$a" >>"$log" ;; esac; done
		fi
		exec "$real" "\$@"
		EOF
		chmod +x "$dir/$cc"
	done
}

# kbp_keep NAME OUT: build corpus/NAME.patch into OUT with --keep (run);
# it must succeed. Its work directory: kept_work "$output".
kbp_keep() {
	run kbp -o "$2" --keep "$CORPUS/$1.patch"
	echo "$output"
	[ "$status" -eq 0 ]
}

# key_off_guest: the guest script of static-key-exported with the key off
# at boot (init_on_free=0): the patch loads and the new code takes the
# "off" branch (corpus.bats, and no-jump-label.bats on the nojl kernel).
key_off_guest() {
	cat <<-'EOF'
	m=livepatch_static_key_exported
	dmesg | grep -q 'mem auto-init:.*heap free:off' || exit 10
	insmod /modules/livepatch-static-key-exported.ko || exit 11
	while [ "$(cat /sys/kernel/livepatch/$m/transition)" = 1 ]; do sleep 0.1; done
	cat /sys/kernel/uevent_seqnum
	grep -qx 'kbp-init-on-free: off' /sys/kernel/uevent_seqnum || exit 12
	echo KBP-KEY-OFF-OK
	EOF
}

# file_funcs FILE: the functions of the STT_FILE block FILE in K/vmlinux:
# FILE's local (static) functions. A linked image lists the globals after
# every file's block: the first global ends the last block.
file_funcs() {
	readelf -sW "$K/vmlinux" | awk -v file="$1" '$4 == "FILE" { f = $8 } $5 != "LOCAL" { f = "" }
		$4 == "FUNC" && f == file { print $8 }'
}

# vmlinux_rank NAME FILE: the address rank of FILE's NAME among all NAMEs.
vmlinux_rank() {
	local addr
	addr=$(readelf -sW "$K/vmlinux" | awk -v s="$1" -v file="$2" '
		$4 == "FILE" { f = $8 } $5 != "LOCAL" { f = "" } $8 == s && f == file { print $2 }')
	readelf -sW "$K/vmlinux" | awk -v s="$1" '$8 == s { print $2 }' |
		sort | awk -v a="$addr" '{ n++ } $1 == a { print n }'
}

# klp_sym_of KO NAME: the .klp.sym.* symbols of KO that stand for NAME
# (any object, any sympos), one a line.
klp_sym_of() {
	readelf -sW "$1" | awk -v n="$2" '{ s = $NF; sub(/^\.klp\.sym\.[^.]*\./, "", s); sub(/,[0-9]+$/, "", s) }
		$NF ~ /^\.klp\.sym\./ && s == n { print $NF }'
}
