/*
 * vmlinux_a.c - one file of the fake target kernel of loadcheck.bats: the
 * functions the kernel exports to the test module (the test's
 * Module.symvers lists every global function of the fake vmlinux), the
 * unique "counter", and the first of two static functions c_start.
 */
int counter;

static int __attribute__((noinline, used)) c_start(void)
{
	return counter + 1;
}

int printk(const char *fmt, ...)
{
	return fmt[0] + c_start();
}

int klp_enable_patch(void *patch)
{
	return patch != 0;
}

void __fentry__(void)
{
}

void __x86_return_thunk(void)
{
}
