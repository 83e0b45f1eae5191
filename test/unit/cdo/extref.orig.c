// SPDX-License-Identifier: GPL-2.0
/*
 * extref: a changed function that uses what stays in the running kernel:
 * an unchanged static function and two unchanged static variables of its
 * own file, a global function of another file that is not exported, and
 * exported functions (one listed in Module.symvers, one found through its
 * __ksymtab_ symbol, one exported in a namespace).
 */
extern int printk(const char *fmt, ...);
extern int extref_exported(int x);
extern int extref_ksymtab(int x);
extern int extref_ns_fn(int x);
extern int extref_unexported(int x);

static int extref_count;
static int extref_hits;

static __attribute__((__noinline__)) int extref_helper(int x, int y)
{
	printk("extref: helper %d %d\n", x, y);
	return x * y;
}

void extref_bump(int n)
{
	extref_count += n;
	extref_hits++;
}

int extref_changed(int x, int y)
{
	return extref_helper(x, y) + extref_exported(x);
}

int extref_unchanged(int x, int y)
{
	return extref_helper(y, x) - extref_count - extref_hits;
}
