// SPDX-License-Identifier: GPL-2.0
/*
 * kprobe-test: a test fixture for test/integration/coexist.bats. It plants
 * one kprobe on the function named by symbol= (at its entry, which is the
 * ftrace site, so the kprobe goes through ftrace) and counts its hits, so
 * that a guest script can check whether the probe still fires while a
 * livepatch redirects the same function.
 *
 * Parameters:
 *   symbol=NAME  the function to probe (required)
 *   post=0|1     also register a post_handler; on x86 that makes the
 *                kprobe's ftrace ops IPMODIFY, which a livepatch (also
 *                IPMODIFY) cannot share a function with
 *   hits         (read-only) pre_handler calls so far
 *   post_hits    (read-only) post_handler calls so far
 *   on_ftrace    (read-only) 1 if the kprobe was armed through ftrace
 */
#include <linux/atomic.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

static char *symbol;
module_param(symbol, charp, 0444);
MODULE_PARM_DESC(symbol, "function to probe");

static bool post;
module_param(post, bool, 0444);
MODULE_PARM_DESC(post, "also register a post_handler");

static atomic_long_t hits = ATOMIC_LONG_INIT(0);
static atomic_long_t post_hits = ATOMIC_LONG_INIT(0);
static bool on_ftrace;
module_param(on_ftrace, bool, 0444);
MODULE_PARM_DESC(on_ftrace, "the kprobe is armed through ftrace (read-only)");

static int get_counter(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

static const struct kernel_param_ops counter_ops = {
	.get = get_counter,
};
module_param_cb(hits, &counter_ops, &hits, 0444);
MODULE_PARM_DESC(hits, "pre_handler calls (read-only)");
module_param_cb(post_hits, &counter_ops, &post_hits, 0444);
MODULE_PARM_DESC(post_hits, "post_handler calls (read-only)");

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	atomic_long_inc(&hits);
	return 0;
}

static void handler_post(struct kprobe *p, struct pt_regs *regs,
			 unsigned long flags)
{
	atomic_long_inc(&post_hits);
}

static struct kprobe kp = {
	.pre_handler = handler_pre,
};

static int __init kprobe_test_init(void)
{
	int ret;

	if (!symbol || !*symbol) {
		pr_err("kbp-kprobe-test: symbol= is required\n");
		return -EINVAL;
	}
	kp.symbol_name = symbol;
	if (post)
		kp.post_handler = handler_post;
	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("kbp-kprobe-test: register_kprobe(%s) failed: %d\n",
		       symbol, ret);
		return ret;
	}
	on_ftrace = kprobe_ftrace(&kp);
	pr_info("kbp-kprobe-test: kprobe on %s at %pS, post_handler %s, %s\n",
		symbol, kp.addr, post ? "yes" : "no",
		on_ftrace ? "through ftrace" : "int3");
	return 0;
}

static void __exit kprobe_test_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("kbp-kprobe-test: kprobe on %s removed after %ld hits\n",
		symbol, atomic_long_read(&hits));
}

module_init(kprobe_test_init);
module_exit(kprobe_test_exit);
MODULE_DESCRIPTION("kbuild-patch test fixture: a counting kprobe");
MODULE_LICENSE("GPL");
