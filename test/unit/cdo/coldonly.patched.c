// SPDX-License-Identifier: GPL-2.0
/*
 * coldonly: as cold.orig.c; the patch changes only what the unlikely path
 * does, so only cold_fn.cold differs: cold_fn must be patched all the same,
 * since the cold part has no fentry call of its own.
 */
extern int printk(const char *fmt, ...);

__attribute__((cold, noinline)) void cold_report(const char *msg, int v)
{
	printk("%s %d\n", msg, v);
}

int cold_fn(int x)
{
	if (__builtin_expect(x > 1000, 0)) {
		cold_report("cold_fn: big", x);
		cold_report("cold_fn: bigger", x * 3);
		return -1;
	}
	return x + 1;
}
