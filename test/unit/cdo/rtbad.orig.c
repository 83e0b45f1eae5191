// SPDX-License-Identifier: GPL-2.0
/*
 * rtbad: a runtime_ptr_ table entry whose code is not the placeholder
 * (another immediate): nothing to tell what the code loads.
 */
extern unsigned long rtc_user_max;

unsigned long rtb_get(unsigned long x)
{
	unsigned long v;

	asm("mov %1,%0\n1:\n"
	    ".pushsection runtime_ptr_rtc_user_max,\"a\"\n\t"
	    ".long 1b - 8 - .\n"
	    ".popsection"
	    : "=r" (v) : "i" (0x1122334455667788ul));
	return v + x;
}
