/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stand-in for the kernel's compiler attribute macros, so that the unit
 * tests compile kmod/kbuild-patch.h without a kernel tree. Same
 * definitions as include/linux/compiler*.h and build_bug.h of 6.12.
 */
#ifndef _KBP_FAKE_COMPILER_H
#define _KBP_FAKE_COMPILER_H
#define __section(s)		__attribute__((__section__(s)))
#define __used			__attribute__((__used__))
#define __aligned(x)		__attribute__((__aligned__(x)))
#define __maybe_unused		__attribute__((__unused__))
#define __cold			__attribute__((__cold__))
#define noinline		__attribute__((__noinline__))
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))
#define ___PASTE(a, b)		a##b
#define __PASTE(a, b)		___PASTE(a, b)
#define __UNIQUE_ID(prefix)	__PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)
#define static_assert(expr, ...) _Static_assert(expr, ##__VA_ARGS__)
#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#endif
