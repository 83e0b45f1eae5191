// SPDX-License-Identifier: GPL-2.0
/* printk: see printk.orig.c. */
#include "kbuild-patch.h"

__attribute__((__noinline__)) void pk_plain(int x)
{
	printk("plain %d\n", x);
}

__attribute__((__noinline__)) void pk_kbp(int x)
{
	KBP_PRINTK("kbp %d\n", x);
}

int pk_caller(int x)
{
	pk_plain(x);
	pk_kbp(x);
	return x;
}
