/*
 * patch.c - stands in for a create-diff-object output: functions that call
 * livepatch symbols (placeholder names, renamed to .klp.sym.* with objcopy
 * because gcc cannot emit names that contain ','), normal external calls
 * that must stay normal relocations, and a data table that takes a klp
 * symbol's address.
 */
extern int printk(const char *fmt, ...);

/* renamed to .klp.sym.vmlinux.c_start,2 and friends, see syms.map */
extern int klp_c_start(void) __asm__("KLP_vmlinux_c_start") __attribute__((weak));
extern int klp_counter __asm__("KLP_vmlinux_counter") __attribute__((weak));
extern int klp_load(int) __asm__("KLP_binfmt_misc_load") __attribute__((weak));
extern int klp_entries __asm__("KLP_binfmt_misc_entries") __attribute__((weak));

int patched_show(void)
{
	return klp_c_start() + printk("show %d\n", klp_counter) + klp_counter;
}

int patched_mixed(int x)
{
	return klp_c_start() * 3 + klp_load(x) + klp_entries + printk("m\n");
}

int patched_plain(int x)
{
	return printk("plain %d\n", x);
}

int (*patched_table[])(void) = { klp_c_start, 0 };
