// SPDX-License-Identifier: GPL-2.0
/*
 * warn-test: a test module for kbuild-patch-vm. Its init WARNs once; the
 * tests find that line with grep -n (never hard-coded) to check the 125
 * rule and --expect with file and line. With second=1 it WARNs a second
 * time, at another line, to check that an --expect exempts only the splat
 * it matches. Keep each WARN message on one line, unique in this file.
 */
#include <linux/module.h>
#include <linux/bug.h>

static bool second;
module_param(second, bool, 0444);
MODULE_PARM_DESC(second, "WARN a second time, at another line");

static int __init warn_test_init(void)
{
	WARN(1, "kbp warn test\n");
	if (second)
		WARN(1, "kbp second warn\n");
	return 0;
}

static void __exit warn_test_exit(void)
{
}

module_init(warn_test_init);
module_exit(warn_test_exit);
MODULE_DESCRIPTION("kbuild-patch-vm test: WARN at a known line");
MODULE_LICENSE("GPL");
