// SPDX-License-Identifier: GPL-2.0
/*
 * cold: gcc splits the unlikely path of cold_fn() into cold_fn.cold, in
 * .text.unlikely. A change to the hot part must carry the cold part too,
 * since the two jump into each other.
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
		cold_report("cold_fn: bigger", x * 2);
		return -1;
	}
	return x + 2;
}
