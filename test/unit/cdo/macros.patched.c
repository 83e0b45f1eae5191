// SPDX-License-Identifier: GPL-2.0
/* macros: see macros.orig.c. */
#include <linux/static_call.h>
#include "kbuild-patch.h"

int mod_sc_func(int x);
DECLARE_STATIC_CALL(mod_sc, mod_sc_func);

__attribute__((__noinline__)) int mac_ignored(int x)
{
	return x * 3 + 11;
}
KBP_IGNORE_FUNCTION(mac_ignored);

__attribute__((__noinline__)) int mac_sec_ignored(int x)
{
	return x * 5 + 13;
}
KBP_IGNORE_SECTION(".text.mac_sec_ignored");

int mac_changed(int x)
{
	return mac_ignored(x) + mac_sec_ignored(x) + 2;
}

int mac_same(int x)
{
	return x - 7;
}

int mac_sc_user(int x)
{
	return KBP_STATIC_CALL(mod_sc)(x);
}

static int mac_pre_patch(struct klp_object *obj)
{
	KBP_PRINTK("pre_patch %s\n", obj->name);
	return 0;
}
KBP_PRE_PATCH_CALLBACK(mac_pre_patch);

static void mac_post_patch(struct klp_object *obj)
{
	struct klp_state *state = KBP_GET_STATE(42);

	KBP_PRINTK("post_patch %s %u\n", obj->name, state->version);
}
KBP_POST_PATCH_CALLBACK(mac_post_patch);

static void mac_pre_unpatch(struct klp_object *obj)
{
	KBP_PRINTK("pre_unpatch %s\n", obj->name);
}
KBP_PRE_UNPATCH_CALLBACK(mac_pre_unpatch);

static void mac_post_unpatch(patch_object *obj)
{
	klp_shadow_free_all(0x6b6270, 0);
}
KPATCH_POST_UNPATCH_CALLBACK(mac_post_unpatch);

KBP_STATE(0x6b6270, 3);
KBP_STATE(42, 1);
