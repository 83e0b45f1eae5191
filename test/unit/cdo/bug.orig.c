// SPDX-License-Identifier: GPL-2.0
/*
 * bug: WARN_ON() as x86 writes it: a ud2 and a 12-byte __bug_table entry
 * (bug address, file, line, flags). bug_check() changes; bug_same() keeps
 * its own entry.
 */
#define BUGFLAG_WARNING (1 << 0)

#define __WARN_FLAGS(flags)						\
	asm volatile("1:\tud2\n"					\
		     ".pushsection __bug_table,\"aw\"\n"		\
		     "2:\t.long 1b - .\n"				\
		     "\t.long %c0 - .\n"				\
		     "\t.short %c1\n"					\
		     "\t.short %c2\n"					\
		     "\t.org 2b + %c3\n"				\
		     ".popsection"					\
		     : : "i" (__FILE__), "i" (__LINE__), "i" (flags),	\
		       "i" (12))

#define WARN_ON(condition) ({						\
	int __ret_warn_on = !!(condition);				\
	if (__builtin_expect(__ret_warn_on, 0))				\
		__WARN_FLAGS(BUGFLAG_WARNING);				\
	__ret_warn_on;							\
})

struct bug_queue {
	int head;
	int tail;
	int size;
};

int bug_same(struct bug_queue *q)
{
	if (WARN_ON(q->size <= 0))
		return -22;
	return (q->tail - q->head) % q->size;
}

int bug_check(struct bug_queue *q, int n)
{
	if (WARN_ON(n < 0))
		return -22;
	if (WARN_ON(q->head > q->tail))
		return -5;
	q->tail += n;
	return 0;
}

int bug_plain(struct bug_queue *q)
{
	return q->head;
}
