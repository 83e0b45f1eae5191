/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stand-in for <linux/static_call.h> (unit tests; see compiler.h), with
 * the x86 static_call() of 6.12: a call of the trampoline __SCT__name,
 * and __ADDRESSABLE() of the key __SCK__name.
 */
#ifndef _KBP_FAKE_STATIC_CALL_H
#define _KBP_FAKE_STATIC_CALL_H
#include <linux/compiler.h>

struct static_call_key {
	void *func;
	void *type;
};

#define STATIC_CALL_KEY(name)	__PASTE(__SCK__, name)
#define STATIC_CALL_TRAMP(name)	__PASTE(__SCT__, name)
#define DECLARE_STATIC_CALL(name, func)					\
	extern struct static_call_key STATIC_CALL_KEY(name);		\
	extern typeof(func) STATIC_CALL_TRAMP(name)
#define static_call_query(name) (READ_ONCE(STATIC_CALL_KEY(name).func))
#define static_call(name)						\
	({								\
		static void *__UNIQUE_ID(addr) __used			\
		__section(".discard.addressable") =			\
			(void *)&STATIC_CALL_KEY(name);			\
		&STATIC_CALL_TRAMP(name);				\
	})
#endif
