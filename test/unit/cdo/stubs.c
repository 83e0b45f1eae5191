// SPDX-License-Identifier: GPL-2.0
/* stubs: what the fake vmlinux needs to link the unit-test objects. */
int printk(const char *fmt, ...)
{
	return fmt[0];
}

void __fentry__(void)
{
}

void __x86_return_thunk(void)
{
}

void __x86_indirect_thunk_rax(void)
{
}
