#!/usr/bin/env bats
# The patch corpus, part three (the code shapes of -O2: clones, inlining, .cold parts, static locals): each patch is built with kbuild-patch against
# the test kernel and proven in the VM (live after the load, gone after
# the unload), or refused with the exit code and message of its .fail
# file. (corpus.bats checks that every patch has a test in one part.)
# test-cost: long

load ../lib/corpus-lib

setup_file() {
	corpus_setup
}

@test "clone-isra: a function that exists only as a compiler clone is patched under the clone's name and sympos" {
	local clone addr rank_host
	# Independently of kbuild-patch: fs/proc/base.c's __set_oom_adj is
	# only a clone in the kernel, at this address and rank by name.
	clone=$(readelf -sW "$K/vmlinux" | awk '$4 == "FILE" { f = $8 }
		$4 == "FUNC" && f == "base.c" && $8 ~ /^__set_oom_adj\./ { print $8 }')
	[[ $clone =~ ^__set_oom_adj\.(isra|constprop|part)\.[0-9]+$ ]]
	if readelf -sW "$K/vmlinux" | awk '$8 == "__set_oom_adj"' | grep -q .; then false; fi
	addr=$(readelf -sW "$K/vmlinux" | awk -v c="$clone" '$4 == "FILE" { f = $8 }
		$8 == c && f == "base.c" { print $2 }')
	rank_host=$(readelf -sW "$K/vmlinux" | awk -v c="$clone" '$8 == c { print $2 }' |
		sort | awk -v a="$addr" '{ n++ } $1 == a { print n }')
	[ -n "$rank_host" ]
	# In the guest: the same rank from /proc/kallsyms, and the livepatch
	# function directory of exactly that clone and position.
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="rank=\$(grep ' $clone\$' /proc/kallsyms | sort | awk '{ n++ } \$1 == \"$addr\" { print n }');
		echo \"kallsyms rank of $clone: \$rank\"; ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ \"\$rank\" = $rank_host ] && [ -d /sys/kernel/livepatch/\$MOD/vmlinux/$clone,\$rank ]"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	corpus_lifecycle clone-isra
	# The clone is the one function reported changed.
	grep -q "fs/proc/base.o: changed function: $clone\$" "$BATS_TEST_TMPDIR/out.log"
	[ "$(grep -c 'changed function:' "$BATS_TEST_TMPDIR/out.log")" -eq 1 ]
}

@test "inline-becomes-call: a helper the kernel inlined is a new function of the patch, called from its patched caller" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-inline-becomes-call.ko rank
	# Independently: in the kernel, timer_list.c's print_base() was
	# inlined (no symbol of its own) into print_cpu(), which was not.
	file_funcs timer_list.c | grep -qx print_cpu
	if file_funcs timer_list.c | grep -qx print_base; then false; fi
	rank=$(vmlinux_rank print_cpu timer_list.c)
	[ -n "$rank" ]
	# In the guest, print_cpu at its rank is patched, print_base is not
	# a patched function (it has nothing to replace).
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/print_cpu,$rank ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c '^print_base,')\" = 0 ]"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	corpus_lifecycle inline-becomes-call
	# The module carries print_base as its own code, called directly.
	readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND"' | grep -q ' print_base$'
	if readelf -sW "$ko" | grep -q '\.klp\.sym\..*print_base'; then false; fi
	[ "$(count_relas "$ko" .rela.text.print_cpu ' (print_base|\.text\.print_base) [-+] ')" -ge 1 ]
	run kbp -o "$BATS_TEST_TMPDIR/again" "$CORPUS/inline-becomes-call.patch"
	[ "$status" -eq 0 ]
	[[ $output == *"kernel/time/timer_list.o: new function: print_base"* ]]
	[[ $output == *"kernel/time/timer_list.o: changed function: print_cpu"* ]]
	[ "$(grep -cE '(new|changed) function:' <<<"$output")" -eq 2 ]
}

