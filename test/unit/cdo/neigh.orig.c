// SPDX-License-Identifier: GPL-2.0
/*
 * neigh: built as "neigh.c", like neigh_twin.c, so the file name alone
 * can't tell the two static neigh_dup() of the fake vmlinux apart; the
 * locals around them can.
 */
extern int printk(const char *fmt, ...);

static int neigh_mine_count;
static int neigh_mine_limit = 8;

static __attribute__((__noinline__)) int neigh_dup(int x)
{
	neigh_mine_count += x;
	return neigh_mine_count > neigh_mine_limit;
}

int neigh_caller(int x)
{
	return neigh_dup(x) ? printk("neigh: over\n") : 0;
}

void neigh_set_limit(int l)
{
	neigh_mine_limit = l;
}
