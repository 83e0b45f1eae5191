// SPDX-License-Identifier: GPL-2.0
/*
 * string: a changed string literal. The two functions share "common"
 * through string_hello's string section, so a longer first string moves
 * the addend of string_other's reference to it.
 */
extern int printk(const char *fmt, ...);

int string_hello(int x)
{
	printk("hello from the patched kernel %d\n", x);
	return printk("string: common %d\n", x);
}

int string_other(int x)
{
	printk("other %d\n", x);
	return printk("string: common %d\n", x) + 1;
}