@test "call-becomes-inline: a function of the kernel inlined into its patched callers is neither carried nor patched" {
	local ko=$BATS_TEST_TMPDIR/out/livepatch-call-becomes-inline.ko f
	# Independently: show_vfsmnt_opts() is a function of its own in the
	# kernel, and so are its two callers.
	for f in show_vfsmnt_opts show_vfsmnt show_mountinfo; do
		file_funcs proc_namespace.c | grep -qx "$f"
	done
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/show_vfsmnt,$(vmlinux_rank show_vfsmnt proc_namespace.c) ] &&
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/show_mountinfo,$(vmlinux_rank show_mountinfo proc_namespace.c) ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c '^show_vfsmnt_opts,')\" = 0 ]"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	corpus_lifecycle call-becomes-inline
	# Nothing in the module is or refers to the old function.
	if readelf -sW "$ko" | grep -q 'show_vfsmnt_opts'; then false; fi
	if readelf -SW "$ko" | grep -q 'show_vfsmnt_opts'; then false; fi
	run kbp -o "$BATS_TEST_TMPDIR/again" "$CORPUS/call-becomes-inline.patch"
	[ "$status" -eq 0 ]
	[[ $output == *"fs/proc_namespace.o: changed function: show_vfsmnt"* ]]
	[[ $output == *"fs/proc_namespace.o: changed function: show_mountinfo"* ]]
	[ "$(grep -cE '(new|changed) function:' <<<"$output")" -eq 2 ]
	if grep -q show_vfsmnt_opts <<<"$output"; then false; fi
}

@test "FAIL-sched-text: a changed __sched function (in .sched.text with others) is refused as unsupported" {
	local o=$K/build/kernel/time/hrtimer.o idx funcs
	# Independently: in the kernel's object, do_nanosleep shares the
	# .sched.text section with other functions.
	idx=$(readelf -SW "$o" | sed -n 's/^ *\[ *\([0-9]*\)\] \.sched\.text .*/\1/p')
	[ -n "$idx" ]
	funcs=$(readelf -sW "$o" | awk -v i="$idx" '$4 == "FUNC" && $7 == i { print $8 }')
	grep -qx do_nanosleep <<<"$funcs"
	[ "$(wc -l <<<"$funcs")" -gt 1 ]
	corpus_refusal FAIL-sched-text
}

