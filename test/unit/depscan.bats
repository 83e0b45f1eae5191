#!/usr/bin/env bats
# The awk parts of the dependency scan (scripts/lib/depscan.bash) on
# small made-up inputs: reach.awk (which files can include a changed
# one) and compile-commands.awk (the compile commands of make -n).

setup() {
	LIB=$(cd "$BATS_TEST_DIRNAME/../../scripts/lib" && pwd)
	cd "$BATS_TEST_TMPDIR" || return
}

# reach FILES INCLUDES TARGET...: the sorted output of reach.awk.
reach() {
	local files=$1 includes=$2
	shift 2
	awk -v T="$*" -f "$LIB/path.awk" -f "$LIB/reach.awk" "$files" "$includes" | sort | tr '\n' ' '
}

@test "reach.awk: a quoted name beside its includer, an angle name in the include directories, through headers, T included" {
	printf '%s\n' include/linux/a.h include/linux/b.h fs/x/a.h fs/x/one.c \
		fs/y/two.c kernel/three.c arch/x86/include/asm/c.h mm/four.c >files
	printf '%s\t%s\t%s\n' \
		fs/x/one.c q a.h \
		fs/y/two.c a linux/a.h \
		include/linux/b.h a linux/a.h \
		kernel/three.c a linux/b.h \
		mm/four.c a asm/c.h >includes
	# linux/a.h: two.c directly, three.c through b.h; not one.c, whose
	# "a.h" is its own fs/x/a.h.
	[ "$(reach files includes include/linux/a.h)" = \
		"fs/y/two.c include/linux/a.h include/linux/b.h kernel/three.c " ]
	[ "$(reach files includes fs/x/a.h)" = "fs/x/a.h fs/x/one.c " ]
	# arch/x86/include is an include directory too.
	[ "$(reach files includes arch/x86/include/asm/c.h)" = "arch/x86/include/asm/c.h mm/four.c " ]
	[ "$(reach files includes mm/four.c)" = "mm/four.c " ]
}

@test "reach.awk: a relative name with .., and a name found nowhere (a Makefile's -I) stands for every file ending in it" {
	printf '%s\n' drivers/a/b/dev.c drivers/a/common.h drivers/z/priv/p.h drivers/z/z.c >files
	printf '%s\t%s\t%s\n' \
		drivers/a/b/dev.c q ../common.h \
		drivers/z/z.c q p.h >includes
	[ "$(reach files includes drivers/a/common.h)" = "drivers/a/b/dev.c drivers/a/common.h " ]
	# z.c's "p.h" isn't beside it nor in an include directory: it may be
	# any p.h (drivers/z/Makefile could say -I$(src)/priv).
	[ "$(reach files includes drivers/z/priv/p.h)" = "drivers/z/priv/p.h drivers/z/z.c " ]
}

@test "compile-commands.awk: the object, its source and its command from kbuild's recipe, with the output and depfile for the caller" {
	cat >make-n.out <<-'EOF'
	set -e;  echo '  CC      fs/x.o';   trap 'rm -f fs/x.o; trap - HUP; kill -s HUP $$' HUP; gcc -Wp,-MMD,fs/.x.o.d -nostdinc -DKBUILD_BASENAME='"x"' -c -o fs/x.o /src/fs/x.c  ; scripts/basic/fixdep fs/.x.o.d fs/x.o 'gcc -c -o fs/x.o /src/fs/x.c' > fs/.x.o.tmp
	set -e;  echo '  CC [M]  drivers/gpu/drm/../../accel/a.o'; gcc -Wp,-MMD,drivers/gpu/drm/../../accel/.a.o.d -DMODULE -c -o drivers/gpu/drm/../../accel/a.o /src/drivers/accel/a.c  ; true
	set -e;  echo '  AS      arch/x86/lib/m.o'; gcc -Wp,-MMD,arch/x86/lib/.m.o.d -D__ASSEMBLY__ -c -o arch/x86/lib/m.o /src/arch/x86/lib/m.S  ; true
	set -e;  echo '  HOSTCC  scripts/t.o'; gcc -Wp,-MD,scripts/.t.o.d -c -o scripts/t.o scripts/t.c
	set -e;  echo '  AR      fs/built-in.a'; rm -f fs/built-in.a; ar cDPrST fs/built-in.a fs/x.o
	EOF
	awk -v srctree=/src -f "$LIB/path.awk" -f "$LIB/compile-commands.awk" make-n.out >out
	cat out
	[ "$(wc -l <out)" -eq 3 ]
	[ "$(cut -f1,2 out | tr '\t\n' ': ')" = "fs/x.o:fs/x.c drivers/accel/a.o:drivers/accel/a.c arch/x86/lib/m.o:arch/x86/lib/m.S " ]
	[ "$(sed -n 1p out | cut -f3)" = "gcc -nostdinc -DKBUILD_BASENAME='\"x\"' @KBP_OUTPUT@ /src/fs/x.c" ]
	[ "$(sed -n 2p out | cut -f3)" = "gcc -DMODULE @KBP_OUTPUT@ /src/drivers/accel/a.c" ]
}

@test "path.awk: path_norm drops . and dir/..; within a tree it drops .. above the top and a leading /, else they stay" {
	# shellcheck disable=SC2016 # an awk program: $0 is awk's
	echo '{ print path_norm($0, w) }' >main.awk
	norm() { awk -v w="$1" -f "$LIB/path.awk" -f main.awk; }
	printf '%s\n' drivers/gpu/drm/../../accel/./x.o ../../a/b /abs/./d/../f a//b/ >paths
	[ "$(norm 0 <paths | tr '\n' ' ')" = "drivers/accel/x.o ../../a/b /abs/f a/b " ]
	[ "$(norm 1 <paths | tr '\n' ' ')" = "drivers/accel/x.o a/b abs/f a/b " ]
}
