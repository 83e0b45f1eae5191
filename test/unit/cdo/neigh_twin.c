// SPDX-License-Identifier: GPL-2.0
/* neigh_twin: built as "neigh.c" in another directory; see neigh.orig.c. */
extern int printk(const char *fmt, ...);

static int neigh_other_seen;

static __attribute__((__noinline__)) int neigh_dup(int x)
{
	neigh_other_seen = x;
	return printk("twin: %d\n", x);
}

int neigh_twin_caller(int x)
{
	return neigh_dup(x) + neigh_other_seen;
}
