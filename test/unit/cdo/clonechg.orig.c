// SPDX-License-Identifier: GPL-2.0
/*
 * clonechg: the patch changes the body of a function that exists only as
 * a compiler clone, clone_weight.isra.N (only two fields of *st are
 * read), in both builds. Its callers don't change. clone.c has a
 * clone_weight.isra.N of its own, so the name is not unique in vmlinux.
 */
extern int printk(const char *fmt, ...);

struct clone_stats {
	int hits;
	int misses;
	long hist[16];
};

static __attribute__((__noinline__)) int clone_weight(struct clone_stats *st)
{
	return st->hits * 3 + st->misses;
}

int clonechg_first(struct clone_stats *st)
{
	return clone_weight(st) + 1;
}

int clonechg_second(struct clone_stats *st)
{
	return clone_weight(st + 1) - 1;
}
