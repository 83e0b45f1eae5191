// SPDX-License-Identifier: GPL-2.0
/*
 * hello-test: a well-behaved test module for kbuild-patch-vm. It logs one
 * line on load and one on unload and never splats, so tests can load and
 * unload a module and expect exit 0.
 */
#include <linux/module.h>
#include <linux/printk.h>

static int __init hello_test_init(void)
{
	pr_info("kbp hello test loaded\n");
	return 0;
}

static void __exit hello_test_exit(void)
{
	pr_info("kbp hello test unloaded\n");
}

module_init(hello_test_init);
module_exit(hello_test_exit);
MODULE_DESCRIPTION("kbuild-patch-vm test: a module that loads cleanly");
MODULE_LICENSE("GPL");
