// SPDX-License-Identifier: GPL-2.0
/*
 * clone: gcc turns clone_scale() into clone_scale.constprop.0 (factor is
 * always 3) and clone_weight() into clone_weight.isra.0 (only two fields
 * of *st are read), in both builds. The change is in another function.
 */
extern int printk(const char *fmt, ...);

struct clone_stats {
	int hits;
	int misses;
	long hist[16];
};

static __attribute__((__noinline__)) int clone_scale(int x, int factor)
{
	printk("clone: scale %d\n", x);
	return x * factor;
}

static __attribute__((__noinline__)) int clone_weight(struct clone_stats *st)
{
	return st->hits * 3 + st->misses;
}

int clone_first(int x)
{
	return clone_scale(x, 3);
}

int clone_second(int x, struct clone_stats *st)
{
	return clone_scale(x + 1, 3) + clone_weight(st);
}

int clone_third(struct clone_stats *st)
{
	return clone_weight(st + 1) - 1;
}
