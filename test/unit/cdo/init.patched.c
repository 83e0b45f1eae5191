// SPDX-License-Identifier: GPL-2.0
/* init: the patch changes an __init function. */
#define __init __attribute__((__section__(".init.text"), __cold__))

extern int printk(const char *fmt, ...);

int init_level;

int __init init_setup(char *arg)
{
	init_level = arg ? arg[0] - '0' : 2;
	return printk("init: level %d\n", init_level);
}

int init_get_level(void)
{
	return init_level;
}
