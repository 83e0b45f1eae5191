// SPDX-License-Identifier: GPL-2.0
/* sympos_a: one of three files of the fake vmlinux with a static dup(). */
extern int printk(const char *fmt, ...);

static int sympos_a_total;

static __attribute__((__noinline__)) int dup(int x)
{
	sympos_a_total += x;
	return printk("a: %d\n", sympos_a_total);
}

int sympos_a_caller(int x)
{
	return dup(x) + dup(x + 1);
}
