// SPDX-License-Identifier: GPL-2.0
/*
 * staticcall: calls through static call trampolines (__SCT__name), with
 * the __ADDRESSABLE() reference to the key (__SCK__name) that the
 * kernel's static_call() leaves in .discard.addressable
 * (include/linux/static_call_types.h). The patched sc_user() calls a
 * second static call, sc_second.
 */
struct static_call_key {
	void *func;
	unsigned long type;
};

extern struct static_call_key __SCK__sc_first, __SCK__sc_second;
extern int __SCT__sc_first(int x);
extern int __SCT__sc_second(int x);

#define sc_call(name)							\
	({								\
		static void *__addressable_##name			\
		__attribute__((__used__,				\
			       __section__(".discard.addressable"))) =	\
			(void *)&__SCK__##name;				\
		&__SCT__##name;						\
	})

int sc_user(int x)
{
	return sc_call(sc_first)(x) + 1;
}