@test "FAIL-runtime-shift: a changed function that uses a boot-time shift (d_hash_shift, through d_hash()) is refused as unsupported" {
	local o=$K/build/fs/dcache.o start size
	# Independently: in the kernel's object, runtime_shift_d_hash_shift
	# has an entry in __d_lookup's code.
	read -r start size < <(readelf -sW "$o" |
		awk '$4 == "FUNC" && $8 == "__d_lookup" { print $2, $3 }')
	[ -n "$start" ]
	readelf -rW "$o" | awk -v s=$((16#$start)) -v n="$size" '
		/^Relocation section/ { on = ($3 == "'\''.relaruntime_shift_d_hash_shift'\''"); next }
		on && $5 == ".text" && $6 == "+" {
			a = 0; h = $7
			for (i = 1; i <= length(h); i++)
				a = a * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
			if (a >= s && a < s + n) hit = 1
		}
		END { exit !hit }'
	corpus_refusal FAIL-runtime-shift
	[[ $output == *"fs/dcache.o: __d_lookup (.text.__d_lookup): uses the boot-time constant d_hash_shift"* ]]
	[[ $output == *"patch a caller instead"* ]]
}

# Code shapes of an -O2 kernel (CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE, as
# every distribution builds): .cold parts and .part/.constprop clones.
# Each test first checks with nm/readelf that the shape it claims is
# really in the test kernel's objects and in the two builds.

@test "the test kernel is built with -O2, as distributions build theirs" {
	grep -qx 'CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y' "$K/config"
	grep -q ' -O2 ' "$K/build/fs/proc/.meminfo.o.cmd"
	if grep -q ' -Os ' "$K/build/fs/proc/.meminfo.o.cmd"; then false; fi
}

@test "cold-hot: a function with a .cold part whose hot part alone changes; the cold part goes into the module with it" {
	local o=$K/build/kernel/sched/build_policy.o out=$BATS_TEST_TMPDIR/out
	local work ko f=task_non_contending rank
	# Independently: gcc split task_non_contending's trap path into a
	# .cold part in the kernel's own object, and the kernel has it.
	nm "$o" | grep -qE " t $f\\.cold\$"
	nm "$o" | grep -qE " t $f\$"
	nm "$K/vmlinux" | grep -qE " t $f\\.cold\$"
	rank=$(vmlinux_rank "$f" build_policy.c)
	[ -n "$rank" ]
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="[ -d /sys/kernel/livepatch/\$MOD/vmlinux/$f,$rank ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c 'cold')\" = 0 ]"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	# shellcheck disable=SC2034 # read by corpus_lifecycle (test/lib/corpus-lib.bash)
	CORPUS_KBP_ARGS=(--keep)
	corpus_lifecycle cold-hot
	work=$(kept_work "$(cat "$out.log")")
	[ -d "$work" ]
	# In the two builds: the hot part differs, the .cold part has the
	# same bytes and relocations.
	[ "$(section_signature "$work/orig/kernel/sched/build_policy.o" .text.unlikely.$f)" = \
		"$(section_signature "$work/patched/kernel/sched/build_policy.o" .text.unlikely.$f)" ]
	[ "$(section_signature "$work/orig/kernel/sched/build_policy.o" .text.$f)" != \
		"$(section_signature "$work/patched/kernel/sched/build_policy.o" .text.$f)" ]
	rm -rf "$work"
	grep -q "kernel/sched/build_policy.o: changed function: $f\$" "$out.log"
	[ "$(grep -cE '(new|changed) function:' "$out.log")" -eq 1 ]
	# The module carries the cold part as its own code, which the new hot
	# part jumps into; no klp symbol names it.
	ko=$out/livepatch-cold-hot.ko
	readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND"' | grep -qE " $f\\.cold\$"
	if readelf -sW "$ko" | grep -q "\\.klp\\.sym\\..*$f"; then false; fi
	[ "$(count_relas "$ko" ".rela.text.$f" " ($f\\.cold|\\.text\\.unlikely\\.$f) [-+] ")" -ge 1 ]
}

@test "clone-part-gone: a .part clone the kernel has and the patched build no longer makes; its callers are patched to call the whole new function" {
	local o=$K/build/fs/proc/task_mmu.o out=$BATS_TEST_TMPDIR/out work ko f
	# Independently: the kernel's object has only the partial-inlining
	# clone of get_vma_name, and so has the kernel.
	nm "$o" | grep -qE ' t get_vma_name\.part\.[0-9]+$'
	if nm "$o" | grep -qE ' get_vma_name$'; then false; fi
	nm "$K/vmlinux" | grep -qE ' t get_vma_name\.part\.[0-9]+$'
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="ls /sys/kernel/livepatch/\$MOD/vmlinux;
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/show_map_vma,$(vmlinux_rank show_map_vma task_mmu.c) ] &&
		[ -d /sys/kernel/livepatch/\$MOD/vmlinux/do_procmap_query,$(vmlinux_rank do_procmap_query task_mmu.c) ] &&
		[ \"\$(ls /sys/kernel/livepatch/\$MOD/vmlinux | grep -c '^get_vma_name')\" = 0 ]"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	# shellcheck disable=SC2034 # read by corpus_lifecycle (test/lib/corpus-lib.bash)
	CORPUS_KBP_ARGS=(--keep)
	corpus_lifecycle clone-part-gone
	work=$(kept_work "$(cat "$out.log")")
	[ -d "$work" ]
	# The original build has the clone, the patched build the whole
	# function and no clone.
	nm "$work/orig/fs/proc/task_mmu.o" | grep -qE ' t get_vma_name\.part\.[0-9]+$'
	nm "$work/patched/fs/proc/task_mmu.o" | grep -qE ' t get_vma_name$'
	if nm "$work/patched/fs/proc/task_mmu.o" | grep -q 'get_vma_name\.'; then false; fi
	rm -rf "$work"
	grep -q 'fs/proc/task_mmu.o: new function: get_vma_name$' "$out.log"
	grep -q 'fs/proc/task_mmu.o: changed function: show_map_vma$' "$out.log"
	grep -q 'fs/proc/task_mmu.o: changed function: do_procmap_query$' "$out.log"
	# The module defines get_vma_name and calls it directly; nothing in it
	# names the kernel's clone.
	ko=$out/livepatch-clone-part-gone.ko
	readelf -sW "$ko" | awk '$4 == "FUNC" && $7 != "UND"' | grep -qE ' get_vma_name$'
	if readelf -sW "$ko" | grep -q 'get_vma_name\.part'; then false; fi
	for f in show_map_vma do_procmap_query; do
		[ "$(count_relas "$ko" ".rela.text.$f" ' (get_vma_name|\.text\.get_vma_name) [-+] ')" -ge 1 ]
	done
}

@test "static-local-renumbered: a new printk site renumbers the file's static locals; the module still loads" {
	corpus_lifecycle static-local-renumbered
}

@test "static-local-renumbered: the module names the renumbered statics as the running kernel does, with its sympos" {
	local out=$BATS_TEST_TMPDIR/out work ko f old new pos
	kbp_keep static-local-renumbered "$out"
	work=$(kept_work "$output")
	[ -d "$work" ]
	ko=$out/livepatch-static-local-renumbered.ko
	# The shape, independently of create-diff-object: the new printk
	# brings .printk_index statics, and gcc, which numbers a file's
	# function-scope statics in one sequence, gives each other function's
	# static another number in the patched build.
	python3 "$TESTLIB/kbp_elf.py" printk-sites "$work/patched/kernel/irq/proc.o" |
		grep -qF "show_interrupts	'kbp-irq-renumber"
	for f in register_irq_proc show_interrupts; do
		old=$(python3 "$TESTLIB/kbp_elf.py" static-refs "$work/orig/kernel/irq/proc.o" "$f")
		new=$(python3 "$TESTLIB/kbp_elf.py" static-refs "$work/patched/kernel/irq/proc.o" "$f")
		echo "$f: $old -> $new"
		[ "$(wc -w <<<"$old")" -eq 1 ] && [ "$(wc -w <<<"$new")" -eq 1 ]
		[ "${old%.*}" = "${new%.*}" ] && [ "$old" != "$new" ]
		# The original's spelling is the running kernel's: kernel/irq/proc.c's
		# block of K/vmlinux has it (sympos exits non-zero otherwise).
		pos=$(python3 "$TESTLIB/kbp_elf.py" sympos "$K/vmlinux" "$old" proc.c)
		[ "$(klp_sym_of "$ko" "$old")" = ".klp.sym.vmlinux.$old,$pos" ]
		[ -z "$(klp_sym_of "$ko" "$new")" ]
		grep -q "changed function: $f\$" <<<"$output"
	done
	rm -rf "$work"
}

@test "static-local-same-name: of the two static mutexes of sched/rt.c, the patched handler keeps its own" {
	local out=$BATS_TEST_TMPDIR/keep work ko rr rt pos addr
	kbp_keep static-local-same-name "$out"
	work=$(kept_work "$output")
	[ -d "$work" ]
	ko=$out/livepatch-static-local-same-name.ko
	# Independently: in the original object, sched_rr_handler and
	# sched_rt_handler each use a static local called mutex.
	rr=$(python3 "$TESTLIB/kbp_elf.py" static-refs "$work/orig/kernel/sched/build_policy.o" sched_rr_handler)
	rt=$(python3 "$TESTLIB/kbp_elf.py" static-refs "$work/orig/kernel/sched/build_policy.o" sched_rt_handler)
	rm -rf "$work"
	echo "sched_rr_handler: $rr, sched_rt_handler: $rt"
	[ "${rr%.*}" = mutex ] && [ "${rt%.*}" = mutex ] && [ "$rr" != "$rt" ]
	pos=$(python3 "$TESTLIB/kbp_elf.py" sympos "$K/vmlinux" "$rr" build_policy.c)
	[ "$(klp_sym_of "$ko" "$rr")" = ".klp.sym.vmlinux.$rr,$pos" ]
	[ -z "$(klp_sym_of "$ko" "$rt")" ]
	# The new code's mutex_lock() and mutex_unlock() take that one.
	[ "$(count_relas "$ko" .klp.rela.vmlinux..text.sched_rr_handler " .klp.sym.vmlinux.$rr,$pos ")" -ge 2 ]
	# In the guest: the kallsyms rank of that mutex (its K/vmlinux
	# address among the symbols of its name) is the module's sympos.
	addr=$(readelf -sW "$K/vmlinux" | awk -v n="$rr" '$8 == n { print $2 }')
	[ "$(wc -w <<<"$addr")" -eq 1 ]
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="n=\$(grep -c ' $rr\$' /proc/kallsyms);
		rank=\$(grep ' $rr\$' /proc/kallsyms | sort | awk '{ r++ } \$1 == \"$addr\" { print r }');
		echo \"kallsyms: \$n $rr, ours has rank \$rank\";
		if [ \"\$n\" = 1 ]; then [ $pos = 0 ] && [ \"\$rank\" = 1 ]; else [ \"\$rank\" = $pos ]; fi"
	# shellcheck disable=SC2090 # the guest script above, passed on as it is
	export EXTRA_LOADED
	corpus_lifecycle static-local-same-name
}

@test "static-local-state: the new code keeps the original static local and the state set before the load" {
	local out=$BATS_TEST_TMPDIR/out ko stfu pos
	# Independently: drop_caches_sysctl_handler's static stfu in the
	# kernel's own symbols (K/vmlinux, fs/drop_caches.c's block).
	stfu=$(readelf -sW "$K/vmlinux" | awk '$4 == "FILE" { f = $8 }
		f == "drop_caches.c" && $4 == "OBJECT" && $8 ~ /^stfu\.[0-9]+$/ { print $8 }')
	[ "$(wc -w <<<"$stfu")" -eq 1 ]
	pos=$(python3 "$TESTLIB/kbp_elf.py" sympos "$K/vmlinux" "$stfu" drop_caches.c)
	# Before the load: writing 4 sets stfu, and the original code says
	# nothing from then on. Once the patch is live, the new code must
	# report that state (quiet 4) and stay quiet too; a fresh copy of
	# stfu would say quiet 0 and print the old message again.
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_BEFORE="echo 4 >/proc/sys/vm/drop_caches || exit 1
		a=\$(dmesg | grep -c ': drop_caches: 1\$')
		echo 1 >/proc/sys/vm/drop_caches
		[ \"\$(dmesg | grep -c ': drop_caches: 1\$')\" = \"\$a\" ]"
	# shellcheck disable=SC2089 # a guest script (corpus_lifecycle evals it): its quotes are the guest's
	EXTRA_LOADED="a=\$(dmesg | grep -c ': drop_caches: 1\$')
		echo 1 >/proc/sys/vm/drop_caches || exit 1
		dmesg | grep 'kbp-static-state: drop_caches 1, quiet' | tail -n 1 | grep 'quiet 4\$' &&
		[ \"\$(dmesg | grep -c ': drop_caches: 1\$')\" = \"\$a\" ]"
	# shellcheck disable=SC2090 # the guest scripts above, passed on as they are
	export EXTRA_BEFORE EXTRA_LOADED
	corpus_lifecycle static-local-state
	ko=$out/livepatch-static-local-state.ko
	# The module refers to the kernel's stfu and has no copy of its own.
	[ "$(klp_sym_of "$ko" "$stfu")" = ".klp.sym.vmlinux.$stfu,$pos" ]
	[ -z "$(readelf -sW "$ko" | awk '$4 == "OBJECT" && $7 != "UND" && $8 ~ /^stfu\./')" ]
}
