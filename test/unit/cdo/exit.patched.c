// SPDX-License-Identifier: GPL-2.0
/* exit: the patch changes an __exit function, as a module's cleanup. */
#define __exit __attribute__((__section__(".exit.text"), __used__, \
			      __cold__, __no_instrument_function__))

extern int printk(const char *fmt, ...);
extern void exit_unregister(int *state);

int exit_state;

void __exit exit_cleanup(void)
{
	printk("exit: unloading\n");
	exit_unregister(&exit_state);
}

int exit_get_state(void)
{
	return exit_state;
}
