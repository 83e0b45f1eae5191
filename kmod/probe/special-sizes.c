// SPDX-License-Identifier: GPL-2.0
/*
 * special-sizes.c - the sizeof probe. kbuild-patch compiles it to
 * assembly in the prepared kernel tree, once per tree, and reads the
 * "->KBP_SIZE section size" lines: the entry sizes of the special
 * sections that create-diff-object splits into per-site entries. They
 * depend on the kernel version and config, so they are never assumed.
 */
#include <linux/kbuild.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/bug.h>
#include <linux/jump_label.h>
#include <linux/static_call_types.h>
#include <asm/extable.h>
#include <asm/alternative.h>
#include <linux/dynamic_debug.h>
#include <linux/printk.h>

void kbp_special_sizes(void);
void kbp_special_sizes(void)
{
#ifdef CONFIG_JUMP_LABEL
	DEFINE(KBP_SIZE __jump_table, sizeof(struct jump_entry));
#endif
#ifdef CONFIG_GENERIC_BUG
	DEFINE(KBP_SIZE __bug_table, sizeof(struct bug_entry));
#endif
	DEFINE(KBP_SIZE __ex_table, sizeof(struct exception_table_entry));
	DEFINE(KBP_SIZE .altinstructions, sizeof(struct alt_instr));
#ifdef CONFIG_DYNAMIC_DEBUG_CORE
	DEFINE(KBP_SIZE __dyndbg, sizeof(struct _ddebug));
#endif
#ifdef CONFIG_HAVE_STATIC_CALL_INLINE
	DEFINE(KBP_SIZE .static_call_sites, sizeof(struct static_call_site));
#endif
#ifdef CONFIG_PRINTK_INDEX
	DEFINE(KBP_SIZE .printk_index, sizeof(struct pi_entry *));
#endif
}
