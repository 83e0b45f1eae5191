// SPDX-License-Identifier: GPL-2.0
/* sympos_c: the third file of the fake vmlinux with a static dup(). */
extern int printk(const char *fmt, ...);

static long sympos_c_last;

static __attribute__((__noinline__)) int dup(int x)
{
	sympos_c_last = x;
	return printk("c: %d\n", x);
}

int sympos_c_caller(int x)
{
	return dup(x) - 1;
}

long sympos_c_peek(void)
{
	return sympos_c_last;
}
