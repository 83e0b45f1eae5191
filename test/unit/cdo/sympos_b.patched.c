// SPDX-License-Identifier: GPL-2.0
/* sympos_b: the second file of the fake vmlinux with a static dup(). */
extern int printk(const char *fmt, ...);

static int sympos_b_hits;

static __attribute__((__noinline__)) int dup(int x)
{
	sympos_b_hits++;
	return printk("b: %d %d\n", x, sympos_b_hits);
}

int sympos_b_caller(int x)
{
	return dup(x) * 3;
}

int sympos_b_reset(void)
{
	int old = sympos_b_hits;

	sympos_b_hits = 0;
	return old;
}
