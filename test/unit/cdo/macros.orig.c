// SPDX-License-Identifier: GPL-2.0
/*
 * macros: the markers of kmod/kbuild-patch.h. The patched version changes
 * mac_changed, mac_ignored and mac_sec_ignored, ignores the last two
 * (KBP_IGNORE_FUNCTION, KBP_IGNORE_SECTION), declares two states, a
 * callback of each kind (one through kpatch-build's name; one reads a
 * state with KBP_GET_STATE) and calls a static call whose key lives in a
 * module through KBP_STATIC_CALL.
 */
#include <linux/static_call.h>

int mod_sc_func(int x);
DECLARE_STATIC_CALL(mod_sc, mod_sc_func);

__attribute__((__noinline__)) int mac_ignored(int x)
{
	return x * 3;
}

__attribute__((__noinline__)) int mac_sec_ignored(int x)
{
	return x * 5;
}

int mac_changed(int x)
{
	return mac_ignored(x) + mac_sec_ignored(x) + 1;
}

int mac_same(int x)
{
	return x - 7;
}

int mac_sc_user(int x)
{
	return x;
}
