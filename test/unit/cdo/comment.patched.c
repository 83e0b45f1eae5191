// SPDX-License-Identifier: GPL-2.0
/* comment: the patch only touches comments. */
extern int printk(const char *fmt, ...);

/*
 * comment_read - read a value or fall back to a default
 * @val: the value, may be NULL
 * @def: returned when @val is NULL
 */
int comment_read(const int *val, int def)
{
	if (!val)	/* nothing to read */
		return def;
	return *val;
}

/* Logs at the given level. */
int comment_log(int level)
{
	return printk("comment: level %d\n", level);
}
