// SPDX-License-Identifier: GPL-2.0
/*
 * rtconst: changed functions that use boot-time constants: one of an
 * exported variable of another file (as access_ok() uses USER_PTR_MAX),
 * also into an extended register; one of a static variable of this
 * file (as d_hash() uses dentry_hashtable); and a changed notrace body
 * that uses one, reached through its caller. An unchanged function uses
 * them too.
 */
#include <asm/runtime-const.h>

#define notrace __attribute__((__no_instrument_function__))
#define noipa __attribute__((__noipa__))

/* runtime_const_ptr() into r9: an extended register (REX.B, and REX.R
 * once it is rewritten). */
#define runtime_const_ptr_r9(sym) ({				\
	register typeof(sym) __ret asm("r9");			\
	asm inline("mov %1,%0\n1:\n"				\
		".pushsection runtime_ptr_" #sym ",\"a\"\n\t"	\
		".long 1b - %c2 - .\n"				\
		".popsection"					\
		:"=r" (__ret)					\
		:"i" ((unsigned long)0x0123456789abcdefull),	\
		 "i" (sizeof(long)));				\
	__ret; })

extern unsigned long rtc_user_max;
static unsigned long *rtc_table __attribute__((__used__));

int rtc_access_ok(unsigned long addr, unsigned long size)
{
	return addr <= runtime_const_ptr(rtc_user_max) &&
	       size <= runtime_const_ptr(rtc_user_max) - addr;
}

unsigned long rtc_r9(unsigned long addr)
{
	return runtime_const_ptr_r9(rtc_user_max) - addr;
}

unsigned long rtc_lookup(unsigned int hash)
{
	return runtime_const_ptr(rtc_table)[hash & 15];
}

static noipa notrace unsigned long rtc_body(unsigned long addr)
{
	return addr > runtime_const_ptr(rtc_user_max) ? 0 : addr;
}

unsigned long rtc_caller(unsigned long addr)
{
	return rtc_body(addr) + 1;
}

unsigned long rtc_unchanged(unsigned int hash)
{
	return runtime_const_ptr(rtc_table)[hash & 7] +
	       runtime_const_ptr(rtc_user_max);
}
