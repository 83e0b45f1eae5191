// SPDX-License-Identifier: GPL-2.0
/*
 * renum: renum_last() gains a printk site in the patched version, whose
 * CONFIG_PRINTK_INDEX statics (as __printk_index_emit() makes them)
 * renumber the static locals of the functions before it (gcc numbers
 * them in one sequence per file, from the end): the changed
 * renum_count()'s hits.N gets another suffix in the patched object.
 * renum_other() has a static local of the same name.
 */
extern int printk(const char *fmt, ...);

struct pi_entry {
	const char *fmt;
	const char *func;
	const char *file;
	unsigned int line;
	const char *level;
	const char *subsys_fmt_prefix;
} __attribute__((__packed__));

#define renum_printk(_fmt, ...)						\
	({								\
		static const struct pi_entry _entry			\
		__attribute__((__used__)) = {				\
			.fmt = _fmt,					\
			.func = __func__,				\
			.file = __FILE__,				\
			.line = __LINE__,				\
		};							\
		static const struct pi_entry *_entry_ptr		\
		__attribute__((__used__,				\
			       __section__(".printk_index"))) = &_entry; \
		printk(_fmt, ##__VA_ARGS__);				\
	})

int renum_first(int x)
{
	return x * 3;
}

int renum_count(int x)
{
	static int hits;

	hits += x + 1;
	return hits;
}

int renum_other(int x)
{
	static int hits;

	return ++hits + x;
}

int renum_last(int x)
{
	if (x < 0)
		renum_printk("renum_last: negative %d\n", x);
	return x - 3;
}
