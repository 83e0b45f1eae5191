// SPDX-License-Identifier: GPL-2.0
/*
 * fresh: per-site statics such as WARN_ONCE()'s __warned. The changed
 * fresh_changed() gets a new copy of its flag; the unchanged
 * fresh_same() keeps its own and is not reported.
 */
extern int printk(const char *fmt, ...);

int fresh_same(int x)
{
	static int __warned;

	if (x < 0 && !__warned) {
		__warned = 1;
		printk("fresh_same: negative\n");
	}
	return x;
}

int fresh_changed(int x)
{
	static int __warned;

	if (x > 1000 && !__warned) {
		__warned = 1;
		printk("fresh_changed: large\n");
	}
	return x;
}
