// SPDX-License-Identifier: GPL-2.0
/*
 * sched: __sched puts functions into one .sched.text section, which
 * -ffunction-sections doesn't split; the patch changes one of them.
 */
#define __sched __attribute__((__section__(".sched.text")))
extern int printk(const char *fmt, ...);

int __sched sched_sleep(int n)
{
	printk("sched: sleep %d\n", n);
	return n + 3;
}

int __sched sched_wait(int n)
{
	printk("sched: wait %d\n", n);
	return n * 2;
}

int sched_caller(int n)
{
	return sched_sleep(n) + sched_wait(n);
}
