// SPDX-License-Identifier: GPL-2.0
/*
 * printkidx: CONFIG_PRINTK_INDEX's per-site records, made as the
 * kernel's __printk_index_emit() makes them (include/linux/printk.h):
 * each printk site has a static struct pi_entry and, in .printk_index,
 * a pointer to it. pidx_changed() gets a new message; pidx_same() is
 * unchanged and has a site with the same format as one of pidx_changed().
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

#define pidx_printk(_fmt, ...)						\
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

int pidx_same(int x)
{
	if (x < 0)
		pidx_printk("pidx_same: negative %d\n", x);
	if (x == 7)
		pidx_printk("pidx: seven\n");
	return x;
}

int pidx_changed(int x)
{
	if (x > 100)
		pidx_printk("pidx_changed: large %d\n", x);
	if (x > 1000)
		pidx_printk("pidx_changed: huge %d\n", x);
	if (x == 7)
		pidx_printk("pidx: seven\n");
	return x;
}
