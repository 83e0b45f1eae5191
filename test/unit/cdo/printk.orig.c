// SPDX-License-Identifier: GPL-2.0
/*
 * printk: two new functions that print and do nothing else, one with the
 * kernel's printk() (__cold), one with KBP_PRINTK; and a changed function
 * that calls them.
 */
int pk_caller(int x)
{
	return x;
}
